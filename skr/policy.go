package skr

import (
	"time"

	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// policy checks the SKR against the KSK operator's policy: the number of
// bundles, each bundle's validity and the overlap of consecutive bundles
// (ksk section limits), and the signer's name.
func (v *verifier) policy() {
	p, r := v.opts.Policy, v.r
	bundles := v.doc.Response.Bundles
	if n := len(bundles); n > 0 && len(p.Response.NumBundles) > 0 && !p.Response.NumBundles.Allows(n) {
		r.Errorf(CheckBundleCount, "", "the SKR has %d bundles, the policy allows %s", n, p.Response.NumBundles)
	}
	if name := p.KSK.SignersName; name != "" && dns.CanonicalName(name) != v.domain {
		r.Errorf(CheckPolicySigner, "", "the policy's signers_name %q is not the SKR's domain %q", name, v.doc.Domain)
	}
	minV, maxV := p.KSK.MinSignatureValidity.Std(), p.KSK.MaxSignatureValidity.Std()
	minO, maxO := p.KSK.MinValidityOverlap.Std(), p.KSK.MaxValidityOverlap.Std()
	for i := range bundles {
		b := &bundles[i]
		if val := b.Expiration.Sub(b.Inception); outside(val, minV, maxV) {
			r.Errorf(CheckPolicySigValidity, where(i, b), "bundle %d (%s): validity %s is outside the policy's %s to %s",
				i+1, b.ID, policy.FormatDuration(val), policy.FormatDuration(minV), policy.FormatDuration(maxV))
		}
		if i == 0 {
			continue
		}
		prev := &bundles[i-1]
		if ov := prev.Expiration.Sub(b.Inception); outside(ov, minO, maxO) {
			r.Errorf(CheckPolicyOverlap, where(i, b), "bundles %d (%s) and %d (%s) overlap by %s, outside the policy's %s to %s",
				i, prev.ID, i+1, b.ID, policy.FormatDuration(ov), policy.FormatDuration(minO), policy.FormatDuration(maxO))
		}
	}
}

// outside reports whether d is below lo or, when hi is not zero, above hi.
func outside(d, lo, hi time.Duration) bool {
	return d < lo || (hi > 0 && d > hi)
}
