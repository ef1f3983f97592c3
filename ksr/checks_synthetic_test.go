package ksr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// vtSigner is a generated ZSK: its private key and DNSKEY material.
type vtSigner struct {
	priv crypto.Signer
	pub  []byte
	alg  uint8
	bits int
}

var vtSigners sync.Map // label -> *vtSigner

func vtNewSigner(t testing.TB, label string, alg uint8) *vtSigner {
	t.Helper()
	id := fmt.Sprintf("%s/%d", label, alg)
	if s, ok := vtSigners.Load(id); ok {
		return s.(*vtSigner)
	}
	s := &vtSigner{alg: alg}
	switch alg {
	case dns.RSASHA256, dns.RSASHA512, dns.RSASHA1:
		k := vtKey(t, label, 2048)
		s.priv, s.pub, s.bits = k, vtRSAWire(&k.PublicKey), 2048
	case dns.ECDSAP256SHA256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, err := k.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		s.priv, s.pub, s.bits = k, b[1:], 256
	case dns.ED25519:
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s.priv, s.pub, s.bits = priv, pub, 256
	default:
		t.Fatalf("no signer for algorithm %d", alg)
	}
	vtSigners.Store(id, s)
	return s
}

// vtStart is the first inception of synthetic KSRs.
var vtStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// vtBuild builds a root-zone-like KSR in Go: nine bundles ten days apart,
// valid 21 days, ZSK "prev" post-published in the first bundle, "cur" in
// all, "next" pre-published in the last, every bundle signed by its keys.
func vtBuild(t testing.TB, alg uint8) (*Document, map[string]*vtSigner) {
	t.Helper()
	signers := map[string]*vtSigner{}
	for _, l := range []string{"prev", "cur", "next"} {
		signers[l] = vtNewSigner(t, "synthetic-"+l, alg)
	}
	exp := 0
	if policy.IsRSA(alg) {
		exp = 65537
	}
	d := &Document{ID: "00000000-0000-4000-8000-000000000001", Domain: ".", Serial: 1, Request: &Request{
		ZSKPolicy: SignaturePolicy{
			PublishSafety: 10 * day, RetireSafety: 10 * day,
			MaxSignatureValidity: 21 * day, MinSignatureValidity: 21 * day,
			MaxValidityOverlap: 12 * day, MinValidityOverlap: 9 * day,
			Algorithms: []AlgorithmPolicy{{Algorithm: alg, Size: signers["cur"].bits, Exponent: exp}},
		},
	}}
	for i := 0; i < 9; i++ {
		b := Bundle{
			ID:         fmt.Sprintf("00000000-0000-4000-8000-1000000000%02d", i),
			Inception:  vtStart.Add(time.Duration(i) * 10 * day),
			Expiration: vtStart.Add(time.Duration(i)*10*day + 21*day),
		}
		labels := []string{"cur"}
		switch i {
		case 0:
			labels = []string{"prev", "cur"}
		case 8:
			labels = []string{"cur", "next"}
		}
		for _, l := range labels {
			s := signers[l]
			k := Key{Identifier: "zsk-" + l, TTL: 172800, Flags: 256, Protocol: 3, Algorithm: alg, PublicKey: s.pub}
			k.KeyTag = k.DNSKEY(".").KeyTag()
			b.Keys = append(b.Keys, k)
		}
		d.Request.Bundles = append(d.Request.Bundles, b)
	}
	vtSignAll(t, d, signers)
	return d, signers
}

// vtSignAll (re)creates every bundle's signatures, one per key.
func vtSignAll(t testing.TB, d *Document, signers map[string]*vtSigner) {
	t.Helper()
	for i := range d.Request.Bundles {
		b := &d.Request.Bundles[i]
		b.Signatures = nil
		for j := range b.Keys {
			b.Keys[j].KeyTag = b.Keys[j].DNSKEY(".").KeyTag()
		}
		rrset := b.DNSKEYs(".")
		for _, k := range b.Keys {
			rr := &dns.RRSIG{
				Hdr:       dns.RR_Header{Name: ".", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: k.TTL},
				Algorithm: k.Algorithm, OrigTtl: k.TTL, KeyTag: k.DNSKEY(".").KeyTag(), SignerName: ".",
				Inception: uint32(b.Inception.Add(-90 * day).Unix()), Expiration: uint32(b.Inception.Add(-60 * day).Unix()),
			}
			if err := rr.Sign(signers[strings.TrimPrefix(k.Identifier, "zsk-")].priv, rrset); err != nil {
				t.Fatal(err)
			}
			data, _ := base64.StdEncoding.DecodeString(rr.Signature)
			b.Signatures = append(b.Signatures, Signature{
				Identifier: k.Identifier, TTL: k.TTL, TypeCovered: dns.TypeDNSKEY, Algorithm: rr.Algorithm, Labels: rr.Labels,
				OriginalTTL: rr.OrigTtl, Inception: time.Unix(int64(rr.Inception), 0).UTC(), Expiration: time.Unix(int64(rr.Expiration), 0).UTC(),
				KeyTag: rr.KeyTag, SignersName: ".", Data: data,
			})
		}
	}
}

func vtSyntheticOpts() ValidateOptions { return ValidateOptions{At: vtStart.Add(-7 * day)} }

func TestSyntheticAlgorithms(t *testing.T) {
	ecdsaOK := policy.Default()
	ecdsaOK.Request.EnableUnsupportedECDSA = true
	ecdsaOK.Request.ApprovedAlgorithms = []string{"ECDSAP256SHA256"}
	edOK := policy.Default()
	edOK.Request.ApprovedAlgorithms = []string{"ED25519"}
	rsa512 := policy.Default()
	rsa512.Request.ApprovedAlgorithms = []string{"RSASHA256", "RSASHA512"}
	tests := []struct {
		name   string
		alg    uint8
		policy *policy.Policy
		errors []string
	}{
		{"RSASHA256 under the root policy", dns.RSASHA256, policy.Default(), nil},
		{"RSASHA512 approved", dns.RSASHA512, rsa512, nil},
		{"RSASHA512 not approved", dns.RSASHA512, policy.Default(), []string{CheckPolicyAlg}},
		{"RSASHA1 is deprecated", dns.RSASHA1, rsa512, []string{CheckPolicyAlg}},
		{"ECDSA not enabled", dns.ECDSAP256SHA256, policy.Default(), []string{CheckPolicyAlg}},
		{"ECDSA enabled and approved", dns.ECDSAP256SHA256, ecdsaOK, nil},
		{"Ed25519 approved", dns.ED25519, edOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := vtBuild(t, tt.alg)
			r := Validate(d, tt.policy, vtSyntheticOpts())
			if got := r.ErrorChecks(); !reflect.DeepEqual(got, tt.errors) {
				vtDump(t, r)
				t.Fatalf("ErrorChecks = %v, want %v", got, tt.errors)
			}
		})
	}
}

// TestSyntheticFindings: documents built in Go, each broken one way.
func TestSyntheticFindings(t *testing.T) {
	ecdsaOK := func(p *policy.Policy) {
		p.Request.EnableUnsupportedECDSA = true
		p.Request.ApprovedAlgorithms = []string{"ECDSAP256SHA256"}
	}
	tests := []struct {
		name   string
		alg    uint8
		mutate func(t *testing.T, d *Document, s map[string]*vtSigner)
		policy func(p *policy.Policy)
		errors []string
	}{
		{name: "ECDSA key off the curve", alg: dns.ECDSAP256SHA256, policy: ecdsaOK, errors: []string{CheckKeyZSKPolicy},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				vtEachKeyID(d, "zsk-next", func(k *Key) {
					k.PublicKey = append([]byte(nil), k.PublicKey...)
					k.PublicKey[63] ^= 1
				})
				vtSignAll(t, d, s)
			}},
		{name: "ECDSA policy entry of the wrong size", alg: dns.ECDSAP256SHA256, policy: ecdsaOK, errors: []string{CheckPolicyParams},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				zp := &d.Request.ZSKPolicy
				zp.Algorithms = append(zp.Algorithms, AlgorithmPolicy{Algorithm: dns.ECDSAP256SHA256, Size: 384})
			}},
		{name: "two ZSKs share a key tag", alg: dns.RSASHA256, errors: []string{CheckKeyTagCollision},
			policy: func(p *policy.Policy) { p.Request.ValidateSignatures = false },
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				// Swapping two bytes at even offsets keeps the checksum.
				cur := d.Request.Bundles[1].Keys[0]
				pub := append([]byte(nil), cur.PublicKey...)
				i := 10
				for pub[i] == pub[i+2] {
					i += 2
				}
				pub[i], pub[i+2] = pub[i+2], pub[i]
				vtEachKeyID(d, "zsk-next", func(k *Key) { k.PublicKey, k.KeyTag = pub, cur.KeyTag })
				vtFixSigTags(d)
			}},
		{name: "gap between bundles", alg: dns.RSASHA256, errors: []string{CheckSigOverlap, CheckSigValidity},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				d.Request.Bundles[3].Expiration = d.Request.Bundles[4].Inception.Add(-day)
			}},
		{name: "bundle expires before it starts", alg: dns.RSASHA256, errors: []string{CheckSigOverlap, CheckSigValidity},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				d.Request.Bundles[2].Expiration = d.Request.Bundles[2].Inception.Add(-day)
			}},
		{name: "bundle without keys", alg: dns.RSASHA256, errors: []string{CheckBundleKeys, CheckBundlePOP, CheckPolicyKeys},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				d.Request.Bundles[4].Keys, d.Request.Bundles[4].Signatures = nil, nil
			}},
		{name: "no bundles", alg: dns.RSASHA256, errors: []string{CheckBundleCount, CheckPolicyKeys},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) { d.Request.Bundles = nil }},
		{name: "key listed twice in a bundle", alg: dns.RSASHA256, errors: []string{CheckBundleKeys},
			policy: func(p *policy.Policy) { p.Request.NumKeysPerBundle = []int{2, 1, 1, 1, 2, 1, 1, 1, 2} },
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				b := &d.Request.Bundles[4]
				b.Keys = append(b.Keys, b.Keys[0])
				vtSignAll(t, d, s)
			}},
		{name: "one key under two identifiers", alg: dns.RSASHA256, errors: []string{CheckBundleKeys},
			policy: func(p *policy.Policy) { p.Request.NumDifferentKeysInAllBundles = policy.IntChoice{4} },
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				s["alias"] = s["cur"]
				d.Request.Bundles[8].Keys[0].Identifier = "zsk-alias"
				vtSignAll(t, d, s)
			}},
		{name: "Signer names no key", alg: dns.RSASHA256, errors: []string{CheckBundlePOP},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				d.Request.Bundles[1].Signers = []string{"zsk-cur", "zsk-other"}
			}},
		{name: "bundle without signatures", alg: dns.RSASHA256, errors: []string{CheckBundlePOP},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) { d.Request.Bundles[6].Signatures = nil }},
		{name: "RRSIG covers another type", alg: dns.RSASHA256, errors: []string{CheckBundleRRSIG},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				d.Request.Bundles[6].Signatures[0].TypeCovered = dns.TypeA
			}},
		{name: "RRSIG signer name", alg: dns.RSASHA256, errors: []string{CheckBundleRRSIG},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				d.Request.Bundles[6].Signatures[0].SignersName = "example."
			}},
		{name: "RRSIG original TTL", alg: dns.RSASHA256, errors: []string{CheckBundleRRSIG},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				d.Request.Bundles[6].Signatures[0].OriginalTTL = 1
			}},
		{name: "malformed RSA key", alg: dns.RSASHA256, errors: []string{CheckKeyZSKPolicy},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {
				vtEachKeyID(d, "zsk-next", func(k *Key) { k.PublicKey = []byte{0, 0, 0, 1} })
				vtSignAll(t, d, s)
			}},
		{name: "KSR claims no algorithm", alg: dns.RSASHA256, errors: []string{CheckKeyZSKPolicy, CheckPolicyAlg},
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) { d.Request.ZSKPolicy.Algorithms = nil }},
		{name: "domain in other case", alg: dns.RSASHA256, errors: nil,
			policy: func(p *policy.Policy) { p.Request.AcceptableDomains = []string{"."} },
			mutate: func(t *testing.T, d *Document, s map[string]*vtSigner) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, s := vtBuild(t, tt.alg)
			sc := map[string]*vtSigner{}
			for k, v := range s {
				sc[k] = v
			}
			tt.mutate(t, d, sc)
			p := policy.Default()
			if tt.policy != nil {
				tt.policy(p)
			}
			r := Validate(d, p, vtSyntheticOpts())
			if got := r.ErrorChecks(); !reflect.DeepEqual(got, tt.errors) {
				vtDump(t, r)
				t.Fatalf("ErrorChecks = %v, want %v", got, tt.errors)
			}
		})
	}
}

// TestSwitchesTurnErrorsIntoWarnings: with its switch off, a check still
// runs but reports warnings that name the switch.
func TestSwitchesTurnErrorsIntoWarnings(t *testing.T) {
	tests := []struct {
		check  string
		off    func(p *policy.Policy)
		mutate func(d *Document)
	}{
		{CheckCycleDuration, func(p *policy.Policy) { p.Request.CheckCycleLength = false }, func(d *Document) {
			d.Request.Bundles = d.Request.Bundles[:8]
		}},
		{CheckBundleIntervals, func(p *policy.Policy) { p.Request.CheckBundleIntervals = false }, func(d *Document) {
			vtShift(d, 4, 36*time.Hour)
			for i := 5; i < 9; i++ {
				vtShift(d, i, 12*time.Hour)
			}
		}},
		{CheckSigHorizon, func(p *policy.Policy) { p.Request.SignatureCheckExpireHorizon = false }, func(d *Document) {
			for i := range d.Request.Bundles {
				vtShift(d, i, 200*day)
			}
		}},
		{CheckBundlePOP, func(p *policy.Policy) { p.Request.ValidateSignatures = false }, func(d *Document) {
			d.Request.Bundles[1].Signatures[0].Data[0] ^= 1
		}},
		{CheckPolicyKeys, func(p *policy.Policy) { p.Request.CheckKeysMatchKSKOperatorPolicy = false }, func(d *Document) {}},
		{CheckPolicyParams, func(p *policy.Policy) { p.Request.SignatureAlgorithmsMatchZSKPolicy = false }, func(d *Document) {}},
		{CheckSigValidity, func(p *policy.Policy) { p.Request.SignatureValidityMatchZSKPolicy = false }, func(d *Document) {
			d.Request.ZSKPolicy.MinSignatureValidity = 22 * day
			d.Request.ZSKPolicy.MaxSignatureValidity = 22 * day
		}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			d, _ := vtBuild(t, dns.RSASHA256)
			tt.mutate(d)
			p := policy.Default()
			switch tt.check {
			case CheckCycleDuration:
				p.Request.NumBundles = policy.IntChoice{8, 9}
				p.Request.NumKeysPerBundle = nil
				p.Request.NumDifferentKeysInAllBundles = nil
			case CheckPolicyKeys:
				p.Request.DNSTTL = 3600
			case CheckPolicyParams:
				p.Request.RSAApprovedKeySizes = []int{4096}
			}
			on := Validate(d, p, vtSyntheticOpts())
			if !on.Has(tt.check) {
				vtDump(t, on)
				t.Fatalf("%s not reported with its switch on", tt.check)
			}
			tt.off(p)
			r := Validate(d, p, vtSyntheticOpts())
			if !r.Valid() {
				vtDump(t, r)
				t.Fatalf("switch off: still rejected: %v", r.ErrorChecks())
			}
			warned := false
			for _, f := range r.Findings {
				if f.Check == tt.check && f.Severity == check.Warning && strings.Contains(f.Message, "is false") {
					warned = true
				}
			}
			if !warned {
				vtDump(t, r)
				t.Fatal("no warning naming the switch")
			}
		})
	}
}

func vtEachKeyID(d *Document, id string, f func(k *Key)) {
	for i := range d.Request.Bundles {
		for j := range d.Request.Bundles[i].Keys {
			if d.Request.Bundles[i].Keys[j].Identifier == id {
				f(&d.Request.Bundles[i].Keys[j])
			}
		}
	}
}

// vtFixSigTags makes each RRSIG's key tag that of its key, so that a test
// about the key is not reported as an RRSIG problem as well.
func vtFixSigTags(d *Document) {
	for i := range d.Request.Bundles {
		b := &d.Request.Bundles[i]
		for j := range b.Signatures {
			for _, k := range b.Keys {
				if k.Identifier == b.Signatures[j].Identifier {
					b.Signatures[j].KeyTag = k.DNSKEY(".").KeyTag()
				}
			}
		}
	}
}
