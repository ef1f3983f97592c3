package ksr

import (
	"fmt"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// ValidateOptions tunes Validate.
type ValidateOptions struct {
	// At is the reference time of the time-dependent checks (the signature
	// horizon); the zero Time means now. Historical files are validated
	// with a time inside their period, such as the first bundle's inception.
	At time.Time
	// PreviousSKR is the last SKR signed, SKR(n-1). When set, the chain
	// checks (KSR-CHAIN-*, KSR-POLICY-SAFETY, and the reuse of the KSR and
	// bundle ids) run against it.
	PreviousSKR *Document
	// KSKs are the operator's KSKs, for KSR-KEY-TAG-COLLISION. The KSKs
	// (SEP keys) of PreviousSKR are added to them.
	KSKs []*dns.DNSKEY
}

// Validate runs every check of a KSR against the operator's policy p (nil
// means policy.Default()) and returns the findings. The KSR is acceptable
// when the report is Valid. Validate does not stop at the first failure,
// never panics on a parsed document, and reports a document that is not a
// KSR under CheckParse.
func Validate(d *Document, p *policy.Policy, opts ValidateOptions) *check.Report {
	r := &check.Report{}
	if d == nil {
		r.Errorf(CheckParse, "", "no document to validate")
		return r
	}
	if d.Request == nil {
		if d.Response != nil {
			r.Errorf(CheckParse, "", "document %s holds a <Response>: it is an SKR, not a KSR", d.ID)
		} else {
			r.Errorf(CheckParse, "", "document %s holds no <Request>", d.ID)
		}
		return r
	}
	if p == nil {
		p = policy.Default()
	}
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	v := &validator{
		d:     d,
		req:   d.Request,
		p:     p,
		rp:    &p.Request,
		opts:  opts,
		at:    at.UTC(),
		r:     r,
		zone:  dns.CanonicalName(d.Domain),
		slack: p.Request.ExpirationSlack.Std(),
	}
	v.collectKeys()
	v.checkHeader()
	v.checkBundleIDs()
	v.checkBundleCount()
	v.checkBundleKeys()
	v.checkKeyTags()
	v.checkKeyFlagsProtocol()
	v.checkKeyZSKPolicy()
	v.checkPolicyAlg()
	v.checkPolicyParams()
	v.checkPOP()
	v.checkCycle()
	v.checkIntervals()
	v.checkPolicyKeys()
	v.checkValidity()
	v.checkOverlap()
	v.checkHorizon()
	if opts.PreviousSKR != nil {
		v.checkChain(opts.PreviousSKR)
	} else {
		v.checkSafety(nil)
	}
	return r
}

// validator carries one run of Validate.
type validator struct {
	d     *Document
	req   *Request
	p     *policy.Policy
	rp    *policy.RequestPolicy
	opts  ValidateOptions
	at    time.Time
	r     *check.Report
	zone  string
	slack time.Duration

	keys []*keyInfo          // distinct keyIdentifiers, in order of first appearance
	byID map[string]*keyInfo // by keyIdentifier
}

// keyInfo is what the checks learn about one keyIdentifier: its first
// occurrence and the parameters of its public key.
type keyInfo struct {
	key    *Key
	bundle int // index of the first bundle it appears in
	tag    uint16
	params keyParams
}

func (v *validator) collectKeys() {
	v.byID = map[string]*keyInfo{}
	for i := range v.req.Bundles {
		b := &v.req.Bundles[i]
		for j := range b.Keys {
			k := &b.Keys[j]
			if _, ok := v.byID[k.Identifier]; ok {
				continue
			}
			ki := &keyInfo{key: k, bundle: i, tag: k.DNSKEY(v.zone).KeyTag(), params: paramsOf(k.Algorithm, k.PublicKey)}
			v.byID[k.Identifier] = ki
			v.keys = append(v.keys, ki)
		}
	}
}

// fail adds a finding: an error when the check is enabled, a warning that
// names the switch otherwise.
func (v *validator) fail(id string, enabled bool, sw, where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if enabled {
		v.r.Errorf(id, where, "%s", msg)
		return
	}
	v.r.Warnf(id, where, "%s (reported as a warning: %s is false)", msg, sw)
}

// errorf adds an error finding of a check that no switch controls.
func (v *validator) errorf(id, where, format string, args ...any) {
	v.r.Errorf(id, where, format, args...)
}

// bundleRef names bundle i in messages: "bundle #3 (ea67fb0d-...)".
func (v *validator) bundleRef(i int) string {
	return bundleRef(i, &v.req.Bundles[i])
}

func bundleRef(i int, b *Bundle) string {
	return fmt.Sprintf("bundle #%d (%s)", i+1, b.ID)
}

// bundleWhere is the Where of a finding about bundle i.
func (v *validator) bundleWhere(i int) string {
	return bundleWhere(i, &v.req.Bundles[i])
}

func bundleWhere(i int, b *Bundle) string {
	if b.Line > 0 {
		return fmt.Sprintf("bundle #%d %s line %d", i+1, b.ID, b.Line)
	}
	return fmt.Sprintf("bundle #%d %s", i+1, b.ID)
}

// keyRef names a key in messages: "key 14796 (302e312c…5a534b33)".
func keyRef(k *Key) string {
	return fmt.Sprintf("key %d (%s)", k.KeyTag, shortID(k.Identifier))
}

func keyWhere(i int, b *Bundle, k *Key) string {
	w := fmt.Sprintf("bundle #%d %s key %d", i+1, b.ID, k.KeyTag)
	if k.Line > 0 {
		w += fmt.Sprintf(" line %d", k.Line)
	}
	return w
}

// shortID shortens a long keyIdentifier (the root's are 96 hex digits that
// differ at the end) to its first and last eight characters.
func shortID(id string) string {
	if len(id) <= 24 {
		return id
	}
	return id[:8] + "…" + id[len(id)-8:]
}

func dur(d time.Duration) string { return policy.FormatDuration(d) }

// below and above compare a duration with a limit, allowing the policy's
// expiration slack.
func (v *validator) below(d, limit time.Duration) bool { return d+v.slack < limit }
func (v *validator) above(d, limit time.Duration) bool { return d-v.slack > limit }

// validID reports whether s is an acceptable KSR or bundle id: 1 to 128
// letters, digits, '-', '.', '_' or ':', starting with a letter or digit.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("-._:", c)) {
			return false
		}
	}
	return true
}
