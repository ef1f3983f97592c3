package zonecheck

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/miekg/dns"
)

// ZSK is the test key that signs the zone around a bundle. Its DNSKEY must
// be one of the bundle's, and its private key a software key that BIND's
// key files can hold (*rsa.PrivateKey, *ecdsa.PrivateKey or
// ed25519.PrivateKey): pass the same Signer to zsk.CreateKSR.
type ZSK struct {
	Signer crypto.Signer
	DNSKEY *dns.DNSKEY
}

// NewZSK generates a software ZSK for the root zone (flags 256, TTL
// 172800): RSA-2048 for RSASHA256 and RSASHA512, P-256, P-384 or Ed25519.
func NewZSK(t testing.TB, alg uint8) *ZSK {
	t.Helper()
	var (
		s   crypto.Signer
		err error
	)
	switch alg {
	case dns.RSASHA256, dns.RSASHA512:
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case dns.ECDSAP256SHA256:
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case dns.ECDSAP384SHA384:
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case dns.ED25519:
		_, s, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("zonecheck: no ZSK for algorithm %d", alg)
	}
	if err != nil {
		t.Fatalf("zonecheck: generate ZSK: %v", err)
	}
	rr, err := hsm.NewDNSKEY(s.Public(), hsm.Algorithm(alg), hsm.DNSKEYOptions{Owner: ".", Flags: 256, TTL: 172800})
	if err != nil {
		t.Fatalf("zonecheck: %v", err)
	}
	return &ZSK{Signer: s, DNSKEY: rr}
}

// KeyFileBase returns the base name of BIND's key files for a DNSKEY,
// K<zone>+<algorithm>+<key tag>, as dnssec-keygen names them.
func KeyFileBase(k *dns.DNSKEY) string {
	return fmt.Sprintf("K%s+%03d+%05d", dns.CanonicalName(k.Hdr.Name), k.Algorithm, k.KeyTag())
}

// WriteBINDKey writes the .key and .private files of a key into dir, as
// dnssec-keygen would, and returns their base name (without extension).
// The private file is in the v1.3 format that miekg/dns writes and BIND
// reads; it has no timing metadata, so the key is published and active.
func WriteBINDKey(dir string, k *dns.DNSKEY, priv crypto.PrivateKey) (string, error) {
	base := KeyFileBase(k)
	privText := k.PrivateKeyString(priv)
	if privText == "" {
		return "", fmt.Errorf("zonecheck: cannot write a %T as a BIND private key", priv)
	}
	pub := fmt.Sprintf("; written by ksk's internal/zonecheck\n%s\n", k.String())
	if err := os.WriteFile(filepath.Join(dir, base+".key"), []byte(pub), 0o644); err != nil {
		return "", fmt.Errorf("zonecheck: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, base+".private"), []byte(privText), 0o600); err != nil {
		return "", fmt.Errorf("zonecheck: %w", err)
	}
	return base, nil
}
