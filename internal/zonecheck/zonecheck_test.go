package zonecheck_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/internal/zonecheck"
	"github.com/miekg/dns"
)

func TestZone(t *testing.T) {
	tests := []struct {
		origin string
		want   []string
	}{
		{".", []string{
			".\t86400\tIN\tSOA\ta.root-servers.net. ",
			".\t518400\tIN\tNS\ta.root-servers.net.\n",
			"net.\t172800\tIN\tNS\ta.gtld-servers.net.\n",
			"a.root-servers.net.\t518400\tIN\tA\t198.41.0.4\n",
			"a.gtld-servers.net.\t172800\tIN\tAAAA\t2001:503:a83e::2:30\n",
		}},
		{"Example.", []string{
			"example.\t86400\tIN\tSOA\ta.root-servers.net.example. ",
			"net.example.\t172800\tIN\tNS\ta.gtld-servers.net.example.\n",
		}},
	}
	for _, tt := range tests {
		z := zonecheck.Zone(tt.origin, nil)
		for _, w := range tt.want {
			if !strings.Contains(z, w) {
				t.Errorf("Zone(%q) lacks %q:\n%s", tt.origin, w, z)
			}
		}
		// It parses as a zone file.
		zp := dns.NewZoneParser(strings.NewReader(z), tt.origin, "")
		n := 0
		for _, ok := zp.Next(); ok; _, ok = zp.Next() {
			n++
		}
		if zp.Err() != nil || n != 7 {
			t.Errorf("Zone(%q): %d records, %v", tt.origin, n, zp.Err())
		}
	}
}

// TestWriteBINDKey: BIND reads the key files that WriteBINDKey writes, and
// names them as dnssec-keygen does.
func TestWriteBINDKey(t *testing.T) {
	tool := zonecheck.Require(t, "dnssec-dsfromkey")
	for _, alg := range []uint8{dns.RSASHA256, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			k := zonecheck.NewZSK(t, alg)
			dir := t.TempDir()
			base, err := zonecheck.WriteBINDKey(dir, k.DNSKEY, k.Signer)
			if err != nil {
				t.Fatal(err)
			}
			if base != zonecheck.KeyFileBase(k.DNSKEY) || !strings.HasPrefix(base, "K.+0") {
				t.Errorf("base name %q", base)
			}
			if fi, err := os.Stat(filepath.Join(dir, base+".private")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("private file: %v %v", fi, err)
			}
			out, err := zonecheck.RunTool(dir, tool, "-2", "-K", dir, base)
			if err != nil {
				t.Fatal(err)
			}
			want := k.DNSKEY.ToDS(dns.SHA256)
			got, err := dns.NewRR(strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("%q: %v", out, err)
			}
			if ds, ok := got.(*dns.DS); !ok || ds.KeyTag != want.KeyTag || !strings.EqualFold(ds.Digest, want.Digest) {
				t.Errorf("dnssec-dsfromkey gives %v, want %v", got, want)
			}
		})
	}
}

func TestFlipSignature(t *testing.T) {
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET}, KeyTag: 7, Signature: "AAAAAA=="}
	other := &dns.RRSIG{Hdr: sig.Hdr, KeyTag: 8, Signature: "AAAAAA=="}
	out := zonecheck.FlipSignature([]dns.RR{sig, other}, 7)
	if got := out[0].(*dns.RRSIG).Signature; got != "AAABAA==" {
		t.Errorf("flipped signature %q", got)
	}
	if out[1].(*dns.RRSIG).Signature != other.Signature || sig.Signature != "AAAAAA==" {
		t.Error("FlipSignature changed what it should not")
	}
}
