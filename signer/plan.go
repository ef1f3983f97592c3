package signer

import (
	"crypto"
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// Options are the inputs of a signing run besides the configuration.
type Options struct {
	// Schema names the configuration's schema to sign with.
	Schema string
	// KSR is the request to sign.
	KSR *ksr.Document
	// PreviousSKR is the last SKR signed, SKR(n-1), or nil. With it the KSR
	// is checked as its continuation and publish and retire safety are
	// checked across the two.
	PreviousSKR *ksr.Document
	// At is the reference time of the time-dependent KSR checks (the
	// signature horizon); the zero Time means now.
	At time.Time
}

// Plan is a checked signing run: the configuration, the schema and the
// KSR, and once BindKeys has succeeded, the KSKs found in the HSM.
type Plan struct {
	// Config, Schema, KSR, PreviousSKR and At are the run's inputs; At is
	// the reference time actually used (now when Options.At was zero).
	Config      *Config
	Schema      *Schema
	KSR         *ksr.Document
	PreviousSKR *ksr.Document
	At          time.Time

	zone        string   // canonical
	keyNames    []string // Schema.KeyNames()
	ksrFindings []check.Finding
	findings    []check.Finding // the signer's own
	prepared    int             // len(findings) after Prepare
	keys        map[string]*boundKey
	bound       bool
}

// boundKey is a configured KSK found in the HSM.
type boundKey struct {
	cfg    *KeyConfig
	signer crypto.Signer
	dnskey *dns.DNSKEY // flags 257
	revkey *dns.DNSKEY // flags 385
	bits   int
	exp    int
	ok     bool // matches its configuration
}

// Report returns every finding so far: the KSR's checks first, then the
// signer's.
func (p *Plan) Report() *check.Report {
	r := &check.Report{}
	r.Add(p.ksrFindings...)
	r.Add(p.findings...)
	return r
}

func (p *Plan) errorf(id, where, format string, args ...any) {
	p.findings = append(p.findings, check.Finding{Check: id, Severity: check.Error, Where: where, Message: fmt.Sprintf(format, args...)})
}

func (p *Plan) warnf(id, where, format string, args ...any) {
	p.findings = append(p.findings, check.Finding{Check: id, Severity: check.Warning, Where: where, Message: fmt.Sprintf(format, args...)})
}

// Prepare runs every check that needs no HSM and returns the plan and its
// report. The KSR may be signed only when the report is Valid; BindKeys
// comes next. An error (rather than findings) means the run cannot even
// be checked: no configuration or KSR (ErrInvalid), or a schema the
// configuration does not have (ErrUnknownSchema).
func Prepare(cfg *Config, opts Options) (*Plan, *check.Report, error) {
	if cfg == nil || cfg.Policy == nil {
		return nil, nil, fmt.Errorf("%w: no configuration", ErrInvalid)
	}
	if opts.KSR == nil {
		return nil, nil, fmt.Errorf("%w: no KSR", ErrInvalid)
	}
	s, err := cfg.Schema(opts.Schema)
	if err != nil {
		return nil, nil, err
	}
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	p := &Plan{Config: cfg, Schema: s, KSR: opts.KSR, PreviousSKR: opts.PreviousSKR, At: at.UTC(),
		zone: dns.CanonicalName(opts.KSR.Domain), keyNames: s.KeyNames()}
	p.ksrFindings = ksr.Validate(p.KSR, cfg.Policy, ksr.ValidateOptions{At: p.At, PreviousSKR: p.PreviousSKR}).Findings
	if p.KSR.Request == nil {
		return p, p.Report(), nil
	}
	p.checkSchemaFit()
	p.checkKSKValidity()
	p.checkAlgCoverage()
	p.checkSigValidity()
	p.checkRRsetStatic()
	tl := p.timeline()
	p.checkPublishSafety(tl)
	p.checkRetireSafety(tl)
	p.checkAddHoldDown(tl)
	p.prepared = len(p.findings)
	return p, p.Report(), nil
}

// bundles returns the KSR bundles the schema covers (all of them when it
// fits) with their slots.
func (p *Plan) bundles() []ksr.Bundle {
	bs := p.KSR.Request.Bundles
	return bs[:min(len(bs), len(p.Schema.Slots))]
}

func bundleWhere(i int, b *ksr.Bundle) string { return fmt.Sprintf("bundle #%d %s", i+1, b.ID) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func dur(d time.Duration) string { return policy.FormatDuration(d) }

// errNoRequest is returned by the steps after Prepare on a plan whose KSR
// has no Request.
var errNoRequest = fmt.Errorf("%w: the KSR has no <Request>", ErrInvalid)
