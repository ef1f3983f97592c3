package hsm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ksk-dev/ksk/hsm/internal/meta"
	"github.com/miekg/pkcs11"
)

// KEKSize is the size in bytes of the AES-256 key-encryption keys that
// wrap keys for backup.
const KEKSize = 32

// Sentinel errors of key wrapping, in addition to those of errors.go.
var (
	// ErrNotExtractable means the token refuses to wrap a key because it
	// is not extractable (CKR_KEY_UNEXTRACTABLE): it was not generated
	// backup-able.
	ErrNotExtractable = errors.New("key is not extractable")
	// ErrPublicKeyMismatch means an unwrapped private key is not the
	// private half of the public key it was to be restored with.
	ErrPublicKeyMismatch = errors.New("unwrapped key does not match the public key")
	// ErrWrappedKeyInvalid means the token refused the wrapped key itself
	// (CKR_WRAPPED_KEY_INVALID, CKR_WRAPPED_KEY_LEN_RANGE,
	// CKR_ENCRYPTED_DATA_INVALID): a damaged blob or the wrong KEK.
	ErrWrappedKeyInvalid = errors.New("wrapped key refused by the token")
)

// WrapMechanism is the only wrapping mechanism ksk uses: AES key wrap
// with padding (RFC 5649), which wraps keys of any length.
const WrapMechanism = pkcs11.CKM_AES_KEY_WRAP_PAD

// WrapMechanismName is the PKCS#11 name of WrapMechanism.
const WrapMechanismName = "CKM_AES_KEY_WRAP_PAD"

// WrappingKey is an AES-256 key-encryption key held by the token as a
// session object (CKA_TOKEN false) on a session of its own: it never
// reaches the token's storage, and closing that session, which Destroy
// does, destroys it even if C_DestroyObject failed. It is sensitive and
// not extractable, and can either only wrap or only unwrap.
type WrappingKey struct {
	tok  *Token
	what string

	mu        sync.Mutex // guards sh, h, destroyed; serialises use of sh
	sh        pkcs11.SessionHandle
	h         pkcs11.ObjectHandle
	destroyed bool
}

// kekTemplate is the template of a session AES KEK. A trusted KEK must be
// public: only the security officer may set CKA_TRUSTED, and a security
// officer session cannot create private objects.
func kekTemplate(kek []byte, wrap, trusted bool) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, !trusted),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, "ksk-backup-kek"),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, wrap),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, !wrap),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_TRUSTED, trusted),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, kek),
	}
}

// ImportTrustedWrappingKey makes kek (KEKSize bytes) a trusted, wrap-only
// session key on the token, able to wrap keys generated backup-able
// (CKA_WRAP_WITH_TRUSTED). Only the security officer may set CKA_TRUSTED,
// so it logs in as security officer with so (counted like every login),
// creates the key, and logs out again; the user must not be logged in
// through this Token, and logs in afterwards to wrap. The caller wipes
// kek and calls Destroy when done.
func (t *Token) ImportTrustedWrappingKey(kek []byte, so LoginOptions) (*WrappingKey, error) {
	what := fmt.Sprintf("trusted wrapping key on %s", t.info)
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("%s: %w", what, invalidf("a KEK is %d bytes, not %d", KEKSize, len(kek)))
	}
	if t.LoggedIn() {
		return nil, fmt.Errorf("%s: %w: the security officer must log in, so log the user out first", what, ErrInvalidArgument)
	}
	if err := t.requireMechanism(WrapMechanism); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := t.login(SecurityOfficer, so); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	w, err := t.newWrappingKey(what, kekTemplate(kek, true, true))
	lerr := t.pool.with(func(sh pkcs11.SessionHandle) error { return t.ctx.Logout(sh) })
	if err != nil {
		return nil, err
	}
	if lerr != nil && !errors.Is(lerr, pkcs11.Error(pkcs11.CKR_USER_NOT_LOGGED_IN)) {
		w.Destroy()
		return nil, fmt.Errorf("%s: security officer logout: %w", what, p11Error("C_Logout", lerr))
	}
	// A public session object should outlive the security officer's
	// login; a token that destroys it cannot make backups this way.
	if err := w.check(pkcs11.CKA_TRUSTED); err != nil {
		w.Destroy()
		return nil, fmt.Errorf("%s: %w: the token does not keep the trusted key after the security officer logs out (%w)", what, ErrMechanism, err)
	}
	return w, nil
}

// ImportUnwrappingKey makes kek (KEKSize bytes) a private, unwrap-only
// session key on the token. The user must be logged in. The caller wipes
// kek and calls Destroy when done.
func (t *Token) ImportUnwrappingKey(kek []byte) (*WrappingKey, error) {
	what := fmt.Sprintf("unwrapping key on %s", t.info)
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("%s: %w", what, invalidf("a KEK is %d bytes, not %d", KEKSize, len(kek)))
	}
	if err := t.requireLogin("import " + what); err != nil {
		return nil, err
	}
	if err := t.requireMechanism(WrapMechanism); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return t.newWrappingKey(what, kekTemplate(kek, false, false))
}

// newWrappingKey opens a session of the key's own and creates the KEK on
// it.
func (t *Token) newWrappingKey(what string, tmpl []*pkcs11.Attribute) (*WrappingKey, error) {
	sh, err := t.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, p11Error("C_OpenSession", err))
	}
	h, err := t.ctx.CreateObject(sh, tmpl)
	if err != nil {
		_ = t.ctx.CloseSession(sh)
		return nil, fmt.Errorf("%s: %w", what, p11Error("C_CreateObject", err))
	}
	return &WrappingKey{tok: t, what: what, sh: sh, h: h}, nil
}

// check reads an attribute of the KEK to see that it still exists.
func (w *WrappingKey) check(attr uint) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.destroyed {
		return fmt.Errorf("%w: %s destroyed", ErrInvalidArgument, w.what)
	}
	_, err := w.tok.ctx.GetAttributeValue(w.sh, w.h, []*pkcs11.Attribute{pkcs11.NewAttribute(attr, nil)})
	return p11Error("C_GetAttributeValue", err)
}

// Destroy destroys the KEK and closes its session. It is idempotent.
func (w *WrappingKey) Destroy() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.destroyed {
		return nil
	}
	w.destroyed = true
	derr := w.tok.ctx.DestroyObject(w.sh, w.h)
	cerr := w.tok.ctx.CloseSession(w.sh)
	// Closing the session destroys its session objects, so the KEK is
	// gone when either call succeeded, or the session itself is gone.
	if cerr != nil && !isSessionGone(cerr) {
		if derr != nil {
			return fmt.Errorf("destroy %s: %w", w.what, p11Error("C_DestroyObject", derr))
		}
		return fmt.Errorf("destroy %s: %w", w.what, p11Error("C_CloseSession", cerr))
	}
	return nil
}

// wrapError classifies a failed C_WrapKey.
func wrapError(err error) error {
	switch {
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_KEY_UNEXTRACTABLE)):
		return fmt.Errorf("%w (C_WrapKey: %w)", ErrNotExtractable, err)
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_KEY_NOT_WRAPPABLE)):
		return fmt.Errorf("%w: the token cannot wrap this key with %s (C_WrapKey: %w)", ErrMechanism, WrapMechanismName, err)
	}
	return p11Error("C_WrapKey", err)
}

// Wrap wraps the private key k with CKM_AES_KEY_WRAP_PAD under the KEK and
// returns the wrapped key (the token's encoding of the private key,
// PKCS#8 for SoftHSM, encrypted). The user must be logged in and k must
// be on the KEK's token. A key that is not extractable wraps
// ErrNotExtractable; one the token cannot wrap (SoftHSM 2.6 cannot wrap
// Ed25519 keys) wraps ErrMechanism.
func (w *WrappingKey) Wrap(k *Key) ([]byte, error) {
	what := fmt.Sprintf("wrap %s", k)
	if k.tok != w.tok {
		return nil, fmt.Errorf("%s: %w: the key is on another token than the KEK", what, ErrInvalidArgument)
	}
	if err := w.tok.requireLogin(what); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.destroyed {
		return nil, fmt.Errorf("%s: %w: %s destroyed", what, ErrInvalidArgument, w.what)
	}
	out, err := w.tok.ctx.WrapKey(w.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(WrapMechanism, nil)}, w.h, k.priv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, wrapError(err))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: C_WrapKey returned nothing", what, ErrPKCS11)
	}
	return out, nil
}

// UnwrapSpec describes the key pair Unwrap recreates.
type UnwrapSpec struct {
	// Label and ID are the CKA_LABEL and CKA_ID of the private and public
	// key objects; neither may be in use on the token.
	Label string
	ID    []byte
	// Algorithm is the DNSSEC algorithm recorded in ksk's metadata object.
	Algorithm Algorithm
	// Public is the public key (*rsa.PublicKey, *ecdsa.PublicKey on P-256
	// or P-384, or ed25519.PublicKey) from which the public key object is
	// created. The unwrapped private key must match it.
	Public crypto.PublicKey
	// Created is when the key was originally generated, for ksk's
	// metadata; zero means now.
	Created time.Time
}

// UnwrappedKey is a key pair Unwrap created: the Key, plus the handles of
// every object created for it, so that Destroy removes exactly those.
type UnwrappedKey struct {
	*Key
	objects []pkcs11.ObjectHandle
}

// Destroy destroys every object Unwrap created for the key (private key,
// public key, ksk metadata), leaving the token as it was before.
func (u *UnwrappedKey) Destroy() error {
	err := u.tok.destroyObjects(u.objects)
	if err != nil {
		return fmt.Errorf("destroy restored %s: %w", u.Key, err)
	}
	u.objects = nil
	return nil
}

// destroyObjects destroys the objects in reverse order of creation and
// reports the first failure after trying them all.
func (t *Token) destroyObjects(hs []pkcs11.ObjectHandle) error {
	return t.pool.with(func(sh pkcs11.SessionHandle) error {
		var first error
		for i := len(hs) - 1; i >= 0; i-- {
			if err := t.ctx.DestroyObject(sh, hs[i]); err != nil && first == nil {
				first = p11Error("C_DestroyObject", err)
			}
		}
		return first
	})
}

// checkFree fails with ErrLabelExists when an object has the label or a
// key object the CKA_ID.
func (t *Token) checkFree(sh pkcs11.SessionHandle, label string, id []byte) error {
	used, err := t.labelInUse(sh, label)
	if err != nil {
		return err
	}
	if used {
		return fmt.Errorf("%w: an object labelled %q is already on the token", ErrLabelExists, label)
	}
	if len(id) > 0 {
		hs, err := findObjects(t.ctx, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, id)})
		if err != nil {
			return err
		}
		if len(hs) > 0 {
			return fmt.Errorf("%w: an object with CKA_ID %x is already on the token", ErrLabelExists, id)
		}
	}
	return nil
}

// CheckFree fails with ErrLabelExists when any object on the token has the
// label, or any object the CKA_ID (id may be empty): the check Unwrap
// makes before it creates anything, for callers that want to refuse
// early. The user must be logged in, so private objects are seen.
func (t *Token) CheckFree(label string, id []byte) error {
	what := fmt.Sprintf("key %q on %s", label, t.info)
	if err := t.requireLogin("check " + what); err != nil {
		return err
	}
	err := t.pool.with(func(sh pkcs11.SessionHandle) error { return t.checkFree(sh, label, id) })
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// CountObjects returns the number of objects the token shows this
// process: token objects (private ones only when logged in) and session
// objects. Tests use it to show that a refused restore created nothing.
func (t *Token) CountObjects() (int, error) {
	var n int
	err := t.pool.with(func(sh pkcs11.SessionHandle) error {
		hs, err := findObjects(t.ctx, sh, nil)
		n = len(hs)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count objects on %s: %w", t.info, err)
	}
	return n, nil
}

// unwrapTemplate is the private key template of Unwrap: the same
// sign-only, sensitive attributes as a generated key, never extractable,
// but without CKA_MODIFIABLE and CKA_COPYABLE false: SoftHSM 2.6 refuses
// C_UnwrapKey with either (CKR_ATTRIBUTE_READ_ONLY, as it sets the key's
// value after applying the template), and refuses them in C_CopyObject
// too. Unwrap then asks C_SetAttributeValue for CKA_COPYABLE false; a
// restored key that stays modifiable is still read back, attribute by
// attribute, before every use (KeyAttributes.SignOnly).
func unwrapTemplate(s UnwrapSpec, keyType uint) []*pkcs11.Attribute {
	var keep []*pkcs11.Attribute
	for _, a := range privateKeyAttributes(s.Label, s.ID) {
		if a.Type != pkcs11.CKA_MODIFIABLE && a.Type != pkcs11.CKA_COPYABLE {
			keep = append(keep, a)
		}
	}
	return append(keep,
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false))
}

// publicTemplate returns the key type and the public key object template
// of a public key, and checks it against the algorithm.
func publicTemplate(s UnwrapSpec) (keyType uint, ecParams []byte, tmpl []*pkcs11.Attribute, err error) {
	tmpl = publicKeyAttributes(s.Label, s.ID)
	switch p := s.Public.(type) {
	case *rsa.PublicKey:
		if !s.Algorithm.IsRSA() {
			return 0, nil, nil, invalidf("an RSA key cannot be %s", s.Algorithm)
		}
		return pkcs11.CKK_RSA, nil, append(tmpl,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, p.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(p.E)).Bytes())), nil
	case *ecdsa.PublicKey:
		var params []byte
		switch {
		case s.Algorithm == ECDSAP256SHA256 && p.Curve.Params().BitSize == 256:
			params = oidP256
		case s.Algorithm == ECDSAP384SHA384 && p.Curve.Params().BitSize == 384:
			params = oidP384
		default:
			return 0, nil, nil, invalidf("a %s key cannot be %s", p.Curve.Params().Name, s.Algorithm)
		}
		raw, err := p.Bytes()
		if err != nil {
			return 0, nil, nil, invalidf("ECDSA public key: %v", err)
		}
		point, err := asn1.Marshal(raw)
		if err != nil {
			return 0, nil, nil, err
		}
		return pkcs11.CKK_EC, params, append(tmpl,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point)), nil
	case ed25519.PublicKey:
		if s.Algorithm != ED25519 || len(p) != ed25519.PublicKeySize {
			return 0, nil, nil, invalidf("an Ed25519 key cannot be %s", s.Algorithm)
		}
		point, err := asn1.Marshal([]byte(p))
		if err != nil {
			return 0, nil, nil, err
		}
		return CKK_EC_EDWARDS, oidEd25519, append(tmpl,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, CKK_EC_EDWARDS),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidEd25519),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point)), nil
	}
	return 0, nil, nil, fmt.Errorf("%w: public key type %T", ErrUnsupportedKey, s.Public)
}

// Unwrap unwraps a private key wrapped by Wrap into the token as a token
// object: private, sensitive, never extractable, sign-only, with the
// spec's label and CKA_ID. It then checks that the unwrapped key matches
// spec.Public as far as the token shows it (RSA modulus and exponent, EC
// curve), creates the public key object from spec.Public and ksk's
// metadata object recording spec.Algorithm, and returns the key as read
// back. On any failure after C_UnwrapKey it destroys every object it
// created, so the token is left as it was. The user must be logged in.
//
// A label or CKA_ID in use wraps ErrLabelExists (nothing is unwrapped), a
// wrapped key the token refuses ErrWrappedKeyInvalid, a key that does not
// match spec.Public ErrPublicKeyMismatch.
func (w *WrappingKey) Unwrap(wrapped []byte, spec UnwrapSpec) (*UnwrappedKey, error) {
	t := w.tok
	what := fmt.Sprintf("unwrap key %q into %s", spec.Label, t.info)
	if spec.Label == "" || len(spec.Label) > 255 {
		return nil, fmt.Errorf("%s: %w", what, invalidf("a key label has 1 to 255 bytes"))
	}
	if len(spec.ID) == 0 {
		return nil, fmt.Errorf("%s: %w", what, invalidf("empty CKA_ID"))
	}
	if !spec.Algorithm.Supported() {
		return nil, fmt.Errorf("%s: %w", what, invalidf("unsupported algorithm %s", spec.Algorithm))
	}
	keyType, ecParams, pubT, err := publicTemplate(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	created := spec.Created
	if created.IsZero() {
		created = time.Now()
	}
	metaT, err := meta.Template(spec.Label, spec.ID, uint8(spec.Algorithm), created)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := t.requireLogin(what); err != nil {
		return nil, err
	}

	// One key creation at a time per Token, so the label check holds.
	t.keygen.Lock()
	defer t.keygen.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.destroyed {
		return nil, fmt.Errorf("%s: %w: %s destroyed", what, ErrInvalidArgument, w.what)
	}
	sh := w.sh
	if err := t.checkFree(sh, spec.Label, spec.ID); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	priv, err := t.ctx.UnwrapKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(WrapMechanism, nil)}, w.h, wrapped, unwrapTemplate(spec, keyType))
	if err != nil {
		switch {
		case errors.Is(err, pkcs11.Error(pkcs11.CKR_WRAPPED_KEY_INVALID)),
			errors.Is(err, pkcs11.Error(pkcs11.CKR_WRAPPED_KEY_LEN_RANGE)),
			errors.Is(err, pkcs11.Error(pkcs11.CKR_ENCRYPTED_DATA_INVALID)),
			errors.Is(err, pkcs11.Error(pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE)):
			return nil, fmt.Errorf("%s: %w (C_UnwrapKey: %w)", what, ErrWrappedKeyInvalid, err)
		}
		return nil, fmt.Errorf("%s: %w", what, p11Error("C_UnwrapKey", err))
	}
	made := []pkcs11.ObjectHandle{priv}
	undo := func(cause error) error {
		if derr := t.destroyObjectsOn(sh, made); derr != nil {
			return fmt.Errorf("%s: %w; and removing what was created failed: %w", what, cause, derr)
		}
		return fmt.Errorf("%s: %w", what, cause)
	}
	// Not copyable from now on, where the module allows turning it off
	// (PKCS#11 3.0 lets CKA_COPYABLE go from true to false, never back).
	// A module that refuses leaves a copyable key; the use-time check
	// still refuses it the moment CKA_DECRYPT or another use is on.
	_ = t.ctx.SetAttributeValue(sh, priv, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_COPYABLE, false)})
	if err := t.matchUnwrapped(sh, priv, keyType, ecParams, spec.Public); err != nil {
		return nil, undo(err)
	}
	pub, err := t.ctx.CreateObject(sh, pubT)
	if err != nil {
		return nil, undo(p11Error("C_CreateObject", err))
	}
	made = append(made, pub)
	mh, err := t.ctx.CreateObject(sh, metaT)
	if err != nil {
		return nil, undo(p11Error("C_CreateObject", err))
	}
	made = append(made, mh)
	// Another process may have used the label meanwhile.
	if hs, err := findObjects(t.ctx, sh, privateKeyQuery(spec.Label)); err != nil {
		return nil, undo(err)
	} else if len(hs) != 1 {
		return nil, undo(fmt.Errorf("%w: another key labelled %q appeared during the restore", ErrLabelExists, spec.Label))
	}
	k, err := t.loadKey(sh, priv)
	if err != nil {
		return nil, undo(err)
	}
	if k.err != nil {
		return nil, undo(k.err)
	}
	if k.pub != pub {
		return nil, undo(fmt.Errorf("%w: the restored key does not find its own public key object", ErrUnsupportedKey))
	}
	return &UnwrappedKey{Key: k, objects: made}, nil
}

// destroyObjectsOn is destroyObjects on a session the caller holds.
func (t *Token) destroyObjectsOn(sh pkcs11.SessionHandle, hs []pkcs11.ObjectHandle) error {
	var first error
	for i := len(hs) - 1; i >= 0; i-- {
		if err := t.ctx.DestroyObject(sh, hs[i]); err != nil && first == nil {
			first = p11Error("C_DestroyObject", err)
		}
	}
	return first
}

// matchUnwrapped compares what the token shows of an unwrapped private key
// with the public key it is restored with: the RSA modulus and exponent,
// or the curve. (An EC private key object does not show its public point;
// restoring callers prove the key by a signature.)
func (t *Token) matchUnwrapped(sh pkcs11.SessionHandle, priv pkcs11.ObjectHandle, keyType uint, ecParams []byte, pub crypto.PublicKey) error {
	a, err := getAttrs(t.ctx, sh, priv, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT, pkcs11.CKA_EC_PARAMS)
	if err != nil {
		return p11Error("C_GetAttributeValue", err)
	}
	if kt, ok := attrUlong(a, pkcs11.CKA_KEY_TYPE); !ok || kt != keyType {
		return fmt.Errorf("%w: key type 0x%x, want 0x%x", ErrPublicKeyMismatch, kt, keyType)
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		n, e := a[pkcs11.CKA_MODULUS], a[pkcs11.CKA_PUBLIC_EXPONENT]
		if len(n) == 0 || len(e) == 0 {
			return fmt.Errorf("%w: the token does not show the RSA modulus and exponent", ErrPublicKeyMismatch)
		}
		if new(big.Int).SetBytes(n).Cmp(p.N) != 0 || new(big.Int).SetBytes(e).Cmp(big.NewInt(int64(p.E))) != 0 {
			return fmt.Errorf("%w: RSA modulus or exponent differs", ErrPublicKeyMismatch)
		}
	default:
		got := a[pkcs11.CKA_EC_PARAMS]
		if len(got) > 0 && !bytes.Equal(got, ecParams) && !(keyType == CKK_EC_EDWARDS && bytes.Equal(got, nameEd25519)) {
			return fmt.Errorf("%w: curve (CKA_EC_PARAMS %x, want %x)", ErrPublicKeyMismatch, got, ecParams)
		}
	}
	return nil
}
