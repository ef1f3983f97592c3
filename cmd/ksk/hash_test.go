package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runKSK runs the CLI in-process and returns its exit code and streams.
func runKSK(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func TestHashEmptyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runKSK(t, "", "hash", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"SHA-256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
		"PGP Words: tissue phonetic snowslide ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runKSK(t, "", "hash", "-o", "json", p, p)
	var got struct {
		Files []fileHash `json:"files"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Files) != 2 {
		t.Fatalf("json: exit %d, %q", code, out)
	}
	if len(strings.Fields(got.Files[0].PGPWords)) != 32 {
		t.Errorf("want 32 words, got %q", got.Files[0].PGPWords)
	}
}

func TestHashErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"missing file", []string{"hash", "/no/such/file"}, exitUsage},
		{"no argument", []string{"hash"}, exitUsage},
		{"bad output format", []string{"hash", "-o", "yaml", "/dev/null"}, exitUsage},
		{"unknown flag", []string{"hash", "--nope", "/dev/null"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runKSK(t, "", tt.args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d (%s)", code, tt.want, errOut)
			}
			if !strings.HasPrefix(errOut, "ksk: ") {
				t.Errorf("stderr %q lacks a reason", errOut)
			}
		})
	}
}
