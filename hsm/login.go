package hsm

import (
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"
)

// LoginOptions say where a PIN comes from and how failed logins are
// counted.
type LoginOptions struct {
	// PIN is the PIN source; its zero value means DefaultPINSource.
	PIN PINSource
	// Prompter asks for the PIN when PIN is prompt; nil refuses prompt.
	Prompter Prompter
	// Counter counts failed logins; nil means DefaultFailureCounter().
	Counter *FailureCounter
	// Secret, when not empty, is the PIN itself, held in memory by the
	// caller (a ceremony reconstructs it from a quorum of crypto officer
	// credentials); PIN and Prompter are then not used. The caller wipes it.
	Secret []byte
}

func (o LoginOptions) counter() (*FailureCounter, error) {
	if o.Counter != nil {
		return o.Counter, nil
	}
	return DefaultFailureCounter()
}

func (o LoginOptions) source() PINSource {
	if o.PIN.Kind == 0 {
		s, _ := ParsePINSource(DefaultPINSource)
		return s
	}
	return o.PIN
}

// Login logs the normal user in with the PIN from opts.PIN, counting
// failures in opts.Counter. A wrong PIN wraps ErrPINIncorrect; once the
// counter reaches its limit, or if the token itself locked the PIN, the
// error wraps ErrPINLocked and C_Login is not called again. Logging in a
// token that is already logged in through this Token does nothing.
func (t *Token) Login(opts LoginOptions) error {
	if t.LoggedIn() {
		return nil
	}
	if err := t.login(User, opts); err != nil {
		return err
	}
	t.mu.Lock()
	t.loggedIn = true
	t.mu.Unlock()
	return nil
}

func (t *Token) login(u UserType, opts LoginOptions) error {
	who := "as user"
	cku := uint(pkcs11.CKU_USER)
	if u == SecurityOfficer {
		who = "as security officer"
		cku = pkcs11.CKU_SO
	}
	fail := func(err error) error { return fmt.Errorf("login to %s %s: %w", t.info, who, err) }

	counter, err := opts.counter()
	if err != nil {
		return fail(err)
	}
	// Refuse before asking for a PIN that would not be tried anyway.
	if st, err := counter.State(t.info, u); err != nil {
		return fail(err)
	} else if st.Locked() {
		return fail(t.lockedError(st, u))
	}
	pin := opts.Secret
	if len(pin) == 0 {
		if pin, err = opts.source().Read(opts.Prompter, fmt.Sprintf("%s %s", t.info, who)); err != nil {
			return fail(err)
		}
		defer clear(pin)
	}
	st, err := counter.attempt(t.info, u, func() error {
		return t.pool.with(func(sh pkcs11.SessionHandle) error {
			// miekg/pkcs11 takes the PIN as a string: this conversion is
			// the one copy ksk cannot wipe (docs/threat-model.md).
			return p11Error("C_Login", t.ctx.Login(sh, cku, string(pin)))
		})
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errCounterLocked):
		return fail(t.lockedError(st, u))
	case errors.Is(err, ErrPINIncorrect):
		if left := st.Limit - st.Failures; left > 0 {
			return fail(fmt.Errorf("%w; ksk counted %d of %d failed logins in a row before it stops trying", err, st.Failures, st.Limit))
		}
		how := `a security officer runs "ksk hsm unlock"`
		if u == SecurityOfficer {
			how = "the counter file " + st.Path + " is removed by hand"
		}
		return fail(fmt.Errorf("%w; that was failed login %d of %d: ksk will not try again until %s", err, st.Failures, st.Limit, how))
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)),
		errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN)):
		return fail(fmt.Errorf("%w; the token is already logged in through another handle in this process: close it first", err))
	case errors.Is(err, errPoolClosed):
		return fail(fmt.Errorf("%w: token closed", ErrTokenNotFound))
	}
	return fail(err)
}

func (t *Token) lockedError(st FailureState, u UserType) error {
	how := `until a security officer runs "ksk hsm unlock"`
	if u == SecurityOfficer {
		how = fmt.Sprintf("until the counter file %s is removed by hand", st.Path)
	}
	return fmt.Errorf("%w: ksk counted %d failed logins in a row (limit %d) and will not try again %s",
		ErrPINLocked, st.Failures, st.Limit, how)
}

// Logout ends the user's login. Closing the token also logs out.
func (t *Token) Logout() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.loggedIn {
		return nil
	}
	t.loggedIn = false
	err := t.pool.with(func(sh pkcs11.SessionHandle) error { return t.ctx.Logout(sh) })
	if err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_NOT_LOGGED_IN)) {
		return fmt.Errorf("%s: %w", t.info, p11Error("C_Logout", err))
	}
	return nil
}

// UnlockOptions configure Token.Unlock.
type UnlockOptions struct {
	// SO is the security officer's login; its Counter is also the one
	// whose user count Unlock resets.
	SO LoginOptions
	// NewUserPIN, when set, is the source of a new user PIN that the
	// security officer sets with C_InitPIN.
	NewUserPIN *PINSource
}

// Unlock resets ksk's failed-login count of the token's user after the
// security officer proves their PIN (C_Login as CKU_SO, counted like user
// logins), optionally setting a new user PIN first. It logs the security
// officer out before returning, and reports a failed logout (the token
// would stay open to security-officer operations). The token must not be
// logged in as user.
func (t *Token) Unlock(opts UnlockOptions) (err error) {
	if t.LoggedIn() {
		return fmt.Errorf("unlock %s: %w: log the user out first", t.info, ErrInvalidArgument)
	}
	counter, err := opts.SO.counter()
	if err != nil {
		return fmt.Errorf("unlock %s: %w", t.info, err)
	}
	so := opts.SO
	so.Counter = counter
	var newPIN []byte
	if opts.NewUserPIN != nil {
		// Read before the SO login so a missing PIN fails early.
		if newPIN, err = opts.NewUserPIN.Read(so.Prompter, fmt.Sprintf("%s new user", t.info)); err != nil {
			return fmt.Errorf("unlock %s: %w", t.info, err)
		}
		defer clear(newPIN)
	}
	if err := t.login(SecurityOfficer, so); err != nil {
		return err
	}
	defer func() {
		lerr := t.pool.with(func(sh pkcs11.SessionHandle) error { return t.ctx.Logout(sh) })
		if lerr != nil && err == nil {
			err = fmt.Errorf("unlock %s: security officer logout: %w", t.info, p11Error("C_Logout", lerr))
		}
	}()
	if opts.NewUserPIN != nil {
		err := t.pool.with(func(sh pkcs11.SessionHandle) error { return t.ctx.InitPIN(sh, string(newPIN)) })
		if err != nil {
			return fmt.Errorf("unlock %s: set user PIN: %w", t.info, p11Error("C_InitPIN", err))
		}
	}
	if err := counter.Reset(t.info, User); err != nil {
		return fmt.Errorf("unlock %s: %w", t.info, err)
	}
	return nil
}

// PINFailures returns ksk's failed-login count for the token's user.
func (t *Token) PINFailures(c *FailureCounter) (FailureState, error) {
	if c == nil {
		var err error
		if c, err = DefaultFailureCounter(); err != nil {
			return FailureState{}, err
		}
	}
	return c.State(t.info, User)
}

// ChangePIN changes the logged-in user's PIN from oldPIN to newPIN
// (C_SetPIN), so that whatever held the old PIN (the credentials of a
// quorum, re-issued) opens nothing any more. The token stays logged in.
// A wrong old PIN wraps ErrPINIncorrect; it is not counted, as the user
// is logged in already. The caller wipes both PINs.
func (t *Token) ChangePIN(oldPIN, newPIN []byte) error {
	if err := t.requireLogin("change the user PIN"); err != nil {
		return err
	}
	if len(newPIN) == 0 {
		return fmt.Errorf("change the user PIN of %s: %w: empty new PIN", t.info, ErrInvalidArgument)
	}
	err := t.pool.with(func(sh pkcs11.SessionHandle) error {
		return p11Error("C_SetPIN", t.ctx.SetPIN(sh, string(oldPIN), string(newPIN)))
	})
	if err != nil {
		return fmt.Errorf("change the user PIN of %s: %w", t.info, err)
	}
	return nil
}
