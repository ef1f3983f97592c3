package transparency

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrMalformed: an entry file is not a well-formed, canonical ksk Rekor
	// entry file.
	ErrMalformed = errors.New("malformed Rekor entry file")
	// ErrUnreachable: the Rekor server could not be reached, or kept
	// answering with server errors (5xx) through every retry.
	ErrUnreachable = errors.New("rekor server unreachable")
	// ErrRefused: the Rekor server refused the request (HTTP 4xx).
	ErrRefused = errors.New("rekor server refused the request")
	// ErrUnsupportedKey: the attestation key is not ECDSA P-256, which the
	// hashedrekord entries of ksk require (Rekor rejects pure Ed25519).
	ErrUnsupportedKey = errors.New("attestation key is not ECDSA P-256")
	// ErrInvalid: an entry (stored, or the server's answer) does not
	// verify. Every *VerifyError matches it, besides its own sentinel.
	ErrInvalid = errors.New("rekor entry does not verify")

	// ErrInclusion: the inclusion proof does not lead from the entry's
	// leaf hash to the proof's root hash.
	ErrInclusion = errors.New("inclusion proof does not verify")
	// ErrSET: the signed entry timestamp is not the pinned key's
	// signature over the entry.
	ErrSET = errors.New("signed entry timestamp does not verify")
	// ErrCheckpoint: the checkpoint is not signed by the pinned key, or
	// does not commit to the proof's root hash and tree size.
	ErrCheckpoint = errors.New("checkpoint does not verify")
	// ErrLogID: the entry's log ID is not the SHA-256 of the pinned key.
	ErrLogID = errors.New("log ID is not the pinned key's")
	// ErrBody: the entry body is not the expected hashedrekord (kind,
	// version, digest algorithm, public key), or the UUID is not its hash.
	ErrBody = errors.New("entry body is not a ksk hashedrekord")
	// ErrSignature: the signature in the body does not verify with the
	// public key in the body.
	ErrSignature = errors.New("entry signature does not verify")
	// ErrHead: the entry does not commit to the head it names, or that
	// head is not the hash of an entry of the log.
	ErrHead = errors.New("entry does not commit to a head of the log")
	// ErrKeyMismatch: the key in the entry is not the log's attestation
	// key.
	ErrKeyMismatch = errors.New("entry key is not the attestation key")
	// ErrMismatch: the server's answer, or the entry fetched from it,
	// differs from what was sent or stored.
	ErrMismatch = errors.New("entry differs from the one expected")
	// ErrConsistency: the stored checkpoint is not consistent with the
	// server's current one.
	ErrConsistency = errors.New("checkpoints are not consistent")
)

// VerifyError is a check that an entry failed: its check ID (a finding
// of ksk log verify), the specific sentinel, and what is wrong. It matches
// ErrInvalid and its sentinel with errors.Is.
type VerifyError struct {
	Check string // check ID, e.g. "LOG-REKOR-SET"
	Err   error  // one of the specific sentinels above
	Msg   string // what is wrong, for a person
}

// Error formats the sentinels and the reason.
func (e *VerifyError) Error() string { return fmt.Sprintf("%v (%v): %s", ErrInvalid, e.Err, e.Msg) }

// Unwrap returns the specific sentinel.
func (e *VerifyError) Unwrap() error { return e.Err }

// Is makes every VerifyError match ErrInvalid.
func (e *VerifyError) Is(target error) bool { return target == ErrInvalid }

func verr(check string, sentinel error, format string, args ...any) *VerifyError {
	return &VerifyError{Check: check, Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}
