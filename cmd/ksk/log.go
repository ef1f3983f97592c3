package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/paper"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
)

func newLogCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Verify, show and witness ceremony attestation logs",
		Long: `A ceremony's attestation log is an append-only, hash-chained file of JSON
Lines: one entry per step (who, what, the SHA-256 of every file read or
written), the head signed by the ceremony attestation key in "seal" entries,
and countersigned by witnesses with their SSH keys. See
docs/attestation-log.md for the format and how to check it by hand.`,
		Example: `  ksk log verify ceremony.log --head 3f1c...e9 --attestation-key attest.pem
  ksk log show ceremony.log > transcript.txt
  ksk log witness ceremony.log --name alice --key ~/.ssh/id_ed25519`,
		Args: subcommandArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newLogVerifyCmd(a), newLogShowCmd(a), newLogWitnessCmd(a), newLogHeadCmd(a), newLogPublishCmd(a))
	return cmd
}

// logVerifyFlags are the verification inputs shared by verify and show.
type logVerifyFlags struct {
	head           string
	attestationKey []string
	allowedSigners string
	inProgress     bool
	script         string
	ceremony       string
}

func (f *logVerifyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.head, "head", "", "the head the log must end at: 64 hex digits, or its 32 PGP words in quotes")
	cmd.Flags().StringArrayVar(&f.attestationKey, "attestation-key", nil, "PEM public key (SubjectPublicKeyInfo) of the ceremony attestation key; every seal must be by it (repeatable)")
	cmd.Flags().StringVar(&f.allowedSigners, "allowed-signers", "", "OpenSSH allowed_signers file: every witness must sign with a listed key under a listed name, and every listed signer must sign off after the log's last step")
	cmd.Flags().BoolVar(&f.inProgress, "in-progress", false, "accept a log that is still being written (not sealed last, or not signed off yet): it is reported as NOT FINISHED, with the entry up to which it is attested")
	cmd.Flags().StringVar(&f.script, "script", "", "the ceremony script the log must be of (its SHA-256 is in the log's open entry)")
	cmd.Flags().StringVar(&f.ceremony, "ceremony", "", "the ceremony the log must be of, as NAME/NUMBER (as the open entry records them; either may be empty)")
}

// options turns the flags into attest.VerifyOptions; errors are usage errors.
func (f *logVerifyFlags) options() (attest.VerifyOptions, error) {
	o := attest.VerifyOptions{InProgress: f.inProgress}
	if f.script != "" || f.ceremony != "" {
		o.Ceremony = &attest.CeremonyBinding{}
	}
	if f.script != "" {
		ref, err := attest.HashFile(f.script, attest.Read)
		if err != nil {
			return o, usageErrorf("--script: %v", err)
		}
		o.Ceremony.ScriptSHA256 = ref.SHA256.String()
	}
	if f.ceremony != "" {
		i := strings.LastIndex(f.ceremony, "/")
		if i < 0 {
			return o, usageErrorf("--ceremony %q: want NAME/NUMBER, for example \"KSK Ceremony 55 (quarterly signing)/55\"", f.ceremony)
		}
		o.Ceremony.Name, o.Ceremony.Number = f.ceremony[:i], f.ceremony[i+1:]
		if o.Ceremony.Number != "" {
			if _, err := strconv.Atoi(o.Ceremony.Number); err != nil {
				return o, usageErrorf("--ceremony %q: the number after the last / is not a number", f.ceremony)
			}
		}
	}
	if f.head != "" {
		h, err := attest.ParseHash(f.head)
		if err != nil {
			return o, usageErrorf("--head: %v", err)
		}
		o.Head = &h
	}
	for _, p := range f.attestationKey {
		b, err := os.ReadFile(p)
		if err != nil {
			return o, usageErrorf("--attestation-key: %v", err)
		}
		k, err := attest.ParsePublicKeyPEM(b)
		if err != nil {
			return o, usageErrorf("--attestation-key %s: %v", p, err)
		}
		o.AttestationKeys = append(o.AttestationKeys, k)
	}
	if f.allowedSigners != "" {
		r, err := os.Open(f.allowedSigners)
		if err != nil {
			return o, usageErrorf("--allowed-signers: %v", err)
		}
		defer r.Close()
		o.AllowedSigners, err = attest.ParseAllowedSigners(r)
		if err != nil {
			return o, usageErrorf("--allowed-signers %s: %v", f.allowedSigners, err)
		}
		if o.AllowedSigners == nil {
			o.AllowedSigners = []attest.AllowedSigner{} // an empty file allows no witness
		}
	}
	return o, nil
}

// logReport is the JSON object of ksk log verify.
type logReport struct {
	Valid bool `json:"valid"`
	// Finished: sealed as its last entry and signed off; Status is
	// VALID, NOT FINISHED (only with --in-progress) or INVALID.
	Finished        bool            `json:"finished"`
	Status          string          `json:"status"`
	AttestedThrough int64           `json:"attested_through_seq"`
	LastMaterialSeq int64           `json:"last_step_seq"`
	SignOffSeq      int64           `json:"signed_off_through_seq"`
	InProgress      bool            `json:"in_progress_mode"`
	Summary         string          `json:"summary"`
	Log             string          `json:"log"`
	Head            string          `json:"head"`
	HeadPGPWords    string          `json:"head_pgp_words"`
	Entries         int64           `json:"entries"`
	WitnessHead     string          `json:"witness_head"`
	Seals           []sealReport    `json:"seals"`
	Witnesses       []witnessReport `json:"witnesses"`
	Unsealed        int64           `json:"unsealed_entries"`
	AttestationKey  string          `json:"attestation_key_pinned"`
	Rekor           *rekorReport    `json:"rekor,omitempty"`
	Findings        []check.Finding `json:"findings"`
}

type sealReport struct {
	Seq            int64  `json:"seq"`
	Line           int    `json:"line"`
	Alg            string `json:"alg"`
	KeyFingerprint string `json:"key_fingerprint"`
	SignedHead     string `json:"signed_head"`
}

type witnessReport struct {
	Seq            int64  `json:"seq"`
	Line           int    `json:"line"`
	Name           string `json:"name"`
	KeyFingerprint string `json:"key_fingerprint"`
	SignedHead     string `json:"signed_head"`
}

// verifyLog runs attest.Verify on path. A file that cannot be opened or
// read is a usage error; a log that does not verify is reported in the
// Result's findings and the returned error is nil.
func verifyLog(path string, opts attest.VerifyOptions) (*attest.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	defer f.Close()
	res, err := attest.Verify(f, opts)
	var ee *attest.EntryError
	if err != nil && !errors.As(err, &ee) {
		return nil, usageErrorf("%s: %v", path, err)
	}
	return res, nil
}

func newLogReport(path string, res *attest.Result, opts attest.VerifyOptions) logReport {
	r := logReport{
		Valid: res.Valid(), Log: path, Head: res.Head.String(), HeadPGPWords: res.Head.Words(),
		Entries: res.Entries, WitnessHead: res.WitnessHead.String(), Unsealed: res.Unsealed,
		Seals: []sealReport{}, Witnesses: []witnessReport{}, Findings: res.Findings,
		AttestationKey: "no", Finished: res.Finished, Status: res.Status(), AttestedThrough: res.AttestedThrough(),
		LastMaterialSeq: res.LastMaterialSeq, SignOffSeq: res.SignOffSeq, InProgress: opts.InProgress,
	}
	switch r.Status {
	case "VALID":
		r.Summary = "finished: the log verifies, ends with its seal and, when allowed signers were given, is signed off by every one of them"
	case "NOT FINISHED":
		r.Summary = "NOT FINISHED: " + res.AttestedSummary()
	default:
		r.Summary = "the log does not verify"
	}
	if len(opts.AttestationKeys) > 0 {
		r.AttestationKey = "yes"
	}
	if r.Findings == nil {
		r.Findings = []check.Finding{}
	}
	for _, s := range res.Seals {
		r.Seals = append(r.Seals, sealReport{Seq: s.Seq, Line: s.Line, Alg: s.Alg, KeyFingerprint: s.KeyFingerprint.String(), SignedHead: s.Head.String()})
	}
	for _, w := range res.Witnesses {
		r.Witnesses = append(r.Witnesses, witnessReport{Seq: w.Seq, Line: w.Line, Name: w.Name, KeyFingerprint: w.KeyFingerprint, SignedHead: w.Head.String()})
	}
	return r
}

// invalidate marks the report as not verifying, after a finding that
// came from outside attest.Verify (the Rekor checks): never VALID nor NOT
// FINISHED with an error among the findings.
func (r *logReport) invalidate() {
	r.Valid, r.Finished, r.Status, r.Summary = false, false, "INVALID", "the log does not verify"
}

// rejectLog returns the exit-1 error for an invalid report whose findings
// have been printed.
func rejectLog(r logReport) error {
	msg := "log does not verify"
	for _, f := range r.Findings {
		if f.Severity == check.Error {
			msg = f.String()
			break
		}
	}
	return silentError{fmt.Errorf("%w: %s: %s", errRejected, r.Log, msg)}
}

func printFindings(w io.Writer, fs []check.Finding) {
	for _, f := range fs {
		fmt.Fprintln(w, f.String())
	}
}

func newLogVerifyCmd(a *app) *cobra.Command {
	var fl logVerifyFlags
	var rfl rekorVerifyFlags
	var report, reportDir, paperSize string
	var force bool
	cmd := &cobra.Command{
		Use:   "verify LOG",
		Short: "Verify an attestation log's hash chain, seals and witness signatures",
		Long: `Verify reads the log line by line and checks that every line is a canonical
entry, that sequence numbers and prev hashes chain from entry 0 to the end,
that every seal is a valid signature over the head before it (by the pinned
--attestation-key, when given) and every witness entry a valid SSH signature
(by a key of --allowed-signers, when given), and, with --head, that the log
ends exactly at that head. It names the first bad entry by sequence number
and line.

A log is VALID only when it is finished: its last entry is a seal by the
attestation key and, with --allowed-signers, every listed witness signed a
head at or after the log's last step that changed anything (the sign-off,
not only the attendance). A log that stops early, has entries after its
seal, or whose sign-off does not cover the signing is refused. With
--in-progress a log that is still being written verifies as NOT FINISHED,
saying up to which entry a seal attests it. --script and --ceremony bind the
log to its ceremony, so that a log of another ceremony sealed with the same
key is refused.

Exit status: 0 the log verifies (finished, or with --in-progress as far as
it goes), 1 it does not (modified, inserted, deleted, reordered or
truncated entries, a bad, untrusted or non-canonical signature, a control
character, not finished, another ceremony), 2 the file or a flag could not
be read.`,
		Example: `  ksk log verify ceremony.log
  ksk log verify ceremony.log --head 9b2e61c3...0d --attestation-key attest.pem --allowed-signers witnesses
  ksk log verify ceremony.log --script quarterly-signing.yaml --ceremony "KSK Ceremony 55 (quarterly signing)/55"
  ksk log verify --in-progress ceremony.log
  ksk log verify ceremony.log --rekor-key rekor.pub
  ksk log verify -o json ceremony.log | jq .valid`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := fl.options()
			if err != nil {
				return err
			}
			rc, err := rfl.prepare(args[0], &opts)
			if err != nil {
				return err
			}
			if report != "" {
				if err := checkPaper(paperSize); err != nil {
					return err
				}
				if err := checkOutFree(report, force); err != nil {
					return err
				}
			}
			// Without --report the log is verified streaming, in bounded
			// memory; the report keeps every entry to lay them out.
			var in *paper.LogInput
			if report != "" {
				in, err = collectLog(args[0], reportDir, fl.script, opts)
			} else {
				in = &paper.LogInput{}
				in.Result, err = verifyLog(args[0], opts)
			}
			if err != nil {
				return err
			}
			r := newLogReport(args[0], in.Result, opts)
			if err := rc.finish(cmd.Context(), &r); err != nil {
				return err
			}
			if report != "" {
				if !r.Valid {
					// a finding from outside attest.Verify (Rekor)
					// makes the report's verdict a failure too
					in.Result.Findings = r.Findings
				}
				in.Checks = reportChecks(in, opts, r)
				if err := writeDocument(paper.Report(in), "html", report, paperSize, force); err != nil {
					return err
				}
			}
			if a.output == "json" {
				if err := a.writeJSON(r); err != nil {
					return err
				}
			} else {
				printLogReport(a.out, r)
			}
			if !r.Valid {
				return rejectLog(r)
			}
			return nil
		},
	}
	fl.register(cmd)
	rfl.register(cmd)
	cmd.Flags().StringVar(&report, "report", "", "also write the TCR's report here: one self-contained HTML file, the verdict first (exit status as without it)")
	cmd.Flags().StringVar(&reportDir, "dir", "", "directory the log's file names are relative to, for the report's SKR bundle table (default: the log's directory)")
	cmd.Flags().StringVar(&paperSize, "paper", paper.A4, "paper size of the report's print stylesheet: a4 or letter")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite --report if it exists")
	return cmd
}

func printLogReport(w io.Writer, r logReport) {
	fmt.Fprintf(w, "Log: %s\n", r.Log)
	fmt.Fprintf(w, "Entries: %d\n", r.Entries)
	for _, s := range r.Seals {
		fmt.Fprintf(w, "Seal: seq %d by attestation key %s (%s)\n", s.Seq, s.KeyFingerprint, s.Alg)
	}
	if r.AttestationKey == "no" && len(r.Seals) > 0 {
		fmt.Fprintln(w, "Note: the attestation key is not pinned; pass --attestation-key to check the seals are the ceremony's key")
	}
	for _, x := range r.Witnesses {
		fmt.Fprintf(w, "Witness: seq %d %s, key %s, signed head %s\n", x.Seq, x.Name, x.KeyFingerprint, x.SignedHead)
	}
	printRekorReport(w, r.Rekor)
	fmt.Fprintf(w, "Head: %s\n", r.Head)
	fmt.Fprintf(w, "PGP Words: %s\n", r.HeadPGPWords)
	printFindings(w, r.Findings)
	switch r.Status {
	case "VALID":
		fmt.Fprintln(w, "Result: VALID")
	case "NOT FINISHED":
		fmt.Fprintf(w, "Result: NOT FINISHED (%s)\n", strings.TrimPrefix(r.Summary, "NOT FINISHED: "))
	default:
		fmt.Fprintln(w, "Result: INVALID")
	}
}

// showEntry is an entry in ksk log show -o json.
type showEntry struct {
	Seq     int64             `json:"seq"`
	Line    int               `json:"line"`
	Time    string            `json:"time"`
	Type    string            `json:"type"`
	Step    string            `json:"step"`
	Actor   string            `json:"actor"`
	Details map[string]string `json:"details"`
	Files   []showFile        `json:"files"`
	Hash    string            `json:"hash"`
	Signed  string            `json:"signed_head,omitempty"`
	Key     string            `json:"key_fingerprint,omitempty"`
}

type showFile struct {
	Path   string `json:"path"`
	Role   string `json:"role"`
	SHA256 string `json:"sha256"`
}

func newLogShowCmd(a *app) *cobra.Command {
	var (
		fl  logVerifyFlags
		df  docFlags
		dir string
	)
	cmd := &cobra.Command{
		Use:   "show LOG [--format text|html|pdf] [--out FILE]",
		Short: "Print a transcript of an attestation log for a person to read and initial",
		Long: `Show prints each entry of the log (sequence number, time, step, actor,
details, files with their full SHA-256, seals and witness signatures), then
the head in hex and as PGP words, the verification result and lines for the
reviewer's initials. It verifies as it goes, with the same flags as
ksk log verify: a log that does not verify is printed up to its first bad
entry, followed by the finding, and the exit status is 1.

--format html or pdf writes the annotated transcript to --out instead: the
verdict, the ceremony and its hashes (script, KSR, SKR, log file, head) in
hex and PGP words, the witnesses with their key fingerprints, the quorum's
credentials, the SKR's bundles (when the SKR the log records is found under
--dir with that SHA-256), one table per act with a row per entry, and every
file read or written. Hashes are never shortened.`,
		Example: `  ksk log show ceremony.log
  ksk log show ceremony.log --attestation-key attest.pem > transcript.txt
  ksk log show work/ceremony.log --format pdf --out work/transcript.pdf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := fl.options()
			if err != nil {
				return err
			}
			if df.format == "" {
				df.format = "text"
			}
			if df.format != "text" {
				if err := df.check(); err != nil {
					return err
				}
				in, err := collectLog(args[0], dir, fl.script, opts)
				if err != nil {
					return err
				}
				r := newLogReport(args[0], in.Result, opts)
				if err := writeDocument(paper.Transcript(in), df.format, df.out, df.paper, df.force); err != nil {
					return err
				}
				if a.output == "json" {
					if err := a.writeJSON(map[string]any{"log": r.Log, "out": df.out, "format": df.format, "status": r.Status, "valid": r.Valid, "head": r.Head}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(a.out, "Transcript: %s (%s), %d entries, %s\nHead: %s\n", df.out, df.format, r.Entries, r.Status, r.Head)
				}
				if !r.Valid {
					return rejectLog(r)
				}
				return nil
			}
			out := a.out
			var buf bytes.Buffer
			if df.out != "" && df.out != "-" {
				if err := checkOutFree(df.out, df.force); err != nil {
					return err
				}
				out = &buf
			}
			var entries []showEntry
			if a.output == "text" {
				attest.WriteTranscriptStart(out, args[0])
			}
			opts.OnEntry = func(e *attest.Entry, h attest.Hash, line int) error {
				if a.output == "json" {
					entries = append(entries, newShowEntry(e, h, line))
					return nil
				}
				attest.WriteTranscriptEntry(out, e, h)
				return nil
			}
			res, err := verifyLog(args[0], opts)
			if err != nil {
				return err
			}
			r := newLogReport(args[0], res, opts)
			if a.output == "json" {
				if entries == nil {
					entries = []showEntry{}
				}
				if err := a.writeJSON(map[string]any{
					"log": r.Log, "valid": r.Valid, "finished": r.Finished, "status": r.Status, "attested_through_seq": r.AttestedThrough,
					"summary": r.Summary, "head": r.Head, "head_pgp_words": r.HeadPGPWords,
					"entries": entries, "findings": r.Findings,
				}); err != nil {
					return err
				}
			} else {
				attest.WriteTranscriptEnd(out, res, r.Findings, r.Valid)
			}
			if out == &buf {
				if err := atomicfile.Write(df.out, buf.Bytes(), 0o644, df.force); err != nil {
					return fmt.Errorf("%w: --out %s: %w", errUsage, df.out, err)
				}
			}
			if !r.Valid {
				return rejectLog(r)
			}
			return nil
		},
	}
	fl.register(cmd)
	df.register(cmd, "text (default, to stdout or --out), html or pdf (to --out)")
	cmd.Flags().StringVar(&dir, "dir", "", "directory the log's file names are relative to, for the SKR's bundle table (default: the log's directory)")
	return cmd
}

func newShowEntry(e *attest.Entry, h attest.Hash, line int) showEntry {
	s := showEntry{Seq: e.Seq, Line: line, Time: e.Time.Format(attest.TimeLayout), Type: e.Type, Step: e.Step, Actor: e.Actor,
		Details: map[string]string{}, Files: []showFile{}, Hash: h.String()}
	for k, v := range e.Details { // copied: the Entry is reused
		s.Details[k] = v
	}
	for _, f := range e.Files {
		s.Files = append(s.Files, showFile{Path: f.Path, Role: string(f.Role), SHA256: f.SHA256.String()})
	}
	if e.Seal != nil {
		s.Signed, s.Key = e.Seal.Head.String(), e.Seal.KeyFingerprint.String()
	}
	if e.Witness != nil {
		s.Signed, s.Key = e.Witness.Head.String(), e.Witness.KeyFingerprint
	}
	return s
}

// openLogForAppend opens a log to append, mapping a log that does not
// verify to exit 1 and an unreadable one to exit 2.
func openLogForAppend(path string) (*attest.Writer, error) {
	w, err := attest.Open(path)
	if err != nil {
		var ee *attest.EntryError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("%w: %w", errRejected, err)
		}
		return nil, usageErrorf("%v", err)
	}
	return w, nil
}

func newLogWitnessCmd(a *app) *cobra.Command {
	var name, keyFile, sigFile, pubFile, step string
	cmd := &cobra.Command{
		Use:   "witness LOG",
		Short: "Countersign the log's head with a witness's SSH key",
		Long: `Witness verifies the log, signs its witness head with an SSH key as
ssh-keygen -Y sign -n ksk-attestation would, and appends a witness entry with
the armored signature and the public key. The witness head is the current
head, or, right after other witness entries, the head they signed, so every
witness of one sign-off signs the same head (ksk log head --for-witness
prints it).

With --key, ksk reads an unencrypted OpenSSH private key. A witness whose key
is encrypted, in an agent or on a token signs with ssh-keygen instead and
gives the signature with --signature and --public-key:

  ksk log head --for-witness LOG | ssh-keygen -Y sign -n ksk-attestation -f KEY > head.sig
  ksk log witness LOG --name alice --signature head.sig --public-key KEY.pub`,
		Example: `  ksk log witness ceremony.log --name alice --key alice_ed25519
  ksk log witness ceremony.log --name bob --signature head.sig --public-key bob.pub`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usageErrorf("--name is required")
			}
			if (keyFile == "") == (sigFile == "") {
				return usageErrorf("give either --key, or --signature with --public-key")
			}
			if sigFile != "" && pubFile == "" {
				return usageErrorf("--signature needs --public-key")
			}
			var signer ssh.Signer
			var pub ssh.PublicKey
			var armored []byte
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return usageErrorf("--key: %v", err)
				}
				signer, err = ssh.ParsePrivateKey(b)
				var missing *ssh.PassphraseMissingError
				if errors.As(err, &missing) {
					return usageErrorf("--key %s is encrypted: sign with ssh-keygen -Y sign and pass --signature and --public-key (see --help)", keyFile)
				}
				if err != nil {
					return usageErrorf("--key %s: %v", keyFile, err)
				}
			} else {
				var err error
				if armored, err = os.ReadFile(sigFile); err != nil {
					return usageErrorf("--signature: %v", err)
				}
				b, err := os.ReadFile(pubFile)
				if err != nil {
					return usageErrorf("--public-key: %v", err)
				}
				if pub, _, _, _, err = ssh.ParseAuthorizedKey(b); err != nil {
					return usageErrorf("--public-key %s: %v", pubFile, err)
				}
			}
			w, err := openLogForAppend(args[0])
			if err != nil {
				return err
			}
			defer w.Close()
			signed := w.WitnessHead()
			var head attest.Hash
			if signer != nil {
				head, err = w.Witness(step, name, signer)
			} else {
				head, err = w.AddWitnessSignature(step, name, pub, armored)
			}
			if err != nil {
				if errors.Is(err, attest.ErrBadSignature) {
					return fmt.Errorf("%w: %w", errRejected, err)
				}
				return usageErrorf("%v", err)
			}
			if err := w.Close(); err != nil {
				return fmt.Errorf("%w: %w", errEnvironment, err)
			}
			if a.output == "json" {
				return a.writeJSON(map[string]any{"witness": name, "signed_head": signed.String(), "head": head.String(), "head_pgp_words": head.Words()})
			}
			fmt.Fprintf(a.out, "Witness %s signed head %s\nNew head: %s\nPGP Words: %s\n", name, signed, head, head.Words())
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the witness's name, as in the allowed_signers file (required)")
	cmd.Flags().StringVar(&keyFile, "key", "", "unencrypted OpenSSH private key file to sign with")
	cmd.Flags().StringVar(&sigFile, "signature", "", "armored SSH signature made by ssh-keygen -Y sign -n ksk-attestation over the witness head")
	cmd.Flags().StringVar(&pubFile, "public-key", "", "the signer's SSH public key file (with --signature)")
	cmd.Flags().StringVar(&step, "step", "witness", "step ID recorded in the entry")
	return cmd
}

func newLogHeadCmd(a *app) *cobra.Command {
	var fl logVerifyFlags
	var forWitness bool
	cmd := &cobra.Command{
		Use:   "head LOG",
		Short: "Print the log's head (or the head a witness signs) after verifying the log",
		Long: `Head verifies the log and prints its head, the hash of its last entry, in
hex on a line of its own, so it can be piped to ssh-keygen. With
--for-witness it prints the head that a witness signs now (see ksk log
witness --help).`,
		Example: `  ksk log head ceremony.log
  ksk log head --for-witness ceremony.log | ssh-keygen -Y sign -n ksk-attestation -f ~/.ssh/id_ed25519 > head.sig`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := fl.options()
			if err != nil {
				return err
			}
			// The head is asked for while a ceremony runs: a log
			// still being written is what head is for.
			opts.InProgress = true
			res, err := verifyLog(args[0], opts)
			if err != nil {
				return err
			}
			r := newLogReport(args[0], res, opts)
			if !r.Valid {
				printFindings(a.errOut, r.Findings)
				return rejectLog(r)
			}
			h := res.Head
			if forWitness {
				h = res.WitnessHead
			}
			if a.output == "json" {
				return a.writeJSON(map[string]any{"head": h.String(), "head_pgp_words": h.Words(), "entries": res.Entries, "for_witness": forWitness})
			}
			_, err = fmt.Fprintln(a.out, h)
			return err
		},
	}
	fl.register(cmd)
	cmd.Flags().BoolVar(&forWitness, "for-witness", false, "print the head a witness signs now")
	return cmd
}
