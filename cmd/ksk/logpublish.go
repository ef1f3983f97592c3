package main

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/transparency"
	"github.com/spf13/cobra"
)

// classifyTransparencyError maps the transparency package's errors to exit
// codes: a server that cannot be reached or refuses, or an attestation key
// of the wrong kind, is the environment (3); an answer or a stored entry
// that does not verify is rejected input (1).
func classifyTransparencyError(err error) int {
	switch {
	case errors.Is(err, transparency.ErrUnreachable), errors.Is(err, transparency.ErrRefused),
		errors.Is(err, transparency.ErrUnsupportedKey):
		return exitEnvironment
	case errors.Is(err, transparency.ErrInvalid), errors.Is(err, transparency.ErrMalformed):
		return exitRejected
	}
	return 0
}

// defaultAttestationKeyLabel is the HSM label of the ceremony attestation
// key that ksk log publish signs with.
const defaultAttestationKeyLabel = "ksk-attestation"

type logPublishFlags struct {
	rekorURL string
	rekorKey string
	entry    string
	label    string
	retries  int
	timeout  time.Duration
	hsm      hsmFlags
}

// publishResult is the JSON output of ksk log publish.
type publishResult struct {
	Log            string `json:"log"`
	RekorURL       string `json:"rekor_url"`
	PublishedHead  string `json:"published_head"`
	UUID           string `json:"uuid"`
	LogIndex       int64  `json:"log_index"`
	IntegratedTime string `json:"integrated_time"`
	EntryFile      string `json:"entry_file"`
	Head           string `json:"head"`
	HeadPGPWords   string `json:"head_pgp_words"`
}

func newLogPublishCmd(a *app) *cobra.Command {
	f := &logPublishFlags{}
	cmd := &cobra.Command{
		Use:   "publish LOG --rekor-url URL --rekor-key FILE",
		Short: "Anchor the log's head in a Rekor transparency log",
		Long: `Publish verifies the log, signs its head with the ceremony attestation key
in the HSM (ECDSA P-256, label --key-label) and uploads it to Rekor as a
hashedrekord entry: the artifact is the text "ksk-attestation-seal-v1 <head>\n"
(what a seal signs), so the entry's digest is its SHA-256.

The server's answer is verified against the Rekor public key the operator
pinned with --rekor-key (signed entry timestamp, inclusion proof, signed
checkpoint, log ID, and that it is the entry sent) before anything is kept.
The entry is then added to the entry file beside the log (LOG.rekor.json,
or --rekor-entry), written atomically, and the publication is recorded in
the log as a "rekor-publish" step entry (the Rekor URL, UUID, log index,
integrated time and published head, and the entry file's SHA-256), which
the attestation key then seals ("rekor-publish.seal"). The published head
is the prev of the rekor-publish entry: verify offline with
ksk log verify LOG --rekor-key FILE (docs/transparency.md).

Network errors and server errors (5xx) are retried with exponential backoff
(--retries more tries). When the server cannot be reached, refuses the
entry, or answers with something that does not verify, nothing is written
and the log is left as it was.

` + hsmFlagsHelp + `

Exit status: 0 published and recorded; 1 the log does not verify, its seals
are by another key, or the server's answer does not verify; 2 bad flags or
an unreadable file; 3 HSM error, a key that is not ECDSA P-256, or a Rekor
server that cannot be reached or refuses the entry.`,
		Example: `  ksk log publish ceremony.log --rekor-url https://rekor.example.org --rekor-key rekor.pub
  ksk log verify ceremony.log --rekor-key rekor.pub --attestation-key attest.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogPublish(cmd, a, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.rekorURL, "rekor-url", "", "base URL of the Rekor server (required)")
	fl.StringVar(&f.rekorKey, "rekor-key", "", "the Rekor server's public key, PEM, as pinned by the operator (required)")
	fl.StringVar(&f.entry, "rekor-entry", "", "the entry file to add the entry to (default LOG"+transparency.FileSuffix+")")
	fl.StringVar(&f.label, "key-label", defaultAttestationKeyLabel, "HSM label of the ceremony attestation key (ECDSA P-256)")
	fl.IntVar(&f.retries, "retries", transparency.DefaultRetries, "retries after a network or server error, with exponential backoff")
	fl.DurationVar(&f.timeout, "timeout", transparency.DefaultTimeout, "bound on the upload with its retries")
	f.hsm.register(cmd)
	return cmd
}

// readRekorKey reads the pinned Rekor public key; errors are usage errors.
func readRekorKey(path string) (crypto.PublicKey, error) {
	if path == "" {
		return nil, usageErrorf("--rekor-key is required: the Rekor server's public key, pinned by the operator")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--rekor-key: %v", err)
	}
	k, err := attest.ParsePublicKeyPEM(b)
	if err != nil {
		return nil, usageErrorf("--rekor-key %s: %v", path, err)
	}
	return k, nil
}

func runLogPublish(cmd *cobra.Command, a *app, f *logPublishFlags, logPath string) error {
	if f.rekorURL == "" {
		return usageErrorf("--rekor-url is required")
	}
	if f.retries < 0 {
		return usageErrorf("--retries must not be negative")
	}
	rekorKey, err := readRekorKey(f.rekorKey)
	if err != nil {
		return err
	}
	client := &transparency.Client{URL: f.rekorURL, RekorKey: rekorKey, Retries: f.retries, Timeout: f.timeout, UserAgent: "ksk/" + version}
	if f.retries == 0 {
		client.Retries = -1
	}
	entryPath := f.entry
	if entryPath == "" {
		entryPath = transparency.DefaultPath(logPath)
	}
	// The entry file, if any, must parse: the new entry is added to it.
	if _, _, _, err := transparency.LoadFile(entryPath); err != nil {
		if errors.Is(err, transparency.ErrMalformed) {
			return fmt.Errorf("%w: %w; nothing published", errRejected, err)
		}
		return usageErrorf("%v", err)
	}

	// Verify the log and hold it: nothing can be appended until we are done.
	var seals []attest.Hash
	w, err := attest.Open(logPath, attest.WithVerifyOptions(attest.VerifyOptions{
		OnEntry: func(e *attest.Entry, _ attest.Hash, _ int) error {
			if e.Seal != nil {
				seals = append(seals, e.Seal.KeyFingerprint)
			}
			return nil
		},
	}))
	if err != nil {
		var ee *attest.EntryError
		if errors.As(err, &ee) {
			return fmt.Errorf("%w: %w; nothing published", errRejected, err)
		}
		return usageErrorf("%v", err)
	}
	defer w.Close()

	s, err := f.hsm.open(a, true)
	if err != nil {
		return err
	}
	defer s.close()
	key, err := s.tok.FindKey(f.label)
	if err != nil {
		return err
	}
	pub, err := transparency.SignerKey(key)
	if err != nil {
		return fmt.Errorf("attestation key %q: %w", f.label, err)
	}
	fp, _, err := attest.KeyFingerprint(pub)
	if err != nil {
		return err
	}
	for _, sfp := range seals {
		if sfp != fp {
			return fmt.Errorf("%w: %s is sealed by key %s, but attestation key %q is %s: publishing with it would not match the seals; nothing published",
				errRejected, logPath, sfp, f.label, fp)
		}
	}

	head := w.Head()
	e, err := client.Publish(cmd.Context(), head, key)
	if err != nil {
		return fmt.Errorf("publish head %s of %s: %w; nothing recorded", head, logPath, err)
	}

	if _, err := transparency.Record(w, entryPath, e); err != nil {
		return fmt.Errorf("%w: Rekor entry %s was published, but: %w (the log records nothing)", errEnvironment, e.UUID, err)
	}
	// Seal the record, so that the log still ends with a seal.
	newHead, err := w.Seal(transparency.PublishStep+".seal", transparency.PublishActor, key)
	if err != nil {
		return fmt.Errorf("%w: Rekor entry %s was published and recorded in %s, but sealing the record failed: %w", errEnvironment, e.UUID, logPath, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%w: closing %s after recording Rekor entry %s: %w", errEnvironment, logPath, e.UUID, err)
	}

	res := publishResult{
		Log: logPath, RekorURL: e.RekorURL, PublishedHead: e.PublishedHead, UUID: e.UUID, LogIndex: e.LogIndex,
		IntegratedTime: time.Unix(e.IntegratedTime, 0).UTC().Format(time.RFC3339), EntryFile: entryPath,
		Head: newHead.String(), HeadPGPWords: newHead.Words(),
	}
	if a.output == "json" {
		return a.writeJSON(res)
	}
	fmt.Fprintf(a.out, "Published head %s\n  PGP Words: %s\n", res.PublishedHead, head.Words())
	fmt.Fprintf(a.out, "Rekor: %s entry %s, log index %d, integrated %s (verified against the pinned key)\n", res.RekorURL, res.UUID, res.LogIndex, res.IntegratedTime)
	fmt.Fprintf(a.out, "Entry stored in: %s\n", entryPath)
	fmt.Fprintf(a.out, "Recorded and sealed in the log; new head: %s\nPGP Words: %s\n", res.Head, res.HeadPGPWords)
	return nil
}
