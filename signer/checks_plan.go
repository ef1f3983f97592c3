package signer

import (
	"fmt"
	"slices"
	"time"

	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// The checks of Prepare that need no HSM: SIGN-SCHEMA, SIGN-KSK-VALIDITY,
// SIGN-ALG-COVERAGE, SIGN-SIG-VALIDITY and the static part of SIGN-RRSET.
// Publish and retire safety are in safety.go, RFC 5011's add hold-down in
// holddown.go, the checks that need the KSKs in keys.go.

func (p *Plan) checkSchemaFit() {
	n, m := len(p.KSR.Request.Bundles), len(p.Schema.Slots)
	if n != m {
		p.errorf(CheckSchema, "schema "+p.Schema.Name, "schema %s has %d slots but the KSR has %d bundles", p.Schema.Name, m, n)
	}
	if nb := p.Config.Policy.Response.NumBundles; !nb.Allows(n) {
		p.errorf(CheckSchema, "KSR", "the KSR has %d bundles; response_policy.num_bundles is %s", n, nb)
	}
}

func (p *Plan) checkKSKValidity() {
	for i, b := range p.bundles() {
		sl := &p.Schema.Slots[i]
		for _, name := range p.keyNames {
			role := sl.Role(name)
			if role == Absent {
				continue
			}
			k := p.Config.Keys[name]
			if b.Inception.Before(k.ValidFrom) {
				p.errorf(CheckKSKValidity, bundleWhere(i, &b), "bundle #%d (%s) starts %s, before key %s (%s) is valid from %s",
					i+1, b.ID, ts(b.Inception), name, k.Label, ts(k.ValidFrom))
			}
			unrevoked := role == Published || role == PublishedSigning
			if unrevoked && !k.ValidUntil.IsZero() && b.Expiration.After(k.ValidUntil) {
				p.errorf(CheckKSKValidity, bundleWhere(i, &b), "bundle #%d (%s) expires %s, after key %s (%s) is valid until %s; only a revoked key may appear after its validity",
					i+1, b.ID, ts(b.Expiration), name, k.Label, ts(k.ValidUntil))
			}
		}
	}
}

func algSet(as []uint8) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s (%d)", policy.AlgorithmName(a), a)
	}
	return s
}

func (p *Plan) checkAlgCoverage() {
	for i, b := range p.bundles() {
		sl := &p.Schema.Slots[i]
		var zsk, sig []uint8
		for _, k := range b.Keys {
			if !slices.Contains(zsk, k.Algorithm) {
				zsk = append(zsk, k.Algorithm)
			}
		}
		for _, n := range sl.Sign {
			if a := uint8(p.Config.Keys[n].Algorithm); sl.Role(n) == PublishedSigning && !slices.Contains(sig, a) {
				sig = append(sig, a)
			}
		}
		w := bundleWhere(i, &b)
		for _, a := range zsk {
			if !slices.Contains(sig, a) {
				p.errorf(CheckAlgCoverage, w, "bundle #%d (%s): ZSK algorithm %s has no signature by a KSK of that algorithm (the KSKs sign with %s)",
					i+1, b.ID, algSet([]uint8{a}), algSet(sig))
			}
		}
		for _, a := range sig {
			if !slices.Contains(zsk, a) {
				p.errorf(CheckAlgCoverage, w, "bundle #%d (%s): a KSK signs with %s, which no ZSK of the bundle uses (ZSK algorithms: %s); every algorithm of the DNSKEY RRset must sign the whole zone (RFC 4035 §2.2)",
					i+1, b.ID, algSet([]uint8{a}), algSet(zsk))
			}
		}
		for _, n := range sl.Publish {
			if a := uint8(p.Config.Keys[n].Algorithm); !slices.Contains(sig, a) && !slices.Contains(zsk, a) {
				p.errorf(CheckAlgCoverage, w, "bundle #%d (%s): KSK %s is published with algorithm %s, which neither signs the DNSKEY RRset nor is a ZSK algorithm; every algorithm of the DNSKEY RRset must sign the whole zone (RFC 4035 §2.2)",
					i+1, b.ID, n, algSet([]uint8{a}))
			}
		}
	}
}

// rrsigTimeOK reports whether t fits an RRSIG's 32-bit time field without
// serial arithmetic (RFC 4034 §3.1.5): 1970 to 2106.
func rrsigTimeOK(t time.Time) bool { return t.Unix() >= 0 && t.Unix() <= 1<<32-1 }

func (p *Plan) checkSigValidity() {
	k := &p.Config.Policy.KSK
	slack := p.Config.Policy.Request.ExpirationSlack.Std()
	lo, hi := k.MinSignatureValidity.Std(), k.MaxSignatureValidity.Std()
	for i, b := range p.bundles() {
		w := bundleWhere(i, &b)
		if !rrsigTimeOK(b.Inception) || !rrsigTimeOK(b.Expiration) {
			p.errorf(CheckSigValidity, w, "bundle #%d (%s): inception %s or expiration %s does not fit an RRSIG (1970 to 2106)", i+1, b.ID, ts(b.Inception), ts(b.Expiration))
			continue
		}
		d := b.Expiration.Sub(b.Inception)
		switch {
		case d <= 0:
			p.errorf(CheckSigValidity, w, "bundle #%d (%s): expiration %s is not after inception %s", i+1, b.ID, ts(b.Expiration), ts(b.Inception))
		case d+slack < lo:
			p.errorf(CheckSigValidity, w, "bundle #%d (%s): signatures would be valid %s, less than ksk_policy.min_signature_validity %s", i+1, b.ID, dur(d), dur(lo))
		case d-slack > hi:
			p.errorf(CheckSigValidity, w, "bundle #%d (%s): signatures would be valid %s, more than ksk_policy.max_signature_validity %s", i+1, b.ID, dur(d), dur(hi))
		}
	}
}

// checkRRsetStatic: the parts of SIGN-RRSET that need no public key.
func (p *Plan) checkRRsetStatic() {
	k := &p.Config.Policy.KSK
	if dns.CanonicalName(k.SignersName) != p.zone {
		p.errorf(CheckRRset, "ksk_policy.signers_name", "ksk_policy.signers_name %q is not the KSR's zone %q: the RRSIGs would not validate", k.SignersName, p.zone)
	}
	reported := map[string]bool{}
	for i, b := range p.bundles() {
		sl := &p.Schema.Slots[i]
		ids := map[string]bool{}
		for _, z := range b.Keys {
			ids[z.Identifier] = true
			if z.TTL != k.TTL && !reported[z.Identifier] {
				reported[z.Identifier] = true
				p.errorf(CheckRRset, fmt.Sprintf("bundle #%d %s key %d", i+1, b.ID, z.KeyTag), "ZSK %d (%s) has TTL %d; the DNSKEY RRset is signed with ksk_policy.ttl %d (kskm silently changes the ZSK's TTL; ksk does not alter the KSR's keys)",
					z.KeyTag, z.Identifier, z.TTL, k.TTL)
			}
		}
		for _, n := range append(slices.Clone(sl.Publish), sl.Revoke...) {
			if l := p.Config.Keys[n].Label; ids[l] {
				p.errorf(CheckRRset, bundleWhere(i, &b), "bundle #%d (%s): KSK %s has the label %q, which is also the keyIdentifier of a ZSK of the bundle", i+1, b.ID, n, l)
			}
		}
	}
}
