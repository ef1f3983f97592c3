package attest

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error that Verify, Open or a Writer returns wraps
// at most one of them; test with errors.Is.
var (
	// ErrMalformed: a line is not a well-formed entry in canonical form
	// (bad JSON, unknown or missing field, not RFC 8785, too long).
	ErrMalformed = errors.New("malformed log entry")
	// ErrBrokenChain: an entry's sequence number or prev hash does not
	// follow from the entry before it (modification, insertion, deletion
	// or reordering).
	ErrBrokenChain = errors.New("hash chain broken")
	// ErrTruncated: the log ends early: its last line is torn (no newline),
	// or it ends before the head it was checked against.
	ErrTruncated = errors.New("log truncated")
	// ErrHeadMismatch: the log does not end at the head it was checked
	// against (it continues past it).
	ErrHeadMismatch = errors.New("head mismatch")
	// ErrBadSignature: a seal's or a witness's signature does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownKey: a signature verifies but under a key other than the
	// pinned attestation key or the allowed witness keys.
	ErrUnknownKey = errors.New("signer key not trusted")
	// ErrSecret: an entry would have carried something that looks like a
	// secret (a PIN, passphrase, share or private key); nothing was written.
	ErrSecret = errors.New("refusing to log a secret")
	// ErrControl: a logged value holds a control character (ESC, a
	// newline, a bidirectional override) that could change what a reader
	// of a transcript sees; nothing was written.
	ErrControl = errors.New("control character in a logged value")
	// ErrNotFinished: the log verifies as far as it goes but is not a
	// finished ceremony record: not sealed as its last entry, or not
	// signed off by every allowed witness after its last step that
	// changed anything.
	ErrNotFinished = errors.New("log not finished")
	// ErrCeremony: the log is not of the ceremony it was checked against
	// (another script, name or number).
	ErrCeremony = errors.New("log of another ceremony")
	// ErrClosed: the Writer was closed or failed an earlier write.
	ErrClosed = errors.New("log writer closed")
)

// EntryError locates a verification failure: the sequence number and the
// 1-based line of the first bad entry. It wraps one of the sentinel errors.
type EntryError struct {
	Seq   int64  // sequence number of the first bad entry; -1 if unknown
	Line  int    // 1-based line number in the file
	Check string // the check ID of the finding, e.g. "LOG-CHAIN"
	Err   error  // sentinel
	Msg   string // what is wrong, for a person
}

// Error formats the location and the reason.
func (e *EntryError) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.Where(), e.Err, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *EntryError) Unwrap() error { return e.Err }

// Where names the entry as "seq N, line L" (or "line L" when the sequence
// number is unknown).
func (e *EntryError) Where() string {
	if e.Seq < 0 {
		return fmt.Sprintf("line %d", e.Line)
	}
	return fmt.Sprintf("seq %d, line %d", e.Seq, e.Line)
}
