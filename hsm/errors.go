package hsm

import (
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"
)

// Sentinel errors. Every error of this package wraps one of them (and, for
// a failed PKCS#11 call, the pkcs11.Error as well).
var (
	// ErrModule means the PKCS#11 module is missing, not loadable or
	// failed to initialise.
	ErrModule = errors.New("cannot use PKCS#11 module")
	// ErrTokenNotFound means no token matches the label or serial asked for.
	ErrTokenNotFound = errors.New("token not found")
	// ErrTokenAmbiguous means several tokens match the label asked for.
	ErrTokenAmbiguous = errors.New("token ambiguous")
	// ErrPINSource means the PIN could not be read from its source.
	ErrPINSource = errors.New("PIN unavailable")
	// ErrPINIncorrect means the token rejected the PIN.
	ErrPINIncorrect = errors.New("PIN incorrect")
	// ErrPINLocked means the PIN is locked, by the token or by ksk's own
	// failed-login counter.
	ErrPINLocked = errors.New("PIN locked")
	// ErrNotLoggedIn means an operation needs a login that has not happened.
	ErrNotLoggedIn = errors.New("not logged in")
	// ErrKeyNotFound means no key has the label asked for.
	ErrKeyNotFound = errors.New("key not found")
	// ErrKeyAmbiguous means two or more keys have the label asked for.
	ErrKeyAmbiguous = errors.New("key label ambiguous")
	// ErrLabelExists means a key generation was refused because an object
	// with that label is already on the token.
	ErrLabelExists = errors.New("label already exists")
	// ErrMechanism means the token does not support a mechanism ksk needs.
	ErrMechanism = errors.New("mechanism not supported")
	// ErrUnsupportedKey means a key exists but is not one ksk can use
	// (key type, curve, missing public key object).
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrKeyAttributes means a key's attributes, read back before it is
	// used, are no longer those of a sign-only key as ksk makes them (for
	// example CKA_DECRYPT turned on): ksk refuses to use it.
	ErrKeyAttributes = errors.New("key attributes not sign-only")
	// ErrSignatureInvalid means the HSM returned a signature that does not
	// verify against the key's public key; it is never returned to callers.
	ErrSignatureInvalid = errors.New("HSM signature failed verification")
	// ErrState means ksk's state directory (the failed-login counter) is
	// unusable.
	ErrState = errors.New("ksk state directory unusable")
	// ErrPKCS11 wraps any other failed PKCS#11 call.
	ErrPKCS11 = errors.New("PKCS#11 call failed")
	// ErrInvalidArgument means the caller asked for something malformed
	// (unknown algorithm, bad key size, unparsable PIN source): a usage
	// error rather than an HSM one.
	ErrInvalidArgument = errors.New("invalid argument")
)

// p11Error classifies a failed PKCS#11 call: it wraps both a sentinel and
// the pkcs11.Error, and reads "sentinel (C_Fn: CKR_...)".
func p11Error(fn string, err error) error {
	if err == nil {
		return nil
	}
	var code pkcs11.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("%w (%s: %w)", ErrPKCS11, fn, err)
	}
	sentinel := ErrPKCS11
	switch code {
	case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
		sentinel = ErrPINIncorrect
	case pkcs11.CKR_PIN_LOCKED, pkcs11.CKR_PIN_EXPIRED:
		sentinel = ErrPINLocked
	case pkcs11.CKR_USER_NOT_LOGGED_IN:
		sentinel = ErrNotLoggedIn
	case pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_MECHANISM_PARAM_INVALID,
		pkcs11.CKR_CURVE_NOT_SUPPORTED, pkcs11.CKR_DOMAIN_PARAMS_INVALID,
		pkcs11.CKR_KEY_SIZE_RANGE, pkcs11.CKR_KEY_TYPE_INCONSISTENT,
		pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED:
		sentinel = ErrMechanism
	case pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
		pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_SLOT_ID_INVALID:
		sentinel = ErrTokenNotFound
	}
	return fmt.Errorf("%w (%s: %w)", sentinel, fn, code)
}

// isSessionGone reports whether err means the session can no longer be used.
func isSessionGone(err error) bool {
	var code pkcs11.Error
	if !errors.As(err, &code) {
		return false
	}
	switch code {
	case pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED,
		pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT,
		pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED:
		return true
	}
	return false
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}
