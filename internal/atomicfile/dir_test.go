package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteDir(t *testing.T) {
	base := t.TempDir()
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name      string
		prepare   func(dir string)
		overwrite bool
		wantErr   error
		want      string // content of a after
	}{
		{"new directory", func(string) {}, false, nil, "A"},
		{"empty directory there", func(d string) { os.Mkdir(d, 0o700) }, false, nil, "A"},
		{"directory with files", func(d string) { os.Mkdir(d, 0o700); os.WriteFile(filepath.Join(d, "old"), []byte("o"), 0o600) }, false, ErrExists, ""},
		{"directory with files, overwrite", func(d string) { os.Mkdir(d, 0o700); os.WriteFile(filepath.Join(d, "old"), []byte("o"), 0o600) }, true, nil, "A"},
		{"a file in the way", func(d string) { os.WriteFile(d, nil, 0o600) }, true, ErrExists, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(base, "d"+string(rune('0'+i)))
			tt.prepare(dir)
			err := WriteDir(dir, []string{"a", "b"}, [][]byte{[]byte("A"), []byte("B")}, 0o600, tt.overwrite)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if tt.want != "" {
				if got := read(filepath.Join(dir, "a")); got != tt.want {
					t.Errorf("a = %q", got)
				}
				if _, err := os.Stat(filepath.Join(dir, "old")); err == nil {
					t.Error("an old file survived the swap")
				}
			}
			left, _ := filepath.Glob(filepath.Join(base, ".d*.tmp-*"))
			if len(left) != 0 {
				t.Errorf("temporary directories left: %v", left)
			}
		})
	}
	if err := WriteDir(filepath.Join(base, "x"), []string{"../escape"}, [][]byte{nil}, 0o600, false); err == nil {
		t.Error("a name with a path was accepted")
	}
}
