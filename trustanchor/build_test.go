package trustanchor

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestNewKeyDigestReproducesIANA builds the KeyDigests of KSK-2017 and
// KSK-2024 from the public keys in IANA's root-anchors.xml and compares
// them, and the Marshal of a file of them, with IANA's.
func TestNewKeyDigestReproducesIANA(t *testing.T) {
	iana, err := ParseFile(rootAnchors, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	built := &TrustAnchor{ID: iana.ID, Source: iana.Source, Zone: iana.Zone}
	for _, want := range iana.Anchors {
		if want.PublicKey == nil {
			continue // KSK-2010's KeyDigest has no public key
		}
		key := want.DNSKEY(172800)
		got, err := NewKeyDigest(want.ID, key, want.ValidFrom, want.ValidUntil)
		if err != nil {
			t.Fatalf("%s: %v", want.ID, err)
		}
		if !got.Matches(key) || got.KeyTag != want.KeyTag || got.Algorithm != want.Algorithm || got.DigestType != 2 ||
			!bytes.Equal(got.Digest, want.Digest) || !bytes.Equal(got.PublicKey, want.PublicKey) || got.Flags != 257 ||
			got.Zone != "." || !got.ValidFrom.Equal(want.ValidFrom) {
			t.Errorf("%s: got %+v\nwant %+v", want.ID, got, want)
		}
		built.Anchors = append(built.Anchors, got)
	}
	if len(built.Anchors) != 2 {
		t.Fatalf("built %d anchors", len(built.Anchors))
	}
	out := Marshal(built)
	back, err := Parse(bytes.NewReader(out), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range back.Anchors {
		if !a.Matches(built.Anchors[i].DNSKEY(0)) {
			t.Errorf("anchor %s read back does not match its DNSKEY", a.ID)
		}
	}
	for _, line := range []string{
		`<KeyDigest id="Klajeyz" validFrom="2017-02-02T00:00:00+00:00">`,
		`<Digest>E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D</Digest>`,
		`<KeyDigest id="Kmyv6jo" validFrom="2024-07-18T00:00:00+00:00">`,
		`<Flags>257</Flags>`,
	} {
		if !strings.Contains(string(out), line+"\n") {
			t.Errorf("output lacks %s:\n%s", line, out)
		}
	}
}

func TestNewKeyDigestErrors(t *testing.T) {
	iana, err := ParseFile(rootAnchors, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good := iana.Anchors[1].DNSKEY(0)
	from := date("2017-02-02")
	tests := []struct {
		name        string
		id          string
		key         func() *dns.DNSKEY
		from, until time.Time
	}{
		{"no key", "K", func() *dns.DNSKEY { return nil }, from, time.Time{}},
		{"empty id", "", func() *dns.DNSKEY { return good }, from, time.Time{}},
		{"not a zone key", "K", func() *dns.DNSKEY { k := *good; k.Flags = 1; return &k }, from, time.Time{}},
		{"bad base64", "K", func() *dns.DNSKEY { k := *good; k.PublicKey = "!!"; return &k }, from, time.Time{}},
		{"until before from", "K", func() *dns.DNSKEY { return good }, from, date("2017-01-01")},
		{"until equals from", "K", func() *dns.DNSKEY { return good }, from, from},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyDigest(tt.id, tt.key(), tt.from, tt.until); !errors.Is(err, ErrBadKey) {
				t.Errorf("err = %v, want ErrBadKey", err)
			}
		})
	}
}

// TestMarshalDSAndDNSKEY: the DS and DNSKEY files of IANA's anchors that
// have public keys read back (ParseDS, Load, the zone parser) to the same
// keys and digests.
func TestMarshalDSAndDNSKEY(t *testing.T) {
	iana, err := ParseFile(rootAnchors, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MarshalDNSKEY(iana, 172800); !errors.Is(err, ErrMissingElement) {
		t.Errorf("KSK-2010 has no public key: err = %v", err)
	}
	withKeys := &TrustAnchor{ID: iana.ID, Source: iana.Source, Zone: iana.Zone, Anchors: iana.Anchors[1:]}
	tests := []struct {
		name string
		ttl  uint32
	}{{"root TTL", 172800}, {"no TTL", 0}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := MarshalDS(withKeys, tt.ttl)
			back, err := ParseDS(bytes.NewReader(ds), ParseOptions{})
			if err != nil {
				t.Fatalf("%v\n%s", err, ds)
			}
			keys, err := MarshalDNSKEY(withKeys, tt.ttl)
			if err != nil {
				t.Fatal(err)
			}
			var dnskeys []*dns.DNSKEY
			zp := dns.NewZoneParser(bytes.NewReader(keys), ".", "")
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				dnskeys = append(dnskeys, rr.(*dns.DNSKEY))
			}
			if zp.Err() != nil || len(dnskeys) != 2 || len(back.Anchors) != 2 {
				t.Fatalf("%v: %d keys, %d DS\n%s", zp.Err(), len(dnskeys), len(back.Anchors), keys)
			}
			for i, a := range back.Anchors {
				if !a.Matches(dnskeys[i]) || !withKeys.Anchors[i].Matches(dnskeys[i]) || dnskeys[i].Hdr.Ttl != tt.ttl {
					t.Errorf("anchor %d: %+v does not match %v", i, a, dnskeys[i])
				}
			}
			if !strings.HasPrefix(string(ds), "; Klajeyz key tag 20326, valid from 2017-02-02T00:00:00Z, open-ended\n") {
				t.Errorf("DS file:\n%s", ds)
			}
		})
	}
}
