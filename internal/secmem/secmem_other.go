//go:build !linux

package secmem

import (
	"fmt"
	"runtime"
)

func protect() (Status, error) {
	return Status{}, fmt.Errorf("%w: not implemented on %s", ErrUnprotected, runtime.GOOS)
}

func lock([]byte) bool { return false }

func unlock([]byte) {}
