// Package atomicfile writes output files so that a reader never sees a
// partial file: the data goes to a temporary file in the same directory,
// which is fsynced and then renamed into place, and the directory is fsynced
// so the rename survives a crash.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned by Write when the destination exists and overwrite
// was not asked for.
var ErrExists = errors.New("file exists (use --force to overwrite)")

// Write writes data to path atomically with the given permissions. Unless
// overwrite is true, an existing path is left alone and ErrExists returned.
// On any error the destination is untouched and no temporary file remains.
func Write(path string, data []byte, perm fs.FileMode, overwrite bool) (err error) {
	if !overwrite {
		if _, statErr := os.Lstat(path); statErr == nil {
			return fmt.Errorf("%s: %w", path, ErrExists)
		} else if !errors.Is(statErr, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", path, statErr)
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if !overwrite {
		// Link fails if path appeared since the check above, so a
		// concurrent writer is never clobbered.
		if err = os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				err = fmt.Errorf("%s: %w", path, ErrExists)
			} else {
				err = fmt.Errorf("link %s: %w", path, err)
			}
			return err
		}
		os.Remove(tmp.Name())
	} else if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	// The new name is durable only once the directory is: a failure here
	// is reported (the file is in place, but a crash could lose it).
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("%s written, but not durably: %w", path, err)
	}
	return nil
}

// WriteAll writes data[i] to paths[i], each atomically, as one output:
// without overwrite none is written when any exists (ErrExists), and if a
// write fails the files this call created are removed again (with
// overwrite, files it replaced stay replaced).
func WriteAll(paths []string, data [][]byte, perm fs.FileMode, overwrite bool) error {
	existed := make([]bool, len(paths))
	for i, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			if !overwrite {
				return fmt.Errorf("%s: %w; nothing written", p, ErrExists)
			}
			existed[i] = true
		}
	}
	for i, p := range paths {
		if err := Write(p, data[i], perm, overwrite); err != nil {
			errs := []error{err}
			for j := range i {
				if !existed[j] {
					errs = append(errs, os.Remove(paths[j]))
				}
			}
			return errors.Join(errs...)
		}
	}
	return nil
}

// CheckFree returns an error wrapping ErrExists when path exists, so that a
// command can refuse an output before doing any work; Write checks again.
// Any other error (a missing directory, no permission) is left to Write to
// report, and CheckFree returns nil.
func CheckFree(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	return nil
}
