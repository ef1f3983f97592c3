// Package secmem keeps a process's secrets (PINs, passphrases, shares, the
// quorum's secret) out of core dumps and swap where the platform allows:
// Protect turns core dumps off and makes the process non-dumpable, which
// also stops a process of the same user from attaching with ptrace and
// reading its memory; Lock pins a secret's pages in RAM. Wiping is the
// caller's (clear): Go gives no guarantee that no copy is left behind by
// the garbage collector, which is why Protect matters.
package secmem

import "errors"

// ErrUnprotected means the protections could not be set; the error says
// which, and the caller decides whether to go on.
var ErrUnprotected = errors.New("secret memory protections not set")

// Status reports what Protect set.
type Status struct {
	// CoreLimitZero: RLIMIT_CORE is 0, soft and hard, so no core file.
	CoreLimitZero bool
	// NotDumpable: PR_SET_DUMPABLE is 0: no core dump, no same-user
	// ptrace, /proc/PID/mem and friends owned by root.
	NotDumpable bool
	// Disabled: a test build switched the protections off (see
	// EnvUnprotected); never true in a release build.
	Disabled bool
}

// Protect sets the protections for the whole process, once, at start. It
// returns what it set, and an error wrapping ErrUnprotected when one could
// not be set.
func Protect() (Status, error) {
	if disabled() {
		return Status{Disabled: true}, nil
	}
	return protect()
}

// Lock pins the pages holding b in RAM (mlock), so that a secret is never
// written to swap; it is best effort (RLIMIT_MEMLOCK may refuse) and
// reports whether it succeeded. Unlock undoes it; the caller wipes b first.
func Lock(b []byte) bool { return len(b) > 0 && lock(b) }

// Unlock undoes Lock.
func Unlock(b []byte) {
	if len(b) > 0 {
		unlock(b)
	}
}
