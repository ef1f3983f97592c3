package ksr

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/miekg/dns"
)

// vtDir holds IANA's real root zone KSRs and SKRs.
const vtDir = "../testdata/iana-root"

// vtLoad parses a real file afresh, so that a test may change it.
func vtLoad(t testing.TB, name string) *Document {
	t.Helper()
	d, err := ParseFile(filepath.Join(vtDir, name), ParseOptions{})
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return d
}

// vtAt is the reference time for a historical KSR: its first inception.
func vtAt(d *Document) time.Time { return d.Request.Bundles[0].Inception }

// vtKeys caches generated RSA keys by label: generating them is slow.
var vtKeys struct {
	sync.Mutex
	m map[string]*rsa.PrivateKey
}

func vtKey(t testing.TB, label string, bits int) *rsa.PrivateKey {
	t.Helper()
	vtKeys.Lock()
	defer vtKeys.Unlock()
	if vtKeys.m == nil {
		vtKeys.m = map[string]*rsa.PrivateKey{}
	}
	id := label + "/" + big.NewInt(int64(bits)).String()
	if k, ok := vtKeys.m[id]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	vtKeys.m[id] = k
	return k
}

// vtRSAWire encodes an RSA public key as RFC 3110 DNSKEY key material.
func vtRSAWire(pub *rsa.PublicKey) []byte {
	e := big.NewInt(int64(pub.E)).Bytes()
	out := []byte{byte(len(e))}
	out = append(out, e...)
	return append(out, pub.N.Bytes()...)
}

// vtResign gives every keyIdentifier of the KSR a generated RSA key of the
// given size (its flags, protocol, algorithm and TTL are kept), corrects
// the keyTag attributes and signs every bundle again, keeping each
// signature's own times. A test changes a field and resigns so that only
// the check about that field fails.
func vtResign(t testing.TB, d *Document, bits int) {
	t.Helper()
	zone := dns.Fqdn(d.Domain)
	keys := map[string]*rsa.PrivateKey{}
	for i := range d.Request.Bundles {
		b := &d.Request.Bundles[i]
		for j := range b.Keys {
			k := &b.Keys[j]
			priv := vtKey(t, k.Identifier, bits)
			keys[k.Identifier] = priv
			k.PublicKey = vtRSAWire(&priv.PublicKey)
			k.KeyTag = k.DNSKEY(zone).KeyTag()
		}
	}
	for i := range d.Request.Bundles {
		b := &d.Request.Bundles[i]
		rrset := b.DNSKEYs(zone)
		for j := range b.Signatures {
			s := &b.Signatures[j]
			var key *Key
			for k := range b.Keys {
				if b.Keys[k].Identifier == s.Identifier {
					key = &b.Keys[k]
				}
			}
			if key == nil {
				t.Fatalf("vtResign: signature by %s has no key", s.Identifier)
			}
			rr := &dns.RRSIG{
				Hdr:         dns.RR_Header{Name: zone, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: s.TTL},
				Algorithm:   key.Algorithm,
				OrigTtl:     key.TTL,
				Expiration:  uint32(s.Expiration.Unix()),
				Inception:   uint32(s.Inception.Unix()),
				KeyTag:      key.KeyTag,
				SignerName:  zone,
				TypeCovered: dns.TypeDNSKEY,
			}
			if err := rr.Sign(keys[key.Identifier], rrset); err != nil {
				t.Fatalf("vtResign: %v", err)
			}
			data, err := base64.StdEncoding.DecodeString(rr.Signature)
			if err != nil {
				t.Fatal(err)
			}
			s.Algorithm, s.KeyTag, s.OriginalTTL, s.SignersName, s.Labels = rr.Algorithm, rr.KeyTag, rr.OrigTtl, zone, rr.Labels
			s.TypeCovered, s.Data = dns.TypeDNSKEY, data
		}
	}
}

// vtBundlesWithKey calls f for every occurrence of the key whose claimed
// tag is tag.
func vtEachKey(d *Document, tag uint16, f func(k *Key)) {
	for i := range d.Request.Bundles {
		for j := range d.Request.Bundles[i].Keys {
			if d.Request.Bundles[i].Keys[j].KeyTag == tag {
				f(&d.Request.Bundles[i].Keys[j])
			}
		}
	}
}

// vtShift moves bundle i by d, inception and expiration alike.
func vtShift(d *Document, i int, by time.Duration) {
	b := &d.Request.Bundles[i]
	b.Inception = b.Inception.Add(by)
	b.Expiration = b.Expiration.Add(by)
}

// vtDump logs a report's findings.
func vtDump(t testing.TB, r *check.Report) {
	t.Helper()
	for _, f := range r.Findings {
		t.Log(f)
	}
}
