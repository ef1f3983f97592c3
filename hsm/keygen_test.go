package hsm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/miekg/pkcs11"
)

var keygenCases = []struct {
	alg  hsm.Algorithm
	bits int // asked for
	want int // reported
}{
	{hsm.RSASHA256, 0, 2048},
	{hsm.RSASHA256, 3072, 3072},
	{hsm.RSASHA512, 2048, 2048},
	{hsm.RSASHA512, 4096, 4096},
	{hsm.ECDSAP256SHA256, 0, 256},
	{hsm.ECDSAP384SHA384, 0, 384},
	{hsm.ED25519, 0, 256},
}

// TestGenerateListSign generates a key of each algorithm, checks the
// attributes the token reports, finds and lists it with the same key tag,
// and signs a DNSKEY RRset that miekg/dns verifies.
func TestGenerateListSign(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	tags := map[string]uint16{}
	for _, c := range keygenCases {
		label := fmt.Sprintf("ksk-%s-%d", c.alg, c.want)
		t.Run(label, func(t *testing.T) {
			k, err := tok.GenerateKey(hsm.GenerateOptions{Label: label, Algorithm: c.alg, Bits: c.bits})
			if err != nil {
				t.Fatal(err)
			}
			if k.Label() != label || k.Algorithm() != c.alg || k.Bits() != c.want {
				t.Fatalf("got %q %s %d bits, want %q %s %d", k.Label(), k.Algorithm(), k.Bits(), label, c.alg, c.want)
			}
			if len(k.ID()) != hsm.IDLength {
				t.Errorf("CKA_ID is %d bytes, want %d", len(k.ID()), hsm.IDLength)
			}
			want := hsm.KeyAttributes{Local: true, AlwaysSensitive: true, NeverExtractable: true,
				Sensitive: true, Sign: true, Private: true}
			if got := k.Attributes(); got != want {
				t.Errorf("attributes %+v, want %+v", got, want)
			}
			if k.Created().IsZero() {
				t.Error("no creation time recorded")
			}
			dk := mustDNSKEY(t, k)
			if dk.Flags != 257 || dk.Protocol != 3 || dk.Algorithm != uint8(c.alg) || dk.Hdr.Name != "." {
				t.Errorf("DNSKEY %v", dk)
			}
			tags[label] = dk.KeyTag()
			signDNSKEYSet(t, k, dk)

			found, err := tok.FindKey(label)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustDNSKEY(t, found).KeyTag(); got != dk.KeyTag() {
				t.Errorf("FindKey: key tag %d, generated %d", got, dk.KeyTag())
			}
			signDNSKEYSet(t, found, dk)
		})
	}

	keys, err := tok.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(keygenCases) {
		t.Fatalf("Keys: %d keys, want %d", len(keys), len(keygenCases))
	}
	for _, k := range keys {
		if k.Err() != nil {
			t.Errorf("%s: %v", k.Label(), k.Err())
			continue
		}
		if got := mustDNSKEY(t, k).KeyTag(); got != tags[k.Label()] {
			t.Errorf("Keys: %s key tag %d, generated %d", k.Label(), got, tags[k.Label()])
		}
	}
}

func TestGenerateBackupable(t *testing.T) {
	tok := softhsmtest.NewToken(t).Open(t)
	k, err := tok.GenerateKey(hsm.GenerateOptions{Label: "backup", Algorithm: hsm.ECDSAP256SHA256, Backupable: true})
	if err != nil {
		t.Fatal(err)
	}
	a := k.Attributes()
	if !a.Extractable || !a.WrapWithTrusted || a.NeverExtractable || !a.Sensitive || !a.AlwaysSensitive || !a.Local {
		t.Errorf("backupable key attributes %+v", a)
	}
	signDNSKEYSet(t, k, mustDNSKEY(t, k))
}

func TestGenerateRefused(t *testing.T) {
	tok := softhsmtest.NewToken(t).Open(t)
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "dup", Algorithm: hsm.ED25519}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts hsm.GenerateOptions
		want error
	}{
		{"existing label", hsm.GenerateOptions{Label: "dup", Algorithm: hsm.ECDSAP256SHA256}, hsm.ErrLabelExists},
		{"empty label", hsm.GenerateOptions{Algorithm: hsm.ED25519}, hsm.ErrInvalidArgument},
		{"RSA 1024", hsm.GenerateOptions{Label: "x", Algorithm: hsm.RSASHA256, Bits: 1024}, hsm.ErrInvalidArgument},
		{"EC with bits", hsm.GenerateOptions{Label: "x", Algorithm: hsm.ECDSAP256SHA256, Bits: 384}, hsm.ErrInvalidArgument},
		{"RSASHA1", hsm.GenerateOptions{Label: "x", Algorithm: 5}, hsm.ErrInvalidArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tok.GenerateKey(c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// The refused generation left nothing behind.
	keys, err := tok.Keys()
	if err != nil || len(keys) != 1 {
		t.Fatalf("Keys: %d keys, %v", len(keys), err)
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]hsm.Algorithm{
		"RSASHA256": hsm.RSASHA256, "rsasha512": hsm.RSASHA512, "13": hsm.ECDSAP256SHA256,
		"EcdsaP384Sha384": hsm.ECDSAP384SHA384, "ED25519": hsm.ED25519, " 15 ": hsm.ED25519,
	} {
		if got, err := hsm.ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "RSASHA1", "5", "ED448", "256"} {
		if _, err := hsm.ParseAlgorithm(in); !errors.Is(err, hsm.ErrInvalidArgument) {
			t.Errorf("ParseAlgorithm(%q): %v, want ErrInvalidArgument", in, err)
		}
	}
}

// TestKeyAttributesTampered shows both halves of the sign-only rule: a
// key ksk generates refuses C_SetAttributeValue (CKA_MODIFIABLE false),
// and a key that could still be changed (made before issue 17, here
// imported modifiable) is refused by ksk, naming the attribute, once a
// raw PKCS#11 tool turned CKA_DECRYPT or CKA_SIGN_RECOVER on.
func TestKeyAttributesTampered(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "new", Algorithm: hsm.ECDSAP256SHA256}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		attr uint
		name string
	}{{pkcs11.CKA_DECRYPT, "CKA_DECRYPT"}, {pkcs11.CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER"}, {pkcs11.CKA_EXTRACTABLE, "CKA_EXTRACTABLE"}} {
		// SoftHSM answers CKR_ACTION_PROHIBITED; the standard allows
		// CKR_ATTRIBUTE_READ_ONLY too.
		err := tk.SetPrivateKeyAttribute("new", c.attr, true)
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_ACTION_PROHIBITED)) && !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_READ_ONLY)) {
			t.Errorf("generated key: C_SetAttributeValue(%s) = %v, want CKR_ACTION_PROHIBITED or CKR_ATTRIBUTE_READ_ONLY", c.name, err)
		}
	}
	if k, err := tok.FindKey("new"); err != nil || k.Attributes().Modifiable || k.Attributes().Copyable {
		t.Fatalf("generated key after refused changes: %v, %+v", err, k)
	}

	for _, c := range []struct {
		attr uint
		name string
	}{{pkcs11.CKA_DECRYPT, "CKA_DECRYPT"}, {pkcs11.CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER"}} {
		t.Run(c.name, func(t *testing.T) {
			label := "old-" + c.name
			tk.ImportTestKey(t, "ec-prime256v1-1", label)
			if k, err := tok.FindKey(label); err != nil || !k.Attributes().Modifiable {
				t.Fatalf("imported key before the change: %v", err)
			}
			if err := tk.SetPrivateKeyAttribute(label, c.attr, true); err != nil {
				t.Fatalf("C_SetAttributeValue on a modifiable key: %v", err)
			}
			_, err := tok.FindKey(label)
			if !errors.Is(err, hsm.ErrKeyAttributes) || !strings.Contains(err.Error(), c.name) {
				t.Fatalf("FindKey after %s turned on: %v, want ErrKeyAttributes naming it", c.name, err)
			}
		})
	}
}
