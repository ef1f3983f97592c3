package rfc5011

import (
	"crypto"
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// t0 is day 0 of the synthetic timelines.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// testKey is a software KSK (ECDSA P-256: fast to make and use).
type testKey struct {
	name string
	dk   *dns.DNSKEY
	priv crypto.Signer
}

func newKey(t testing.TB, name string) *testKey {
	t.Helper()
	dk := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 172800},
		Flags:     257,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := dk.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{name: name, dk: dk, priv: priv.(crypto.Signer)}
}

// revoked returns the key with the REVOKE bit.
func (k *testKey) revoked() *dns.DNSKEY {
	c := dns.Copy(k.dk).(*dns.DNSKEY)
	c.Flags |= flagRevoke
	return c
}

// slot describes one served RRset of a synthetic timeline.
type slot struct {
	from, until int        // days
	publish     []*testKey // published unrevoked
	revoke      []*testKey // published with the REVOKE bit, self-signed
	revokeNoSig []*testKey // published with the REVOKE bit, not self-signed
	sign        []*testKey // sign the RRset
	ttl         uint32     // DNSKEY TTL and RRSIG original TTL; 0 means 2 days
	expired     bool       // RRSIGs expire before the slot starts
}

// build makes the timeline of slots: RRSIGs from one hour before the slot
// to 11 days after its end, as the root's bundles overlap.
func build(t testing.TB, slots ...slot) Timeline {
	t.Helper()
	var tl Timeline
	for i, sl := range slots {
		ttl := sl.ttl
		if ttl == 0 {
			ttl = 172800
		}
		s := Served{From: day(sl.from), Until: day(sl.until), Source: fmt.Sprintf("slot %d", i+1)}
		set := func(k *dns.DNSKEY) *dns.DNSKEY {
			k = dns.Copy(k).(*dns.DNSKEY)
			k.Hdr.Ttl = ttl
			s.Keys = append(s.Keys, k)
			return k
		}
		type signer struct {
			dk   *dns.DNSKEY
			priv crypto.Signer
		}
		var signers []signer
		for _, k := range sl.publish {
			set(k.dk)
		}
		for _, k := range sl.revoke {
			signers = append(signers, signer{set(k.revoked()), k.priv})
		}
		for _, k := range sl.revokeNoSig {
			set(k.revoked())
		}
		for _, k := range sl.sign {
			signers = append(signers, signer{k.dk, k.priv})
		}
		incep, exp := s.From.Add(-time.Hour), s.Until.Add(11*24*time.Hour)
		if sl.expired {
			incep, exp = s.From.Add(-30*24*time.Hour), s.From.Add(-time.Hour)
		}
		rrset := make([]dns.RR, len(s.Keys))
		for j, k := range s.Keys {
			rrset[j] = k
		}
		for _, sg := range signers {
			sig := &dns.RRSIG{
				Hdr:        dns.RR_Header{Name: ".", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: ttl},
				Algorithm:  sg.dk.Algorithm,
				OrigTtl:    ttl,
				Inception:  uint32(incep.Unix()),
				Expiration: uint32(exp.Unix()),
				KeyTag:     sg.dk.KeyTag(),
				SignerName: ".",
			}
			if err := sig.Sign(sg.priv, rrset); err != nil {
				t.Fatal(err)
			}
			s.Sigs = append(s.Sigs, sig)
		}
		tl = append(tl, s)
	}
	if err := tl.Validate(); err != nil {
		t.Fatal(err)
	}
	return tl
}

// names maps key tags to test key names for readable failures.
func names(keys ...*testKey) map[uint16]string {
	m := map[uint16]string{}
	for _, k := range keys {
		m[k.dk.KeyTag()] = k.name
	}
	return m
}

// render writes a transition as "dN NAME From->To".
func render(tr Transition, nm map[uint16]string) string {
	d := tr.At.Sub(t0)
	s := fmt.Sprintf("d%d", int(d/(24*time.Hour)))
	if rem := d % (24 * time.Hour); rem != 0 {
		s += "+" + rem.String()
	}
	return fmt.Sprintf("%s %s %s->%s", s, nm[tr.KeyTag], tr.From, tr.To)
}
