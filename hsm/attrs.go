package hsm

import (
	"encoding/binary"

	"github.com/miekg/pkcs11"
)

// Constants of PKCS#11 3.0 that github.com/miekg/pkcs11 lacks.
const (
	// CKK_EC_EDWARDS is the key type of Ed25519 and Ed448 keys.
	CKK_EC_EDWARDS = 0x40
	// CKM_EC_EDWARDS_KEY_PAIR_GEN generates Edwards-curve key pairs.
	CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055
	// CKM_EDDSA signs with EdDSA; with no parameters it is pure Ed25519.
	CKM_EDDSA = 0x1057
)

// getAttrs reads attributes of an object. It asks for all of them at once
// and, when the token refuses that (one attribute sensitive or invalid for
// the object), one at a time, leaving out those it cannot read.
func getAttrs(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	tmpl := make([]*pkcs11.Attribute, len(types))
	for i, t := range types {
		tmpl[i] = pkcs11.NewAttribute(t, nil)
	}
	out := make(map[uint][]byte, len(types))
	attrs, err := ctx.GetAttributeValue(sh, oh, tmpl)
	if err == nil {
		for _, a := range attrs {
			out[a.Type] = a.Value
		}
		return out, nil
	}
	if isSessionGone(err) {
		return nil, err
	}
	for _, t := range types {
		a, err := ctx.GetAttributeValue(sh, oh, []*pkcs11.Attribute{pkcs11.NewAttribute(t, nil)})
		if err != nil {
			if isSessionGone(err) {
				return nil, err
			}
			continue
		}
		out[t] = a[0].Value
	}
	return out, nil
}

// attrBool decodes a CK_BBOOL; ok is false when the attribute is absent.
func attrBool(m map[uint][]byte, t uint) (v, ok bool) {
	b, ok := m[t]
	if !ok || len(b) != 1 {
		return false, false
	}
	return b[0] != 0, true
}

// attrUlong decodes a CK_ULONG (native byte order and size).
func attrUlong(m map[uint][]byte, t uint) (uint, bool) {
	b, ok := m[t]
	if !ok {
		return 0, false
	}
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b)), true
	case 4:
		return uint(binary.NativeEndian.Uint32(b)), true
	}
	return 0, false
}

// findObjects returns the handles of the objects matching tmpl.
func findObjects(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, p11Error("C_FindObjectsInit", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := ctx.FindObjects(sh, 64)
		if err != nil {
			_ = ctx.FindObjectsFinal(sh)
			return nil, p11Error("C_FindObjects", err)
		}
		all = append(all, hs...)
		if len(hs) == 0 {
			break
		}
	}
	if err := ctx.FindObjectsFinal(sh); err != nil {
		return nil, p11Error("C_FindObjectsFinal", err)
	}
	return all, nil
}
