package backup

import "errors"

// Sentinel errors. Every error of this package that is not an HSM's or a
// quorum's wraps one of them; test with errors.Is. HSM errors (package
// hsm's sentinels) and quorum errors (quorum.ErrQuorumNotMet, ...) are
// passed on wrapped.
var (
	// ErrMalformed means a backup file is not a well-formed backup: not
	// JSON, truncated, too large, unknown or duplicate fields, a field out
	// of range.
	ErrMalformed = errors.New("malformed backup file")
	// ErrAltered means a backup file's fields do not agree with each other
	// (public key, DNSKEY, key tag, DS, reference signature), or its MAC or
	// KEK commitment does not verify with the reconstructed KEK.
	ErrAltered = errors.New("backup file altered or damaged")
	// ErrOtherBackup means the roster or the credentials presented belong
	// to another backup (another roster or another split).
	ErrOtherBackup = errors.New("roster or credentials of another backup")
	// ErrMismatch means the restored key is not the key that was backed
	// up: another public key, DNSKEY or key tag, or a reference signature
	// that differs or does not verify.
	ErrMismatch = errors.New("restored key does not match the backup")
	// ErrNotBackupable means the key was not generated backup-able (it is
	// not extractable) and can never be backed up.
	ErrNotBackupable = errors.New("key is not backup-able")
	// ErrUnsafeAttributes means the target token did not give the restored
	// key the attributes asked for (sensitive, not extractable, sign-only).
	ErrUnsafeAttributes = errors.New("restored key has unsafe attributes")
	// ErrInvalidArgument means the caller asked for something malformed: an
	// empty label, a roster whose holders are not recovery key share
	// holders, a missing passphrase, a work factor out of range.
	ErrInvalidArgument = errors.New("invalid argument")
)
