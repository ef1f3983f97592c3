package signer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/signer"
)

// repo is the repository root, from the package directory.
const repo = ".."

func TestExampleConfigsLoad(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repo, "scripts", "signer", "*.yaml"))
	golden, _ := filepath.Glob(filepath.Join(repo, "testdata", "golden", "*.yaml"))
	files = append(files, golden...)
	if len(files) < 5 {
		t.Fatalf("found only %d example configurations", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := signer.LoadConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range c.SchemaNames() {
				s, _ := c.Schema(name)
				if err := s.Validate(c.Keys); err != nil {
					t.Errorf("schema %s: %v", name, err)
				}
			}
		})
	}
}

func TestRootExamples(t *testing.T) {
	c, err := signer.LoadConfig(filepath.Join(repo, "scripts", "signer", "root-2024-rollover.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	std, err := signer.StandardSchemas("ksk_2017", "ksk_2024", 9)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"normal", "pre-publish", "publish+", "rollover", "revoke", "post-revoke"} {
		got, err := c.Schema(name)
		if err != nil {
			t.Fatal(err)
		}
		if !sameSlots(got.Slots, std[name].Slots) {
			t.Errorf("schema %s of root-2024-rollover.yaml differs from StandardSchemas:\n%+v\n%+v", name, got.Slots, std[name].Slots)
		}
	}
	k := c.Keys["ksk_2024"]
	if k.KeyTag != 38696 || k.Label != "Kmyv6jo" || k.Algorithm != hsm.RSASHA256 || k.Size != 2048 || k.RSAExponent != 65537 {
		t.Errorf("ksk_2024: %+v", k)
	}
	if c.Policy.KSK != policy.Default().KSK {
		t.Errorf("ksk policy %+v is not the default", c.Policy.KSK)
	}

	c17, err := signer.LoadConfig(filepath.Join(repo, "scripts", "signer", "root-2017-rollover.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(c17.SchemaNames(), " "); names != "normal post-revoke pre-publish publish+ revoke rollover rollover+" {
		t.Errorf("standard_schemas gave %s", names)
	}
	alg, err := signer.LoadConfig(filepath.Join(repo, "scripts", "signer", "algorithm-rollover.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(alg.SchemaNames(), " "); names != "algorithm-double-sign algorithm-pre-publish algorithm-revoke normal post-revoke" {
		t.Errorf("standard_schemas for two algorithms gave %s", names)
	}
}

func sameSlots(a, b []signer.Slot) bool {
	if len(a) != len(b) {
		return false
	}
	eq := func(x, y []string) bool { return strings.Join(x, ",") == strings.Join(y, ",") }
	for i := range a {
		if !eq(a[i].Publish, b[i].Publish) || !eq(a[i].Sign, b[i].Sign) || !eq(a[i].Revoke, b[i].Revoke) {
			return false
		}
	}
	return true
}

const baseKeys = `keys:
  a:
    label: ksk-a
    key_tag: 25486
    algorithm: RSASHA256
    rsa_size: 2048
    valid_from: 2010-07-15T00:00:00Z
    ds_sha256: 6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C20
  b:
    label: ksk-b
    key_tag: 33946
    algorithm: RSASHA256
    rsa_size: 2048
    valid_from: 2010-07-15T00:00:00Z
    ds_sha256: 26E0FCF345CC3268FB4EF4FD3A8571EBD5ED55022371A86D01E4D7A94A81F4AB
`

const okSchema = `schemas:
  s:
    1: {publish: a, sign: a}
    2: {publish: [a, b], sign: a}
`

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		path     string // the YAML path the error names
		line     int    // its line, 0 to skip
		sentinel error
	}{
		{"unknown top key", baseKeys + okSchema + "ksk_polcy:\n  ttl: 1\n", "ksk_polcy", 20, signer.ErrUnknownKey},
		{"filenames", baseKeys + okSchema + "filenames:\n  input_ksr: x\n", "filenames", 20, signer.ErrUnknownKey},
		{"hsm pin", "hsm:\n  pin: 123456\n" + baseKeys + okSchema, "hsm.pin", 2, signer.ErrUnknownKey},
		{"hsm bad pin source", "hsm:\n  pin_source: secret\n" + baseKeys + okSchema, "hsm.pin_source", 2, signer.ErrInvalid},
		{"hsm module not a string", "hsm:\n  module: [a]\n" + baseKeys + okSchema, "hsm.module", 2, signer.ErrInvalid},
		{"key unknown field", strings.Replace(baseKeys, "    rsa_size: 2048\n", "    rsa_size: 2048\n    rsa_sise: 2048\n", 1) + okSchema, "keys.a.rsa_sise", 7, signer.ErrUnknownKey},
		{"key missing label", strings.Replace(baseKeys, "    label: ksk-a\n", "", 1) + okSchema, "keys.a.label", 2, signer.ErrInvalid},
		{"key bad algorithm", strings.Replace(baseKeys, "RSASHA256", "RSASHA1", 1) + okSchema, "keys.a.algorithm", 5, signer.ErrInvalid},
		{"key tag out of range", strings.Replace(baseKeys, "25486", "70000", 1) + okSchema, "keys.a.key_tag", 4, signer.ErrInvalid},
		{"key tag a string", strings.Replace(baseKeys, "25486", `"25486"`, 1) + okSchema, "keys.a.key_tag", 4, signer.ErrInvalid},
		{"bad ds", strings.Replace(baseKeys, "6E7DF8A5", "XYZ", 1) + okSchema, "keys.a.ds_sha256", 8, signer.ErrInvalid},
		{"bad valid_from", strings.Replace(baseKeys, "2010-07-15T00:00:00Z", "July 2010", 1) + okSchema, "keys.a.valid_from", 7, signer.ErrInvalid},
		{"valid_until before valid_from", strings.Replace(baseKeys, "    rsa_size: 2048\n", "    rsa_size: 2048\n    valid_until: 2009-01-01T00:00:00Z\n", 1) + okSchema, "keys.a.valid_until", 7, signer.ErrInvalid},
		{"rsa without size", strings.Replace(baseKeys, "    rsa_size: 2048\n", "", 1) + okSchema, "keys.a.rsa_size", 2, signer.ErrInvalid},
		{"size and rsa_size disagree", strings.Replace(baseKeys, "    rsa_size: 2048\n", "    rsa_size: 2048\n    size: 4096\n", 1) + okSchema, "keys.a.rsa_size", 6, signer.ErrInvalid},
		{"even exponent", strings.Replace(baseKeys, "    rsa_size: 2048\n", "    rsa_size: 2048\n    rsa_exponent: 65536\n", 1) + okSchema, "keys.a.rsa_exponent", 7, signer.ErrInvalid},
		{"ecdsa with rsa size", strings.Replace(baseKeys, "    algorithm: RSASHA256\n    rsa_size: 2048\n", "    algorithm: ECDSAP256SHA256\n    size: 384\n", 1) + okSchema, "keys.a.size", 6, signer.ErrInvalid},
		{"same label", strings.Replace(baseKeys, "ksk-b", "ksk-a", 1) + okSchema, "keys.b.label", 9, signer.ErrInvalid},
		{"duplicate key", baseKeys + okSchema + "schemas:\n  t:\n    1: {publish: a, sign: a}\n", "schemas", 20, signer.ErrSyntax},
		{"undefined key", baseKeys + "schemas:\n  s:\n    1: {publish: a, sign: c}\n", "schemas.s.1.sign", 18, signer.ErrInvalid},
		{"slot gap", baseKeys + "schemas:\n  s:\n    1: {publish: a, sign: a}\n    3: {publish: a, sign: a}\n", "schemas.s", 17, signer.ErrInvalid},
		{"slot zero", baseKeys + "schemas:\n  s:\n    0: {publish: a, sign: a}\n", "schemas.s.0", 18, signer.ErrInvalid},
		{"slot not a number", baseKeys + "schemas:\n  s:\n    one: {publish: a, sign: a}\n", "schemas.s.one", 18, signer.ErrInvalid},
		{"slot unknown list", baseKeys + "schemas:\n  s:\n    1: {publish: a, sign: a, retire: b}\n", "schemas.s.1.retire", 18, signer.ErrUnknownKey},
		{"revoked and published", baseKeys + "schemas:\n  s:\n    1: {publish: [a, b], revoke: a, sign: b}\n", "schemas.s.1.revoke", 18, signer.ErrInvalid},
		{"no signer", baseKeys + "schemas:\n  s:\n    1: {publish: a}\n", "schemas.s.1.sign", 0, signer.ErrInvalid},
		{"signer not published", baseKeys + "schemas:\n  s:\n    1: {publish: a, sign: [a, b]}\n", "schemas.s.1.sign", 18, signer.ErrInvalid},
		{"only revoked signer", baseKeys + "schemas:\n  s:\n    1: {publish: b, revoke: a, sign: a}\n", "schemas.s.1.sign", 18, signer.ErrInvalid},
		{"listed twice", baseKeys + "schemas:\n  s:\n    1: {publish: [a, a], sign: a}\n", "schemas.s.1.publish", 18, signer.ErrInvalid},
		{"no schemas", baseKeys, "schemas", 0, signer.ErrInvalid},
		{"no keys", "keys: {}\n" + okSchema, "keys", 1, signer.ErrInvalid},
		{"policy unknown key", baseKeys + okSchema + "request_policy:\n  num_bundle: 9\n", "request_policy.num_bundle", 21, signer.ErrUnknownKey},
		{"policy bad duration", baseKeys + okSchema + "ksk_policy:\n  retire_safety: P1M\n", "ksk_policy.retire_safety", 21, signer.ErrInvalid},
		{"policy yes is not true", baseKeys + okSchema + "request_policy:\n  validate_signatures: yes\n", "request_policy.validate_signatures", 21, signer.ErrInvalid},
		{"policy min above max", baseKeys + okSchema + "ksk_policy:\n  min_signature_validity: P30D\n", "ksk_policy.min_signature_validity", 21, policy.ErrInvalid},
		{"standard unknown key", baseKeys + "standard_schemas:\n  current: a\n  next: c\n", "standard_schemas.next", 18, signer.ErrInvalid},
		{"standard too few slots", baseKeys + "standard_schemas:\n  current: a\n  next: b\n  slots: 2\n", "standard_schemas.slots", 19, signer.ErrInvalid},
		{"not a mapping", "- a\n- b\n", "configuration", 1, signer.ErrInvalid},
		{"malformed yaml", "keys: [\n", "configuration", 0, signer.ErrSyntax},
		{"two documents", baseKeys + okSchema + "---\nkeys: {}\n", "configuration", 0, signer.ErrSyntax},
		{"empty", "", "configuration", 0, signer.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := signer.ParseConfig([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tt.sentinel)
			}
			var found bool
			for _, e := range unjoin(err) {
				var ce *signer.ConfigError
				if errors.As(e, &ce) && (ce.Path == tt.path || (tt.path == "configuration" && ce.Path == "")) {
					found = true
					if tt.line != 0 && ce.Line != tt.line {
						t.Errorf("%s: line %d, want %d", ce.Path, ce.Line, tt.line)
					}
				}
			}
			if !found {
				t.Errorf("no error names %s: %v", tt.path, err)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("message does not name %s: %v", tt.path, err)
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// TestConfigSecretsNotEchoed: a PIN typed where a PIN source belongs, or
// under a pin key, never appears in the error.
func TestConfigSecretsNotEchoed(t *testing.T) {
	for _, y := range []string{
		"hsm:\n  pin_source: 8675309\n",
		"hsm:\n  pin_source: \"8675309\"\n",
		"hsm:\n  pin: 8675309\n",
		"hsm:\n  so_pin: \"8675309\"\n",
		"hsm:\n  pin_source: [8675309]\n",
	} {
		_, err := signer.ParseConfig([]byte(y + baseKeys + okSchema))
		if err == nil || strings.Contains(err.Error(), "8675309") {
			t.Errorf("%q: error %v", y, err)
		}
	}
}

func TestConfigOverlaysPolicy(t *testing.T) {
	c, err := signer.ParseConfig([]byte(baseKeys + okSchema + "request_policy:\n  num_bundles: [2, 9]\nresponse_policy:\n  num_bundles: 2\nksk_policy:\n  ttl: 86400\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Default()
	want.Request.NumBundles = policy.IntChoice{2, 9}
	want.Response.NumBundles = policy.IntChoice{2}
	want.KSK.TTL = 86400
	if c.Policy.KSK != want.KSK || c.Policy.Request.NumBundles.String() != "2 or 9" || c.Policy.Response.NumBundles.String() != "2" ||
		c.Policy.Request.RSAApprovedKeySizes[0] != 2048 {
		t.Errorf("policy %+v", c.Policy)
	}
	a := c.Keys["a"]
	if a.RSAExponent != 65537 || a.Size != 2048 || a.DSSHA256 != "6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C20" {
		t.Errorf("key a: %+v", a)
	}
}

func TestHSMWithEnv(t *testing.T) {
	env := map[string]string{
		signer.EnvModule: "/env/module.so", signer.EnvToken: "envtoken",
		signer.EnvTokenSerial: "", signer.EnvPINSource: "",
	}
	getenv := func(k string) string { return env[k] }
	got := signer.HSMConfig{}.WithEnv(getenv)
	if got.Module != "/env/module.so" || got.Token != "envtoken" || got.PINSource != hsm.DefaultPINSource {
		t.Errorf("empty section: %+v", got)
	}
	got = signer.HSMConfig{Module: "/cfg.so", TokenSerial: "1234", PINSource: "prompt"}.WithEnv(getenv)
	if got.Module != "/cfg.so" || got.Token != "" || got.TokenSerial != "1234" || got.PINSource != "prompt" {
		t.Errorf("full section: %+v", got)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	if _, err := signer.LoadConfig("/no/such/file.yaml"); !errors.Is(err, signer.ErrRead) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, signer.MaxConfigSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := signer.LoadConfig(big); !errors.Is(err, signer.ErrRead) {
		t.Errorf("big file: %v", err)
	}
	c, err := signer.ParseConfig([]byte(baseKeys + okSchema))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Schema("nope"); !errors.Is(err, signer.ErrUnknownSchema) || !strings.Contains(err.Error(), "s") {
		t.Errorf("unknown schema: %v", err)
	}
}

// TestConfigRecursiveAliases: lists and mappings that contain themselves
// through an alias are errors, not hangs.
func TestConfigRecursiveAliases(t *testing.T) {
	for _, y := range []string{
		baseKeys + okSchema + "request_policy:\n  approved_algorithms: &a [*a]\n",
		baseKeys + okSchema + "request_policy:\n  num_bundles: &a [*a]\n",
		baseKeys + okSchema + "request_policy:\n  min_bundle_interval: &a [*a]\n",
		baseKeys + okSchema + "request_policy: &a {x: *a}\n",
		baseKeys + "schemas: &a {s: *a}\n",
		baseKeys + "schemas:\n  s:\n    1: {publish: &a [*a], sign: a}\n",
		"keys: &a {k: *a}\n",
	} {
		if _, err := signer.ParseConfig([]byte(y)); !errors.Is(err, signer.ErrInvalid) && !errors.Is(err, signer.ErrUnknownKey) {
			t.Errorf("%q: %v", y, err)
		}
	}
}
