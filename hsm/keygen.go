package hsm

import (
	"fmt"
	"slices"
	"time"

	"github.com/ksk-dev/ksk/hsm/internal/meta"
	"github.com/miekg/pkcs11"
)

// IDLength is the length of the random CKA_ID of generated keys.
const IDLength = 16

// GenerateOptions describe a key pair to generate.
type GenerateOptions struct {
	// Label is the CKA_LABEL of both halves; it must not be in use.
	Label string
	// Algorithm is the DNSSEC algorithm the key is for.
	Algorithm Algorithm
	// Bits is the RSA modulus size (2048, 3072 or 4096; 0 means
	// DefaultRSABits). It must be 0 for other algorithms.
	Bits int
	// Backupable makes the private key extractable, but only under a
	// trusted wrapping key (CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED both
	// true), so that it can later be backed up to another HSM. Only the
	// security officer can create a CKA_TRUSTED key (see
	// Token.ImportTrustedWrappingKey and docs/backup.md), so exporting the
	// key needs the SO as well as the user. Without it the key is never
	// extractable.
	Backupable bool
}

func (o *GenerateOptions) validate() error {
	if o.Label == "" {
		return invalidf("empty key label")
	}
	if len(o.Label) > 255 {
		return invalidf("key label longer than 255 bytes")
	}
	if !o.Algorithm.Supported() {
		return invalidf("unsupported algorithm %s (want one of %s)", o.Algorithm, algorithmNames())
	}
	if o.Algorithm.IsRSA() {
		if o.Bits == 0 {
			o.Bits = DefaultRSABits
		}
		if !slices.Contains(RSABits, o.Bits) {
			return invalidf("RSA key size %d bits (want 2048, 3072 or 4096)", o.Bits)
		}
	} else if o.Bits != 0 && o.Bits != curveBits(o.Algorithm) {
		return invalidf("%s keys are %d bits; do not give a size", o.Algorithm, curveBits(o.Algorithm))
	}
	return nil
}

func curveBits(a Algorithm) int {
	if a == ECDSAP384SHA384 {
		return 384
	}
	return 256
}

// keyGenMechanisms returns the generation and signing mechanisms of an
// algorithm.
func keyGenMechanisms(a Algorithm) (gen, sign uint) {
	switch a {
	case RSASHA256, RSASHA512:
		return pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, pkcs11.CKM_RSA_PKCS
	case ECDSAP256SHA256, ECDSAP384SHA384:
		return pkcs11.CKM_EC_KEY_PAIR_GEN, pkcs11.CKM_ECDSA
	}
	return CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA
}

// publicKeyAttributes are the attributes every public key object of a KSK
// has, generated or restored: a token object that only verifies.
func publicKeyAttributes(label string, id []byte) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_COPYABLE, false),
	}
}

// privateKeyAttributes are the attributes every private key object of a
// KSK has, generated or restored: a private, sensitive token object that
// only signs (no decrypt, unwrap, derive or sign-recover), and that cannot
// be modified or copied. Extractability is the caller's to add.
func privateKeyAttributes(label string, id []byte) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN_RECOVER, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		// Not modifiable, so that no later C_SetAttributeValue can turn
		// on CKA_DECRYPT or CKA_EXTRACTABLE; not copyable, so that
		// C_CopyObject cannot make a copy with other attributes.
		// CKA_DESTROYABLE stays true: key-destroy must work.
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_COPYABLE, false),
	}
}

// templates returns the public and private key templates: a sign-only
// private key that is token, private, sensitive and (unless backupable)
// non-extractable, with no decrypt, unwrap, derive or sign-recover.
func templates(o GenerateOptions, id []byte) (pub, priv []*pkcs11.Attribute) {
	pub, priv = publicKeyAttributes(o.Label, id), privateKeyAttributes(o.Label, id)
	if o.Backupable {
		priv = append(priv,
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP_WITH_TRUSTED, true))
	} else {
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false))
	}
	switch o.Algorithm {
	case RSASHA256, RSASHA512:
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, o.Bits),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{0x01, 0x00, 0x01}))
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA))
	case ECDSAP256SHA256:
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256))
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC))
	case ECDSAP384SHA384:
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP384))
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC))
	case ED25519:
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, CKK_EC_EDWARDS),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidEd25519))
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, CKK_EC_EDWARDS))
	}
	return pub, priv
}

// GenerateKey generates a key pair on the token with a random CKA_ID from
// the token's RNG, records its DNSSEC algorithm in a ksk data object, and
// returns the key as read back from the token, so that Key.Attributes
// reports what the token actually set (CKA_LOCAL, CKA_ALWAYS_SENSITIVE,
// CKA_NEVER_EXTRACTABLE). A label already in use wraps ErrLabelExists; a
// token without the mechanisms wraps ErrMechanism. The token must be
// logged in.
func (t *Token) GenerateKey(opts GenerateOptions) (*Key, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("generate %s key %q on %s", opts.Algorithm, opts.Label, t.info)
	if err := t.requireLogin(what); err != nil {
		return nil, err
	}
	gen, sign := keyGenMechanisms(opts.Algorithm)
	for _, m := range []uint{gen, sign} {
		if err := t.requireMechanism(m); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}

	// One generation at a time per Token, so the label check holds.
	t.keygen.Lock()
	defer t.keygen.Unlock()
	id, err := t.GenerateRandom(IDLength)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	metaTmpl, err := meta.Template(opts.Label, id, uint8(opts.Algorithm), time.Now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var k *Key
	err = t.pool.with(func(sh pkcs11.SessionHandle) error {
		used, err := t.labelInUse(sh, opts.Label)
		if err != nil {
			return err
		}
		if used {
			return fmt.Errorf("%w: an object labelled %q is already on the token", ErrLabelExists, opts.Label)
		}
		pubT, privT := templates(opts, id)
		pub, priv, err := t.ctx.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(gen, nil)}, pubT, privT)
		if err != nil {
			return p11Error("C_GenerateKeyPair", err)
		}
		undo := func() {
			_ = t.ctx.DestroyObject(sh, priv)
			_ = t.ctx.DestroyObject(sh, pub)
		}
		mh, err := t.ctx.CreateObject(sh, metaTmpl)
		if err != nil {
			undo()
			return p11Error("C_CreateObject", err)
		}
		// Another process may have used the label meanwhile.
		if hs, err := findObjects(t.ctx, sh, privateKeyQuery(opts.Label)); err != nil || len(hs) != 1 {
			undo()
			_ = t.ctx.DestroyObject(sh, mh)
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: another key labelled %q appeared during generation", ErrLabelExists, opts.Label)
		}
		k, err = t.loadKey(sh, priv)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if k.err != nil {
		return nil, fmt.Errorf("%s: %w", what, k.err)
	}
	return k, nil
}
