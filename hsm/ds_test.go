package hsm_test

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/testenv"
	"github.com/miekg/dns"
)

// TestDSAgreesWithIndependentTools computes the DS records of a key of
// each algorithm with ldns-key2ds (ldnsutils) and dnssec-dsfromkey
// (bind9-utils) from the DNSKEY ksk prints, and compares.
func TestDSAgreesWithIndependentTools(t *testing.T) {
	ldns := testenv.RequireTool(t, "ldns-key2ds", "ldnsutils")
	bind := testenv.RequireTool(t, "dnssec-dsfromkey", "bind9-utils")
	tok := softhsmtest.NewToken(t).Open(t)
	for _, c := range keygenCases {
		if c.want > 2048 {
			continue // larger RSA keys add generation time, not coverage
		}
		label := fmt.Sprintf("%s-%d", c.alg, c.want)
		t.Run(label, func(t *testing.T) {
			k, err := tok.GenerateKey(hsm.GenerateOptions{Label: label, Algorithm: c.alg, Bits: c.bits})
			if err != nil {
				t.Fatal(err)
			}
			for _, zone := range []string{".", "example."} {
				dk, err := k.DNSKEY(hsm.DNSKEYOptions{Owner: zone})
				if err != nil {
					t.Fatal(err)
				}
				ours, err := hsm.DSSet(dk)
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(t.TempDir(), "dnskey")
				if err := os.WriteFile(file, []byte(dk.String()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				for i, flag := range []string{"-2", "-4"} {
					checkDS(t, ours[i], run(t, ldns, "-n", flag, file))
				}
				for i, a := range []string{"SHA-256", "SHA-384"} {
					checkDS(t, ours[i], run(t, bind, "-a", a, "-f", file, zone))
				}
			}
		})
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// checkDS parses the tool's DS line and compares it with ours.
func checkDS(t *testing.T, ours *dns.DS, out string) {
	t.Helper()
	rr, err := dns.NewRR(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("tool output %q: %v", out, err)
	}
	theirs, ok := rr.(*dns.DS)
	if !ok {
		t.Fatalf("tool output %q is not a DS", out)
	}
	if theirs.KeyTag != ours.KeyTag || theirs.Algorithm != ours.Algorithm ||
		theirs.DigestType != ours.DigestType || !strings.EqualFold(theirs.Digest, ours.Digest) ||
		theirs.Hdr.Name != ours.Hdr.Name {
		t.Errorf("DS differs:\n ksk:  %v\n tool: %v", ours, theirs)
	}
}

func TestNewDNSKEYRefusesMismatch(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	for _, alg := range []hsm.Algorithm{hsm.RSASHA256, hsm.ECDSAP256SHA256} {
		if _, err := hsm.NewDNSKEY(pub, alg, hsm.DNSKEYOptions{}); err == nil {
			t.Errorf("Ed25519 key accepted as %s", alg)
		}
	}
	if _, err := hsm.NewDNSKEY(pub, hsm.ED25519, hsm.DNSKEYOptions{Owner: "bad..name"}); err == nil {
		t.Error("bad owner accepted")
	}
	dk, err := hsm.NewDNSKEY(pub, hsm.ED25519, hsm.DNSKEYOptions{Owner: "Example.COM", Flags: 256, TTL: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if dk.Hdr.Name != "example.com." || dk.Flags != 256 || dk.Hdr.Ttl != 3600 {
		t.Errorf("options not applied: %v", dk)
	}
	if _, err := hsm.DS(dk, dns.SHA1); err == nil {
		t.Error("SHA-1 DS accepted")
	}
}
