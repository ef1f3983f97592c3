package hsm

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// TokenSelector names a token by label, by serial number or by both (then
// both must match). Slot numbers are never used: SoftHSM renumbers them.
type TokenSelector struct {
	Label  string
	Serial string
}

// String describes the selector for messages, e.g. `token "ksk"`.
func (s TokenSelector) String() string {
	switch {
	case s.Label != "" && s.Serial != "":
		return fmt.Sprintf("token %q (serial %s)", s.Label, s.Serial)
	case s.Serial != "":
		return fmt.Sprintf("token with serial %q", s.Serial)
	}
	return fmt.Sprintf("token %q", s.Label)
}

// TokenInfo describes a token (C_GetTokenInfo).
type TokenInfo struct {
	Label          string   `json:"label"`
	Serial         string   `json:"serial"`
	Manufacturer   string   `json:"manufacturer"`
	Model          string   `json:"model"`
	Flags          []string `json:"flags"`
	Initialized    bool     `json:"initialized"`
	UserPINSet     bool     `json:"user_pin_initialized"`
	LoginRequired  bool     `json:"login_required"`
	WriteProtected bool     `json:"write_protected"`
	UserPINLocked  bool     `json:"user_pin_locked"`
	SOPINLocked    bool     `json:"so_pin_locked"`
	HardwareRNG    bool     `json:"rng"`
	FirmwareVer    string   `json:"firmware_version"`
	HardwareVer    string   `json:"hardware_version"`
}

// String describes the token for messages, e.g. `token "ksk" (serial 1a2b)`.
func (ti TokenInfo) String() string {
	return fmt.Sprintf("token %q (serial %s)", ti.Label, ti.Serial)
}

var tokenFlagNames = []struct {
	flag uint
	name string
}{
	{pkcs11.CKF_RNG, "RNG"},
	{pkcs11.CKF_WRITE_PROTECTED, "WRITE_PROTECTED"},
	{pkcs11.CKF_LOGIN_REQUIRED, "LOGIN_REQUIRED"},
	{pkcs11.CKF_USER_PIN_INITIALIZED, "USER_PIN_INITIALIZED"},
	{pkcs11.CKF_RESTORE_KEY_NOT_NEEDED, "RESTORE_KEY_NOT_NEEDED"},
	{pkcs11.CKF_CLOCK_ON_TOKEN, "CLOCK_ON_TOKEN"},
	{pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH, "PROTECTED_AUTHENTICATION_PATH"},
	{pkcs11.CKF_DUAL_CRYPTO_OPERATIONS, "DUAL_CRYPTO_OPERATIONS"},
	{pkcs11.CKF_TOKEN_INITIALIZED, "TOKEN_INITIALIZED"},
	{pkcs11.CKF_SECONDARY_AUTHENTICATION, "SECONDARY_AUTHENTICATION"},
	{pkcs11.CKF_USER_PIN_COUNT_LOW, "USER_PIN_COUNT_LOW"},
	{pkcs11.CKF_USER_PIN_FINAL_TRY, "USER_PIN_FINAL_TRY"},
	{pkcs11.CKF_USER_PIN_LOCKED, "USER_PIN_LOCKED"},
	{pkcs11.CKF_USER_PIN_TO_BE_CHANGED, "USER_PIN_TO_BE_CHANGED"},
	{pkcs11.CKF_SO_PIN_COUNT_LOW, "SO_PIN_COUNT_LOW"},
	{pkcs11.CKF_SO_PIN_FINAL_TRY, "SO_PIN_FINAL_TRY"},
	{pkcs11.CKF_SO_PIN_LOCKED, "SO_PIN_LOCKED"},
	{pkcs11.CKF_SO_PIN_TO_BE_CHANGED, "SO_PIN_TO_BE_CHANGED"},
}

func newTokenInfo(ti pkcs11.TokenInfo) TokenInfo {
	info := TokenInfo{
		Label:          strings.TrimRight(ti.Label, " \x00"),
		Serial:         strings.TrimRight(ti.SerialNumber, " \x00"),
		Manufacturer:   strings.TrimRight(ti.ManufacturerID, " \x00"),
		Model:          strings.TrimRight(ti.Model, " \x00"),
		Initialized:    ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED != 0,
		UserPINSet:     ti.Flags&pkcs11.CKF_USER_PIN_INITIALIZED != 0,
		LoginRequired:  ti.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0,
		WriteProtected: ti.Flags&pkcs11.CKF_WRITE_PROTECTED != 0,
		UserPINLocked:  ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0,
		SOPINLocked:    ti.Flags&pkcs11.CKF_SO_PIN_LOCKED != 0,
		HardwareRNG:    ti.Flags&pkcs11.CKF_RNG != 0,
		FirmwareVer:    fmt.Sprintf("%d.%d", ti.FirmwareVersion.Major, ti.FirmwareVersion.Minor),
		HardwareVer:    fmt.Sprintf("%d.%d", ti.HardwareVersion.Major, ti.HardwareVersion.Minor),
		Flags:          []string{},
	}
	for _, f := range tokenFlagNames {
		if ti.Flags&f.flag != 0 {
			info.Flags = append(info.Flags, f.name)
		}
	}
	return info
}

// MaxSessions is the number of PKCS#11 sessions a Token opens at most; it
// bounds how many signatures run in parallel.
const MaxSessions = 4

// Token is an open token. It is safe for concurrent use: every PKCS#11
// call runs on a session taken from the token's pool and given back after,
// so no session is ever used by two goroutines at once.
type Token struct {
	mod  *Module
	ctx  *pkcs11.Ctx
	slot uint
	info TokenInfo
	pool *sessionPool

	mu       sync.Mutex // guards loggedIn, keygen
	loggedIn bool
	keygen   sync.Mutex // serialises label check + generation
}

// OpenToken finds the one initialised token that matches sel and opens it.
// No match wraps ErrTokenNotFound, two tokens with the label asked for wrap
// ErrTokenAmbiguous (select by serial then).
func (m *Module) OpenToken(sel TokenSelector) (*Token, error) {
	if sel.Label == "" && sel.Serial == "" {
		return nil, fmt.Errorf("PKCS#11 module %q: %w: no token label or serial given (set KSK_TOKEN or --token)", m.path, ErrTokenNotFound)
	}
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("PKCS#11 module %q: %w", m.path, p11Error("C_GetSlotList", err))
	}
	var (
		found []uint
		infos []TokenInfo
	)
	for _, s := range slots {
		ti, err := m.ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		info := newTokenInfo(ti)
		if !info.Initialized {
			continue
		}
		if sel.Label != "" && info.Label != sel.Label {
			continue
		}
		if sel.Serial != "" && info.Serial != sel.Serial {
			continue
		}
		found = append(found, s)
		infos = append(infos, info)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s in PKCS#11 module %q: %w", sel, m.path, ErrTokenNotFound)
	case 1:
	default:
		serials := make([]string, len(infos))
		for i, ti := range infos {
			serials[i] = ti.Serial
		}
		return nil, fmt.Errorf("%s in PKCS#11 module %q: %w: %d tokens match (serials %s); select one by serial",
			sel, m.path, ErrTokenAmbiguous, len(found), strings.Join(serials, ", "))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("PKCS#11 module %q: %w: module closed", m.path, ErrModule)
	}
	t := &Token{mod: m, ctx: m.ctx, slot: found[0], info: infos[0]}
	t.pool = newSessionPool(m.ctx, found[0], MaxSessions)
	m.tokens[t] = struct{}{}
	return t, nil
}

// Info returns the token's information as it was when the token was opened.
func (t *Token) Info() TokenInfo { return t.info }

// Module returns the module the token was opened from.
func (t *Token) Module() *Module { return t.mod }

// LoggedIn reports whether Login succeeded on this token.
func (t *Token) LoggedIn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loggedIn
}

// Close logs out and closes the token's sessions. It is idempotent.
func (t *Token) Close() error {
	t.mu.Lock()
	wasIn := t.loggedIn
	t.loggedIn = false
	t.mu.Unlock()
	var errs []error
	if wasIn {
		err := t.pool.with(func(sh pkcs11.SessionHandle) error { return t.ctx.Logout(sh) })
		if err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_NOT_LOGGED_IN)) && !errors.Is(err, errPoolClosed) {
			errs = append(errs, fmt.Errorf("%s: %w", t.info, p11Error("C_Logout", err)))
		}
	}
	if err := t.pool.close(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", t.info, p11Error("C_CloseSession", err)))
	}
	t.mod.forget(t)
	return errors.Join(errs...)
}

// GenerateRandom returns n bytes from the token's random number generator.
func (t *Token) GenerateRandom(n int) ([]byte, error) {
	var out []byte
	err := t.pool.with(func(sh pkcs11.SessionHandle) error {
		var err error
		out, err = t.ctx.GenerateRandom(sh, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.info, p11Error("C_GenerateRandom", err))
	}
	if len(out) != n {
		return nil, fmt.Errorf("%s: %w: C_GenerateRandom returned %d bytes, want %d", t.info, ErrPKCS11, len(out), n)
	}
	return out, nil
}
