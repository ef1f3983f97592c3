package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteDir writes the files names[i] with data[i] into a new directory dir
// as one output: they go into a temporary directory beside dir, each
// fsynced, which is then renamed to dir, so that a crash leaves either no
// dir (or the empty one there before) or all of the files, never some.
// dir may exist only empty, unless overwrite: a directory with files is
// then swapped for the new one in one step (renameat2 RENAME_EXCHANGE)
// and the old one removed. names are plain file names.
func WriteDir(dir string, names []string, data [][]byte, perm fs.FileMode, overwrite bool) (err error) {
	if len(names) != len(data) {
		return fmt.Errorf("write %s: %d names, %d contents", dir, len(names), len(data))
	}
	for _, n := range names {
		if n == "" || n != filepath.Base(n) || n == "." || n == ".." {
			return fmt.Errorf("write %s: %q is not a plain file name", dir, n)
		}
	}
	swap := false
	if st, lerr := os.Lstat(dir); lerr == nil {
		if !st.IsDir() {
			return fmt.Errorf("%s: %w (not a directory)", dir, ErrExists)
		}
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			return fmt.Errorf("%s: %w", dir, rerr)
		}
		if len(entries) > 0 {
			if !overwrite {
				return fmt.Errorf("%s: %w: the directory holds %d files", dir, ErrExists, len(entries))
			}
			swap = true
		}
	} else if !errors.Is(lerr, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", dir, lerr)
	}
	parent := filepath.Dir(dir)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary directory for %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	for i, n := range names {
		if err = writeSynced(filepath.Join(tmp, n), data[i], perm); err != nil {
			return err
		}
	}
	if err = syncDir(tmp); err != nil {
		return err
	}
	if swap {
		if err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE); err != nil {
			return fmt.Errorf("exchange %s with the new files: %w", dir, err)
		}
		// tmp now holds the old files.
		syncDir(parent)
		if rerr := os.RemoveAll(tmp); rerr != nil {
			return fmt.Errorf("the new %s is in place, but removing the old files in %s failed: %w", dir, tmp, rerr)
		}
		return nil
	}
	// rename(2) itself, not os.Rename, which refuses any directory in the
	// way: the kernel replaces an empty one atomically.
	if err = unix.Rename(tmp, dir); err != nil {
		return fmt.Errorf("rename to %s: %w", dir, err)
	}
	return syncDir(parent)
}

func writeSynced(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return f.Close()
}

// SyncDir fsyncs directory dir, so that the names created or renamed in
// it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// syncDir is SyncDir, a variable so that tests can make it fail.
var syncDir = SyncDir
