package yamlpath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestJoinAndSuggest(t *testing.T) {
	if got := Join("", "keys"); got != "keys" {
		t.Errorf("Join root = %q", got)
	}
	if got := Join("keys.ksk", "label"); got != "keys.ksk.label" {
		t.Errorf("Join = %q", got)
	}
	known := []string{"num_bundles", "validate_signatures", "acceptable_domains"}
	for key, want := range map[string]string{
		"num_bundle":       "num_bundles",
		"validate_sigs":    "",
		"acceptabledomain": "acceptable_domains",
		"":                 "",
	} {
		if got := Suggest(key, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestReadFile(t *testing.T) {
	errRead := errors.New("read")
	p := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 5, errRead); err != nil || string(b) != "12345" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := ReadFile(p, 4, errRead); !errors.Is(err, errRead) {
		t.Fatalf("oversized: %v", err)
	}
	if _, err := ReadFile(p+".missing", 4, errRead); !errors.Is(err, errRead) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}
