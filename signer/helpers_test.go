package signer_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/signer"
	"github.com/miekg/dns"
)

// softKeys is a KeySource of software keys by label, for tests that need
// no HSM. Go's RSA PKCS#1 v1.5 signatures are deterministic, like the
// HSM's, so both must give the same SKR.
type softKeys map[string]crypto.Signer

func (s softKeys) FindKey(label string) (crypto.Signer, error) {
	k, ok := s[label]
	if !ok {
		return nil, fmt.Errorf("key %q: %w", label, hsm.ErrKeyNotFound)
	}
	return k, nil
}

// testKeys returns the fixed test keys under the labels given, as name →
// label pairs.
func testKeys(t testing.TB, pairs ...string) softKeys {
	t.Helper()
	s := softKeys{}
	for i := 0; i+1 < len(pairs); i += 2 {
		s[pairs[i+1]] = softhsmtest.LoadTestKey(t, pairs[i])
	}
	return s
}

func mustConfig(t testing.TB, path string) *signer.Config {
	t.Helper()
	c, err := signer.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustParse(t testing.TB, yaml string) *signer.Config {
	t.Helper()
	c, err := signer.ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadDoc(t testing.TB, path string) *ksr.Document {
	t.Helper()
	d, err := ksr.ParseFile(path, ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	goldenConfig = filepath.Join(repo, "testdata", "golden", "signer-2018-q1-d_to_e.yaml")
	goldenSKR    = filepath.Join(repo, "testdata", "golden", "skr-2018-q1-0-d_to_e-testkeys.xml")
	ksr2018q1    = filepath.Join(repo, "testdata", "iana-root", "ksr-root-2018-q1-0-d_to_e.xml")
	at2018q1     = time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
)

// goldenKeys are the golden configuration's keys in software.
func goldenKeys(t testing.TB) softKeys {
	return testKeys(t, "rsa-2048-1", "ksk-test-1", "rsa-2048-2", "ksk-test-2")
}

func marshal(t testing.TB, d *ksr.Document) []byte {
	t.Helper()
	b, err := ksr.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compareGolden compares got with the golden SKR; with KSK_UPDATE_GOLDEN
// set it rewrites the file instead.
func compareGolden(t *testing.T, got []byte) {
	t.Helper()
	if os.Getenv("KSK_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(goldenSKR, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenSKR)
		return
	}
	want, err := os.ReadFile(goldenSKR)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("SKR differs from %s (%d bytes, want %d); rerun with KSK_UPDATE_GOLDEN=1 only if the change is intended", goldenSKR, len(got), len(want))
	}
}

// Synthetic KSRs: what the ZSK operator sends, made here with software
// ZSKs in the root zone's layout so that tests can sign several quarters
// in a row.

var (
	zskMu    sync.Mutex
	zskCache = map[string]crypto.Signer{}
)

// zsk returns a software ZSK, generated once per name and test binary:
// RSA-2048 for "rsa-N", ECDSA P-384 for "p384-N", Ed25519 for
// "ed25519-gen-N"; other names are fixed test keys.
func zsk(t testing.TB, name string) crypto.Signer {
	t.Helper()
	zskMu.Lock()
	defer zskMu.Unlock()
	if k, ok := zskCache[name]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	switch {
	case strings.HasPrefix(name, "rsa-") && !strings.HasPrefix(name, "rsa-2048-"):
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case strings.HasPrefix(name, "p384-"):
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case strings.HasPrefix(name, "ed25519-gen-"):
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		k = softhsmtest.LoadTestKey(t, name)
	}
	if err != nil {
		t.Fatal(err)
	}
	zskCache[name] = k
	return k
}

// quarterSpec describes a synthetic KSR.
type quarterSpec struct {
	id       string
	start    time.Time
	bundles  int           // default 9
	interval time.Duration // default 10 days
	validity time.Duration // default 21 days
	// zsks per bundle: the key names (see zsk) and algorithms.
	zsks func(i int) []zskRef
	pop  bool   // sign each bundle with its ZSKs (proof of possession)
	zone string // default "."
}

type zskRef struct {
	name string
	alg  hsm.Algorithm
}

// rootQuarter is the root's layout for quarter q: ZSK q signs the whole
// quarter, ZSK q-1 is post-published in bundle 1 and ZSK q+1
// pre-published in bundle 9.
func rootQuarter(q int, start time.Time) quarterSpec {
	return quarterSpec{
		id:    fmt.Sprintf("ksr-q%d", q),
		start: start,
		pop:   true,
		zsks: func(i int) []zskRef {
			r := []zskRef{{fmt.Sprintf("rsa-%d", 100+q), hsm.RSASHA256}}
			if i == 0 {
				r = append(r, zskRef{fmt.Sprintf("rsa-%d", 100+q-1), hsm.RSASHA256})
			}
			if i == 8 {
				r = append(r, zskRef{fmt.Sprintf("rsa-%d", 100+q+1), hsm.RSASHA256})
			}
			return r
		},
	}
}

// quarterStart returns the start of quarter q after 2030-01-01, in the
// root's 90-day cadence.
func quarterStart(q int) time.Time {
	return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(q) * 90 * 24 * time.Hour)
}

const day = 24 * time.Hour

// makeKSR builds a KSR document as the ZSK operator would.
func makeKSR(t testing.TB, spec quarterSpec) *ksr.Document {
	t.Helper()
	n, iv, val, zone := spec.bundles, spec.interval, spec.validity, spec.zone
	if zone == "" {
		zone = "."
	}
	if n == 0 {
		n = 9
	}
	if iv == 0 {
		iv = 10 * day
	}
	if val == 0 {
		val = 21 * day
	}
	req := &ksr.Request{ZSKPolicy: ksr.SignaturePolicy{
		PublishSafety: 10 * day, RetireSafety: 10 * day,
		MaxSignatureValidity: val, MinSignatureValidity: val,
		MaxValidityOverlap: 12 * day, MinValidityOverlap: 9 * day,
	}}
	type made struct {
		key    ksr.Key
		dnskey *dns.DNSKEY
		signer crypto.Signer
	}
	cache := map[string]made{}
	get := func(r zskRef) made {
		if m, ok := cache[r.name]; ok {
			return m
		}
		s := zsk(t, r.name)
		dk, err := hsm.NewDNSKEY(s.Public(), r.alg, hsm.DNSKEYOptions{Owner: zone, Flags: 256, TTL: 172800})
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := base64.StdEncoding.DecodeString(dk.PublicKey)
		m := made{ksr.Key{Identifier: "zsk-" + r.name, KeyTag: dk.KeyTag(), TTL: 172800, Flags: 256, Protocol: 3, Algorithm: uint8(r.alg), PublicKey: pub}, dk, s}
		cache[r.name] = m
		seen := false
		for _, a := range req.ZSKPolicy.Algorithms {
			if a.Algorithm == uint8(r.alg) {
				seen = true
			}
		}
		if !seen {
			ap := ksr.AlgorithmPolicy{Algorithm: uint8(r.alg)}
			switch p := s.Public().(type) {
			case *rsa.PublicKey:
				ap.Size, ap.Exponent = p.N.BitLen(), p.E
			default:
				ap.Size = map[hsm.Algorithm]int{hsm.ECDSAP256SHA256: 256, hsm.ECDSAP384SHA384: 384, hsm.ED25519: 256}[r.alg]
			}
			req.ZSKPolicy.Algorithms = append(req.ZSKPolicy.Algorithms, ap)
		}
		return m
	}
	for i := range n {
		inc := spec.start.Add(time.Duration(i) * iv)
		b := ksr.Bundle{ID: fmt.Sprintf("%s-b%d", spec.id, i+1), Inception: inc, Expiration: inc.Add(val)}
		var rrset []dns.RR
		var ms []made
		for _, r := range spec.zsks(i) {
			m := get(r)
			ms = append(ms, m)
			b.Keys = append(b.Keys, m.key)
			rrset = append(rrset, m.dnskey)
		}
		if spec.pop {
			for _, m := range ms {
				sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 172800},
					Algorithm: m.dnskey.Algorithm, OrigTtl: 172800, KeyTag: m.dnskey.KeyTag(), SignerName: zone,
					Inception: uint32(inc.Unix()), Expiration: uint32(inc.Add(val).Unix())}
				if err := sig.Sign(m.signer, rrset); err != nil {
					t.Fatal(err)
				}
				data, _ := base64.StdEncoding.DecodeString(sig.Signature)
				b.Signatures = append(b.Signatures, ksr.Signature{Identifier: m.key.Identifier, TTL: 172800, TypeCovered: dns.TypeDNSKEY,
					Algorithm: sig.Algorithm, Labels: sig.Labels, OriginalTTL: 172800, Inception: inc, Expiration: inc.Add(val),
					KeyTag: sig.KeyTag, SignersName: zone, Data: data})
			}
		}
		req.Bundles = append(req.Bundles, b)
	}
	return &ksr.Document{ID: spec.id, Domain: zone, Request: req}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type ioReader = io.Reader

func errorsIs(err, target error) bool { return errors.Is(err, target) }
