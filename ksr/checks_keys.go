package ksr

import (
	"bytes"
	"fmt"

	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// sameKey reports whether a and b are the same DNSKEY record (TTL, flags,
// protocol, algorithm, public key) with the same claimed key tag.
func sameKey(a, b *Key) bool {
	return a.TTL == b.TTL && a.Flags == b.Flags && a.Protocol == b.Protocol &&
		a.Algorithm == b.Algorithm && a.KeyTag == b.KeyTag && bytes.Equal(a.PublicKey, b.PublicKey)
}

// sameMaterial reports whether a and b hold the same public key.
func sameMaterial(a, b *Key) bool {
	return a.Algorithm == b.Algorithm && bytes.Equal(a.PublicKey, b.PublicKey)
}

// checkBundleKeys: KSR-BUNDLE-KEYS.
func (v *validator) checkBundleKeys() {
	on, sw := v.rp.KeysMatchZSKPolicy, "request.keys_match_zsk_policy"
	for i := range v.req.Bundles {
		b := &v.req.Bundles[i]
		if len(b.Keys) == 0 {
			v.errorf(CheckBundleKeys, v.bundleWhere(i), "%s has no keys", v.bundleRef(i))
		}
		inBundle := map[string]bool{}
		for j := range b.Keys {
			k := &b.Keys[j]
			if inBundle[k.Identifier] {
				v.errorf(CheckBundleKeys, keyWhere(i, b, k), "%s lists keyIdentifier %s twice", v.bundleRef(i), shortID(k.Identifier))
				continue
			}
			inBundle[k.Identifier] = true
			first := v.byID[k.Identifier]
			if first.key != k && !sameKey(first.key, k) {
				v.fail(CheckBundleKeys, on, sw, keyWhere(i, b, k),
					"%s: keyIdentifier %s names a different key (TTL, flags, protocol, algorithm, key tag or public key) than in bundle #%d: a key must be the same in every bundle",
					v.bundleRef(i), shortID(k.Identifier), first.bundle+1)
			}
		}
	}
	// One key, one keyIdentifier.
	for a := 0; a < len(v.keys); a++ {
		for b := a + 1; b < len(v.keys); b++ {
			ka, kb := v.keys[a], v.keys[b]
			if sameMaterial(ka.key, kb.key) {
				bb := &v.req.Bundles[kb.bundle]
				v.fail(CheckBundleKeys, on, sw, keyWhere(kb.bundle, bb, kb.key),
					"%s: keyIdentifiers %s and %s name the same public key",
					v.bundleRef(kb.bundle), shortID(ka.key.Identifier), shortID(kb.key.Identifier))
			}
		}
	}
}

// checkKeyTags: KSR-KEY-TAG and KSR-KEY-TAG-COLLISION.
func (v *validator) checkKeyTags() {
	for _, ki := range v.keys {
		if ki.key.KeyTag != ki.tag {
			b := &v.req.Bundles[ki.bundle]
			v.errorf(CheckKeyTag, keyWhere(ki.bundle, b, ki.key),
				"%s: %s has keyTag %d, but its RFC 4034 Appendix B key tag is %d", v.bundleRef(ki.bundle), keyRef(ki.key), ki.key.KeyTag, ki.tag)
		}
	}
	on, sw := v.rp.CheckKeyTagCollisions, "request.check_key_tag_collisions"
	for a := 0; a < len(v.keys); a++ {
		for b := a + 1; b < len(v.keys); b++ {
			ka, kb := v.keys[a], v.keys[b]
			if ka.tag == kb.tag && !sameMaterial(ka.key, kb.key) {
				bb := &v.req.Bundles[kb.bundle]
				v.fail(CheckKeyTagCollision, on, sw, keyWhere(kb.bundle, bb, kb.key),
					"%s: ZSKs %s and %s are different keys with the same key tag %d",
					v.bundleRef(kb.bundle), shortID(ka.key.Identifier), shortID(kb.key.Identifier), ka.tag)
			}
		}
	}
	for _, ksk := range v.ksks() {
		tag := ksk.KeyTag()
		for _, ki := range v.keys {
			if ki.tag != tag || (ki.key.Algorithm == ksk.Algorithm && toBase64(ki.key.PublicKey) == ksk.PublicKey) {
				continue
			}
			b := &v.req.Bundles[ki.bundle]
			v.fail(CheckKeyTagCollision, on, sw, keyWhere(ki.bundle, b, ki.key),
				"%s: %s has the key tag %d of the operator's KSK (algorithm %d): a ZSK must not share a KSK's key tag",
				v.bundleRef(ki.bundle), keyRef(ki.key), tag, ksk.Algorithm)
		}
	}
}

// ksks returns the operator's KSKs: those given in the options and the SEP
// keys of the previous SKR, without duplicates.
func (v *validator) ksks() []*dns.DNSKEY {
	var out []*dns.DNSKEY
	seen := map[string]bool{}
	add := func(k *dns.DNSKEY) {
		id := fmt.Sprintf("%d/%s", k.Algorithm, k.PublicKey)
		if !seen[id] {
			seen[id] = true
			out = append(out, k)
		}
	}
	for _, k := range v.opts.KSKs {
		if k != nil {
			add(k)
		}
	}
	if prev := v.opts.PreviousSKR; prev != nil && prev.Response != nil {
		for _, b := range prev.Response.Bundles {
			for j := range b.Keys {
				if b.Keys[j].IsKSK() {
					add(b.Keys[j].DNSKEY(v.zone))
				}
			}
		}
	}
	return out
}

// checkKeyFlagsProtocol: KSR-KEY-FLAGS and KSR-KEY-PROTOCOL.
func (v *validator) checkKeyFlagsProtocol() {
	for _, ki := range v.keys {
		k, b := ki.key, &v.req.Bundles[ki.bundle]
		where := keyWhere(ki.bundle, b, k)
		if k.Flags != FlagZone {
			var why string
			switch {
			case k.Flags&FlagZone == 0:
				why = "lacks the Zone Key flag"
			case k.IsKSK():
				why = "has the SEP flag: it is a KSK"
			case k.IsRevoked():
				why = "has the REVOKE flag"
			default:
				why = "has flags that are not defined"
			}
			v.errorf(CheckKeyFlags, where, "%s: %s has flags %d and %s; a requested ZSK has flags 256", v.bundleRef(ki.bundle), keyRef(k), k.Flags, why)
		}
		if k.Protocol != 3 {
			v.errorf(CheckKeyProtocol, where, "%s: %s has protocol %d; RFC 4034 requires 3", v.bundleRef(ki.bundle), keyRef(k), k.Protocol)
		}
	}
}

// checkKeyZSKPolicy: KSR-KEY-ZSK-POLICY.
func (v *validator) checkKeyZSKPolicy() {
	on, sw := v.rp.KeysMatchZSKPolicy, "request.keys_match_zsk_policy"
	for _, ki := range v.keys {
		k, b := ki.key, &v.req.Bundles[ki.bundle]
		where := keyWhere(ki.bundle, b, k)
		if ki.params.err != nil {
			v.errorf(CheckKeyZSKPolicy, where, "%s: %s has a malformed %s public key: %v", v.bundleRef(ki.bundle), keyRef(k), algName(k.Algorithm), ki.params.err)
			continue
		}
		var sized *AlgorithmPolicy // an entry of the right algorithm and size
		matched := false
		for i := range v.req.ZSKPolicy.Algorithms {
			a := &v.req.ZSKPolicy.Algorithms[i]
			if a.Algorithm != k.Algorithm || a.Size != ki.params.bits {
				continue
			}
			sized = a
			if !policy.IsRSA(a.Algorithm) || a.Exponent == ki.params.exponent {
				matched = true
				break
			}
		}
		switch {
		case matched:
		case sized != nil:
			v.fail(CheckKeyZSKPolicy, on && v.rp.RSAExponentMatchZSKPolicy, "request.rsa_exponent_match_zsk_policy", where,
				"%s: %s has RSA exponent %d, but the KSR's ZSK policy claims exponent %d for %s-%d",
				v.bundleRef(ki.bundle), keyRef(k), ki.params.exponent, sized.Exponent, policy.AlgorithmName(k.Algorithm), sized.Size)
		default:
			desc := fmt.Sprintf("%s-%d", policy.AlgorithmName(k.Algorithm), ki.params.bits)
			if policy.IsRSA(k.Algorithm) {
				desc += fmt.Sprintf(" exponent %d", ki.params.exponent)
			}
			v.fail(CheckKeyZSKPolicy, on, sw, where,
				"%s: %s is %s, which matches no <SignatureAlgorithm> of the KSR's ZSK policy", v.bundleRef(ki.bundle), keyRef(k), desc)
		}
	}
}
