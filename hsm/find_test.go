package hsm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/miekg/dns"
)

func TestFindKeyExactlyOne(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	tk.ImportTestKey(t, "rsa-2048-1", "one")
	tk.ImportTestKey(t, "rsa-2048-1", "twice")
	tk.ImportTestKey(t, "rsa-2048-2", "twice")

	if _, err := tok.FindKey("one"); err != nil {
		t.Fatal(err)
	}
	_, err := tok.FindKey("missing")
	if !errors.Is(err, hsm.ErrKeyNotFound) || errors.Is(err, hsm.ErrKeyAmbiguous) {
		t.Fatalf("missing label: %v", err)
	}
	if !strings.Contains(err.Error(), `"missing"`) || !strings.Contains(err.Error(), tk.Label) {
		t.Errorf("error does not name the label and token: %v", err)
	}
	_, err = tok.FindKey("twice")
	if !errors.Is(err, hsm.ErrKeyAmbiguous) || errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("duplicate label: %v", err)
	}
	if !strings.Contains(err.Error(), `"twice"`) {
		t.Errorf("error does not name the label: %v", err)
	}
	// Deleting refuses an ambiguous label too.
	if err := tok.DeleteKey("twice"); !errors.Is(err, hsm.ErrKeyAmbiguous) {
		t.Fatalf("DeleteKey(ambiguous): %v", err)
	}
}

func TestDeleteKey(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "gone", Algorithm: hsm.ECDSAP384SHA384}); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "kept", Algorithm: hsm.ED25519}); err != nil {
		t.Fatal(err)
	}
	if err := tok.DeleteKey("gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.FindKey("gone"); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := tok.DeleteKey("gone"); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	keys, err := tok.Keys()
	if err != nil || len(keys) != 1 || keys[0].Label() != "kept" {
		t.Fatalf("Keys after delete: %v %v", keys, err)
	}
	// The public key and metadata went too: the label is free again.
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "gone", Algorithm: hsm.ED25519}); err != nil {
		t.Fatalf("label not reusable after delete: %v", err)
	}
}

func TestNotLoggedIn(t *testing.T) {
	tok := softhsmtest.NewToken(t).OpenNoLogin(t)
	if _, err := tok.Keys(); !errors.Is(err, hsm.ErrNotLoggedIn) {
		t.Fatalf("Keys: %v", err)
	}
	if _, err := tok.FindKey("x"); !errors.Is(err, hsm.ErrNotLoggedIn) {
		t.Fatalf("FindKey: %v", err)
	}
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "x", Algorithm: hsm.ED25519}); !errors.Is(err, hsm.ErrNotLoggedIn) {
		t.Fatalf("GenerateKey: %v", err)
	}
}

// TestFixedTestKeys imports the public test keys and checks their key tags
// and, for RSA, that the HSM's PKCS#1 v1.5 signatures equal Go's
// byte for byte.
func TestFixedTestKeys(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	for _, tkey := range softhsmtest.TestKeys {
		t.Run(tkey.Name, func(t *testing.T) {
			tk.ImportTestKey(t, tkey.Name, tkey.Name)
			k, err := tok.FindKey(tkey.Name)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm() != tkey.Algorithm {
				t.Errorf("algorithm %s, want %s", k.Algorithm(), tkey.Algorithm)
			}
			if a := k.Attributes(); a.Local {
				t.Errorf("imported key claims CKA_LOCAL")
			}
			dk := mustDNSKEY(t, k)
			if dk.KeyTag() != tkey.KeyTag {
				t.Errorf("key tag %d, want %d", dk.KeyTag(), tkey.KeyTag)
			}
			soft := softhsmtest.LoadTestKey(t, tkey.Name)
			sdk, err := hsm.NewDNSKEY(soft.Public(), tkey.Algorithm, hsm.DNSKEYOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sdk.PublicKey != dk.PublicKey {
				t.Errorf("HSM public key differs from the PKCS#8 file's")
			}
			hsig := signDNSKEYSet(t, k, dk)
			if tkey.Algorithm.IsRSA() || tkey.Algorithm == hsm.ED25519 {
				// Deterministic algorithms: same input, same signature.
				ssig := *hsig
				ssig.Signature = ""
				if err := ssig.Sign(soft, []dns.RR{dk}); err != nil {
					t.Fatal(err)
				}
				if ssig.Signature != hsig.Signature {
					t.Errorf("HSM signature differs from software signature")
				}
			}
		})
	}
}
