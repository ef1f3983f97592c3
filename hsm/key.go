package hsm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ksk-dev/ksk/hsm/internal/meta"
	"github.com/miekg/pkcs11"
)

// DER encodings of the CKA_EC_PARAMS of the supported curves.
var (
	oidP256    = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidP384    = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}
	oidEd25519 = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}
	// PKCS#11 3.0 also allows the curve name as a PrintableString.
	nameEd25519 = append([]byte{0x13, 0x0c}, "edwards25519"...)
)

// KeyAttributes are the security-relevant attributes of a private key.
type KeyAttributes struct {
	// Local: the key was generated on the token (CKA_LOCAL).
	Local bool `json:"local"`
	// AlwaysSensitive: the key has always been sensitive.
	AlwaysSensitive bool `json:"always_sensitive"`
	// NeverExtractable: the key has never been extractable.
	NeverExtractable bool `json:"never_extractable"`
	// Sensitive: the key's secret parts cannot be read.
	Sensitive bool `json:"sensitive"`
	// Extractable: the key can be wrapped out of the token.
	Extractable bool `json:"extractable"`
	// WrapWithTrusted: the key can only be wrapped by a trusted key.
	WrapWithTrusted bool `json:"wrap_with_trusted"`
	// Sign, Decrypt, Unwrap, Derive: what the key may be used for.
	Sign    bool `json:"sign"`
	Decrypt bool `json:"decrypt"`
	Unwrap  bool `json:"unwrap"`
	Derive  bool `json:"derive"`
	// Private: the object is only visible after login.
	Private bool `json:"private"`
	// SignRecover: the key may sign with message recovery.
	SignRecover bool `json:"sign_recover"`
	// Modifiable: the key's attributes can be changed (CKA_MODIFIABLE);
	// ksk makes keys that are not, since issue 17.
	Modifiable bool `json:"modifiable"`
	// Copyable: C_CopyObject may copy the key (CKA_COPYABLE).
	Copyable bool `json:"copyable"`
}

// SignOnly reports why the attributes are not those of a sign-only key as
// ksk makes them, naming the first attribute that differs, or nil: it
// signs, and does not decrypt, unwrap, derive or sign with recovery; it is
// sensitive; and it is extractable only together with CKA_WRAP_WITH_TRUSTED
// (a backup-able KSK). CKA_MODIFIABLE and CKA_COPYABLE are reported but not
// refused: keys made before issue 17 have them, and what they could be
// changed to is what this check catches.
func (a KeyAttributes) SignOnly() error {
	for _, c := range []struct {
		name      string
		got, want bool
	}{
		{"CKA_SIGN", a.Sign, true},
		{"CKA_DECRYPT", a.Decrypt, false},
		{"CKA_UNWRAP", a.Unwrap, false},
		{"CKA_DERIVE", a.Derive, false},
		{"CKA_SIGN_RECOVER", a.SignRecover, false},
		{"CKA_SENSITIVE", a.Sensitive, true},
	} {
		if c.got != c.want {
			hint := ""
			if !c.want && c.name != "CKA_SIGN" {
				hint = " (ksk keys restrict turns the extra use off, when the key is modifiable)"
			}
			return fmt.Errorf("%s is %v, but ksk makes sign-only keys with %s %v: the key was changed since, or was not made by ksk%s", c.name, c.got, c.name, c.want, hint)
		}
	}
	if a.Extractable && !a.WrapWithTrusted {
		return errors.New("CKA_EXTRACTABLE is true without CKA_WRAP_WITH_TRUSTED: any wrapping key could take it out of the HSM; ksk makes keys non-extractable, or extractable only under a trusted wrapping key")
	}
	return nil
}

var privAttrTypes = []uint{
	pkcs11.CKA_LABEL, pkcs11.CKA_ID, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_EC_PARAMS,
	pkcs11.CKA_LOCAL, pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE,
	pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_WRAP_WITH_TRUSTED,
	pkcs11.CKA_SIGN, pkcs11.CKA_DECRYPT, pkcs11.CKA_UNWRAP, pkcs11.CKA_DERIVE,
	pkcs11.CKA_PRIVATE, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_MODIFIABLE, pkcs11.CKA_COPYABLE,
}

// Key is a private key on a token. It implements crypto.Signer and stays
// usable until its Token is closed.
type Key struct {
	tok     *Token
	label   string
	id      []byte
	priv    pkcs11.ObjectHandle
	pub     pkcs11.ObjectHandle // 0 when the token has no public key object
	meta    []pkcs11.ObjectHandle
	alg     Algorithm
	bits    int
	public  crypto.PublicKey
	attrs   KeyAttributes
	created time.Time
	err     error
}

// Label returns the key's CKA_LABEL.
func (k *Key) Label() string { return k.label }

// ID returns a copy of the key's CKA_ID.
func (k *Key) ID() []byte { return bytes.Clone(k.id) }

// Algorithm returns the key's DNSSEC algorithm: the one recorded at
// generation or import, else the one its key type implies (RSASHA256 for
// RSA). It is 0 for an unusable key.
func (k *Key) Algorithm() Algorithm { return k.alg }

// Bits returns the key size: the RSA modulus length, or the curve size.
func (k *Key) Bits() int { return k.bits }

// Attributes returns the private key's security attributes.
func (k *Key) Attributes() KeyAttributes { return k.attrs }

// Created returns when ksk generated the key, or the zero time when ksk
// did not record it.
func (k *Key) Created() time.Time { return k.created }

// Token returns the token holding the key.
func (k *Key) Token() *Token { return k.tok }

// Err returns why ksk cannot use the key (unsupported key type or curve,
// no public key object), or nil. Keys lists such keys; FindKey refuses them.
func (k *Key) Err() error { return k.err }

// Public returns the public key: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey. It is nil for an unusable key.
func (k *Key) Public() crypto.PublicKey { return k.public }

// String describes the key for messages, e.g. `key "ksk-2026" on token ...`.
func (k *Key) String() string {
	return fmt.Sprintf("key %q on %s", k.label, k.tok.info)
}

// loadKey reads a private key object, its public key object and its ksk
// metadata. Problems that make the key unusable go to Key.err; only a
// failing session is returned as an error.
func (t *Token) loadKey(sh pkcs11.SessionHandle, priv pkcs11.ObjectHandle) (*Key, error) {
	a, err := getAttrs(t.ctx, sh, priv, privAttrTypes...)
	if err != nil {
		return nil, p11Error("C_GetAttributeValue", err)
	}
	k := &Key{tok: t, priv: priv, label: string(a[pkcs11.CKA_LABEL]), id: a[pkcs11.CKA_ID]}
	b := func(t uint) bool { v, _ := attrBool(a, t); return v }
	k.attrs = KeyAttributes{
		Local: b(pkcs11.CKA_LOCAL), AlwaysSensitive: b(pkcs11.CKA_ALWAYS_SENSITIVE),
		NeverExtractable: b(pkcs11.CKA_NEVER_EXTRACTABLE), Sensitive: b(pkcs11.CKA_SENSITIVE),
		Extractable: b(pkcs11.CKA_EXTRACTABLE), WrapWithTrusted: b(pkcs11.CKA_WRAP_WITH_TRUSTED),
		Sign: b(pkcs11.CKA_SIGN), Decrypt: b(pkcs11.CKA_DECRYPT), Unwrap: b(pkcs11.CKA_UNWRAP),
		Derive: b(pkcs11.CKA_DERIVE), Private: b(pkcs11.CKA_PRIVATE),
		SignRecover: b(pkcs11.CKA_SIGN_RECOVER), Modifiable: b(pkcs11.CKA_MODIFIABLE), Copyable: b(pkcs11.CKA_COPYABLE),
	}
	if _, ok := a[pkcs11.CKA_MODIFIABLE]; !ok {
		k.attrs.Modifiable = true // PKCS#11's default when a token does not say
	}
	if _, ok := a[pkcs11.CKA_COPYABLE]; !ok {
		k.attrs.Copyable = true
	}
	if err := k.attrs.SignOnly(); err != nil {
		k.err = fmt.Errorf("%s: %w: %w", k, ErrKeyAttributes, err)
	}

	// The public key object shares the CKA_ID; prefer one that also
	// shares the label.
	if len(k.id) > 0 {
		pubs, err := findObjects(t.ctx, sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_ID, k.id),
		})
		if err != nil {
			return nil, err
		}
		for _, h := range pubs {
			la, err := getAttrs(t.ctx, sh, h, pkcs11.CKA_LABEL)
			if err != nil {
				return nil, p11Error("C_GetAttributeValue", err)
			}
			if k.pub == 0 || string(la[pkcs11.CKA_LABEL]) == k.label {
				k.pub = h
			}
		}
	}

	keyType, _ := attrUlong(a, pkcs11.CKA_KEY_TYPE)
	implied, err := t.readPublic(sh, k, keyType, a[pkcs11.CKA_EC_PARAMS])
	if err != nil {
		var code pkcs11.Error
		if errors.As(err, &code) && isSessionGone(code) {
			return nil, err
		}
		k.err = fmt.Errorf("%s: %w: %w", k, ErrUnsupportedKey, err)
		return k, nil
	}
	k.alg = implied

	// ksk's metadata object may say RSASHA512 for an RSA key.
	ms, err := findObjects(t.ctx, sh, meta.Query(k.label))
	if err != nil {
		return nil, err
	}
	for _, h := range ms {
		v, err := getAttrs(t.ctx, sh, h, pkcs11.CKA_VALUE)
		if err != nil {
			return nil, p11Error("C_GetAttributeValue", err)
		}
		rec, err := meta.Parse(v[pkcs11.CKA_VALUE])
		if err != nil {
			continue
		}
		if id, err := hex.DecodeString(rec.ID); err != nil || !bytes.Equal(id, k.id) {
			continue
		}
		k.meta = append(k.meta, h)
		recAlg := Algorithm(rec.Algorithm)
		if recAlg != implied && !(recAlg.IsRSA() && implied.IsRSA()) {
			k.err = fmt.Errorf("%s: %w: ksk metadata says %s but the key is %s", k, ErrUnsupportedKey, recAlg, implied)
			k.alg = 0
			return k, nil
		}
		k.alg, k.created = recAlg, rec.Created
	}
	return k, nil
}

// readPublic reads the public key for the key type and returns the
// algorithm the key type implies.
func (t *Token) readPublic(sh pkcs11.SessionHandle, k *Key, keyType uint, ecParams []byte) (Algorithm, error) {
	switch keyType {
	case pkcs11.CKK_RSA:
		src := k.pub
		if src == 0 {
			src = k.priv // the modulus and exponent are public attributes of the private key too
		}
		a, err := getAttrs(t.ctx, sh, src, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT)
		if err != nil {
			return 0, p11Error("C_GetAttributeValue", err)
		}
		n, e := a[pkcs11.CKA_MODULUS], a[pkcs11.CKA_PUBLIC_EXPONENT]
		if len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return 0, errors.New("cannot read the RSA modulus and exponent")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		k.public, k.bits = pub, pub.N.BitLen()
		return RSASHA256, nil
	case pkcs11.CKK_EC, CKK_EC_EDWARDS:
		if k.pub == 0 {
			return 0, errors.New("no public key object with the same CKA_ID")
		}
		a, err := getAttrs(t.ctx, sh, k.pub, pkcs11.CKA_EC_POINT, pkcs11.CKA_EC_PARAMS)
		if err != nil {
			return 0, p11Error("C_GetAttributeValue", err)
		}
		if len(ecParams) == 0 {
			ecParams = a[pkcs11.CKA_EC_PARAMS]
		}
		point := a[pkcs11.CKA_EC_POINT]
		switch {
		case keyType == pkcs11.CKK_EC && bytes.Equal(ecParams, oidP256):
			return ECDSAP256SHA256, k.setECDSA(elliptic.P256(), point, 256)
		case keyType == pkcs11.CKK_EC && bytes.Equal(ecParams, oidP384):
			return ECDSAP384SHA384, k.setECDSA(elliptic.P384(), point, 384)
		case keyType == CKK_EC_EDWARDS && (bytes.Equal(ecParams, oidEd25519) || bytes.Equal(ecParams, nameEd25519)):
			raw := unwrapPoint(point, ed25519.PublicKeySize)
			if raw == nil {
				return 0, errors.New("malformed Ed25519 CKA_EC_POINT")
			}
			k.public, k.bits = ed25519.PublicKey(raw), 256
			return ED25519, nil
		}
		return 0, fmt.Errorf("unsupported curve (CKA_EC_PARAMS %x)", ecParams)
	}
	return 0, fmt.Errorf("unsupported key type 0x%x", keyType)
}

func (k *Key) setECDSA(c elliptic.Curve, point []byte, bits int) error {
	size := 1 + 2*((bits+7)/8)
	raw := unwrapPoint(point, size)
	if raw == nil {
		return errors.New("malformed CKA_EC_POINT")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(c, raw)
	if err != nil {
		return fmt.Errorf("CKA_EC_POINT: %w", err)
	}
	k.public, k.bits = pub, bits
	return nil
}

// unwrapPoint returns the point of a CKA_EC_POINT of the expected size,
// which PKCS#11 says is a DER OCTET STRING but some tokens give raw.
func unwrapPoint(v []byte, size int) []byte {
	var inner []byte
	if rest, err := asn1.Unmarshal(v, &inner); err == nil && len(rest) == 0 && len(inner) == size {
		return inner
	}
	if len(v) == size {
		return v
	}
	return nil
}
