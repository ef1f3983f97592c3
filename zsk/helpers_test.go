package zsk_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/zsk"
	"github.com/miekg/dns"
)

var (
	keysOnce sync.Once
	rsaKeys  []crypto.Signer
	keysErr  error
)

// testRSAKeys returns four RSA-2048 keys: the two fixed public test keys
// of softhsm-testdata and two generated once per test binary.
func testRSAKeys(t testing.TB) []crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		for _, name := range []string{"rsa-2048-1", "rsa-2048-2"} {
			k, err := softhsmtest.LoadPKCS8File(filepath.Join("..", "softhsm-testdata", name+".pkcs8"))
			if err != nil {
				keysErr = err
				return
			}
			rsaKeys = append(rsaKeys, k)
		}
		for range 2 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				keysErr = err
				return
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return rsaKeys
}

// rsaZSKs returns Keys for the RSA test keys at the given indexes, named
// zsk-a, zsk-b, ... after them.
func rsaZSKs(t testing.TB, idx ...int) []zsk.Key {
	t.Helper()
	all := testRSAKeys(t)
	out := make([]zsk.Key, len(idx))
	for i, j := range idx {
		out[i] = zsk.Key{Signer: all[j], Identifier: "zsk-" + string(rune('a'+j))}
	}
	return out
}

func newECDSA(t testing.TB, c elliptic.Curve) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd25519(t testing.TB) crypto.Signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var testStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// dumpFindings logs a report's findings.
func dumpFindings(t testing.TB, r *check.Report) {
	t.Helper()
	for _, f := range r.Findings {
		t.Log(f.String())
	}
}

// keyTags returns the key tags of a bundle's keys in document order.
func keyTags(keys []dns.RR) []uint16 {
	out := make([]uint16, len(keys))
	for i, k := range keys {
		out[i] = k.(*dns.DNSKEY).KeyTag()
	}
	return out
}
