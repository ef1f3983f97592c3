package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/ksk-dev/ksk/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// Sentinel errors of Load, Parse and Validate; test them with errors.Is.
var (
	// ErrRead: the policy file cannot be read.
	ErrRead = errors.New("cannot read policy file")
	// ErrSyntax: the file is not well-formed YAML, or not one mapping.
	ErrSyntax = errors.New("malformed policy YAML")
	// ErrUnknownKey: a key that the policy does not have.
	ErrUnknownKey = errors.New("unknown policy key")
	// ErrDuration: a duration that is not an ISO 8601 duration of days,
	// hours, minutes or seconds (months and years are rejected).
	ErrDuration = errors.New("invalid duration")
	// ErrInvalid: a value of the wrong type, out of range, or inconsistent
	// with another (a minimum above its maximum).
	ErrInvalid = errors.New("invalid policy value")
)

// MaxFileSize is the largest policy file Load reads.
const MaxFileSize = 1 << 20

// Load reads the policy file at path. The file starts from the built-in
// policy its base key names (Default when it has none); keys it leaves out
// keep that policy's values.
func Load(path string) (*Policy, error) {
	return LoadWithBase(path, nil)
}

// LoadWithBase is Load with base as the starting policy when the file has
// no base key (nil means Default). ksk ksr verify --legacy --policy FILE
// uses Legacy.
func LoadWithBase(path string, base *Policy) (*Policy, error) {
	data, err := yamlpath.ReadFile(path, MaxFileSize, ErrRead)
	if err != nil {
		return nil, err
	}
	p, err := Parse(data, base)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// Parse reads a policy from YAML. base is the starting policy when the
// document has no base key (nil means Default). The result is validated.
// An empty document gives the base policy.
func Parse(data []byte, base *Policy) (*Policy, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return finish(base, nil)
		}
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one YAML document", ErrSyntax)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return finish(base, nil)
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: line %d: the policy must be a mapping with keys request, response and ksk", ErrSyntax, doc.Line)
	}
	if b := lookup(doc, "base"); b != nil {
		if b.Kind != yaml.ScalarNode || b.Tag != "!!str" {
			return nil, fmt.Errorf("base (line %d): %w: want %q or %q", b.Line, ErrInvalid, BaseRoot, BaseLegacy)
		}
		builtin, ok := Builtin(b.Value)
		if !ok || b.Value == "" {
			return nil, fmt.Errorf("base (line %d): %w: %q is not a built-in policy; want %q or %q", b.Line, ErrInvalid, b.Value, BaseRoot, BaseLegacy)
		}
		base = builtin
	}
	if err := walk(doc, reflect.TypeFor[Policy](), ""); err != nil {
		return nil, err
	}
	return finish(base, data)
}

// finish decodes data onto a copy of base with unknown fields rejected and
// validates the result.
func finish(base *Policy, data []byte) (*Policy, error) {
	if base == nil {
		base = Default()
	}
	p := base.Clone()
	if data != nil {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(p); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
		}
	}
	p.normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// walk checks node against type t before the real decode, so that every
// error names its YAML path and line: unknown and duplicate keys, nulls,
// and values that do not decode into their field.
func walk(node *yaml.Node, t reflect.Type, path string) error {
	if node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return checkValue(node, t, path)
	}
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("%s (line %d): %w: want a mapping", name(path), node.Line, ErrInvalid)
	}
	fields := map[string]reflect.StructField{}
	var known []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = f
		known = append(known, tag)
	}
	seen := map[string]bool{}
	var errs []error
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		p := yamlpath.Join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("%s (line %d): %w: keys must be plain strings", name(path), k.Line, ErrSyntax))
			continue
		}
		if seen[k.Value] {
			errs = append(errs, fmt.Errorf("%s (line %d): %w: key given twice", p, k.Line, ErrSyntax))
			continue
		}
		seen[k.Value] = true
		f, ok := fields[k.Value]
		if !ok {
			msg := fmt.Errorf("%s (line %d): %w", p, k.Line, ErrUnknownKey)
			if s := yamlpath.Suggest(k.Value, known); s != "" {
				msg = fmt.Errorf("%w; did you mean %s?", msg, yamlpath.Join(path, s))
			}
			errs = append(errs, msg)
			continue
		}
		if err := walk(v, f.Type, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkValue decodes node into a fresh value of type t and reports why it
// does not fit.
func checkValue(node *yaml.Node, t reflect.Type, path string) error {
	if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		return fmt.Errorf("%s (line %d): %w: no value given", path, node.Line, ErrInvalid)
	}
	if !strictTag(node, t) {
		return fmt.Errorf("%s (line %d): %w: want %s, got %q", path, node.Line, ErrInvalid, yamlpath.Want(t), value(node))
	}
	v := reflect.New(t)
	if err := node.Decode(v.Interface()); err != nil {
		if errors.Is(err, ErrDuration) || errors.Is(err, ErrInvalid) {
			return fmt.Errorf("%s (line %d): %w", path, node.Line, err)
		}
		return fmt.Errorf("%s (line %d): %w: want %s, got %q", path, node.Line, ErrInvalid, yamlpath.Want(t), value(node))
	}
	return nil
}

// strictTag reports whether node's resolved YAML 1.2 tag fits type t, so
// that "yes" is not taken for true nor 8 for "8". Types with their own
// UnmarshalYAML check their nodes themselves.
func strictTag(node *yaml.Node, t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return true
	}
	switch t.Kind() {
	case reflect.Bool:
		return node.Kind == yaml.ScalarNode && node.Tag == "!!bool"
	case reflect.Int, reflect.Uint32:
		return node.Kind == yaml.ScalarNode && node.Tag == "!!int"
	case reflect.String:
		return node.Kind == yaml.ScalarNode && node.Tag == "!!str"
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return false
		}
		for _, c := range node.Content {
			if c.Kind == yaml.AliasNode {
				c = c.Alias
			}
			if !strictTag(c, t.Elem()) {
				return false
			}
		}
	}
	return true
}

func value(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}[n.Kind]
}

func name(path string) string {
	if path == "" {
		return "policy"
	}
	return path
}
