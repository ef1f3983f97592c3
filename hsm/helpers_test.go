package hsm_test

import (
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/miekg/dns"
)

// signDNSKEYSet signs the DNSKEY RRset {dk} with k through miekg/dns and
// verifies the RRSIG with miekg/dns.
func signDNSKEYSet(t testing.TB, k crypto.Signer, dk *dns.DNSKEY) *dns.RRSIG {
	t.Helper()
	now := time.Now()
	sig := &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: dk.Hdr.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: dk.Hdr.Ttl},
		TypeCovered: dns.TypeDNSKEY,
		Algorithm:   dk.Algorithm,
		Labels:      uint8(dns.CountLabel(dk.Hdr.Name)),
		OrigTtl:     dk.Hdr.Ttl,
		Expiration:  uint32(now.Add(time.Hour).Unix()),
		Inception:   uint32(now.Add(-time.Hour).Unix()),
		KeyTag:      dk.KeyTag(),
		SignerName:  dk.Hdr.Name,
	}
	rrset := []dns.RR{dk}
	if err := sig.Sign(k, rrset); err != nil {
		t.Fatalf("RRSIG.Sign with %v: %v", k, err)
	}
	if err := sig.Verify(dk, rrset); err != nil {
		t.Fatalf("RRSIG by %v does not verify: %v", k, err)
	}
	if !sig.ValidityPeriod(now) {
		t.Fatalf("RRSIG not valid now")
	}
	return sig
}

// mustDNSKEY returns the default (root KSK) DNSKEY of a key.
func mustDNSKEY(t testing.TB, k *hsm.Key) *dns.DNSKEY {
	t.Helper()
	dk, err := k.DNSKEY(hsm.DNSKEYOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dk
}

// assertNoSecret fails when s contains one of the secrets.
func assertNoSecret(t testing.TB, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("a PIN leaked into %q", s)
		}
	}
}
