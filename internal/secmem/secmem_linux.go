//go:build linux

package secmem

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func protect() (Status, error) {
	var st Status
	var errs []error
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		errs = append(errs, fmt.Errorf("RLIMIT_CORE: %w", err))
	} else {
		st.CoreLimitZero = true
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		errs = append(errs, fmt.Errorf("PR_SET_DUMPABLE: %w", err))
	} else {
		st.NotDumpable = true
	}
	if len(errs) > 0 {
		return st, fmt.Errorf("%w: %v", ErrUnprotected, errs)
	}
	return st, nil
}

func lock(b []byte) bool { return unix.Mlock(b) == nil }

func unlock(b []byte) { _ = unix.Munlock(b) }
