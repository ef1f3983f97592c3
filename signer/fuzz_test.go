package signer_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksk-dev/ksk/signer"
)

// FuzzLoadConfig: the configuration parser never panics; what it accepts
// is consistent (every schema valid against the keys, the policy valid);
// every error it returns is a ConfigError wrapping a sentinel.
func FuzzLoadConfig(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(repo, "scripts", "signer", "*.yaml"))
	golden, _ := filepath.Glob(filepath.Join(repo, "testdata", "golden", "*.yaml"))
	for _, p := range append(files, golden...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "{}", "keys: {}", baseKeys + okSchema,
		baseKeys + "standard_schemas: {current: a, next: b, slots: 3}\n",
		baseKeys + "schemas:\n  s:\n    1: &x {publish: a, sign: a}\n    2: *x\n",
		"a: &a [*a]\n", "hsm:\n  pin_source: 1234\n",
		baseKeys + okSchema + "request_policy: {num_bundles: [1, 2]}\nksk_policy: {ttl: 1}\n",
	} {
		f.Add([]byte(s))
	}
	sentinels := []error{signer.ErrRead, signer.ErrSyntax, signer.ErrUnknownKey, signer.ErrInvalid}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := signer.ParseConfig(data)
		if err != nil {
			if c != nil {
				t.Fatal("a configuration with an error")
			}
			for _, e := range unjoin(err) {
				var ce *signer.ConfigError
				if !errors.As(e, &ce) {
					t.Fatalf("%T %v is not a ConfigError", e, e)
				}
				ok := false
				for _, s := range sentinels {
					ok = ok || errors.Is(e, s)
				}
				if !ok {
					t.Fatalf("%v wraps no sentinel", e)
				}
			}
			return
		}
		if len(c.Keys) == 0 || len(c.Schemas) == 0 {
			t.Fatal("accepted a configuration without keys or schemas")
		}
		if err := c.Policy.Validate(); err != nil {
			t.Fatalf("accepted an invalid policy: %v", err)
		}
		for _, name := range c.SchemaNames() {
			s, _ := c.Schema(name)
			if err := s.Validate(c.Keys); err != nil {
				t.Fatalf("accepted schema %s: %v", name, err)
			}
		}
		for name, k := range c.Keys {
			if k.Label == "" || k.Algorithm == 0 || k.Size == 0 || len(k.DSSHA256) != 64 || k.ValidFrom.IsZero() || k.Name != name {
				t.Fatalf("accepted key %s: %+v", name, k)
			}
		}
	})
}
