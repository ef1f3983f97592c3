package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/skr"
	"github.com/spf13/cobra"
)

// skrExportFlags are the flags of ksk skr export.
type skrExportFlags struct {
	format  string
	bundle  string
	at      string
	out     string
	force   bool
	maxSize int64
}

// skrExportResult is the JSON output of ksk skr export (with --out FILE).
type skrExportResult struct {
	File      string            `json:"file"`
	SHA256    string            `json:"sha256"`
	Out       string            `json:"out"`
	OutSHA256 string            `json:"out_sha256"`
	ID        string            `json:"id"`
	Format    string            `json:"format"`
	Bundles   []skrExportBundle `json:"bundles"`
}

// skrExportBundle is one exported bundle.
type skrExportBundle struct {
	Number     int    `json:"number"`
	ID         string `json:"id"`
	Inception  string `json:"inception"`
	Expiration string `json:"expiration"`
	Records    int    `json:"records"`
}

func newSKRExportCmd(a *app) *cobra.Command {
	f := &skrExportFlags{}
	cmd := &cobra.Command{
		Use:   "export SKR [--format zone] [--bundle N|ID|all | --at TIME] [--out FILE|-]",
		Short: "Write an SKR's bundles as DNS records for a zone's signer and for validators",
		Long: `Write the bundles of a Signed Key Response in DNS presentation format (the
zone file format of RFC 1035): for each bundle, a comment block with its
number, id, inception, expiration and keys, then its DNSKEY records in
canonical order (RFC 4034 section 6.3) and the RRSIGs of the KSKs over them.
Owner names are absolute, so the records can be appended to the zone as they
are; BIND's dnssec-signzone keeps such signatures when it signs the rest of the
zone (-x), and ldns-verify-zone, kzonecheck and dnssec-verify check them
(docs/validators.md).

--bundle selects one bundle by number (1 to the number of bundles) or by id, or
"all" (the default); --at selects the bundle a zone publishes at that time: of
those valid then, the one that started last. Several bundles in one output are
successive versions of the same RRset: split them at the comment blocks rather
than load them into one zone.

The output goes to stdout (--out -, the default) or to a file, written
atomically and never over an existing file without --force; for a file ksk
prints its SHA-256 and, with -o json, a summary object. Export does not verify
the signatures: run "ksk skr verify" first. Exit status: 0 written, 1 the SKR
does not parse or is a KSR, 2 bad flags, no such bundle or unreadable file.`,
		Example: `  ksk skr export skr-root-2017-q2-0.xml --bundle 1
  ksk skr export skr.xml --at 2026-04-11T00:00:00Z --out dnskey.zone
  ksk skr export skr.xml --bundle all --out all-bundles.zone -o json
  cat root.zone <(ksk skr export skr.xml --bundle 1) > root-with-keys.zone`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSKRExport(a, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "zone", "output format: zone (DNS presentation format)")
	fl.StringVar(&f.bundle, "bundle", "", `bundle to export: a number from 1, a bundle id, or "all" (default all)`)
	fl.StringVar(&f.at, "at", "", "export the bundle a zone publishes at this RFC 3339 time")
	fl.StringVar(&f.out, "out", "-", `file to write, or "-" for stdout`)
	fl.BoolVar(&f.force, "force", false, "overwrite --out if it exists")
	fl.Int64Var(&f.maxSize, "max-size", ksr.DefaultMaxSize, "largest SKR read, in bytes")
	return cmd
}

func runSKRExport(a *app, f *skrExportFlags, file string) error {
	if f.format != "zone" {
		return usageErrorf("--format %q: the only format is zone", f.format)
	}
	if f.bundle != "" && f.at != "" {
		return usageErrorf("give --bundle or --at, not both")
	}
	toStdout := f.out == "-" || f.out == ""
	if toStdout && a.output == "json" {
		return usageErrorf("-o json describes the export: give --out FILE for the records")
	}
	if err := checkMaxSize(f.maxSize); err != nil {
		return err
	}
	data, sum, err := readBounded(file, f.maxSize)
	if err != nil {
		return err
	}
	d, err := parseDocument(data, file, f.maxSize)
	if err != nil {
		return fmt.Errorf("%w: %w", errRejected, err)
	}
	if d.Response == nil {
		return fmt.Errorf("%w: %s is a KSR, not an SKR: it holds no KSK signatures to export", errRejected, file)
	}

	var idx []int
	if f.at != "" {
		at, err := parseAt(f.at)
		if err != nil {
			return err
		}
		i, err := skr.BundleAt(d, at)
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		idx = []int{i}
	} else if idx, err = skr.SelectBundles(d, f.bundle); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}

	var buf bytes.Buffer
	if err := skr.WriteZone(&buf, d, idx); err != nil {
		return err
	}
	if toStdout {
		_, err := a.out.Write(buf.Bytes())
		return err
	}
	if err := atomicfile.Write(f.out, buf.Bytes(), 0o644, f.force); err != nil {
		if errors.Is(err, atomicfile.ErrExists) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return fmt.Errorf("%w: %w", errEnvironment, err)
	}
	outSum := sha256.Sum256(buf.Bytes())
	res := skrExportResult{File: file, SHA256: sum, Out: f.out, OutSHA256: hex.EncodeToString(outSum[:]), ID: d.ID, Format: f.format}
	bundles := d.Bundles()
	for _, i := range idx {
		b := &bundles[i]
		res.Bundles = append(res.Bundles, skrExportBundle{
			Number: i + 1, ID: b.ID,
			Inception: b.Inception.Format(time.RFC3339), Expiration: b.Expiration.Format(time.RFC3339),
			Records: len(b.Keys) + len(b.Signatures),
		})
	}
	if a.output == "json" {
		return a.writeJSON(res)
	}
	fmt.Fprintf(a.out, "Wrote %s of SKR %s to %s\n", plural(len(idx), "bundle"), d.ID, f.out)
	for _, b := range res.Bundles {
		fmt.Fprintf(a.out, "  bundle %d %s  %s to %s  %d records\n", b.Number, b.ID, b.Inception, b.Expiration, b.Records)
	}
	_, err = fmt.Fprintf(a.out, "SHA-256: %s\n", res.OutSHA256)
	return err
}
