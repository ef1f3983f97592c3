package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/ksk-dev/ksk/pgpwords"
	"github.com/spf13/cobra"
)

// fileHash is one file's entry in `ksk hash` output.
type fileHash struct {
	File     string `json:"file"`
	SHA256   string `json:"sha256"`
	PGPWords string `json:"pgp_words"`
}

func newHashCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "hash FILE...",
		Short: "Print the SHA-256 of files and its PGP word list rendering",
		Long: `Print each file's SHA-256 in hex and as PGP words, to be read aloud in a
ceremony: bytes at even positions are two-syllable words, bytes at odd
positions three-syllable words, so a skipped or swapped word is heard.`,
		Example: `  ksk hash ksr-root-2017-q2-0.xml
  ksk hash -o json ksr.xml skr.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var out []fileHash
			for _, f := range files {
				h, err := hashFile(f)
				if err != nil {
					return err
				}
				out = append(out, h)
			}
			if a.output == "json" {
				return a.writeJSON(map[string]any{"files": out})
			}
			for i, h := range out {
				if i > 0 {
					fmt.Fprintln(a.out)
				}
				fmt.Fprintf(a.out, "File: %s\nSHA-256: %s\nPGP Words: %s\n", h.File, h.SHA256, h.PGPWords)
			}
			return nil
		},
	}
}

func hashFile(path string) (fileHash, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileHash{}, usageErrorf("%v", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fileHash{}, usageErrorf("read %s: %v", path, err)
	}
	sum := h.Sum(nil)
	return fileHash{File: path, SHA256: hex.EncodeToString(sum), PGPWords: pgpwords.String(sum)}, nil
}
