package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/pgpwords"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/zsk"
	"github.com/spf13/cobra"
)

// ksrCreateFlags are the flags of ksk ksr create.
type ksrCreateFlags struct {
	hsm         hsmFlags
	zsks        []string
	start       string
	bundles     int
	interval    string
	validity    string
	domain      string
	ttl         uint32
	serial      uint32
	schedule    string
	previousSKR string
	policyFile  string
	noVerify    bool
	idSeed      string
	out         string
	force       bool
	maxSize     int64
}

// ksrCreateResult is the JSON output of ksk ksr create.
type ksrCreateResult struct {
	File              string            `json:"file"`
	SHA256            string            `json:"sha256"`
	PGPWords          string            `json:"pgp_words"`
	ID                string            `json:"id"`
	Domain            string            `json:"domain"`
	Schedule          string            `json:"schedule"`
	PreviousSKR       string            `json:"previous_skr,omitempty"`
	PreviousSKRSHA256 string            `json:"previous_skr_sha256,omitempty"`
	Policy            string            `json:"policy,omitempty"`
	Bundles           []ksrCreateBundle `json:"bundles"`
	Findings          []check.Finding   `json:"findings"`
}

// ksrCreateBundle describes one bundle of a created KSR.
type ksrCreateBundle struct {
	ID         string   `json:"id"`
	Inception  string   `json:"inception"`
	Expiration string   `json:"expiration"`
	Keys       []string `json:"keys"`     // keyIdentifiers (HSM labels)
	KeyTags    []uint16 `json:"key_tags"` // in the same order
}

func newKSRCreateCmd(a *app) *cobra.Command {
	f := &ksrCreateFlags{}
	cmd := &cobra.Command{
		Use:   "create --zsk LABEL [--zsk LABEL...] --start TIME --out KSR",
		Short: "Make a KSR from ZSKs in the HSM, the ZSK operator's side of a rehearsal",
		Long: `Make a Key Signing Request, as the zone's ZSK operator would, from ZSKs held
in the HSM (generate them with "ksk keys generate --flags 256"), so that CI can
rehearse the whole quarterly cycle without borrowed files.

The KSR has --bundles bundles (default 9) starting at --start, --interval apart
(default P10D), each valid for --validity (default P21D): the root zone's
cadence. Each bundle publishes the ZSKs that the schedule names, with flags 256,
the --ttl and the HSM label as keyIdentifier, and carries one RRSIG per key over
its DNSKEY RRset as proof of possession, valid over the bundle's own period.
The RequestPolicy is derived from the keys and the cadence (the root's P10D
safety margins, P21D validity and P9D to P12D overlap by default).

The default schedule follows the order of --zsk: with one key every bundle
publishes it; with two (current, next) the next is pre-published in the last
bundle; with three (retiring, current, next), the root's quarter, the retiring
key is post-published in the first bundle and the next pre-published in the
last. --schedule overrides it: per bundle, comma-separated, the 1-based numbers
of its --zsk joined by "+" ("1+2,2,2,2,2,2,2,2,2+3" is the root's quarter).

With --previous-skr, the KSR continues that SKR: --start defaults to one
interval after its last bundle, --domain to its domain, and the first bundle
must publish the ZSKs of its last bundle (so pass the keys in the order
retiring, current, next).

Before writing, the KSR is checked as "ksk ksr verify" would, at its start
time, with --policy (default: the root zone policy) and the previous SKR; any
error leaves nothing written and exits 1 (--no-verify skips the checks, for
policies of other algorithms or cadences you do not have a file for). The
output is written atomically and never over an existing file without --force.
ksk prints the KSR's SHA-256 and its PGP words, to read aloud at the ceremony.

Ids are random UUIDs; --id-seed derives them from a string instead, so that
the same keys, flags and seed give the same file byte for byte.

` + hsmFlagsHelp,
		Example: `  export KSK_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so KSK_TOKEN=zsk KSK_PIN_SOURCE=file:zsk.pin
  ksk keys generate --label zsk-q1 --algorithm RSASHA256 --flags 256
  ksk keys generate --label zsk-q2 --algorithm RSASHA256 --flags 256
  ksk keys generate --label zsk-q3 --algorithm RSASHA256 --flags 256
  ksk ksr create --zsk zsk-q1 --zsk zsk-q2 --zsk zsk-q3 --start 2026-01-01T00:00:00Z --out ksr-2026-q1.xml
  ksk ksr create --zsk zsk-q2 --zsk zsk-q3 --zsk zsk-q4 --previous-skr skr-2026-q1.xml --out ksr-2026-q2.xml
  ksk ksr create --zsk zsk-a --start 2026-01-01T00:00:00Z --bundles 4 --interval P1D --validity P3D --no-verify --out short.xml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKSRCreate(a, f)
		},
	}
	f.hsm.register(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.zsks, "zsk", nil, "HSM label of a ZSK (repeat, in the order retiring, current, next; required)")
	fl.StringVar(&f.start, "start", "", "first bundle's inception, RFC 3339 (required unless --previous-skr)")
	fl.IntVar(&f.bundles, "bundles", zsk.DefaultBundles, "number of bundles")
	fl.StringVar(&f.interval, "interval", "P10D", "time between bundle inceptions, ISO 8601 duration")
	fl.StringVar(&f.validity, "validity", "P21D", "validity of each bundle, ISO 8601 duration")
	fl.StringVar(&f.domain, "domain", "", "zone of the KSR (default: the previous SKR's, else .)")
	fl.Uint32Var(&f.ttl, "ttl", zsk.DefaultTTL, "TTL of the DNSKEY records")
	fl.Uint32Var(&f.serial, "serial", 1, "serial attribute of the KSR")
	fl.StringVar(&f.schedule, "schedule", "", `keys of each bundle: "1+2,2,...,2+3" (default: by the number of --zsk)`)
	fl.StringVar(&f.previousSKR, "previous-skr", "", "the last SKR signed, whose chain the KSR continues")
	fl.StringVar(&f.policyFile, "policy", "", "policy file (YAML) to check the KSR against; default: the root zone policy")
	fl.BoolVar(&f.noVerify, "no-verify", false, "write the KSR without checking it against the policy")
	fl.StringVar(&f.idSeed, "id-seed", "", "derive the KSR and bundle ids from this string instead of random UUIDs")
	fl.StringVar(&f.out, "out", "", "file to write the KSR to (required)")
	fl.BoolVar(&f.force, "force", false, "overwrite --out if it exists")
	fl.Int64Var(&f.maxSize, "max-size", ksr.DefaultMaxSize, "largest previous SKR read, in bytes")
	return cmd
}

func runKSRCreate(a *app, f *ksrCreateFlags) error {
	opts, prevInfo, err := f.options()
	if err != nil {
		return err
	}
	p, policyName := policy.Default(), policy.BaseRoot
	if f.policyFile != "" {
		if p, err = policy.Load(f.policyFile); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		policyName = f.policyFile
	}

	s, err := f.hsm.open(a, true)
	if err != nil {
		return err
	}
	defer s.close()
	for _, label := range f.zsks {
		k, err := s.tok.FindKey(label)
		if err != nil {
			return err
		}
		opts.Keys = append(opts.Keys, zsk.Key{Signer: k, Algorithm: uint8(k.Algorithm()), Identifier: label})
	}

	d, err := zsk.CreateKSR(opts)
	switch {
	case errors.Is(err, zsk.ErrOptions):
		return fmt.Errorf("%w: %w", errUsage, err)
	case errors.Is(err, zsk.ErrChain):
		return fmt.Errorf("%w: %w", errRejected, err)
	case err != nil && classifyHSMError(err) == 0:
		return fmt.Errorf("%w: %w", errEnvironment, err)
	case err != nil:
		return err
	}

	res := ksrCreateResult{File: f.out, ID: d.ID, Domain: d.Domain, Findings: []check.Finding{}}
	res.PreviousSKR, res.PreviousSKRSHA256 = prevInfo.file, prevInfo.sha256
	if !f.noVerify {
		res.Policy = policyName
		r := ksr.Validate(d, p, ksr.ValidateOptions{At: d.Request.Bundles[0].Inception, PreviousSKR: opts.PreviousSKR})
		if r.Findings != nil {
			res.Findings = r.Findings
		}
		if !r.Valid() {
			if a.output == "json" {
				if err := a.writeJSON(res); err != nil {
					return err
				}
			} else {
				for _, fd := range r.Findings {
					fmt.Fprintln(a.errOut, fd.String())
				}
			}
			errs := 0
			for _, fd := range r.Findings {
				if fd.Severity == check.Error {
					errs++
				}
			}
			return fmt.Errorf("%w: the new KSR fails %s (%s) of policy %s; nothing written (--no-verify writes it anyway)",
				errRejected, plural(len(r.ErrorChecks()), "check"), plural(errs, "error"), policyName)
		}
	}

	data, err := ksr.Marshal(d)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.out, data, 0o644, f.force); err != nil {
		if errors.Is(err, atomicfile.ErrExists) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return fmt.Errorf("%w: %w", errEnvironment, err)
	}
	sum := sha256.Sum256(data)
	res.SHA256, res.PGPWords = hex.EncodeToString(sum[:]), pgpwords.String(sum[:])
	res.Schedule = opts.Schedule.String()
	if opts.Schedule == nil {
		sched, _ := zsk.DefaultSchedule(len(opts.Keys), len(d.Request.Bundles))
		res.Schedule = sched.String()
	}
	for _, b := range d.Request.Bundles {
		cb := ksrCreateBundle{ID: b.ID, Inception: b.Inception.Format(time.RFC3339), Expiration: b.Expiration.Format(time.RFC3339)}
		for _, k := range b.Keys {
			cb.Keys = append(cb.Keys, k.Identifier)
			cb.KeyTags = append(cb.KeyTags, k.KeyTag)
		}
		res.Bundles = append(res.Bundles, cb)
	}
	if a.output == "json" {
		return a.writeJSON(res)
	}
	return res.writeText(a)
}

func (r *ksrCreateResult) writeText(a *app) error {
	for _, fd := range r.Findings {
		fmt.Fprintln(a.errOut, fd.String())
	}
	first, last := r.Bundles[0], r.Bundles[len(r.Bundles)-1]
	fmt.Fprintf(a.out, "Created KSR %s for %s: %d bundles from %s to %s (schedule %s)\n",
		r.ID, r.Domain, len(r.Bundles), first.Inception, last.Expiration, r.Schedule)
	for i, b := range r.Bundles {
		keys := make([]string, len(b.Keys))
		for j := range b.Keys {
			keys[j] = fmt.Sprintf("%s (%d)", b.Keys[j], b.KeyTags[j])
		}
		fmt.Fprintf(a.out, "  bundle %d %s  %s to %s  %s\n", i+1, b.ID, b.Inception, b.Expiration, strings.Join(keys, ", "))
	}
	if r.PreviousSKR != "" {
		fmt.Fprintf(a.out, "Continues %s (SHA-256 %s)\n", r.PreviousSKR, r.PreviousSKRSHA256)
	}
	if r.Policy != "" {
		fmt.Fprintf(a.out, "Checked against policy %s: valid\n", r.Policy)
	}
	_, err := fmt.Fprintf(a.out, "Wrote %s\nSHA-256: %s\nPGP Words: %s\n", r.File, r.SHA256, r.PGPWords)
	return err
}

// previousInfo names the previous SKR read.
type previousInfo struct{ file, sha256 string }

// options turns the flags into zsk.Options, without the keys; it reads
// and parses the previous SKR.
func (f *ksrCreateFlags) options() (zsk.Options, previousInfo, error) {
	var (
		o    zsk.Options
		prev previousInfo
		err  error
	)
	if len(f.zsks) == 0 {
		return o, prev, usageErrorf("at least one --zsk is required")
	}
	if f.out == "" {
		return o, prev, usageErrorf("--out is required")
	}
	if f.start == "" && f.previousSKR == "" {
		return o, prev, usageErrorf("--start is required without --previous-skr")
	}
	if f.start != "" {
		if o.Start, err = time.Parse(time.RFC3339, f.start); err != nil {
			return o, prev, usageErrorf("--start %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", f.start)
		}
	}
	if f.bundles < 1 {
		return o, prev, usageErrorf("--bundles must be at least 1, not %d", f.bundles)
	}
	o.Bundles = f.bundles
	if o.Interval, err = policy.ParseDuration(f.interval); err != nil {
		return o, prev, usageErrorf("--interval: %v", err)
	}
	if o.Validity, err = policy.ParseDuration(f.validity); err != nil {
		return o, prev, usageErrorf("--validity: %v", err)
	}
	if f.ttl == 0 {
		return o, prev, usageErrorf("--ttl must be positive")
	}
	o.Domain, o.TTL, o.Serial, o.IDSeed = f.domain, f.ttl, f.serial, f.idSeed
	if f.schedule != "" {
		if o.Schedule, err = zsk.ParseSchedule(f.schedule, len(f.zsks)); err != nil {
			return o, prev, fmt.Errorf("%w: --schedule: %w", errUsage, err)
		}
	}
	for i, l := range f.zsks {
		if l == "" || strings.TrimSpace(l) != l {
			return o, prev, usageErrorf("--zsk %q: a label used as keyIdentifier must be non-empty without surrounding space", l)
		}
		for _, m := range f.zsks[:i] {
			if m == l {
				return o, prev, usageErrorf("--zsk %s is given twice", l)
			}
		}
	}
	if f.previousSKR != "" {
		if err := checkMaxSize(f.maxSize); err != nil {
			return o, prev, err
		}
		data, sum, err := readBounded(f.previousSKR, f.maxSize)
		if err != nil {
			return o, prev, err
		}
		prev = previousInfo{f.previousSKR, sum}
		d, err := parseDocument(data, f.previousSKR, f.maxSize)
		if err != nil {
			return o, prev, fmt.Errorf("%w: previous SKR: %w", errRejected, err)
		}
		if d.Response == nil {
			return o, prev, fmt.Errorf("%w: previous SKR %s is a KSR, not an SKR", errRejected, f.previousSKR)
		}
		o.PreviousSKR = d
	}
	return o, prev, nil
}
