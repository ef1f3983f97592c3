package hsm

import (
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"
)

// MechanismInfo says whether the token supports a mechanism ksk cares
// about, and how.
type MechanismInfo struct {
	// Name is the PKCS#11 name, e.g. "CKM_ECDSA".
	Name string `json:"name"`
	// Type is the mechanism number.
	Type uint `json:"type"`
	// Purpose says what ksk uses it for.
	Purpose string `json:"purpose"`
	// Supported reports whether the token lists the mechanism.
	Supported bool `json:"supported"`
	// MinKeySize and MaxKeySize are the token's bounds (bits or bytes,
	// depending on the mechanism).
	MinKeySize uint `json:"min_key_size,omitempty"`
	MaxKeySize uint `json:"max_key_size,omitempty"`
	// Flags are the CKF_ flags of the mechanism, e.g. "SIGN".
	Flags []string `json:"flags,omitempty"`
}

// DNSSECMechanisms are the mechanisms Token.Mechanisms reports.
var DNSSECMechanisms = []struct {
	Type    uint
	Name    string
	Purpose string
}{
	{pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN", "generate RSASHA256/RSASHA512 keys"},
	{pkcs11.CKM_RSA_PKCS, "CKM_RSA_PKCS", "sign RSASHA256/RSASHA512 (ksk hashes, token pads)"},
	{pkcs11.CKM_SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS", "RSASHA256 with hashing on the token (not used)"},
	{pkcs11.CKM_SHA512_RSA_PKCS, "CKM_SHA512_RSA_PKCS", "RSASHA512 with hashing on the token (not used)"},
	{pkcs11.CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN", "generate ECDSAP256SHA256/ECDSAP384SHA384 keys"},
	{pkcs11.CKM_ECDSA, "CKM_ECDSA", "sign ECDSAP256SHA256/ECDSAP384SHA384"},
	{CKM_EC_EDWARDS_KEY_PAIR_GEN, "CKM_EC_EDWARDS_KEY_PAIR_GEN", "generate ED25519 keys"},
	{CKM_EDDSA, "CKM_EDDSA", "sign ED25519"},
	{pkcs11.CKM_SHA256, "CKM_SHA256", "digest (DS records are computed by ksk)"},
	{pkcs11.CKM_SHA384, "CKM_SHA384", "digest"},
	{pkcs11.CKM_SHA512, "CKM_SHA512", "digest"},
	{pkcs11.CKM_AES_KEY_WRAP, "CKM_AES_KEY_WRAP", "key backup (wrap with a trusted AES key)"},
	{pkcs11.CKM_AES_KEY_WRAP_PAD, "CKM_AES_KEY_WRAP_PAD", "key backup (wrap with a trusted AES key)"},
}

var mechFlagNames = []struct {
	flag uint
	name string
}{
	{pkcs11.CKF_HW, "HW"}, {pkcs11.CKF_ENCRYPT, "ENCRYPT"}, {pkcs11.CKF_DECRYPT, "DECRYPT"},
	{pkcs11.CKF_DIGEST, "DIGEST"}, {pkcs11.CKF_SIGN, "SIGN"}, {pkcs11.CKF_VERIFY, "VERIFY"},
	{pkcs11.CKF_GENERATE, "GENERATE"}, {pkcs11.CKF_GENERATE_KEY_PAIR, "GENERATE_KEY_PAIR"},
	{pkcs11.CKF_WRAP, "WRAP"}, {pkcs11.CKF_UNWRAP, "UNWRAP"}, {pkcs11.CKF_DERIVE, "DERIVE"},
}

// Mechanisms reports the token's support for DNSSECMechanisms.
func (t *Token) Mechanisms() ([]MechanismInfo, error) {
	list, err := t.ctx.GetMechanismList(t.slot)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.info, p11Error("C_GetMechanismList", err))
	}
	have := make(map[uint]bool, len(list))
	for _, m := range list {
		have[m.Mechanism] = true
	}
	out := make([]MechanismInfo, 0, len(DNSSECMechanisms))
	for _, d := range DNSSECMechanisms {
		mi := MechanismInfo{Name: d.Name, Type: d.Type, Purpose: d.Purpose, Supported: have[d.Type]}
		if mi.Supported {
			info, err := t.ctx.GetMechanismInfo(t.slot, []*pkcs11.Mechanism{pkcs11.NewMechanism(d.Type, nil)})
			if err == nil {
				mi.MinKeySize, mi.MaxKeySize = info.MinKeySize, info.MaxKeySize
				for _, f := range mechFlagNames {
					if info.Flags&f.flag != 0 {
						mi.Flags = append(mi.Flags, f.name)
					}
				}
			}
		}
		out = append(out, mi)
	}
	return out, nil
}

// requireMechanism fails with ErrMechanism when the token lacks mech.
func (t *Token) requireMechanism(mech uint) error {
	_, err := t.ctx.GetMechanismInfo(t.slot, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)})
	if err == nil {
		return nil
	}
	name := fmt.Sprintf("0x%x", mech)
	for _, d := range DNSSECMechanisms {
		if d.Type == mech {
			name = d.Name
		}
	}
	if errors.Is(err, pkcs11.Error(pkcs11.CKR_MECHANISM_INVALID)) {
		return fmt.Errorf("%w: %s lacks %s", ErrMechanism, t.info, name)
	}
	return fmt.Errorf("%s: %s: %w", t.info, name, p11Error("C_GetMechanismInfo", err))
}
