package skr_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/internal/zonecheck"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/skr"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

// realSKRs are IANA's published root zone SKRs in testdata.
func realSKRs(t *testing.T) map[string]*ksr.Document {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "iana-root", "skr-*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no real SKRs: %v", err)
	}
	out := map[string]*ksr.Document{}
	for _, f := range files {
		d, err := ksr.ParseFile(f, ksr.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

// parseZone reads presentation format back into records.
func parseZone(t *testing.T, text string) []dns.RR {
	t.Helper()
	var out []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "export")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, text)
	}
	return out
}

func export(t *testing.T, d *ksr.Document, idx []int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := skr.WriteZone(&buf, d, idx); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestWriteZoneRealSKRs: every bundle of every real SKR, exported and
// parsed back, is the bundle's DNSKEY RRset in canonical order followed by
// its RRSIGs, and every RRSIG verifies over the records as read back.
func TestWriteZoneRealSKRs(t *testing.T) {
	for name, d := range realSKRs(t) {
		for i := range d.Response.Bundles {
			b := &d.Response.Bundles[i]
			rrs := parseZone(t, export(t, d, []int{i}))
			var keys []dns.RR
			var sigs []*dns.RRSIG
			for _, rr := range rrs {
				switch r := rr.(type) {
				case *dns.DNSKEY:
					keys = append(keys, r)
				case *dns.RRSIG:
					sigs = append(sigs, r)
				}
			}
			if len(keys) != len(b.Keys) || len(sigs) != len(b.Signatures) || len(keys)+len(sigs) != len(rrs) {
				t.Fatalf("%s bundle %d: %d keys, %d signatures, %d records", name, i+1, len(keys), len(sigs), len(rrs))
			}
			if !slices.IsSortedFunc(keys, func(a, b dns.RR) int { return bytes.Compare(rdata(t, a), rdata(t, b)) }) {
				t.Errorf("%s bundle %d: DNSKEYs not in canonical order", name, i+1)
			}
			for _, s := range sigs {
				var key *dns.DNSKEY
				for _, k := range keys {
					if k.(*dns.DNSKEY).KeyTag() == s.KeyTag {
						key = k.(*dns.DNSKEY)
					}
				}
				if key == nil {
					t.Fatalf("%s bundle %d: no key %d", name, i+1, s.KeyTag)
				}
				if err := s.Verify(key, keys); err != nil {
					t.Errorf("%s bundle %d: RRSIG by %d does not verify after export: %v", name, i+1, s.KeyTag, err)
				}
			}
		}
	}
}

func rdata(t *testing.T, rr dns.RR) []byte {
	t.Helper()
	buf := make([]byte, dns.Len(rr)+1)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	name := make([]byte, 256)
	n, err := dns.PackDomainName(rr.Header().Name, name, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return buf[n+10 : off]
}

// rootAnchors returns the DS records of the root trust anchors.
func rootAnchors(t *testing.T) []dns.RR {
	t.Helper()
	ta, err := trustanchor.ParseFile(filepath.Join("..", "testdata", "root-anchors", "root-anchors.xml"), trustanchor.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []dns.RR
	for _, a := range ta.Anchors {
		out = append(out, a.DS())
	}
	return out
}

// TestRealBundlesValidators: each bundle of every real IANA SKR, exported
// by WriteZone, passes ldns-verify-zone at a time inside the bundle with
// the root trust anchors as its trusted keys, and fails it with one bit
// flipped in each KSK signature. The root's ZSKs cannot sign the rest of a
// zone (their private keys are the root zone maintainer's), so the DNSKEY
// RRset is judged alone (zonecheck.ValidateDNSKEYRRset); kzonecheck and
// dnssec-verify need a fully signed zone and are exercised on synthetic
// bundles (internal/zonecheck, cmd/ksk).
func TestRealBundlesValidators(t *testing.T) {
	anchors := rootAnchors(t)
	pass, fail := 0, 0
	for name, d := range realSKRs(t) {
		for i := range d.Response.Bundles {
			b := &d.Response.Bundles[i]
			at := b.Inception.Add(time.Hour)
			rrs := parseZone(t, export(t, d, []int{i}))
			if err := zonecheck.ValidateDNSKEYRRset(t, rrs, at, anchors...)[zonecheck.LDNS]; err != nil {
				t.Errorf("%s bundle %d: %v", name, i+1, err)
			} else {
				pass++
			}
			flipped := rrs
			for _, s := range b.Signatures {
				flipped = zonecheck.FlipSignature(flipped, s.KeyTag)
			}
			if err := zonecheck.ValidateDNSKEYRRset(t, flipped, at, anchors...)[zonecheck.LDNS]; err == nil {
				t.Errorf("%s bundle %d: ldns-verify-zone accepts a flipped KSK signature", name, i+1)
			} else {
				fail++
			}
			// Outside the bundle's validity the signature must not pass.
			if err := zonecheck.ValidateDNSKEYRRset(t, rrs, b.Expiration.Add(time.Hour), anchors...)[zonecheck.LDNS]; err == nil {
				t.Errorf("%s bundle %d: ldns-verify-zone accepts the bundle after it expired", name, i+1)
			}
		}
	}
	t.Logf("ldns-verify-zone: %d real bundles pass, %d flipped bundles fail", pass, fail)
}

func TestSelectBundles(t *testing.T) {
	d := realSKRs(t)["skr-root-2017-q2-0.xml"]
	id3 := d.Response.Bundles[2].ID
	tests := []struct {
		sel  string
		want []int
		err  bool
	}{
		{"", []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, false},
		{"all", []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, false},
		{"ALL", []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, false},
		{"1", []int{0}, false},
		{" 9 ", []int{8}, false},
		{id3, []int{2}, false},
		{strings.ToUpper(id3), []int{2}, false},
		{"0", nil, true},
		{"10", nil, true},
		{"-1", nil, true},
		{"no-such-id", nil, true},
	}
	for _, tt := range tests {
		got, err := skr.SelectBundles(d, tt.sel)
		if tt.err {
			if !errors.Is(err, skr.ErrNoBundle) {
				t.Errorf("SelectBundles(%q): err = %v, want ErrNoBundle", tt.sel, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SelectBundles(%q) = %v, %v; want %v", tt.sel, got, err, tt.want)
		}
	}
}

func TestWriteZoneFormat(t *testing.T) {
	d := realSKRs(t)["skr-root-2017-q2-0.xml"]
	out := export(t, d, []int{0, 8})
	for _, want := range []string{
		"; SKR 23e34059-7725-46a8-a7d2-662d657aab2b, domain ., serial 1: 2 of 9 bundles\n",
		";\n; bundle 1/9 id dc1bc68c-b1c1-46f8-817f-ec893549f2be\n; inception 2017-04-01T00:00:00Z expiration 2017-04-22T00:00:00Z\n",
		"; keys 61045 RSASHA256 ZSK, 14796 RSASHA256 ZSK, 19036 RSASHA256 KSK signing\n",
		"\n;\n; bundle 9/9 id ",
		".\t172800\tIN\tDNSKEY\t257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=\n",
		".\t172800\tIN\tRRSIG\tDNSKEY 8 0 172800 20170422000000 20170401000000 19036 . lEUU+0iZ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %q", want)
		}
	}
	if n := strings.Count(out, "\tDNSKEY\t"); n != 6 { // two ZSKs and the KSK in both bundles
		t.Errorf("%d DNSKEY records, want 6", n)
	}

	// A KSR exports too (its proof-of-possession signatures).
	k, err := ksr.ParseFile(filepath.Join("..", "testdata", "iana-root", "ksr-root-2017-q2-0.xml"), ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out := export(t, k, []int{0}); !strings.HasPrefix(out, "; KSR 23e34059") || !strings.Contains(out, "14796 RSASHA256 ZSK signing") {
		t.Errorf("KSR export:\n%s", out)
	}
	if err := skr.WriteZone(&bytes.Buffer{}, d, []int{9}); !errors.Is(err, skr.ErrNoBundle) {
		t.Errorf("bundle index out of range: %v", err)
	}
}

// TestWriteZoneNotCanonical: a key that cannot be packed (RDATA over 64 KiB)
// stops the export with ErrNotCanonical instead of an unsorted RRset.
func TestWriteZoneNotCanonical(t *testing.T) {
	d := *realSKRs(t)["skr-root-2017-q2-0.xml"]
	resp := *d.Response
	resp.Bundles = slices.Clone(resp.Bundles)
	b := &resp.Bundles[0]
	b.Keys = slices.Clone(b.Keys)
	b.Keys[1].PublicKey = make([]byte, 70000)
	d.Response = &resp
	var out bytes.Buffer
	err := skr.WriteZone(&out, &d, []int{0})
	if !errors.Is(err, skr.ErrNotCanonical) || !strings.Contains(err.Error(), b.ID) {
		t.Fatalf("WriteZone: %v, want ErrNotCanonical naming bundle %s", err, b.ID)
	}
	if _, err := skr.BundleRRs(".", b); !errors.Is(err, skr.ErrNotCanonical) {
		t.Errorf("BundleRRs: %v", err)
	}
}

// TestWriteZoneRevoked: a revoked KSK is marked as such in the header.
func TestWriteZoneRevoked(t *testing.T) {
	d := realSKRs(t)["skr-root-2017-q2-0.xml"]
	c := *d
	resp := *d.Response
	b := resp.Bundles[0]
	b.Keys = slices.Clone(b.Keys)
	for i := range b.Keys {
		if b.Keys[i].IsKSK() {
			b.Keys[i].Flags |= ksr.FlagRevoke
		}
	}
	resp.Bundles = []ksr.Bundle{b}
	c.Response = &resp
	if out := export(t, &c, []int{0}); !strings.Contains(out, "RSASHA256 KSK revoked") || !strings.Contains(out, "\t385 3 8 ") {
		t.Errorf("revoked export:\n%s", out)
	}
}
