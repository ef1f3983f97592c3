package softhsmtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/internal/meta"
	"github.com/ksk-dev/ksk/hsm/internal/p11"
	"github.com/miekg/pkcs11"
)

// TestKey is one of the fixed, public test keys in softhsm-testdata/.
type TestKey struct {
	// Name is the file name without ".pkcs8".
	Name string
	// Algorithm is the DNSSEC algorithm the key is imported as.
	Algorithm hsm.Algorithm
	// KeyTag is the key tag of its DNSKEY as a root KSK (flags 257).
	KeyTag uint16
}

// TestKeys lists the fixed test keys. The RSA and P-256 keys are those of
// shared/testdata/test-keys, converted to PKCS#8; the P-384 and Ed25519
// keys were generated for ksk. The key tags are those of RFC 6605 / RFC
// 8080 DNSKEYs (the public key without the 0x04 point marker), checked
// against ldns-key2ds and dnssec-dsfromkey; see softhsm-testdata/README.md
// for why the P-256 tags differ from those in shared/testdata.
var TestKeys = []TestKey{
	{"rsa-2048-1", hsm.RSASHA256, 25486},
	{"rsa-2048-2", hsm.RSASHA256, 33946},
	{"ec-prime256v1-1", hsm.ECDSAP256SHA256, 9144},
	{"ec-prime256v1-2", hsm.ECDSAP256SHA256, 15717},
	{"ec-secp384r1-1", hsm.ECDSAP384SHA384, 44078},
	{"ed25519-1", hsm.ED25519, 54100},
}

// LookupTestKey returns the test key of a name.
func LookupTestKey(name string) (TestKey, bool) {
	for _, k := range TestKeys {
		if k.Name == name {
			return k, true
		}
	}
	return TestKey{}, false
}

// TestdataDir returns the repository's softhsm-testdata directory, found
// by walking up from the working directory (a package directory under go
// test).
func TestdataDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		d := filepath.Join(dir, "softhsm-testdata")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("softhsm-testdata not found above the working directory")
		}
		dir = parent
	}
}

// LoadTestKey parses a fixed test key from softhsm-testdata.
func LoadTestKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	dir, err := TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	key, err := LoadPKCS8File(filepath.Join(dir, name+".pkcs8"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// LoadPKCS8File parses a PEM or DER PKCS#8 private key.
func LoadPKCS8File(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	k, err := x509.ParsePKCS8PrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not a signer", path, k)
	}
	return s, nil
}

// ImportTestKey imports a fixed test key under a label and returns the
// test key's description.
func (tk *Token) ImportTestKey(t testing.TB, name, label string) TestKey {
	t.Helper()
	tkey, ok := LookupTestKey(name)
	if !ok {
		t.Fatalf("softhsmtest: no test key %q", name)
	}
	tk.Import(t, label, tkey.Algorithm, LoadTestKey(t, name))
	return tkey
}

// Import creates a key pair on the token from a software private key
// (*rsa.PrivateKey, *ecdsa.PrivateKey on P-256 or P-384, or
// ed25519.PrivateKey) under label, with ksk's metadata recording alg. The
// private key is sensitive and non-extractable, but not CKA_LOCAL: it was
// made outside the token. Only tests import keys.
func (tk *Token) Import(t testing.TB, label string, alg hsm.Algorithm, key crypto.Signer) {
	t.Helper()
	if err := tk.importKey(label, alg, key); err != nil {
		t.Fatalf("softhsmtest: import %q into token %q: %v", label, tk.Label, err)
	}
}

func (tk *Token) importKey(label string, alg hsm.Algorithm, key crypto.Signer) error {
	id := make([]byte, hsm.IDLength)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	pubT, privT, err := objectTemplates(key)
	if err != nil {
		return err
	}
	common := func(class uint) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		}
	}
	pubT = append(append(common(pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true)), pubT...)
	privT = append(append(common(pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN_RECOVER, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false)), privT...)
	metaT, err := meta.Template(label, id, uint8(alg), time.Now())
	if err != nil {
		return err
	}

	return tk.withUserSession(func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		for _, tmpl := range [][]*pkcs11.Attribute{privT, pubT, metaT} {
			if _, err := ctx.CreateObject(sh, tmpl); err != nil {
				return fmt.Errorf("C_CreateObject: %w", err)
			}
		}
		return nil
	})
}

// withUserSession runs f in a read-write session of the token, logged in
// as its user, straight through PKCS#11 rather than through package hsm.
func (tk *Token) withUserSession(f func(*pkcs11.Ctx, pkcs11.SessionHandle) error) error {
	m, err := p11.Acquire(tk.Module)
	if err != nil {
		return err
	}
	defer m.Release()
	slot, err := tk.slot(m.Ctx)
	if err != nil {
		return err
	}
	sh, err := m.Ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return fmt.Errorf("C_OpenSession: %w", err)
	}
	// Closing the session, rather than C_Logout, leaves the login of any
	// hsm.Token open on this token alone.
	defer m.Ctx.CloseSession(sh)
	if err := m.Ctx.Login(sh, pkcs11.CKU_USER, tk.UserPIN); err != nil &&
		!errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		return fmt.Errorf("C_Login: %w", err)
	}
	return f(m.Ctx, sh)
}

func (tk *Token) slot(ctx *pkcs11.Ctx) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("C_GetSlotList: %w", err)
	}
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if trimmed(ti.SerialNumber) == tk.Serial {
			return s, nil
		}
	}
	return 0, fmt.Errorf("token %q (serial %s) not found", tk.Label, tk.Serial)
}

func trimmed(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == 0) {
		s = s[:len(s)-1]
	}
	return s
}

// DER CKA_EC_PARAMS of the curves.
var (
	oidP256    = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidP384    = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}
	oidEd25519 = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}
)

// objectTemplates returns the key-type specific attributes of the public
// and private objects.
func objectTemplates(key crypto.Signer) (pub, priv []*pkcs11.Attribute, err error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		k.Precompute()
		e := big.NewInt(int64(k.E)).Bytes()
		kt := pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA)
		pub = []*pkcs11.Attribute{kt,
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e)}
		if len(k.Primes) != 2 {
			return nil, nil, errors.New("multi-prime RSA keys are not supported")
		}
		priv = []*pkcs11.Attribute{kt,
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, k.Primes[0].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, k.Primes[1].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes())}
		return pub, priv, nil
	case *ecdsa.PrivateKey:
		var params []byte
		switch k.Curve {
		case elliptic.P256():
			params = oidP256
		case elliptic.P384():
			params = oidP384
		default:
			return nil, nil, fmt.Errorf("curve %s is not supported", k.Curve.Params().Name)
		}
		point, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, nil, err
		}
		wrapped, err := asn1.Marshal(point)
		if err != nil {
			return nil, nil, err
		}
		d, err := k.Bytes()
		if err != nil {
			return nil, nil, err
		}
		kt := pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC)
		pub = []*pkcs11.Attribute{kt,
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, wrapped)}
		priv = []*pkcs11.Attribute{kt,
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, d)}
		return pub, priv, nil
	case ed25519.PrivateKey:
		wrapped, err := asn1.Marshal([]byte(k.Public().(ed25519.PublicKey)))
		if err != nil {
			return nil, nil, err
		}
		kt := pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, hsm.CKK_EC_EDWARDS)
		pub = []*pkcs11.Attribute{kt,
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidEd25519),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, wrapped)}
		priv = []*pkcs11.Attribute{kt,
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidEd25519),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, k.Seed())}
		return pub, priv, nil
	}
	return nil, nil, fmt.Errorf("key type %T is not supported", key)
}

// SetPrivateKeyAttribute calls C_SetAttributeValue on the private key
// labelled label, as someone with the user PIN and a raw PKCS#11 tool
// could between two ceremonies, and returns what the token answered.
// Tests use it to show that ksk's keys refuse the change and that ksk
// refuses a key on which it succeeded.
func (tk *Token) SetPrivateKeyAttribute(label string, attr uint, value bool) error {
	return tk.withUserSession(func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		if err := ctx.FindObjectsInit(sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		}); err != nil {
			return fmt.Errorf("C_FindObjectsInit: %w", err)
		}
		objs, _, err := ctx.FindObjects(sh, 2)
		if ferr := ctx.FindObjectsFinal(sh); err == nil {
			err = ferr
		}
		if err != nil {
			return fmt.Errorf("C_FindObjects: %w", err)
		}
		if len(objs) != 1 {
			return fmt.Errorf("%d private keys labelled %q", len(objs), label)
		}
		return ctx.SetAttributeValue(sh, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(attr, value)})
	})
}
