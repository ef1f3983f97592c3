package signer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/yamlpath"
	"github.com/ksk-dev/ksk/policy"
	"gopkg.in/yaml.v3"
)

// MaxConfigSize is the largest configuration file LoadConfig reads.
const MaxConfigSize = 1 << 20

// Config is a signer configuration (ksk sign --config): kskm's
// ksrsigner.yaml with a single HSM and the PIN by source, never by value.
// docs/signer.md describes every key.
type Config struct {
	// HSM is the hsm section; empty fields fall back to the environment
	// (HSMConfig.WithEnv).
	HSM HSMConfig
	// Keys are the KSKs the schemas may name, by name.
	Keys map[string]*KeyConfig
	// Policy holds the request_policy, response_policy and ksk_policy
	// sections, each starting from policy.Default() and overlaid with what
	// the file gives.
	Policy *policy.Policy
	// Schemas are the signing schedules, by name.
	Schemas map[string]*Schema
}

// HSMConfig is the hsm section: which PKCS#11 module and token hold the
// KSKs and where the user PIN comes from.
type HSMConfig struct {
	// Module is the path of the PKCS#11 module.
	Module string
	// Token and TokenSerial select the token by label or serial.
	Token       string
	TokenSerial string
	// PINSource is env:NAME, file:PATH or prompt (hsm.ParsePINSource).
	PINSource string
}

// Environment variables that HSMConfig.WithEnv reads, the same as the
// --module, --token, --token-serial and --pin-source flags of ksk's HSM
// commands fall back to.
const (
	EnvModule      = "KSK_PKCS11_MODULE"
	EnvToken       = "KSK_TOKEN"
	EnvTokenSerial = "KSK_TOKEN_SERIAL"
	EnvPINSource   = "KSK_PIN_SOURCE"
)

// WithEnv returns h with its empty fields taken from the environment
// (getenv, usually os.Getenv): KSK_PKCS11_MODULE, KSK_PIN_SOURCE (else
// hsm.DefaultPINSource), and KSK_TOKEN and KSK_TOKEN_SERIAL only when the
// section names neither a token nor a serial.
func (h HSMConfig) WithEnv(getenv func(string) string) HSMConfig {
	if h.Module == "" {
		h.Module = getenv(EnvModule)
	}
	if h.Token == "" && h.TokenSerial == "" {
		h.Token, h.TokenSerial = getenv(EnvToken), getenv(EnvTokenSerial)
	}
	if h.PINSource == "" {
		h.PINSource = getenv(EnvPINSource)
	}
	if h.PINSource == "" {
		h.PINSource = hsm.DefaultPINSource
	}
	return h
}

// KeyConfig is one entry of the keys section: a KSK as the operator
// expects to find it in the HSM. kskm's key names are used.
type KeyConfig struct {
	// Name is the key's name in the keys section, which schemas use.
	Name string
	// Description is free text.
	Description string
	// Label is the key's CKA_LABEL in the HSM, and its keyIdentifier in
	// the SKR (as kskm writes it).
	Label string
	// Algorithm is the DNSSEC algorithm the key signs with.
	Algorithm hsm.Algorithm
	// Size is the key size in bits: the RSA modulus (size or rsa_size),
	// 256 or 384 for ECDSA, 256 for Ed25519.
	Size int
	// RSAExponent is the RSA public exponent (rsa_exponent, default
	// 65537); 0 for other algorithms.
	RSAExponent int
	// KeyTag is the expected key tag of the key's DNSKEY with flags 257.
	KeyTag uint16
	// DSSHA256 is the expected SHA-256 DS digest of that DNSKEY owned by
	// the KSR's zone, upper-case hex.
	DSSHA256 string
	// ValidFrom and ValidUntil bound the bundles the key may appear in
	// unrevoked; ValidUntil is zero when open-ended.
	ValidFrom  time.Time
	ValidUntil time.Time
	// Line is the line of the key's entry in the file.
	Line int
}

// LoadConfig reads and validates the signer configuration at path. Every
// problem is a *ConfigError naming its YAML path and line; they are
// returned together (errors.Join), each wrapping ErrRead, ErrSyntax,
// ErrUnknownKey or ErrInvalid.
func LoadConfig(path string) (*Config, error) {
	data, err := yamlpath.ReadFile(path, MaxConfigSize, ErrRead)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("signer configuration %s: %w", path, err)
	}
	return c, nil
}

// Top-level keys of the configuration.
var topKeys = []string{"hsm", "keys", "ksk_policy", "request_policy", "response_policy", "schemas", "standard_schemas"}

var topHints = map[string]string{
	"filenames": "ksk takes its files from the command line (--ksr, --previous-skr, --out), not from the configuration",
}

var hsmKeys = []string{"module", "token", "token_serial", "pin_source"}

var hsmHints = map[string]string{
	"pin":    "a PIN is never written in the configuration: use pin_source: env:NAME, file:PATH or prompt",
	"so_pin": "ksk sign needs no security officer PIN; never write a PIN in the configuration",
	"env":    "set the module's environment (SOFTHSM2_CONF) in the environment ksk runs in",
}

var keyKeys = []string{"description", "label", "algorithm", "size", "rsa_size", "rsa_exponent", "key_tag", "ds_sha256", "valid_from", "valid_until"}

// keyName is what a key or schema name may look like.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$`)

var ds256 = regexp.MustCompile(`^[0-9A-Fa-f]{64}$`)

// ParseConfig parses and validates a signer configuration from YAML. An
// empty document is an error: a configuration needs keys and schemas.
func ParseConfig(data []byte) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, cerr("", 0, ErrInvalid, "the configuration is empty; it needs at least keys and schemas")
		}
		return nil, cerr("", 0, ErrSyntax, "%v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, cerr("", 0, ErrSyntax, "more than one YAML document")
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	w := &walker{}
	c := &Config{Keys: map[string]*KeyConfig{}, Schemas: map[string]*Schema{}, Policy: policy.Default()}
	top, ok := w.fields(doc, "", "a mapping with keys hsm, keys, ksk_policy, request_policy, response_policy and schemas", topKeys, topHints)
	if !ok {
		return nil, w.err()
	}
	if e, ok := top["hsm"]; ok {
		c.HSM = w.hsmSection(e)
	}
	keysLine := 0
	if e, ok := top["keys"]; ok {
		keysLine = e.line
		w.keysSection(e, c)
	}
	if len(c.Keys) == 0 && len(w.errs) == 0 {
		w.fail("keys", keysLine, ErrInvalid, "at least one key is needed")
	}
	w.policySections(top, c)
	if e, ok := top["schemas"]; ok {
		w.schemasSection(e, c)
	}
	if e, ok := top["standard_schemas"]; ok {
		w.standardSection(e, c)
	}
	if len(c.Schemas) == 0 && len(w.errs) == 0 {
		w.fail("schemas", 0, ErrInvalid, "at least one schema is needed (schemas or standard_schemas)")
	}
	if err := w.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (w *walker) hsmSection(e entry) HSMConfig {
	var h HSMConfig
	fs, ok := w.fields(e.value, "hsm", "a mapping with keys module, token, token_serial and pin_source", hsmKeys, hsmHints)
	if !ok {
		return h
	}
	get := func(k string, secret bool) string {
		f, ok := fs[k]
		if !ok {
			return ""
		}
		v, line, ok := w.str(f, secret)
		if ok && v == "" {
			w.fail(f.path, line, ErrInvalid, "empty; leave the key out to use $%s", map[string]string{
				"module": EnvModule, "token": EnvToken, "token_serial": EnvTokenSerial, "pin_source": EnvPINSource}[k])
		}
		return v
	}
	h.Module = get("module", false)
	h.Token = get("token", false)
	h.TokenSerial = get("token_serial", false)
	h.PINSource = get("pin_source", true)
	if h.PINSource != "" {
		if _, err := hsm.ParsePINSource(h.PINSource); err != nil {
			// The error never contains the value: it may be a PIN typed
			// in the wrong place.
			w.errs = append(w.errs, &ConfigError{Path: "hsm.pin_source", Line: fs["pin_source"].line, Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
		}
	}
	return h
}

func (w *walker) keysSection(e entry, c *Config) {
	es, ok := w.mapping(e.value, "keys", "a mapping of key names to keys")
	if !ok {
		return
	}
	labels := map[string]string{}
	w.named = map[string]bool{}
	for _, ke := range es {
		w.named[ke.key] = true
		if !keyName.MatchString(ke.key) {
			w.fail(ke.path, ke.line, ErrInvalid, "a key name is 1 to 64 letters, digits, '_', '.', '+' or '-', starting with a letter or digit")
			continue
		}
		k := w.keyEntry(ke)
		if k == nil {
			continue
		}
		if other, dup := labels[k.Label]; dup {
			w.fail(yamlpath.Join(ke.path, "label"), k.Line, ErrInvalid, "key %s has the same label %q", other, k.Label)
			continue
		}
		labels[k.Label] = k.Name
		c.Keys[k.Name] = k
	}
}

// keyEntry reads one key; nil when it has problems (reported).
func (w *walker) keyEntry(ke entry) *KeyConfig {
	before := len(w.errs)
	fs, ok := w.fields(ke.value, ke.path, "a mapping with keys label, algorithm, key_tag, ds_sha256, valid_from...", keyKeys, map[string]string{
		"pin": "a PIN is never written in the configuration"})
	if !ok {
		return nil
	}
	k := &KeyConfig{Name: ke.key, Line: ke.line}
	required := func(name string) (entry, bool) {
		f, ok := fs[name]
		if !ok {
			w.fail(yamlpath.Join(ke.path, name), ke.line, ErrInvalid, "missing")
		}
		return f, ok
	}
	if f, ok := fs["description"]; ok {
		k.Description, _, _ = w.str(f, false)
	}
	if f, ok := required("label"); ok {
		if v, line, ok := w.str(f, false); ok {
			if !validLabel(v) {
				w.fail(f.path, line, ErrInvalid, "a label is 1 to 128 printable characters without surrounding space")
			}
			k.Label = v
		}
	}
	if f, ok := required("algorithm"); ok {
		if v, line, ok := w.str(f, false); ok {
			a, err := hsm.ParseAlgorithm(v)
			if err != nil {
				w.fail(f.path, line, ErrInvalid, "%q is not one of RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384, ED25519", clip(v))
			}
			k.Algorithm = a
		}
	}
	size, sizeLine := 0, ke.line
	for _, n := range []string{"size", "rsa_size"} {
		f, ok := fs[n]
		if !ok {
			continue
		}
		v, line, ok := w.integer(f, 1, 65535)
		if !ok {
			continue
		}
		if size != 0 && int(v) != size {
			w.fail(f.path, line, ErrInvalid, "%d disagrees with size %d", v, size)
			continue
		}
		size, sizeLine = int(v), line
	}
	exp, expLine := 0, ke.line
	if f, ok := fs["rsa_exponent"]; ok {
		if v, line, ok := w.integer(f, 3, 1<<31-1); ok {
			if v%2 == 0 {
				w.fail(f.path, line, ErrInvalid, "an RSA exponent is odd, not %d", v)
			}
			exp, expLine = int(v), line
		}
	}
	switch a := k.Algorithm; {
	case a == 0:
	case a.IsRSA():
		if size == 0 {
			w.fail(yamlpath.Join(ke.path, "rsa_size"), ke.line, ErrInvalid, "missing: an RSA key needs its modulus size (rsa_size or size)")
		}
		if exp == 0 {
			exp = 65537
		}
		k.Size, k.RSAExponent = size, exp
	default:
		want := curveBits(a)
		if size != 0 && size != want {
			w.fail(yamlpath.Join(ke.path, "size"), sizeLine, ErrInvalid, "a %s key has size %d, not %d", a, want, size)
		}
		if exp != 0 {
			w.fail(yamlpath.Join(ke.path, "rsa_exponent"), expLine, ErrInvalid, "a %s key has no RSA exponent", a)
		}
		k.Size = want
	}
	if f, ok := required("key_tag"); ok {
		if v, _, ok := w.integer(f, 0, 65535); ok {
			k.KeyTag = uint16(v)
		}
	}
	if f, ok := required("ds_sha256"); ok {
		if v, line, ok := w.str(f, false); ok {
			if !ds256.MatchString(v) {
				w.fail(f.path, line, ErrInvalid, "want the 64 hex digits of a SHA-256 DS digest")
			}
			k.DSSHA256 = strings.ToUpper(v)
		}
	}
	if f, ok := required("valid_from"); ok {
		k.ValidFrom, _ = w.timestamp(f)
	}
	if f, ok := fs["valid_until"]; ok {
		if t, line := w.timestamp(f); !t.IsZero() {
			k.ValidUntil = t
			if !k.ValidFrom.IsZero() && !t.After(k.ValidFrom) {
				w.fail(f.path, line, ErrInvalid, "%s is not after valid_from %s", t.Format(time.RFC3339), k.ValidFrom.Format(time.RFC3339))
			}
		}
	}
	if len(w.errs) > before {
		return nil
	}
	return k
}

// timestamp reads an RFC 3339 time (a YAML timestamp or a string) or a
// date, which means midnight UTC.
func (w *walker) timestamp(e entry) (time.Time, int) {
	n := w.resolve(e.value)
	if n == nil {
		return time.Time{}, 0
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!timestamp" && n.Tag != "!!str") {
		w.fail(e.path, n.Line, ErrInvalid, "want an RFC 3339 time such as 2017-02-02T00:00:00Z, or a date")
		return time.Time{}, n.Line
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, n.Value); err == nil {
			return t.UTC(), n.Line
		}
	}
	w.fail(e.path, n.Line, ErrInvalid, "want an RFC 3339 time with its zone such as 2017-02-02T00:00:00Z, or a date, got %q", clip(n.Value))
	return time.Time{}, n.Line
}

func validLabel(s string) bool {
	if s == "" || len(s) > 128 || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// curveBits is the key size of a non-RSA algorithm.
func curveBits(a hsm.Algorithm) int {
	if a == hsm.ECDSAP384SHA384 {
		return 384
	}
	return 256
}

// The policy sections and the policy path each maps to in
// policy.Policy.Validate's errors.
var policySections = []struct{ yaml, policy string }{
	{"request_policy", "request"},
	{"response_policy", "response"},
	{"ksk_policy", "ksk"},
}

// policySections reads request_policy, response_policy and ksk_policy on
// top of policy.Default() and validates the result.
func (w *walker) policySections(top map[string]entry, c *Config) {
	p := policy.Default()
	targets := map[string]any{"request_policy": &p.Request, "response_policy": &p.Response, "ksk_policy": &p.KSK}
	before := len(w.errs)
	lines := map[string]int{}
	for _, s := range policySections {
		e, ok := top[s.yaml]
		if !ok {
			continue
		}
		lines[s.yaml] = e.line
		if n := w.resolve(e.value); n != nil && isNull(n) {
			continue // an empty section keeps the defaults
		}
		w.structure(e.value, reflectType(targets[s.yaml]), s.yaml)
		for _, kv := range mappingLines(e.value) {
			lines[s.yaml+"."+kv.key] = kv.line
		}
	}
	if len(w.errs) > before {
		return
	}
	for _, s := range policySections {
		e, ok := top[s.yaml]
		if !ok {
			continue
		}
		if n := w.resolve(e.value); n == nil || isNull(n) {
			continue
		}
		if err := e.value.Decode(targets[s.yaml]); err != nil {
			w.fail(s.yaml, e.line, ErrInvalid, "%v", err)
			return
		}
	}
	p = p.Clone()
	if err := p.Validate(); err != nil {
		for _, e := range unjoin(err) {
			path, msg, _ := strings.Cut(e.Error(), ": ")
			for _, s := range policySections {
				if rest, ok := strings.CutPrefix(path, s.policy+"."); ok {
					path = s.yaml + "." + rest
				}
			}
			msg = strings.TrimPrefix(msg, policy.ErrInvalid.Error()+": ")
			w.errs = append(w.errs, &ConfigError{Path: path, Line: lines[path], Err: fmt.Errorf("%w: %w: %s", ErrInvalid, policy.ErrInvalid, msg)})
		}
		return
	}
	c.Policy = p
}

func reflectType(ptr any) reflect.Type { return reflect.TypeOf(ptr).Elem() }

// mappingLines returns the keys and lines of a mapping node (nothing for
// other nodes).
func mappingLines(n *yaml.Node) []entry {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, entry{key: n.Content[i].Value, line: n.Content[i].Line})
	}
	return out
}

// unjoin flattens an errors.Join.
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

// Schema returns the schema called name, or an error wrapping
// ErrUnknownSchema that lists the configured ones.
func (c *Config) Schema(name string) (*Schema, error) {
	if s, ok := c.Schemas[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("%w %q: the configuration has %s", ErrUnknownSchema, name, strings.Join(c.SchemaNames(), ", "))
}

// SchemaNames returns the names of the configured schemas, sorted.
func (c *Config) SchemaNames() []string {
	names := make([]string, 0, len(c.Schemas))
	for n := range c.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// KeyNames returns the names of the configured keys, sorted.
func (c *Config) KeyNames() []string {
	names := make([]string, 0, len(c.Keys))
	for n := range c.Keys {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
