package hsm_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

// backupableKey generates a backup-able key on a fresh token and returns
// the token, logged out, ready for the security officer.
func backupableKey(t *testing.T, alg hsm.Algorithm, label string) (*softhsmtest.Token, *hsm.Token) {
	t.Helper()
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: label, Algorithm: alg, Backupable: true}); err != nil {
		t.Fatal(err)
	}
	if err := tok.Logout(); err != nil {
		t.Fatal(err)
	}
	return tk, tok
}

func soLogin(tk *softhsmtest.Token) hsm.LoginOptions {
	return hsm.LoginOptions{PIN: tk.SOPINSource(), Counter: tk.Counter()}
}

func randomKEK(t *testing.T) []byte {
	t.Helper()
	kek := make([]byte, hsm.KEKSize)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	return kek
}

// wrapOut wraps the key labelled label under a trusted KEK and returns the
// source key (user logged in) and the wrapped blob.
func wrapOut(t *testing.T, tk *softhsmtest.Token, tok *hsm.Token, label string, kek []byte) (*hsm.Key, []byte, error) {
	t.Helper()
	w, err := tok.ImportTrustedWrappingKey(kek, soLogin(tk))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.Destroy(); err != nil {
			t.Error(err)
		}
	}()
	if err := tok.Login(tk.LoginOptions()); err != nil {
		t.Fatal(err)
	}
	k, err := tok.FindKey(label)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := w.Wrap(k)
	return k, blob, err
}

func countObjects(t *testing.T, tok *hsm.Token) int {
	t.Helper()
	n, err := tok.CountObjects()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func specOf(k *hsm.Key) hsm.UnwrapSpec {
	return hsm.UnwrapSpec{Label: k.Label(), ID: k.ID(), Algorithm: k.Algorithm(), Public: k.Public(), Created: k.Created()}
}

// TestWrapUnwrap backs a key of each algorithm up under a trusted KEK and
// restores it into another token: same DNSKEY, identical RSA and Ed25519
// signatures, sensitive and non-extractable. SoftHSM 2.6 cannot wrap
// Ed25519 keys; the test accepts ErrMechanism for them only.
func TestWrapUnwrap(t *testing.T) {
	for _, alg := range []hsm.Algorithm{hsm.RSASHA256, hsm.RSASHA512, hsm.ECDSAP256SHA256, hsm.ECDSAP384SHA384, hsm.ED25519} {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			tk, tok := backupableKey(t, alg, "ksk")
			kek := randomKEK(t)
			src, blob, err := wrapOut(t, tk, tok, "ksk", kek)
			if alg == hsm.ED25519 && errors.Is(err, hsm.ErrMechanism) {
				t.Skipf("the token cannot wrap Ed25519 keys: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(blob, kek) {
				t.Fatal("the wrapped key contains the KEK")
			}

			dst := softhsmtest.NewToken(t).Open(t)
			before := countObjects(t, dst)
			w, err := dst.ImportUnwrappingKey(kek)
			if err != nil {
				t.Fatal(err)
			}
			if n := countObjects(t, dst); n != before+1 {
				t.Errorf("with the session KEK: %d objects, want %d", n, before+1)
			}
			rk, err := w.Unwrap(blob, specOf(src))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Destroy(); err != nil {
				t.Fatal(err)
			}
			if n := countObjects(t, dst); n != before+3 {
				t.Errorf("after restore: %d objects, want %d (private, public, metadata)", n, before+3)
			}

			// Read back through a fresh lookup.
			got, err := dst.FindKey("ksk")
			if err != nil {
				t.Fatal(err)
			}
			at := got.Attributes()
			if !at.Sensitive || at.Extractable || !at.Sign || at.Decrypt || at.Unwrap || at.Derive || !at.Private {
				t.Errorf("restored key attributes %+v", at)
			}
			if got.Algorithm() != alg || !bytes.Equal(got.ID(), src.ID()) || !got.Created().Equal(src.Created()) {
				t.Errorf("restored %s id %x created %v, want %s %x %v", got.Algorithm(), got.ID(), got.Created(), alg, src.ID(), src.Created())
			}
			if a, b := mustDNSKEY(t, got), mustDNSKEY(t, src); a.String() != b.String() {
				t.Errorf("DNSKEY differs:\n%s\n%s", a, b)
			}
			msg := []byte("ksk wrap test")
			digest, opts := msg, crypto.SignerOpts(crypto.Hash(0))
			if h := alg.Hash(); h != 0 {
				hh := h.New()
				hh.Write(msg)
				digest, opts = hh.Sum(nil), h
			}
			s1, err := src.Sign(nil, digest, opts)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := rk.Sign(nil, digest, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, isEC := src.Public().(*ecdsa.PublicKey); isEC {
				if !ecdsa.VerifyASN1(src.Public().(*ecdsa.PublicKey), digest, s2) {
					t.Error("restored ECDSA signature does not verify with the original public key")
				}
			} else if !bytes.Equal(s1, s2) {
				t.Error("restored key's signature differs from the original's")
			}
			signDNSKEYSet(t, got, mustDNSKEY(t, got))

			if err := rk.Destroy(); err != nil {
				t.Fatal(err)
			}
			if n := countObjects(t, dst); n != before {
				t.Errorf("after Destroy: %d objects, want %d", n, before)
			}
		})
	}
}

func TestWrapRefusals(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "plain", Algorithm: hsm.RSASHA256}); err != nil {
		t.Fatal(err)
	}
	kek := randomKEK(t)
	if _, err := tok.ImportTrustedWrappingKey(kek, soLogin(tk)); !errors.Is(err, hsm.ErrInvalidArgument) {
		t.Errorf("trusted KEK with the user logged in: %v", err)
	}
	if _, err := tok.ImportUnwrappingKey(kek[:16]); !errors.Is(err, hsm.ErrInvalidArgument) {
		t.Errorf("short KEK: %v", err)
	}
	if err := tok.Logout(); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.ImportTrustedWrappingKey(kek, hsm.LoginOptions{PIN: tk.PINSource(), Counter: tk.Counter()}); !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Errorf("trusted KEK with the user PIN as SO PIN: %v", err)
	}
	if _, err := tok.ImportUnwrappingKey(kek); !errors.Is(err, hsm.ErrNotLoggedIn) {
		t.Errorf("unwrapping key without login: %v", err)
	}
	_, _, err := wrapOut(t, tk, tok, "plain", kek)
	if !errors.Is(err, hsm.ErrNotExtractable) {
		t.Errorf("wrap of a non-backupable key: %v, want ErrNotExtractable", err)
	}
	assertNoSecret(t, err.Error(), tk.UserPIN, tk.SOPIN)
}

// TestUnwrapLeavesNothing checks that every refused unwrap leaves the
// target token exactly as it was.
func TestUnwrapLeavesNothing(t *testing.T) {
	tk, tok := backupableKey(t, hsm.RSASHA256, "ksk")
	kek := randomKEK(t)
	src, blob, err := wrapOut(t, tk, tok, "ksk", kek)
	if err != nil {
		t.Fatal(err)
	}
	other := softhsmtest.LoadTestKey(t, "rsa-2048-1")
	p256 := softhsmtest.LoadTestKey(t, "ec-prime256v1-1")

	dtk := softhsmtest.NewToken(t)
	dtk.ImportTestKey(t, "rsa-2048-2", "taken")
	dst := dtk.Open(t)
	taken, err := dst.FindKey("taken")
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(blob)
	corrupt[len(corrupt)/2] ^= 1
	with := func(f func(*hsm.UnwrapSpec)) hsm.UnwrapSpec {
		s := specOf(src)
		f(&s)
		return s
	}
	tests := []struct {
		name string
		kek  []byte
		blob []byte
		spec hsm.UnwrapSpec
		want error
	}{
		{"label exists", kek, blob, with(func(s *hsm.UnwrapSpec) { s.Label = "taken" }), hsm.ErrLabelExists},
		{"CKA_ID exists", kek, blob, with(func(s *hsm.UnwrapSpec) { s.ID = taken.ID() }), hsm.ErrLabelExists},
		{"other RSA public key", kek, blob, with(func(s *hsm.UnwrapSpec) { s.Public = other.Public() }), hsm.ErrPublicKeyMismatch},
		{"EC public key for an RSA key", kek, blob, with(func(s *hsm.UnwrapSpec) {
			s.Public, s.Algorithm = p256.Public(), hsm.ECDSAP256SHA256
		}), nil}, // SoftHSM: CKR_FUNCTION_FAILED, the PKCS#8 is not an EC key
		{"algorithm of another key type", kek, blob, with(func(s *hsm.UnwrapSpec) { s.Algorithm = hsm.ED25519 }), hsm.ErrInvalidArgument},
		{"corrupted blob", kek, corrupt, specOf(src), nil},
		{"wrong KEK", randomKEK(t), blob, specOf(src), nil},
		{"empty label", kek, blob, with(func(s *hsm.UnwrapSpec) { s.Label = "" }), hsm.ErrInvalidArgument},
		{"empty id", kek, blob, with(func(s *hsm.UnwrapSpec) { s.ID = nil }), hsm.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countObjects(t, dst)
			w, err := dst.ImportUnwrappingKey(tt.kek)
			if err != nil {
				t.Fatal(err)
			}
			rk, err := w.Unwrap(tt.blob, tt.spec)
			if derr := w.Destroy(); derr != nil {
				t.Fatal(derr)
			}
			if err == nil {
				rk.Destroy()
				t.Fatal("unwrap succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if n := countObjects(t, dst); n != before {
				t.Errorf("%d objects after a refused unwrap, want %d", n, before)
			}
			sum := sha256.Sum256(tt.kek)
			if bytes.Contains([]byte(err.Error()), tt.kek) || bytes.Contains([]byte(err.Error()), sum[:]) {
				t.Error("KEK in the error")
			}
		})
	}
	// A destroyed KEK is refused.
	w, err := dst.ImportUnwrappingKey(kek)
	if err != nil {
		t.Fatal(err)
	}
	w.Destroy()
	if err := w.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	if _, err := w.Unwrap(blob, specOf(src)); !errors.Is(err, hsm.ErrInvalidArgument) {
		t.Errorf("unwrap with a destroyed KEK: %v", err)
	}
}
