package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.xml")
	if err := Write(p, []byte("one"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two"), 0o644, false); !errors.Is(err, ErrExists) {
		t.Fatalf("second write without overwrite: got %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("file changed by refused write: %q", b)
	}
	if err := Write(p, []byte("two"), 0o600, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("overwrite: got %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestWriteMissingDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "dir", "f")
	if err := Write(p, []byte("x"), 0o644, false); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func TestCheckFree(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "there")
	if err := os.WriteFile(existing, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path   string
		exists bool
	}{
		{existing, true},
		{link, true}, // a dangling symlink is not free: Write would not follow it
		{filepath.Join(dir, "free"), false},
		{filepath.Join(dir, "no-such-dir", "f"), false}, // left to Write to report
	} {
		err := CheckFree(tt.path)
		if got := errors.Is(err, ErrExists); got != tt.exists || (!tt.exists && err != nil) {
			t.Errorf("CheckFree(%s) = %v, want exists=%v", tt.path, err, tt.exists)
		}
	}
}

// TestWriteDirSyncFails: a directory fsync that fails is reported, not
// dropped, since a crash could then lose the new name.
func TestWriteDirSyncFails(t *testing.T) {
	boom := errors.New("injected fsync failure")
	saved := syncDir
	syncDir = func(string) error { return boom }
	t.Cleanup(func() { syncDir = saved })
	path := filepath.Join(t.TempDir(), "out.xml")
	err := Write(path, []byte("x"), 0o644, false)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "not durably") {
		t.Fatalf("Write: %v, want the fsync failure", err)
	}
}
