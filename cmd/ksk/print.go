package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/ceremony"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"

	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/paper"
	"github.com/spf13/cobra"
)

// docFlags are the flags of the commands that write a paper.Document.
type docFlags struct {
	format, out, paper string
	force              bool
}

func (f *docFlags) register(cmd *cobra.Command, formats string) {
	cmd.Flags().StringVar(&f.format, "format", "", "output format: "+formats)
	cmd.Flags().StringVar(&f.out, "out", "", "file to write (atomically; never over an existing file without --force)")
	cmd.Flags().StringVar(&f.paper, "paper", paper.A4, "paper size: a4 or letter")
	cmd.Flags().BoolVar(&f.force, "force", false, "overwrite --out if it exists")
}

// check validates the flags before any work: a format of html or pdf
// needs --out, and the paper size must be known.
func (f *docFlags) check() error {
	switch f.format {
	case "html", "pdf":
		if f.out == "" || f.out == "-" {
			return usageErrorf("--format %s needs --out FILE", f.format)
		}
	default:
		return usageErrorf("--format %q: want html or pdf", f.format)
	}
	if err := checkPaper(f.paper); err != nil {
		return err
	}
	return checkOutFree(f.out, f.force)
}

// checkPaper validates --paper.
func checkPaper(size string) error {
	if size != paper.A4 && size != paper.Letter {
		return usageErrorf("--paper %q: want a4 or letter", size)
	}
	return nil
}

// checkOutFree refuses an existing output file without force, before
// anything is done; the atomic write checks again.
func checkOutFree(path string, force bool) error {
	if force {
		return nil
	}
	if err := atomicfile.CheckFree(path); err != nil {
		return fmt.Errorf("%w: --out %w", errUsage, err)
	}
	return nil
}

// writeDocument renders d as f.format and writes it to f.out atomically.
func writeDocument(d *paper.Document, format, out, paperSize string, force bool) error {
	d.Paper = paperSize
	var buf bytes.Buffer
	var err error
	if format == "pdf" {
		err = paper.WritePDF(&buf, d)
	} else {
		err = paper.WriteHTML(&buf, d)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errRejected, err)
	}
	if err := atomicfile.Write(out, buf.Bytes(), 0o644, force); err != nil {
		return fmt.Errorf("%w: --out %s: %w", errUsage, out, err)
	}
	return nil
}

func newCeremonyPrintCmd(a *app) *cobra.Command {
	var (
		f  ceremonyFlags
		df docFlags
	)
	cmd := &cobra.Command{
		Use:   "print SCRIPT --format html|pdf --out FILE",
		Short: "Write the printable ceremony binder from the script; touches no HSM",
		Long: `Print checks the script as "ksk ceremony check" does (same --dir and
--param) and writes the ceremony binder to print before the day: the cover
(ceremony, number, site, date, the script's SHA-256 in hex and PGP words,
ksk's version, the parameters), the participant sign-in sheet, the HSMs and
quorums, one table per act with a row per step (step number, actor,
activity and expected result, what ksk will show, blank Initial and Time
columns, a box for each value a record step asks for), the exceptions page
and the sign-off page. Every page's footer has "page N of M" and the
script's SHA-256, so that a page swapped in from another script is seen.

--format html writes one self-contained page (fonts inline, no script,
nothing fetched) with a print stylesheet; --format pdf writes the PDF
directly, so the air-gapped laptop needs no browser. Exit status 0
written, 2 the script is invalid or a flag is wrong (nothing is written).`,
		Example: `  ksk ceremony print scripts/ceremonies/quarterly-signing.yaml --dir work/ --format pdf --out work/binder.pdf
  ksk ceremony print key-generation.yaml --dir work/ --param date=2027-01-14 --format html --out binder.html --paper letter`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := df.check(); err != nil {
				return err
			}
			plan, err := f.plan(args[0])
			if err != nil {
				return err
			}
			d := paper.Binder(plan, version)
			if err := writeDocument(d, df.format, df.out, df.paper, df.force); err != nil {
				return err
			}
			if a.output == "json" {
				return a.writeJSON(map[string]any{"script": args[0], "script_sha256": plan.SHA256, "out": df.out, "format": df.format, "steps": len(plan.Steps)})
			}
			fmt.Fprintf(a.out, "Binder: %s (%s, %d steps, script sha256 %s)\n", df.out, df.format, len(plan.Steps), plan.SHA256)
			return nil
		},
	}
	f.register(cmd)
	df.register(cmd, "html or pdf (required)")
	return cmd
}

// collectLog verifies the log at path with opts and gathers what the
// transcript and the report show: every entry that verified and, when a
// sign step's SKR is found under dir with the SHA-256 the log records,
// the SKR.
func collectLog(path, dir, script string, opts attest.VerifyOptions) (*paper.LogInput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	defer f.Close()
	in := &paper.LogInput{Log: path}
	sum := sha256.New()
	inner := opts.OnEntry
	opts.OnEntry = func(e *attest.Entry, h attest.Hash, line int) error {
		in.Entries = append(in.Entries, paper.CopyEntry(e, h, line))
		if inner != nil {
			return inner(e, h, line)
		}
		return nil
	}
	res, err := attest.Verify(io.TeeReader(f, sum), opts)
	var ee *attest.EntryError
	if err != nil && !errors.As(err, &ee) {
		return nil, usageErrorf("%s: %v", path, err)
	}
	// The file's hash covers all of it, also past a bad entry.
	if _, err := io.Copy(sum, f); err != nil {
		return nil, usageErrorf("%s: %v", path, err)
	}
	copy(in.LogSHA256[:], sum.Sum(nil))
	in.Result = res
	if dir == "" {
		dir = filepath.Dir(path)
	}
	findSKR(in, dir)
	if script != "" {
		// The script lays the transcript out as the binder (act titles,
		// step numbers); whether the log is of it is --script's binding.
		if data, err := os.ReadFile(script); err == nil {
			if s, err := ceremony.Parse(data, nil); err == nil {
				in.Steps = paper.ScriptSteps(s)
			}
		}
	}
	return in, nil
}

// findSKR sets in.SKR to the SKR the last sign step of the log wrote, when
// it is under dir and its SHA-256 is the one recorded.
func findSKR(in *paper.LogInput, dir string) {
	var ref *attest.FileRef
	for i := range in.Entries {
		e := &in.Entries[i].Entry
		if e.Details["type"] != "sign" || e.Details["status"] != "done" {
			continue
		}
		for j := range e.Files {
			if e.Files[j].Role == attest.Written {
				ref = &e.Files[j]
			}
		}
	}
	if ref == nil {
		return
	}
	p := ref.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	data, err := os.ReadFile(p)
	switch {
	case err != nil:
		in.SKRNote = fmt.Sprintf("The SKR %s that the log records was not found under %s (--dir): its bundles are not shown; its SHA-256 is above.", ref.Path, dir)
		return
	case attest.Hash(sha256.Sum256(data)) != ref.SHA256:
		in.SKRNote = fmt.Sprintf("The file %s differs from the SKR the log records (SHA-256 %x, not %s): its bundles are not shown.", p, sha256.Sum256(data), ref.SHA256)
		return
	}
	d, err := ksr.Parse(bytes.NewReader(data), ksr.ParseOptions{})
	if err != nil || d.Response == nil {
		in.SKRNote = fmt.Sprintf("The SKR %s does not parse as an SKR: its bundles are not shown.", p)
		return
	}
	in.SKR, in.SKRPath = d, ref.Path
}

// reportChecks lists the checks of a verification for the TCR's report.
func reportChecks(in *paper.LogInput, opts attest.VerifyOptions, r logReport) []paper.Check {
	res := in.Result
	// The chain row fails only for a finding about the chain itself;
	// a missing seal or sign-off has its own row.
	var chainErr string
	for _, f := range res.Findings {
		switch f.Check {
		case "LOG-CHAIN", "LOG-MALFORMED", "LOG-SEQUENCE", "LOG-TRUNCATED", "LOG-HEAD", "LOG-CONTROL", "LOG-TIME":
			if f.Severity == check.Error && chainErr == "" {
				chainErr = f.String()
			}
		}
	}
	cs := []paper.Check{{Name: "Hash chain and canonical form", OK: chainErr == "",
		Detail: []paper.Line{paper.T(fmt.Sprintf("%d entries from #0, each chained to the one before", res.Entries))}}}
	if chainErr != "" {
		cs[0].Detail = append(cs[0].Detail, paper.T(attest.Sanitize(chainErr)))
	}
	seal := paper.Check{Name: "Seal by the attestation key", OK: res.SealCount > 0 && res.LastType == attest.TypeSeal}
	for _, s := range res.Seals {
		seal.Detail = append(seal.Detail, paper.T(fmt.Sprintf("#%d %s, key fingerprint", s.Seq, s.Alg)), paper.H(s.KeyFingerprint.String()))
	}
	if len(opts.AttestationKeys) > 0 {
		seal.Detail = append(seal.Detail, paper.S("the key is pinned (--attestation-key)"))
	} else {
		seal.Detail = append(seal.Detail, paper.S("the key is not pinned: pass --attestation-key"))
	}
	cs = append(cs, seal)
	wc := paper.Check{Name: "Witness signatures", OK: true}
	for _, w := range res.Witnesses {
		wc.Detail = append(wc.Detail, paper.T(fmt.Sprintf("#%d %s", w.Seq, attest.Sanitize(w.Name))), paper.H(attest.Sanitize(w.KeyFingerprint)))
	}
	if opts.AllowedSigners != nil {
		wc.OK = res.SignOffSeq >= res.LastMaterialSeq && res.SignOffSeq >= 0
		wc.Detail = append(wc.Detail, paper.S(fmt.Sprintf("pinned by --allowed-signers; signed off through entry %d, last step %d", res.SignOffSeq, res.LastMaterialSeq)))
	} else {
		wc.Detail = append(wc.Detail, paper.S("the witnesses are not pinned: pass --allowed-signers"))
	}
	cs = append(cs, wc)
	if opts.Ceremony != nil {
		cs = append(cs, paper.Check{Name: "Ceremony binding", OK: !hasCheck(res.Findings, "LOG-CEREMONY"),
			Detail: paper.Ls(fmt.Sprintf("script %s, ceremony %q, number %q", orDash(opts.Ceremony.ScriptSHA256), opts.Ceremony.Name, opts.Ceremony.Number))})
	}
	if r.Rekor != nil {
		ok := true
		for _, f := range r.Findings {
			if strings.HasPrefix(f.Check, "LOG-REKOR") && f.Severity == check.Error {
				ok = false
			}
		}
		cs = append(cs, paper.Check{Name: "Rekor inclusion", OK: ok, Detail: paper.Ls(rekorSummary(r.Rekor)...)})
	}
	cs = append(cs, paper.Check{Name: "Finished", OK: res.Finished, Detail: paper.Ls(r.Summary)})
	return cs
}

func hasCheck(fs []check.Finding, id string) bool {
	for _, f := range fs {
		if f.Check == id && f.Severity == check.Error {
			return true
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
