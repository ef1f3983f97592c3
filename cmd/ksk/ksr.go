package main

import (
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/spf13/cobra"
)

func newKSRCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ksr",
		Short: "Work with Key Signing Requests",
		Long: `Work with Key Signing Requests (KSRs): the XML documents in which a zone's
ZSK operator asks the KSK operator to sign its DNSKEY RRsets.`,
		Example: `  ksk ksr verify --at 2017-04-01T00:00:00Z ksr-root-2017-q2-0.xml`,
		Args:    subcommandArgs,
		RunE:    needSubcommand,
	}
	cmd.AddCommand(newKSRVerifyCmd(a))
	cmd.AddCommand(newKSRCreateCmd(a))
	return cmd
}

// ksrVerifyFlags are the flags of ksk ksr verify.
type ksrVerifyFlags struct {
	previousSKR string
	policyFile  string
	legacy      bool
	at          string
	maxSize     int64
}

// ksrVerifyResult is the JSON output of ksk ksr verify.
type ksrVerifyResult struct {
	verifyResult
	PreviousSKR       string `json:"previous_skr,omitempty"`
	PreviousSKRSHA256 string `json:"previous_skr_sha256,omitempty"`
	Policy            string `json:"policy"`
}

func newKSRVerifyCmd(a *app) *cobra.Command {
	f := &ksrVerifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify KSR",
		Short: "Parse a KSR and run every check against the policy",
		Long: `Parse a Key Signing Request and run every named check of docs/checks.md on
it: its domain and ids, the keys of every bundle (consistency, key tags, flags,
protocol, algorithms and sizes against the KSR's own policy and the operator's),
the proof of possession (each key's RRSIG over its bundle's DNSKEY RRset), the
number, intervals, validity and overlap of the bundles, and the signature
horizon. With --previous-skr it also checks that the KSR continues the last SKR
signed: ids not reused, the same ZSKs on both sides of the cycle boundary, the
overlap across it, the previous SKR's signatures and KSK policy, and the ZSKs'
publish and retire safety.

The policy is today's root zone policy unless --policy names a policy file
(YAML, see docs/checks.md) or --legacy selects the policy that accepts the root
zone's KSRs of 2009 to 2016; with both, the file starts from the legacy policy
unless it names its own base. Time-dependent checks use --at (default: now);
verify historical files with a time inside their period.

Each finding prints as one line ("error KSR-POLICY-SIG-VALIDITY [bundle #3 ...]:
...") followed by a summary; -o json prints one object with "valid",
"findings", "file" and "sha256". Exit status: 0 valid, 1 rejected (a failed
check, or a file that does not parse: check KSR-PARSE), 2 unreadable file,
malformed policy or bad flags.`,
		Example: `  ksk ksr verify --at 2017-04-01T00:00:00Z ksr-root-2017-q2-0.xml
  ksk ksr verify --at 2017-04-01T00:00:00Z --previous-skr skr-root-2017-q1-0.xml ksr-root-2017-q2-0.xml
  ksk ksr verify --legacy --at 2010-04-01T00:00:00Z ksr-root-2010-q2-0.xml
  ksk ksr verify --policy policy.yaml -o json ksr.xml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKSRVerify(a, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.previousSKR, "previous-skr", "", "the last SKR signed, SKR(n-1), to check the chain against")
	fl.StringVar(&f.policyFile, "policy", "", "policy file (YAML); default: the root zone policy")
	fl.BoolVar(&f.legacy, "legacy", false, "start from the legacy policy that accepts the root zone's 2009-2016 KSRs")
	fl.StringVar(&f.at, "at", "", "reference time of the time-dependent checks, RFC 3339 (default: now)")
	fl.Int64Var(&f.maxSize, "max-size", ksr.DefaultMaxSize, "largest KSR or SKR file read, in bytes")
	return cmd
}

func runKSRVerify(a *app, f *ksrVerifyFlags, file string) error {
	at, err := parseAt(f.at)
	if err != nil {
		return err
	}
	if err := checkMaxSize(f.maxSize); err != nil {
		return err
	}
	p, policyName, err := loadVerifyPolicy(f)
	if err != nil {
		return err
	}

	res := ksrVerifyResult{verifyResult: verifyResult{File: file, At: at.Format(time.RFC3339)}, Policy: policyName}
	report := &check.Report{}
	data, sum, err := readBounded(file, f.maxSize)
	if err != nil {
		return err
	}
	res.SHA256 = sum
	var prev *ksr.Document
	var prevErr error
	if f.previousSKR != "" {
		pdata, psum, err := readBounded(f.previousSKR, f.maxSize)
		if err != nil {
			return err
		}
		res.PreviousSKR, res.PreviousSKRSHA256 = f.previousSKR, psum
		prev, prevErr = parseDocument(pdata, f.previousSKR, f.maxSize)
		if prevErr != nil {
			report.Errorf(ksr.CheckParse, f.previousSKR, "previous SKR: %v", prevErr)
		}
	}
	doc, err := parseDocument(data, file, f.maxSize)
	switch {
	case err != nil:
		report.Errorf(ksr.CheckParse, file, "%v", err)
	case prevErr != nil:
		// The chain cannot be checked; report the KSR's own findings.
		report.Add(ksr.Validate(doc, p, ksr.ValidateOptions{At: at}).Findings...)
	default:
		report.Add(ksr.Validate(doc, p, ksr.ValidateOptions{At: at, PreviousSKR: prev}).Findings...)
	}
	res.finish(report, doc)
	return a.writeVerify(&res, &res.verifyResult, "KSR", "; policy "+res.Policy)
}

// loadVerifyPolicy returns the policy of --policy and --legacy and a name
// for it: "root", "legacy" or the file's path.
func loadVerifyPolicy(f *ksrVerifyFlags) (*policy.Policy, string, error) {
	base := policy.Default()
	if f.legacy {
		base = policy.Legacy()
	}
	if f.policyFile == "" {
		return base, base.Base, nil
	}
	p, err := policy.LoadWithBase(f.policyFile, base)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", errUsage, err)
	}
	return p, f.policyFile, nil
}
