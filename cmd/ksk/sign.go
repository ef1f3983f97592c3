package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/internal/lineread"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/pgpwords"
	"github.com/ksk-dev/ksk/signer"
	"github.com/spf13/cobra"
)

// classifySignerError maps the signer's configuration errors to exit 2
// and failed checks to exit 1.
func classifySignerError(err error) int {
	switch {
	case errors.Is(err, signer.ErrChecksFailed):
		return exitRejected
	case errors.Is(err, signer.ErrRead), errors.Is(err, signer.ErrSyntax), errors.Is(err, signer.ErrUnknownKey),
		errors.Is(err, signer.ErrInvalid), errors.Is(err, signer.ErrUnknownSchema):
		return exitUsage
	}
	return 0
}

// DefaultSignMaxSize is the largest KSR or previous SKR ksk sign reads by
// default: a KSR for extended signing after an outage has thousands of
// bundles, far more than the 1 MiB of a quarter's.
const DefaultSignMaxSize = 64 << 20

// signFlags are the flags of ksk sign.
type signFlags struct {
	config      string
	schema      string
	ksrFile     string
	previousSKR string
	out         string
	yes         bool
	force       bool
	at          string
	maxSize     int64
	workers     int
	progress    int
	hsm         hsmFlags
}

// signResult is the JSON output of ksk sign.
type signResult struct {
	Valid             bool                   `json:"valid"`
	Findings          []check.Finding        `json:"findings"`
	Written           bool                   `json:"written"`
	SKR               string                 `json:"skr"`
	SKRSHA256         string                 `json:"skr_sha256,omitempty"`
	SKRPGPWords       string                 `json:"skr_pgp_words,omitempty"`
	KSR               string                 `json:"ksr"`
	KSRSHA256         string                 `json:"ksr_sha256"`
	KSRPGPWords       string                 `json:"ksr_pgp_words"`
	KSRID             string                 `json:"ksr_id,omitempty"`
	PreviousSKR       string                 `json:"previous_skr,omitempty"`
	PreviousSKRSHA256 string                 `json:"previous_skr_sha256,omitempty"`
	Config            string                 `json:"config"`
	Schema            string                 `json:"schema"`
	At                string                 `json:"at"`
	Bundles           []signer.BundleSummary `json:"bundles"`
	Signatures        int                    `json:"signatures"`
	Errors            int                    `json:"errors"`
	Warnings          int                    `json:"warnings"`
}

func newSignCmd(a *app) *cobra.Command {
	f := &signFlags{}
	cmd := &cobra.Command{
		Use:   "sign --config FILE --schema NAME --ksr KSR [--previous-skr SKR] --out SKR [--yes]",
		Short: "Sign a KSR into an SKR with the KSKs and schedule a signer configuration names",
		Long: `Sign a Key Signing Request into a Signed Key Response, as IANA's ksrsigner
does: for each bundle, the KSR's ZSKs plus the KSKs the schema's slot names
(published with flags 257, revoked with 385), signed by the slot's signing KSKs
in the HSM, every signature verified in software before it is written.

The configuration (YAML, docs/signer.md) names the HSM, the KSKs (label,
algorithm, size, key tag, DS, validity) and the schemas; --schema picks one.
Before the HSM is touched, ksk checks the configuration, the KSR (every check
of "ksk ksr verify", with --previous-skr when given), the KSKs' validity
windows, algorithm coverage, publish and retire safety against the previous
SKR and the KSK policy's signature validity. Then it logs in, finds each KSK
and checks it against its configured algorithm, size, exponent, key tag and
DS. Any failure prints its check IDs (docs/checks.md, "Signing checks"),
exits 1 and writes nothing.

Without --yes it then shows the KSR file, its SHA-256 and PGP words, and a
table of the bundles (dates, ZSK key tags, KSKs published, signing and
revoked) and asks the operator to type Yes; anything else exits 1 and writes
nothing. The SKR is verified again whole (as "ksk skr verify --ksr" does) and
written atomically to --out, never over an existing file unless --force.

The HSM comes from the configuration's hsm section; --module, --token,
--token-serial and --pin-source override it, and $KSK_PKCS11_MODULE,
$KSK_TOKEN, $KSK_TOKEN_SERIAL and $KSK_PIN_SOURCE fill what neither gives.

` + hsmFlagsHelp + `

Exit status: 0 signed, 1 a check failed or the operator did not confirm,
2 bad flags, configuration or unreadable file, 3 HSM error (module, token,
PIN, key missing).`,
		Example: `  ksk sign --config ksrsigner.yaml --schema normal --ksr ksr-root-2026-q3-0.xml \
      --previous-skr skr-root-2026-q2-0.xml --out skr-root-2026-q3-0.xml
  ksk sign --config scripts/signer/softhsm-rehearsal.yaml --schema rollover \
      --ksr ksr.xml --out skr.xml --yes -o json
  ksk sign --config testdata/golden/signer-2018-q1-d_to_e.yaml --schema rollover \
      --ksr testdata/iana-root/ksr-root-2018-q1-0-d_to_e.xml \
      --at 2018-01-01T00:00:00Z --out skr.xml --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSign(cmd, a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "signer configuration, YAML (required)")
	fl.StringVar(&f.schema, "schema", "", "schema of the configuration to sign with (required)")
	fl.StringVar(&f.ksrFile, "ksr", "", "the KSR to sign (required)")
	fl.StringVar(&f.previousSKR, "previous-skr", "", "the last SKR signed, SKR(n-1), for the chain and safety checks")
	fl.StringVar(&f.out, "out", "", "where to write the SKR (required)")
	fl.BoolVar(&f.yes, "yes", false, "sign without asking the operator to type Yes")
	fl.BoolVar(&f.force, "force", false, "overwrite --out if it exists")
	fl.StringVar(&f.at, "at", "", "reference time of the time-dependent KSR checks, RFC 3339 (default: now)")
	fl.Int64Var(&f.maxSize, "max-size", DefaultSignMaxSize, "largest KSR or previous SKR read, in bytes")
	fl.IntVar(&f.workers, "workers", signer.DefaultWorkers(), "bundles signed at once, each on an HSM session of its own")
	fl.IntVar(&f.progress, "progress", 100, "report progress on stderr every N bundles (0: never)")
	f.hsm.register(cmd)
	return cmd
}

func runSign(cmd *cobra.Command, a *app, f *signFlags) error {
	for _, req := range []struct{ flag, v string }{{"--config", f.config}, {"--schema", f.schema}, {"--ksr", f.ksrFile}, {"--out", f.out}} {
		if req.v == "" {
			return usageErrorf("%s is required", req.flag)
		}
	}
	at, err := parseAt(f.at)
	if err != nil {
		return err
	}
	if err := checkMaxSize(f.maxSize); err != nil {
		return err
	}
	if f.workers < 1 || f.progress < 0 {
		return usageErrorf("--workers must be at least 1 and --progress not negative")
	}
	// Fail on an unwritable --out before the ceremony, not after signing.
	if !f.force {
		if err := atomicfile.CheckFree(f.out); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if st, err := os.Stat(filepath.Dir(f.out)); err != nil || !st.IsDir() {
		return usageErrorf("--out %s: directory %s does not exist", f.out, filepath.Dir(f.out))
	}
	cfg, err := signer.LoadConfig(f.config)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if _, err := cfg.Schema(f.schema); err != nil {
		return fmt.Errorf("%w: %s: %w", errUsage, f.config, err)
	}

	res := &signResult{SKR: f.out, KSR: f.ksrFile, PreviousSKR: f.previousSKR, Config: f.config, Schema: f.schema,
		At: at.Format(time.RFC3339), Bundles: []signer.BundleSummary{}}
	report := &check.Report{}
	data, sum, err := readBounded(f.ksrFile, f.maxSize)
	if err != nil {
		return err
	}
	res.KSRSHA256 = sum // empty when the file is over --max-size: it is not parsed either
	if raw, err := hex.DecodeString(sum); err == nil && len(raw) > 0 {
		res.KSRPGPWords = pgpwords.String(raw)
	}
	var prev *ksr.Document
	if f.previousSKR != "" {
		pdata, psum, err := readBounded(f.previousSKR, f.maxSize)
		if err != nil {
			return err
		}
		res.PreviousSKRSHA256 = psum
		if prev, err = parseDocument(pdata, f.previousSKR, f.maxSize); err != nil {
			report.Errorf(ksr.CheckParse, f.previousSKR, "previous SKR: %v", err)
		}
	}
	doc, err := parseDocument(data, f.ksrFile, f.maxSize)
	if err != nil {
		report.Errorf(ksr.CheckParse, f.ksrFile, "%v", err)
	}
	if !report.Valid() {
		return a.signRejected(res, report)
	}
	res.KSRID = doc.ID

	// Every check that needs no HSM.
	plan, rep, err := signer.Prepare(cfg, signer.Options{Schema: f.schema, KSR: doc, PreviousSKR: prev, At: at})
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if !rep.Valid() {
		res.Bundles = plan.Summary()
		return a.signRejected(res, rep)
	}

	// The HSM: flags, else the configuration, else the environment.
	s, err := openSignerHSM(a, f.hsm, cfg, f.config)
	if err != nil {
		return err
	}
	defer s.close()
	rep, err = plan.BindKeys(signer.TokenKeys(s.tok))
	if err != nil {
		return err
	}
	res.Bundles = plan.Summary()
	if !rep.Valid() {
		return a.signRejected(res, rep)
	}

	// The operator's review.
	if !f.yes {
		w := a.out
		if a.output == "json" {
			w = a.errOut
		}
		if err := writeSignReview(w, res, plan, rep); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nSign %d bundles of %s with schema %s? Type Yes to sign: ", len(res.Bundles), res.KSR, res.Schema)
		line, _ := lineread.ReadLine(bufio.NewReader(a.in), 0)
		if strings.TrimRight(line, "\r\n") != "Yes" {
			fmt.Fprintln(w)
			return fmt.Errorf("%w: not confirmed (the answer was not Yes); nothing signed or written", errRejected)
		}
	}

	progress := func(done, total int) {
		if f.progress > 0 && total >= f.progress && (done%f.progress == 0 || done == total) {
			fmt.Fprintf(a.errOut, "signed %d/%d bundles\n", done, total)
		}
	}
	skrDoc, rep, err := plan.Sign(cmd.Context(), signer.SignOptions{Workers: f.workers, Progress: progress})
	if err != nil {
		if errors.Is(err, signer.ErrChecksFailed) && rep != nil {
			return a.signRejected(res, rep)
		}
		return err
	}
	out, err := ksr.Marshal(skrDoc)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.out, out, 0o644, f.force); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	osum := sha256.Sum256(out)
	res.Written, res.Valid = true, true
	res.SKRSHA256, res.SKRPGPWords = hex.EncodeToString(osum[:]), pgpwords.String(osum[:])
	res.Findings = rep.Findings
	for _, b := range skrDoc.Response.Bundles {
		res.Signatures += len(b.Signatures)
	}
	countFindings(res)
	if a.output == "json" {
		return a.writeJSON(res)
	}
	for _, fd := range rep.Findings {
		fmt.Fprintln(a.out, fd.String())
	}
	_, err = fmt.Fprintf(a.out, "Wrote SKR %s: %s, %d bundles, %d signatures (schema %s)\nSHA-256: %s\nPGP Words: %s\n",
		f.out, skrDoc.ID, len(skrDoc.Response.Bundles), res.Signatures, f.schema, res.SKRSHA256, res.SKRPGPWords)
	return err
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func countFindings(res *signResult) {
	if res.Findings == nil {
		res.Findings = []check.Finding{}
	}
	res.Errors, res.Warnings = 0, 0
	for _, fd := range res.Findings {
		if fd.Severity == check.Error {
			res.Errors++
		} else {
			res.Warnings++
		}
	}
}

// signRejected reports failed checks: every finding, then a line naming
// the checks; nothing was signed or written. It returns a silent
// errRejected (exit 1).
func (a *app) signRejected(res *signResult, rep *check.Report) error {
	res.Valid, res.Written, res.Findings = false, false, rep.Findings
	countFindings(res)
	ids := strings.Join(rep.ErrorChecks(), ", ")
	if a.output == "json" {
		if err := a.writeJSON(res); err != nil {
			return err
		}
	} else {
		for _, fd := range rep.Findings {
			fmt.Fprintln(a.out, fd.String())
		}
		fmt.Fprintf(a.out, "%s: REJECTED (%s, %s): failed %s; nothing signed, %s not written\n",
			res.KSR, plural(res.Errors, "error"), plural(res.Warnings, "warning"), ids, res.SKR)
	}
	return silentError{fmt.Errorf("%w: checks failed: %s", errRejected, ids)}
}

// writeSignReview prints what the operator approves: the KSR and its hash,
// the findings that are only warnings, and the bundle table.
func writeSignReview(w io.Writer, res *signResult, plan *signer.Plan, rep *check.Report) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "KSR:        %s\n", res.KSR)
	fmt.Fprintf(&b, "SHA-256:    %s\n", res.KSRSHA256)
	fmt.Fprintf(&b, "PGP Words:  %s\n", res.KSRPGPWords)
	fmt.Fprintf(&b, "KSR id:     %s (domain %s, %d bundles)\n", plan.KSR.ID, plan.KSR.Domain, len(res.Bundles))
	if res.PreviousSKR != "" {
		fmt.Fprintf(&b, "Previous:   %s (SHA-256 %s)\n", res.PreviousSKR, res.PreviousSKRSHA256)
	} else {
		fmt.Fprintf(&b, "Previous:   none (no --previous-skr: the chain and cross-quarter safety are not checked)\n")
	}
	fmt.Fprintf(&b, "Schema:     %s (%s)\n", res.Schema, res.Config)
	fmt.Fprintf(&b, "KSKs:      ")
	for _, name := range plan.Schema.KeyNames() {
		kc := plan.Config.Keys[name]
		fmt.Fprintf(&b, " %s = %q %s key tag %d;", name, kc.Label, kc.Algorithm, kc.KeyTag)
	}
	b.WriteString("\n")
	for _, fd := range rep.Findings {
		fmt.Fprintln(&b, fd.String())
	}
	b.WriteString("\n")
	if err := signer.WriteBundleTable(&b, res.Bundles); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
