package hsm_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

func TestSignerContract(t *testing.T) {
	tok := softhsmtest.NewToken(t).Open(t)
	gen := func(alg hsm.Algorithm) *hsm.Key {
		k, err := tok.GenerateKey(hsm.GenerateOptions{Label: alg.String(), Algorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rsaKey, ecKey, edKey := gen(hsm.RSASHA256), gen(hsm.ECDSAP384SHA384), gen(hsm.ED25519)
	msg := []byte("example DNSKEY RRset")
	d256, d384, d512 := sha256.Sum256(msg), sha512.Sum384(msg), sha512.Sum512(msg)

	// RSA PKCS#1 v1.5 with each hash verifies with the standard library.
	for h, d := range map[crypto.Hash][]byte{crypto.SHA256: d256[:], crypto.SHA384: d384[:], crypto.SHA512: d512[:]} {
		sig, err := rsaKey.Sign(rand.Reader, d, h)
		if err != nil {
			t.Fatalf("RSA %v: %v", h, err)
		}
		if err := rsa.VerifyPKCS1v15(rsaKey.Public().(*rsa.PublicKey), h, d, sig); err != nil {
			t.Errorf("RSA %v: %v", h, err)
		}
	}
	// ECDSA returns ASN.1 DER.
	sig, err := ecKey.Sign(rand.Reader, d384[:], crypto.SHA384)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(ecKey.Public().(*ecdsa.PublicKey), d384[:], sig) {
		t.Error("ECDSA signature is not valid ASN.1 DER")
	}
	// Ed25519 signs the message itself.
	sig, err = edKey.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(edKey.Public().(ed25519.PublicKey), msg, sig) {
		t.Error("Ed25519 signature does not verify")
	}

	refused := []struct {
		name string
		key  *hsm.Key
		d    []byte
		opts crypto.SignerOpts
	}{
		{"RSA SHA-1", rsaKey, make([]byte, 20), crypto.SHA1},
		{"RSA short digest", rsaKey, d256[:16], crypto.SHA256},
		{"RSA PSS", rsaKey, d256[:], &rsa.PSSOptions{Hash: crypto.SHA256}},
		{"RSA no hash", rsaKey, msg, crypto.Hash(0)},
		{"ECDSA wrong size", ecKey, d256[:], crypto.SHA384},
		{"Ed25519 prehashed", edKey, d512[:], crypto.SHA512},
		{"Ed25519ctx", edKey, msg, &ed25519.Options{Context: "x"}},
	}
	for _, c := range refused {
		if _, err := c.key.Sign(rand.Reader, c.d, c.opts); !errors.Is(err, hsm.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", c.name, err)
		}
	}
}

// TestConcurrentSign signs from many goroutines at once on one Token; run
// with -race. SoftHSM crashes if two threads share a session, so this also
// proves the session pool hands each session to one goroutine at a time.
func TestConcurrentSign(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	var keys []*hsm.Key
	for _, alg := range hsm.Algorithms() {
		k, err := tok.GenerateKey(hsm.GenerateOptions{Label: "c-" + alg.String(), Algorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	const goroutines, rounds = 16, 6
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds)
	for g := range goroutines {
		wg.Go(func() {
			for r := range rounds {
				k := keys[(g+r)%len(keys)]
				if r == rounds-1 && g%4 == 0 {
					// Interleave other operations on the same token.
					if _, err := tok.Keys(); err != nil {
						errs <- err
					}
					continue
				}
				dk, err := k.DNSKEY(hsm.DNSKEYOptions{})
				if err != nil {
					errs <- err
					continue
				}
				func() {
					defer func() {
						if p := recover(); p != nil {
							errs <- fmt.Errorf("%v", p)
						}
					}()
					signDNSKEYSet(&fatalCollector{errs: errs}, k, dk)
				}()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// fatalCollector lets signDNSKEYSet run in goroutines other than the
// test's: it turns Fatalf into a panic caught by the goroutine.
type fatalCollector struct {
	testing.TB
	errs chan<- error
}

func (f *fatalCollector) Helper() {}
func (f *fatalCollector) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
