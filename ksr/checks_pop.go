package ksr

import (
	"math"
	"strconv"

	"github.com/miekg/dns"
)

// rrsigProblem returns why signature s cannot be the RRSIG of key k over
// the bundle's DNSKEY RRset, or "" when its fields fit.
func (v *validator) rrsigProblem(s *Signature, k *Key, tag uint16) string {
	switch {
	case s.TypeCovered != dns.TypeDNSKEY:
		return "covers type " + dns.Type(s.TypeCovered).String() + ", not DNSKEY"
	case s.Algorithm != k.Algorithm:
		return "has algorithm " + algName(s.Algorithm) + " but its key has " + algName(k.Algorithm)
	case s.KeyTag != tag:
		return "has key tag " + strconv.Itoa(int(s.KeyTag)) + " but its key's tag is " + strconv.Itoa(int(tag))
	case dns.CanonicalName(s.SignersName) != v.zone:
		return "has signer name " + s.SignersName + ", not the zone " + v.zone
	case int(s.Labels) != dns.CountLabel(v.zone):
		return "has labels " + strconv.Itoa(int(s.Labels)) + " but the zone has " + strconv.Itoa(dns.CountLabel(v.zone))
	case s.OriginalTTL != k.TTL:
		return "has original TTL " + strconv.Itoa(int(s.OriginalTTL)) + " but its key's TTL is " + strconv.Itoa(int(k.TTL))
	case !s.Inception.Before(s.Expiration):
		return "has an inception (" + s.Inception.Format(timeFormat) + ") that is not before its expiration (" + s.Expiration.Format(timeFormat) + ")"
	case s.Inception.Unix() < 0 || s.Expiration.Unix() > math.MaxUint32:
		return "has times that an RRSIG cannot hold (1970 to 2106)"
	}
	return ""
}

// verifiable reports whether a signature by k can be verified at all: k
// has protocol 3, a well-formed public key and an algorithm that ksk
// verifies. KSR-KEY-PROTOCOL, KSR-KEY-ZSK-POLICY and KSR-POLICY-ALG report
// the keys that cannot.
func verifiable(k *Key, p *keyParams) bool {
	if k.Protocol != 3 || p.err != nil {
		return false
	}
	switch k.Algorithm {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

const timeFormat = "2006-01-02T15:04:05Z"

// checkPOP: KSR-BUNDLE-POP and KSR-BUNDLE-RRSIG. A signature whose fields
// do not fit its key is reported under KSR-BUNDLE-RRSIG only and not
// verified: it cannot verify.
func (v *validator) checkPOP() {
	on, sw := v.rp.ValidateSignatures, "request.validate_signatures"
	for i := range v.req.Bundles {
		b := &v.req.Bundles[i]
		if len(b.Signatures) == 0 {
			v.fail(CheckBundlePOP, on, sw, v.bundleWhere(i), "%s has no signatures: each key must sign the bundle's DNSKEY RRset", v.bundleRef(i))
		}
		keys := map[string]*Key{}
		for j := range b.Keys {
			if _, dup := keys[b.Keys[j].Identifier]; !dup {
				keys[b.Keys[j].Identifier] = &b.Keys[j]
			}
		}
		signed := map[string]bool{}
		var rrset []dns.RR
		for j := range b.Signatures {
			s := &b.Signatures[j]
			where := sigWhere(i, b, s)
			k := keys[s.Identifier]
			if k == nil {
				v.fail(CheckBundlePOP, on, sw, where, "%s: a signature names keyIdentifier %s, which is not a key of the bundle", v.bundleRef(i), shortID(s.Identifier))
				continue
			}
			signed[s.Identifier] = true
			tag := v.byID[k.Identifier].tag
			if k != v.byID[k.Identifier].key {
				tag = k.DNSKEY(v.zone).KeyTag()
			}
			if why := v.rrsigProblem(s, k, tag); why != "" {
				v.errorf(CheckBundleRRSIG, where, "%s: the RRSIG by %s %s; it is not verified", v.bundleRef(i), keyRef(k), why)
				continue
			}
			params := v.byID[k.Identifier].params
			if k != v.byID[k.Identifier].key {
				params = paramsOf(k.Algorithm, k.PublicKey)
			}
			if !verifiable(k, &params) {
				continue // the key's own check reports why
			}
			if rrset == nil {
				rrset = b.DNSKEYs(v.zone)
			}
			if err := s.RRSIG(v.zone).Verify(k.DNSKEY(v.zone), rrset); err != nil {
				v.fail(CheckBundlePOP, on, sw, where, "%s: the RRSIG by %s does not verify over the bundle's DNSKEY RRset: %v", v.bundleRef(i), keyRef(k), err)
			}
		}
		for j := range b.Keys {
			k := &b.Keys[j]
			if !signed[k.Identifier] {
				v.fail(CheckBundlePOP, on, sw, keyWhere(i, b, k), "%s: %s does not sign the bundle: no proof of possession of its private key", v.bundleRef(i), keyRef(k))
				signed[k.Identifier] = true // once per key and bundle
			}
		}
		for _, id := range b.Signers {
			if keys[id] == nil {
				v.fail(CheckBundlePOP, on, sw, v.bundleWhere(i), "%s: <Signer> names keyIdentifier %s, which is not a key of the bundle", v.bundleRef(i), shortID(id))
			}
		}
	}
}
