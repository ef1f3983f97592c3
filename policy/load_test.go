package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadExamples(t *testing.T) {
	tests := []struct {
		file string
		want *Policy
	}{
		{"testdata/root.yaml", Default()},
		{"testdata/legacy.yaml", Legacy()},
	}
	for _, tt := range tests {
		got, err := Load(tt.file)
		if err != nil {
			t.Fatalf("Load(%s): %v", tt.file, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Load(%s) =\n%+v\nwant\n%+v", tt.file, got, tt.want)
		}
	}
}

func TestParseOverlaysBase(t *testing.T) {
	p, err := Parse([]byte("request:\n  num_bundles: [8, 9]\n  rsa_approved_key_sizes: [4096]\nksk:\n  ttl: 3600\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Request.NumBundles = IntChoice{8, 9}
	want.Request.RSAApprovedKeySizes = []int{4096}
	want.KSK.TTL = 3600
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	// The base argument applies when the file names none; the file's base
	// key wins over it.
	p, err = Parse([]byte("request:\n  validate_signatures: false\n"), Legacy())
	if err != nil || p.Base != BaseLegacy || p.Request.ValidateSignatures || p.Request.ExpirationSlack.Std() != time.Second {
		t.Fatalf("legacy base: %+v, %v", p, err)
	}
	p, err = Parse([]byte("base: root\n"), Legacy())
	if err != nil || !reflect.DeepEqual(p, Default()) {
		t.Fatalf("base: root over Legacy: %+v, %v", p, err)
	}
	for _, empty := range []string{"", "# nothing\n", "---\n", "~\n"} {
		p, err := Parse([]byte(empty), nil)
		if err != nil || !reflect.DeepEqual(p, Default()) {
			t.Errorf("Parse(%q) = %+v, %v", empty, p, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		err  error
		path string // the YAML path (and line) the error must name
	}{
		{"unknown top-level key", "requests:\n  num_bundles: 9\n", ErrUnknownKey, "requests (line 1)"},
		{"unknown request key", "request:\n  num_bundles: 9\n  num_bundle: 9\n", ErrUnknownKey, "request.num_bundle (line 3)"},
		{"unknown key suggestion", "request:\n  check_chain_key: true\n", ErrUnknownKey, "did you mean request.check_chain_keys"},
		{"unknown ksk key", "ksk:\n  max_validity: P21D\n", ErrUnknownKey, "ksk.max_validity (line 2)"},
		{"bad duration", "request:\n  min_bundle_interval: 9 days\n", ErrDuration, "request.min_bundle_interval (line 2)"},
		{"month duration", "request:\n  max_cycle_inception_length: P3M\n", ErrDuration, "request.max_cycle_inception_length (line 2)"},
		{"year duration", "ksk:\n  retire_safety: P1Y\n", ErrDuration, "ksk.retire_safety (line 2)"},
		{"negative duration", "ksk:\n  retire_safety: -P1D\n", ErrDuration, "ksk.retire_safety (line 2)"},
		{"number as duration", "ksk:\n  retire_safety: 28\n", ErrDuration, "ksk.retire_safety (line 2)"},
		{"string as bool", "request:\n  validate_signatures: yes\n", ErrInvalid, "request.validate_signatures (line 2)"},
		{"string as int", "request:\n  signature_horizon_days: many\n", ErrInvalid, "request.signature_horizon_days (line 2)"},
		{"bad int choice", "request:\n  num_bundles: {a: 1}\n", ErrInvalid, "request.num_bundles (line 2)"},
		{"null value", "request:\n  num_bundles:\n", ErrInvalid, "request.num_bundles (line 2)"},
		{"section not a mapping", "request: [1, 2]\n", ErrInvalid, "request (line 1)"},
		{"duplicate key", "ksk:\n  ttl: 1\n  ttl: 2\n", ErrSyntax, "ksk.ttl (line 3)"},
		{"not a mapping", "- a\n- b\n", ErrSyntax, "line 1"},
		{"broken yaml", "request:\n  num_bundles: [9\n", ErrSyntax, "line"},
		{"two documents", "request: {}\n---\nksk: {}\n", ErrSyntax, "more than one"},
		{"min above max", "request:\n  min_bundle_interval: P20D\n", ErrInvalid, "request.min_bundle_interval"},
		{"unknown algorithm", "request:\n  approved_algorithms: [RSASHA256, RSA-MD6]\n", ErrInvalid, "request.approved_algorithms"},
		{"unknown base", "base: strict\n", ErrInvalid, "base (line 1)"},
		{"negative ttl", "ksk:\n  ttl: -1\n", ErrInvalid, "ksk.ttl (line 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.yaml), nil)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Parse = %+v, %v; want %v", p, err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("error %q does not name %q", err, tt.path)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, ErrRead) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("#"+strings.Repeat("x", MaxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.Is(err, ErrRead) {
		t.Fatalf("oversized file: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("request:\n  foo: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestParseAliases(t *testing.T) {
	p, err := Parse([]byte("ksk: &k\n  ttl: 3600\nx: 1\n"), nil)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key beside an anchor: %v, %v", p, err)
	}
	p, err = Parse([]byte("request:\n  rsa_approved_key_sizes: &s [2048, 4096]\n  num_keys_per_bundle: *s\n  num_bundles: 2\n"), nil)
	if err != nil || !reflect.DeepEqual(p.Request.NumKeysPerBundle, []int{2048, 4096}) {
		t.Fatalf("alias: %+v, %v", p, err)
	}
}
