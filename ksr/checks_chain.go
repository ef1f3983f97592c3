package ksr

import (
	"time"

	"github.com/miekg/dns"
)

// checkChain runs the checks that need the previous SKR, SKR(n-1).
func (v *validator) checkChain(prev *Document) {
	const where = "previous SKR"
	resp := prev.Response
	if resp == nil {
		v.errorf(CheckChainPrevious, where, "the previous SKR %s holds a <Request>: it is a KSR, not an SKR", prev.ID)
		v.checkSafety(nil)
		return
	}
	if dns.CanonicalName(prev.Domain) != v.zone {
		v.errorf(CheckChainPrevious, where, "the previous SKR %s is for the zone %s, the KSR for %s", prev.ID, prev.Domain, v.d.Domain)
	}
	if len(resp.Bundles) == 0 {
		v.errorf(CheckChainPrevious, where, "the previous SKR %s has no bundles", prev.ID)
		v.checkSafety(nil)
		return
	}
	v.checkPreviousSignatures(prev)
	if prev.ID == v.d.ID {
		v.errorf(CheckID, "KSR id", "the KSR id %s is the previous SKR's id: the KSR is a replay of the last request", v.d.ID)
	}
	prevIDs := map[string]int{}
	for i, b := range resp.Bundles {
		prevIDs[b.ID] = i
	}
	for i := range v.req.Bundles {
		if j, ok := prevIDs[v.req.Bundles[i].ID]; ok {
			v.errorf(CheckBundleUnique, v.bundleWhere(i), "%s has the id of the previous SKR's bundle #%d: bundle ids must not be reused", v.bundleRef(i), j+1)
		}
	}
	if len(v.req.Bundles) > 0 {
		v.checkChainKeys(resp)
		v.checkChainOverlap(resp)
	}
	v.checkChainPolicy(resp)
	v.checkSafety(resp)
}

// checkPreviousSignatures: KSR-CHAIN-PREVIOUS. Every bundle of the previous
// SKR must carry a signature by a KSK (a SEP key) of the bundle that
// verifies over the bundle's DNSKEY RRset.
func (v *validator) checkPreviousSignatures(prev *Document) {
	on, sw := v.p.Response.ValidateSignatures, "response.validate_signatures"
	zone := dns.CanonicalName(prev.Domain)
	for i := range prev.Response.Bundles {
		b := &prev.Response.Bundles[i]
		where := "previous SKR " + bundleWhere(i, b)
		ref := "the previous SKR's " + bundleRef(i, b)
		good := false
		var rrset []dns.RR
		for j := range b.Signatures {
			s := &b.Signatures[j]
			k := signingKey(b, s, zone)
			if k == nil {
				v.fail(CheckChainPrevious, on, sw, where, "%s: a signature names keyIdentifier %s (key tag %d), which is not a key of the bundle", ref, shortID(s.Identifier), s.KeyTag)
				continue
			}
			if !k.IsKSK() {
				v.fail(CheckChainPrevious, on, sw, where, "%s: signed by %s, which is not a KSK (no SEP flag)", ref, keyRef(k))
				continue
			}
			if rrset == nil {
				rrset = b.DNSKEYs(zone)
			}
			if err := s.RRSIG(zone).Verify(k.DNSKEY(zone), rrset); err != nil {
				v.fail(CheckChainPrevious, on, sw, where, "%s: the RRSIG by %s does not verify: %v", ref, keyRef(k), err)
				continue
			}
			good = true
		}
		if !good && len(b.Signatures) == 0 {
			v.fail(CheckChainPrevious, on, sw, where, "%s has no signature by a KSK", ref)
		}
	}
}

// signingKey finds the key of bundle b that signature s names: by
// keyIdentifier, or else by key tag and algorithm.
func signingKey(b *Bundle, s *Signature, zone string) *Key {
	for j := range b.Keys {
		if b.Keys[j].Identifier == s.Identifier {
			return &b.Keys[j]
		}
	}
	for j := range b.Keys {
		k := &b.Keys[j]
		if k.Algorithm == s.Algorithm && k.DNSKEY(zone).KeyTag() == s.KeyTag {
			return k
		}
	}
	return nil
}

// publishes reports whether bundle b publishes the same DNSKEY as k.
func publishes(b *Bundle, k *Key) bool {
	for j := range b.Keys {
		o := &b.Keys[j]
		if sameMaterial(o, k) && o.Flags == k.Flags && o.Protocol == k.Protocol && o.TTL == k.TTL {
			return true
		}
	}
	return false
}

// checkChainKeys: KSR-CHAIN-KEYS, in both directions. kskm checks only
// that the KSR's first keys are in SKR(n-1)'s last bundle; the DPS also
// wants the ZSK pre-published there in the KSR's first bundle.
func (v *validator) checkChainKeys(resp *Response) {
	on, sw := v.rp.CheckChainKeys, "request.check_chain_keys"
	last, lastIdx := &resp.Bundles[len(resp.Bundles)-1], len(resp.Bundles)-1
	first := &v.req.Bundles[0]
	for j := range first.Keys {
		k := &first.Keys[j]
		if !publishes(last, k) {
			v.fail(CheckChainKeys, on, sw, keyWhere(0, first, k), "%s: %s is not published in the previous SKR's last %s", v.bundleRef(0), keyRef(k), bundleRef(lastIdx, last))
		}
	}
	for j := range last.Keys {
		k := &last.Keys[j]
		if k.IsKSK() {
			continue
		}
		if !publishes(first, k) {
			v.fail(CheckChainKeys, on, sw, v.bundleWhere(0), "the previous SKR's last %s publishes ZSK %s, which the KSR's first %s does not", bundleRef(lastIdx, last), keyRef(k), v.bundleRef(0))
		}
	}
}

// checkChainOverlap: KSR-CHAIN-OVERLAP across the cycle boundary.
func (v *validator) checkChainOverlap(resp *Response) {
	on, sw := v.rp.CheckChainOverlap, "request.check_chain_overlap"
	last, lastIdx := &resp.Bundles[len(resp.Bundles)-1], len(resp.Bundles)-1
	what := v.bundleRef(0) + "'s overlap with the previous SKR's last " + bundleRef(lastIdx, last)
	v.overlapFindings(CheckChainOverlap, on, sw, v.bundleWhere(0), what, last.Expiration.Sub(v.req.Bundles[0].Inception))
}

// checkChainPolicy: KSR-CHAIN-POLICY. The previous SKR's KSK policy is what
// the operator signed with; it must be the ksk section now. A change of the
// ZSK policy between the previous SKR and the KSR is legitimate but worth
// a look, so it is a warning.
func (v *validator) checkChainPolicy(resp *Response) {
	on, sw := v.rp.CheckChainPolicy, "request.check_chain_policy"
	kp, pk := &v.p.KSK, &resp.KSKPolicy
	fields := []struct {
		name      string
		prev, now time.Duration
	}{
		{"publish_safety", pk.PublishSafety, kp.PublishSafety.Std()},
		{"retire_safety", pk.RetireSafety, kp.RetireSafety.Std()},
		{"max_signature_validity", pk.MaxSignatureValidity, kp.MaxSignatureValidity.Std()},
		{"min_signature_validity", pk.MinSignatureValidity, kp.MinSignatureValidity.Std()},
		{"max_validity_overlap", pk.MaxValidityOverlap, kp.MaxValidityOverlap.Std()},
		{"min_validity_overlap", pk.MinValidityOverlap, kp.MinValidityOverlap.Std()},
	}
	for _, f := range fields {
		if f.prev != f.now {
			v.fail(CheckChainPolicy, on, sw, "previous SKR KSK policy", "the previous SKR's KSK policy has %s %s, the policy's ksk.%s is %s", f.name, dur(f.prev), f.name, dur(f.now))
		}
	}
	zp, pz := &v.req.ZSKPolicy, &resp.ZSKPolicy
	zfields := []struct {
		name      string
		prev, now time.Duration
	}{
		{"PublishSafety", pz.PublishSafety, zp.PublishSafety},
		{"RetireSafety", pz.RetireSafety, zp.RetireSafety},
		{"MaxSignatureValidity", pz.MaxSignatureValidity, zp.MaxSignatureValidity},
		{"MinSignatureValidity", pz.MinSignatureValidity, zp.MinSignatureValidity},
		{"MaxValidityOverlap", pz.MaxValidityOverlap, zp.MaxValidityOverlap},
		{"MinValidityOverlap", pz.MinValidityOverlap, zp.MinValidityOverlap},
	}
	for _, f := range zfields {
		if f.prev != f.now {
			v.r.Warnf(CheckChainPolicy, "RequestPolicy", "the KSR's ZSK policy changes %s from %s (previous SKR) to %s", f.name, dur(f.prev), dur(f.now))
		}
	}
}
