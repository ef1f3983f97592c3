package quorum

import "errors"

// Sentinel errors. Every error of this package that concerns a credential
// wraps one of them; test with errors.Is.
var (
	// ErrQuorumNotMet means fewer than M distinct valid credentials were
	// presented.
	ErrQuorumNotMet = errors.New("quorum not met")
	// ErrDuplicate marks a credential of a holder (share index) already
	// counted.
	ErrDuplicate = errors.New("duplicate credential")
	// ErrUnknownHolder marks a credential whose holder is not in the roster.
	ErrUnknownHolder = errors.New("holder not in the roster")
	// ErrAltered marks a credential file that is malformed, fails age's
	// authentication, or whose signature does not verify; also a
	// reconstruction that does not match the split's commitment.
	ErrAltered = errors.New("credential altered or malformed")
	// ErrWrongPassphrase marks a credential the given passphrase does not
	// open. age cannot tell a wrong passphrase from an altered scrypt
	// stanza, so both are reported as this.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrNotPinned marks a credential file whose SHA-256 is not among the
	// pinned ones (OpenOptions.Pinned); it was not decrypted.
	ErrNotPinned = errors.New("credential not pinned")
	// ErrOtherSplit marks a valid credential issued for another roster or
	// another split of the same roster.
	ErrOtherSplit = errors.New("credential from another split")
	// ErrCustody marks a possession credential whose chain of custody is
	// not established: no custody step found it in the bag it was sealed
	// in. The quorum package does not raise it; a ceremony does.
	ErrCustody = errors.New("possession credential without its chain of custody")
	// ErrInvalidRoster marks a roster that cannot be used: bad M or N,
	// duplicate or malformed holder names, unknown roles.
	ErrInvalidRoster = errors.New("invalid roster")
	// ErrInvalidArgument marks other bad arguments: an empty secret, a
	// missing passphrase.
	ErrInvalidArgument = errors.New("invalid argument")
)

// reason is the short machine-readable name of a sentinel, used in
// results and JSON output.
func reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{ErrDuplicate, "duplicate"},
		{ErrUnknownHolder, "unknown-holder"},
		{ErrNotPinned, "not-pinned"},
		{ErrWrongPassphrase, "wrong-passphrase"},
		{ErrOtherSplit, "other-split"},
		{ErrCustody, "custody"},
		{ErrAltered, "altered"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	if err != nil {
		return "invalid"
	}
	return ""
}
