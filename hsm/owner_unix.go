//go:build unix

package hsm

import (
	"io/fs"
	"syscall"
)

// fileOwner returns the uid owning a file, when the platform says.
func fileOwner(st fs.FileInfo) (int, bool) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), true
	}
	return 0, false
}
