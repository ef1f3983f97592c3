package hsm

import (
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// initMu serialises token initialisation in this process: two callers must
// not both pick the same free slot.
var initMu sync.Mutex

// InitToken initialises a new token labelled label in the first slot whose
// token is not yet initialised (SoftHSM always offers one), with the given
// security officer PIN (the caller wipes both PINs), then logs in as the security officer and sets the
// user PIN (C_InitPIN). It refuses a label that an initialised token of the
// module already has (ErrLabelExists), and a module with no uninitialised
// token (ErrTokenNotFound). The PINs appear in no error.
//
// This is how rehearsal and test tokens are made; production HSMs are
// usually initialised with their vendor's tools under the vendor's own
// procedures.
func (m *Module) InitToken(label string, soPIN, userPIN []byte) (TokenInfo, error) {
	what := fmt.Sprintf("initialise token %q in PKCS#11 module %q", label, m.path)
	if label == "" || len(label) > 32 {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, invalidf("a token label has 1 to 32 bytes"))
	}
	if len(soPIN) == 0 || len(userPIN) == 0 {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, invalidf("empty PIN"))
	}
	initMu.Lock()
	defer initMu.Unlock()

	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, p11Error("C_GetSlotList", err))
	}
	free, found := uint(0), false
	for _, s := range slots {
		ti, err := m.ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			if !found {
				free, found = s, true
			}
			continue
		}
		if strings.TrimRight(ti.Label, " ") == label {
			return TokenInfo{}, fmt.Errorf("%s: %w: a token with that label is already initialised", what, ErrLabelExists)
		}
	}
	if !found {
		return TokenInfo{}, fmt.Errorf("%s: %w: no slot holds an uninitialised token", what, ErrTokenNotFound)
	}
	if err := m.ctx.InitToken(free, string(soPIN), label); err != nil {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, p11Error("C_InitToken", err))
	}
	sh, err := m.ctx.OpenSession(free, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, p11Error("C_OpenSession", err))
	}
	defer m.ctx.CloseSession(sh)
	if err := m.ctx.Login(sh, pkcs11.CKU_SO, string(soPIN)); err != nil {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, p11Error("C_Login as security officer", err))
	}
	defer m.ctx.Logout(sh)
	if err := m.ctx.InitPIN(sh, string(userPIN)); err != nil {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, p11Error("C_InitPIN", err))
	}
	ti, err := m.ctx.GetTokenInfo(free)
	if err != nil {
		return TokenInfo{}, fmt.Errorf("%s: %w", what, p11Error("C_GetTokenInfo", err))
	}
	return newTokenInfo(ti), nil
}
