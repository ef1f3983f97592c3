package main

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/skr"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/spf13/cobra"
)

func newSKRCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "skr",
		Short: "Work with Signed Key Responses",
		Long: `Work with Signed Key Responses (SKRs): the XML documents in which the KSK
operator returns a KSR's bundles, each DNSKEY RRset signed by a KSK.`,
		Example: `  ksk skr verify --anchors root-anchors.xml skr-root-2017-q2-0.xml`,
		Args:    subcommandArgs,
		RunE:    needSubcommand,
	}
	cmd.AddCommand(newSKRVerifyCmd(a))
	cmd.AddCommand(newSKRExportCmd(a))
	return cmd
}

// skrVerifyFlags are the flags of ksk skr verify.
type skrVerifyFlags struct {
	anchors    string
	ksrFile    string
	policyFile string
	at         string
	maxSize    int64
}

// skrVerifyResult is the JSON output of ksk skr verify.
type skrVerifyResult struct {
	verifyResult
	Anchors       string `json:"anchors,omitempty"`
	AnchorsSHA256 string `json:"anchors_sha256,omitempty"`
	KSR           string `json:"ksr,omitempty"`
	KSRSHA256     string `json:"ksr_sha256,omitempty"`
	Policy        string `json:"policy,omitempty"`
}

func newSKRVerifyCmd(a *app) *cobra.Command {
	f := &skrVerifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify SKR",
		Short: "Verify every signature of an SKR, its trust anchors and the KSR it answers",
		Long: `Parse a Signed Key Response and run the named checks of package skr on it:
every RRSIG names a key of its bundle and agrees with it (key tag, algorithm,
signer's name, labels, type DNSKEY, TTL, validity within the bundle's) and
verifies over the bundle's DNSKEY RRset; every bundle is signed by a KSK (SEP
flag set, not revoked) present in it; key tags are those of the keys.

With --anchors (an RFC 7958/RFC 9718 root-anchors.xml, or a file of DS records
in zone file format) the KSK that signs each bundle must match a trust anchor
whose validity period covers the bundle's inception. With --ksr the SKR must
answer that KSR: the same id, domain, bundle ids in order, bundle times and
ZSKs. With --policy (YAML, see docs/policy.md) the SKR must also meet the
policy's response section (number of bundles, signature verification) and its
ksk section (bundle validity, overlap of consecutive bundles, signer's name);
without it no policy limits apply.

Signature validity is not checked against the clock: an SKR whose bundles have
expired is still valid, and only a warning (SKR-EXPIRED) says so, measured at
--at (default: now).

Each finding prints as one line ("error SKR-SIG-VALID [bundle 3 <id> key
19036]: ...") followed by a summary; -o json prints one object with "valid",
"findings", "file" and "sha256". Exit status: 0 valid, 1 rejected (a failed
check, or an SKR or KSR that does not parse: check SKR-PARSE), 2 unreadable
file, malformed trust anchors or policy, or bad flags.`,
		Example: `  ksk skr verify skr-root-2017-q2-0.xml
  ksk skr verify --anchors root-anchors.xml --ksr ksr-root-2017-q2-0.xml skr-root-2017-q2-0.xml
  ksk skr verify --anchors root.ds --policy policy.yaml --at 2017-04-01T00:00:00Z -o json skr.xml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSKRVerify(a, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.anchors, "anchors", "", "trust anchors: root-anchors.xml (RFC 9718) or DS records")
	fl.StringVar(&f.ksrFile, "ksr", "", "the KSR the SKR must answer")
	fl.StringVar(&f.policyFile, "policy", "", "policy file (YAML) whose response and ksk limits the SKR must meet")
	fl.StringVar(&f.at, "at", "", "reference time, RFC 3339 (default: now); only for the SKR-EXPIRED warning")
	fl.Int64Var(&f.maxSize, "max-size", ksr.DefaultMaxSize, "largest SKR, KSR or anchors file read, in bytes")
	return cmd
}

func runSKRVerify(a *app, f *skrVerifyFlags, file string) error {
	at, err := parseAt(f.at)
	if err != nil {
		return err
	}
	if err := checkMaxSize(f.maxSize); err != nil {
		return err
	}
	res := skrVerifyResult{verifyResult: verifyResult{File: file, At: at.Format(time.RFC3339)}, Anchors: f.anchors, KSR: f.ksrFile, Policy: f.policyFile}
	opts := skr.VerifyOptions{At: at}
	if f.policyFile != "" {
		p, err := policy.Load(f.policyFile)
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		opts.Policy = p
	}
	if f.anchors != "" {
		data, sum, err := readBounded(f.anchors, f.maxSize)
		if err != nil {
			return err
		}
		res.AnchorsSHA256 = sum
		if opts.Anchors, err = skrParseAnchors(data, f.anchors, f.maxSize); err != nil {
			return usageErrorf("trust anchors: %v", err)
		}
	}

	report := &check.Report{}
	data, sum, err := readBounded(file, f.maxSize)
	if err != nil {
		return err
	}
	res.SHA256 = sum
	if f.ksrFile != "" {
		kdata, ksum, err := readBounded(f.ksrFile, f.maxSize)
		if err != nil {
			return err
		}
		res.KSRSHA256 = ksum
		opts.KSR, err = parseDocument(kdata, f.ksrFile, f.maxSize)
		if err != nil {
			report.Errorf(skr.CheckParse, f.ksrFile, "KSR: %v", err)
		}
	}
	doc, err := parseDocument(data, file, f.maxSize)
	if err != nil {
		report.Errorf(skr.CheckParse, file, "%v", err)
	} else {
		report.Add(skr.Verify(doc, opts).Findings...)
	}
	res.finish(report, doc)
	var with string
	if res.Anchors != "" {
		with += "; anchors " + res.Anchors
	}
	if res.KSR != "" {
		with += "; answers " + res.KSR
	}
	if res.Policy != "" {
		with += "; policy " + res.Policy
	}
	return a.writeVerify(&res, &res.verifyResult, "SKR", with)
}

// skrParseAnchors parses trust anchors: XML when the file starts with "<",
// DS records otherwise.
func skrParseAnchors(data []byte, file string, max int64) (*trustanchor.TrustAnchor, error) {
	opts := trustanchor.ParseOptions{MaxSize: max}
	var ta *trustanchor.TrustAnchor
	var err error
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '<' {
		ta, err = trustanchor.Parse(bytes.NewReader(data), opts)
	} else {
		ta, err = trustanchor.ParseDS(bytes.NewReader(data), opts)
	}
	var pe *trustanchor.ParseError
	if errors.As(err, &pe) {
		pe.File = file
	}
	return ta, err
}
