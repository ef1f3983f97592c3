package hsm

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ksk-dev/ksk/hsm/internal/meta"
	"github.com/miekg/pkcs11"
)

// requireLogin fails with ErrNotLoggedIn when private objects are not
// visible yet.
func (t *Token) requireLogin(op string) error {
	if !t.LoggedIn() && t.info.LoginRequired {
		return fmt.Errorf("%s on %s: %w (call Login first)", op, t.info, ErrNotLoggedIn)
	}
	return nil
}

func privateKeyQuery(label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
}

// lookup finds the one private key with a label, usable or not.
func (t *Token) lookup(label string) (*Key, error) {
	if label == "" {
		return nil, invalidf("empty key label")
	}
	if err := t.requireLogin(fmt.Sprintf("find key %q", label)); err != nil {
		return nil, err
	}
	var k *Key
	err := t.pool.with(func(sh pkcs11.SessionHandle) error {
		hs, err := findObjects(t.ctx, sh, privateKeyQuery(label))
		if err != nil {
			return err
		}
		switch len(hs) {
		case 0:
			return fmt.Errorf("key %q on %s: %w", label, t.info, ErrKeyNotFound)
		case 1:
		default:
			return fmt.Errorf("key %q on %s: %w: %d private keys have this label", label, t.info, ErrKeyAmbiguous, len(hs))
		}
		k, err = t.loadKey(sh, hs[0])
		return err
	})
	if err != nil {
		if errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrKeyAmbiguous) {
			return nil, err
		}
		return nil, fmt.Errorf("find key %q on %s: %w", label, t.info, err)
	}
	return k, nil
}

// FindKey returns the one private key labelled label. No such key wraps
// ErrKeyNotFound, two or more wrap ErrKeyAmbiguous, and a key ksk cannot
// use wraps ErrUnsupportedKey. The token must be logged in.
func (t *Token) FindKey(label string) (*Key, error) {
	k, err := t.lookup(label)
	if err != nil {
		return nil, err
	}
	if k.err != nil {
		return nil, k.err
	}
	return k, nil
}

// Keys lists the token's private keys, sorted by label, including those ksk
// cannot use (see Key.Err). The token must be logged in.
func (t *Token) Keys() ([]*Key, error) {
	if err := t.requireLogin("list keys"); err != nil {
		return nil, err
	}
	var keys []*Key
	err := t.pool.with(func(sh pkcs11.SessionHandle) error {
		hs, err := findObjects(t.ctx, sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		})
		if err != nil {
			return err
		}
		for _, h := range hs {
			k, err := t.loadKey(sh, h)
			if err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list keys on %s: %w", t.info, err)
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].label < keys[j].label })
	return keys, nil
}

// DeleteKey destroys the one private key labelled label together with its
// public key object and ksk metadata. It fails like FindKey when the label
// matches no key or several, but also deletes keys ksk cannot use.
func (t *Token) DeleteKey(label string) error {
	k, err := t.lookup(label)
	if err != nil {
		return err
	}
	handles := append([]pkcs11.ObjectHandle{k.priv}, k.meta...)
	if k.pub != 0 {
		handles = append(handles, k.pub)
	}
	err = t.pool.with(func(sh pkcs11.SessionHandle) error {
		for _, h := range handles {
			if err := t.ctx.DestroyObject(sh, h); err != nil {
				return p11Error("C_DestroyObject", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", k, err)
	}
	return nil
}

// labelInUse reports whether any object (key, public key, data) carries the
// label.
func (t *Token) labelInUse(sh pkcs11.SessionHandle, label string) (bool, error) {
	hs, err := findObjects(t.ctx, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)})
	if err != nil {
		return false, err
	}
	if len(hs) > 0 {
		return true, nil
	}
	// Some tokens do not search data objects by label alone.
	hs, err = findObjects(t.ctx, sh, meta.Query(label))
	return len(hs) > 0, err
}

// HasPublicKey reports whether a public key object labelled label is on
// the token. It needs no login (public key objects are public), so a
// ceremony's pre-flight can check that the keys its script names are
// there before anyone presents a credential; it says nothing about the
// private key, which only a login shows.
func (t *Token) HasPublicKey(label string) (bool, error) {
	if label == "" {
		return false, invalidf("empty key label")
	}
	var n int
	err := t.pool.with(func(sh pkcs11.SessionHandle) error {
		hs, err := findObjects(t.ctx, sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		})
		n = len(hs)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("find public key %q on %s: %w", label, t.info, err)
	}
	return n > 0, nil
}

// RestrictToSigning turns off, on the one key labelled label, every use
// but signing that another tool left on (CKA_DECRYPT, CKA_UNWRAP,
// CKA_DERIVE, CKA_SIGN_RECOVER on the private key; CKA_ENCRYPT, CKA_WRAP,
// CKA_DERIVE on the public key), so that a key imported or generated
// outside ksk (softhsm2-util --import, a vendor tool) passes ksk's
// sign-only check. It only ever removes uses, never adds one, and cannot
// make a key that is extractable without trust or not sensitive usable:
// those stay refused. A key that is not modifiable and has such a use on
// fails with the token's refusal. It returns the key as loaded after.
func (t *Token) RestrictToSigning(label string) (*Key, error) {
	k, err := t.lookup(label)
	if err != nil {
		return nil, err
	}
	off := func(types ...uint) []*pkcs11.Attribute {
		out := make([]*pkcs11.Attribute, len(types))
		for i, ty := range types {
			out[i] = pkcs11.NewAttribute(ty, false)
		}
		return out
	}
	err = t.pool.with(func(sh pkcs11.SessionHandle) error {
		a := k.attrs
		if a.Decrypt || a.Unwrap || a.Derive || a.SignRecover {
			if err := t.ctx.SetAttributeValue(sh, k.priv, off(pkcs11.CKA_DECRYPT, pkcs11.CKA_UNWRAP, pkcs11.CKA_DERIVE, pkcs11.CKA_SIGN_RECOVER)); err != nil {
				return p11Error("C_SetAttributeValue (private key)", err)
			}
		}
		if k.pub != 0 {
			// Best effort: the public key's uses are not a secret's.
			_ = t.ctx.SetAttributeValue(sh, k.pub, off(pkcs11.CKA_ENCRYPT, pkcs11.CKA_WRAP, pkcs11.CKA_DERIVE))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("restrict %s to signing: %w", k, err)
	}
	k, err = t.lookup(label)
	if err != nil {
		return nil, err
	}
	return k, k.err
}
