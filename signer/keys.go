package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// KeySource finds a KSK's private key by its HSM label. TokenKeys adapts
// an *hsm.Token; tests may use software keys.
type KeySource interface {
	// FindKey returns the signer of the key labelled label. An error that
	// wraps hsm.ErrKeyNotFound means there is no such key; any other error
	// stops the run.
	FindKey(label string) (crypto.Signer, error)
}

// TokenKeys returns a KeySource that finds keys on a logged-in token.
func TokenKeys(t *hsm.Token) KeySource { return tokenKeys{t} }

type tokenKeys struct{ t *hsm.Token }

// FindKey returns the token's usable private key labelled label.
func (k tokenKeys) FindKey(label string) (crypto.Signer, error) {
	key, err := k.t.FindKey(label)
	if err != nil {
		return nil, err
	}
	return key, nil
}

// algorithmer and recorder are implemented by hsm.Key: the algorithm of
// the key, and when ksk recorded it (zero when the key has no ksk
// metadata, and its algorithm is only what its key type implies).
type (
	algorithmer interface{ Algorithm() hsm.Algorithm }
	recorder    interface{ Created() time.Time }
)

// recordedAlgorithm returns the algorithm ksk recorded for a key when it
// was generated or imported, if any.
func recordedAlgorithm(s crypto.Signer) (hsm.Algorithm, bool) {
	a, ok := s.(algorithmer)
	if !ok {
		return 0, false
	}
	if r, ok := s.(recorder); ok && r.Created().IsZero() {
		return 0, false
	}
	return a.Algorithm(), true
}

// BindKeys looks up every KSK the schema names in src and checks it
// against its configuration (SIGN-KSK-MATCH), then reruns the checks that
// need the public keys: the KSR's key tag collisions with the KSKs, the
// key tags of the RRsets to be signed with revoked KSKs under their
// revoked tag (SIGN-RRSET), and, with a previous SKR, that the KSKs that
// signed its last bundle are in the HSM (SIGN-PREVIOUS-KSK). It returns
// the plan's whole report; the plan may be signed when it is Valid.
//
// An error (not a finding) is returned when a key cannot be looked up: a
// missing key wraps hsm.ErrKeyNotFound, and HSM failures their hsm
// sentinels.
func (p *Plan) BindKeys(src KeySource) (*check.Report, error) {
	if p.KSR.Request == nil {
		return nil, errNoRequest
	}
	p.findings, p.bound = p.findings[:p.prepared], false
	keys := map[string]*boundKey{}
	for _, name := range p.keyNames {
		kc := p.Config.Keys[name]
		s, err := src.FindKey(kc.Label)
		if err != nil {
			return nil, fmt.Errorf("key %s (label %q): %w", name, kc.Label, err)
		}
		keys[name] = p.match(kc, s)
	}
	p.keys = keys
	p.checkRRsetTags()
	if err := p.checkPreviousKSKs(src); err != nil {
		return nil, err
	}
	var dnskeys []*dns.DNSKEY
	for _, name := range p.keyNames {
		if k := keys[name]; k.dnskey != nil {
			dnskeys = append(dnskeys, k.dnskey)
		}
	}
	p.ksrFindings = ksr.Validate(p.KSR, p.Config.Policy, ksr.ValidateOptions{At: p.At, PreviousSKR: p.PreviousSKR, KSKs: dnskeys}).Findings
	p.bound = true
	return p.Report(), nil
}

// publicParams returns the algorithms a public key can be, its size in
// bits and its RSA exponent.
func publicParams(pub crypto.PublicKey) (family string, bits, exp int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen(), k.E
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name, k.Curve.Params().BitSize, 0
	case ed25519.PublicKey:
		return "Ed25519", 256, 0
	}
	return fmt.Sprintf("%T", pub), 0, 0
}

// match checks a key found under a configured label (SIGN-KSK-MATCH).
func (p *Plan) match(kc *KeyConfig, s crypto.Signer) *boundKey {
	bk := &boundKey{cfg: kc, signer: s}
	where := fmt.Sprintf("key %s label %q", kc.Name, kc.Label)
	ok := true
	fail := func(format string, args ...any) {
		ok = false
		p.errorf(CheckKSKMatch, where, "key %s (label %q): %s", kc.Name, kc.Label, fmt.Sprintf(format, args...))
	}
	pub := s.Public()
	family, bits, exp := publicParams(pub)
	bk.bits, bk.exp = bits, exp
	if a, ok := recordedAlgorithm(s); ok && a != kc.Algorithm {
		fail("ksk recorded it in the HSM as a %s key, the configuration says %s", a, kc.Algorithm)
	}
	dk, err := hsm.NewDNSKEY(pub, kc.Algorithm, hsm.DNSKEYOptions{Owner: p.zone, Flags: ksr.FlagZone | ksr.FlagSEP, TTL: p.Config.Policy.KSK.TTL})
	if err != nil {
		fail("the HSM holds a %s key, which cannot be %s", family, kc.Algorithm)
		return bk
	}
	if bits != kc.Size {
		fail("the %s key has %d bits, the configuration says %d", family, bits, kc.Size)
	}
	if kc.Algorithm.IsRSA() && exp != kc.RSAExponent {
		fail("the RSA exponent is %d, the configuration says %d", exp, kc.RSAExponent)
	}
	if tag := dk.KeyTag(); tag != kc.KeyTag {
		fail("its DNSKEY has key tag %d, the configuration says %d", tag, kc.KeyTag)
	}
	if ds := dk.ToDS(dns.SHA256); ds == nil || !strings.EqualFold(ds.Digest, kc.DSSHA256) {
		got := "none"
		if ds != nil {
			got = strings.ToUpper(ds.Digest)
		}
		fail("its SHA-256 DS is %s, the configuration says %s", got, kc.DSSHA256)
	}
	rk := *dk
	rk.Flags |= ksr.FlagRevoke
	bk.dnskey, bk.revkey, bk.ok = dk, &rk, ok
	return bk
}

// checkRRsetTags: the key tag part of SIGN-RRSET.
func (p *Plan) checkRRsetTags() {
	for i, b := range p.bundles() {
		sl := &p.Schema.Slots[i]
		type owner struct {
			what string
			key  []byte
		}
		tags := map[uint16]owner{}
		add := func(tag uint16, what string, key []byte) {
			if o, dup := tags[tag]; dup && !bytes.Equal(o.key, key) {
				p.errorf(CheckRRset, bundleWhere(i, &b), "bundle #%d (%s): %s and %s share key tag %d; validators would have to try both", i+1, b.ID, o.what, what, tag)
				return
			}
			tags[tag] = owner{what, key}
		}
		for _, z := range b.Keys {
			add(z.DNSKEY(p.zone).KeyTag(), fmt.Sprintf("ZSK %s", z.Identifier), z.PublicKey)
		}
		for _, n := range sl.Publish {
			if k := p.keys[n]; k.dnskey != nil {
				add(k.dnskey.KeyTag(), "KSK "+n, []byte(k.dnskey.PublicKey))
			}
		}
		for _, n := range sl.Revoke {
			if k := p.keys[n]; k.revkey != nil {
				add(k.revkey.KeyTag(), "revoked KSK "+n, []byte("revoked "+k.revkey.PublicKey))
			}
		}
	}
}

// checkPreviousKSKs: SIGN-PREVIOUS-KSK.
func (p *Plan) checkPreviousKSKs(src KeySource) error {
	prev := p.PreviousSKR
	if prev == nil || prev.Response == nil || len(prev.Response.Bundles) == 0 {
		return nil
	}
	on := p.Config.Policy.Request.CheckChainKeysInHSM
	report := p.errorf
	if !on {
		report = func(id, where, format string, args ...any) {
			p.warnf(id, where, format+" (reported as a warning: request_policy.check_chain_keys_in_hsm is false)", args...)
		}
	}
	last := &prev.Response.Bundles[len(prev.Response.Bundles)-1]
	where := fmt.Sprintf("previous SKR bundle #%d %s", len(prev.Response.Bundles), last.ID)
	for j := range last.Keys {
		k := &last.Keys[j]
		if !k.IsKSK() || k.IsRevoked() || !signedBy(last, k, p.zone) {
			continue
		}
		id := p.keyIdentity(k)
		kc, configured := p.Config.Keys[id]
		if !configured {
			report(CheckPreviousKSK, where, "%s signed the previous SKR's last bundle but is not a configured key, so it cannot be looked up in the HSM", id)
			continue
		}
		if bk, ok := p.keys[id]; ok {
			if bk.dnskey != nil && bk.dnskey.PublicKey != base64.StdEncoding.EncodeToString(k.PublicKey) {
				report(CheckPreviousKSK, where, "key %s signed the previous SKR's last bundle, but the HSM's key under label %q is another key", id, kc.Label)
			}
			continue
		}
		s, err := src.FindKey(kc.Label)
		switch {
		case errors.Is(err, hsm.ErrKeyNotFound):
			report(CheckPreviousKSK, where, "key %s (label %q) signed the previous SKR's last bundle but is not in the HSM", id, kc.Label)
			continue
		case err != nil:
			return fmt.Errorf("key %s (label %q): %w", id, kc.Label, err)
		}
		dk, err := hsm.NewDNSKEY(s.Public(), kc.Algorithm, hsm.DNSKEYOptions{Owner: p.zone, Flags: ksr.FlagZone | ksr.FlagSEP, TTL: p.Config.Policy.KSK.TTL})
		if err != nil || dk.PublicKey != base64.StdEncoding.EncodeToString(k.PublicKey) {
			report(CheckPreviousKSK, where, "key %s signed the previous SKR's last bundle, but the HSM's key under label %q is another key", id, kc.Label)
		}
	}
	return nil
}
