package signer

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ksk-dev/ksk/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// maxVisits bounds the nodes one configuration may make the loader visit,
// aliases expanded, so that a small file of nested aliases cannot make it
// walk for ever.
const maxVisits = 200000

var errTooComplex = errors.New("too many YAML nodes once aliases are expanded")

// walker reads a YAML node tree strictly and collects every problem as a
// ConfigError naming its path and line.
type walker struct {
	errs   []error
	visits int
	// named are the names of the keys section, valid or not, so that a
	// schema naming a key with problems is not also told it is undefined.
	named map[string]bool
}

func (w *walker) fail(path string, line int, sentinel error, format string, args ...any) {
	w.errs = append(w.errs, cerr(path, line, sentinel, format, args...))
}

func (w *walker) err() error { return errors.Join(w.errs...) }

// resolve follows an alias and counts the visit. It returns nil once the
// visit budget is spent (reported once).
func (w *walker) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	w.visits++
	if w.visits == maxVisits+1 {
		w.errs = append(w.errs, cerr("", 0, ErrSyntax, "%v", errTooComplex))
	}
	if w.visits > maxVisits {
		return nil
	}
	return n
}

// entry is one key and value of a mapping.
type entry struct {
	key   string
	line  int
	value *yaml.Node
	path  string
}

// mapping returns the entries of a mapping node, reporting a node that is
// not a mapping, keys that are not plain scalars and keys given twice.
func (w *walker) mapping(n *yaml.Node, path, want string) ([]entry, bool) {
	n = w.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			w.fail(name(path), n.Line, ErrInvalid, "no value given; want %s", want)
		} else {
			w.fail(name(path), n.Line, ErrInvalid, "want %s", want)
		}
		return nil, false
	}
	seen := map[string]bool{}
	var out []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := w.resolve(n.Content[i])
		if k == nil {
			return nil, false
		}
		if k.Kind != yaml.ScalarNode {
			w.fail(name(path), k.Line, ErrSyntax, "keys must be plain scalars")
			continue
		}
		p := yamlpath.Join(path, k.Value)
		if seen[k.Value] {
			w.fail(p, k.Line, ErrSyntax, "key given twice")
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{key: k.Value, line: k.Line, value: n.Content[i+1], path: p})
	}
	return out, true
}

// fields is mapping for a node with a fixed set of keys: it reports
// unknown keys (with a suggestion, or the hint given for that key) and
// returns the known ones by name.
func (w *walker) fields(n *yaml.Node, path, want string, known []string, hints map[string]string) (map[string]entry, bool) {
	es, ok := w.mapping(n, path, want)
	if !ok {
		return nil, false
	}
	out := map[string]entry{}
	for _, e := range es {
		if !slices.Contains(known, e.key) {
			w.unknown(e, path, known, hints)
			continue
		}
		out[e.key] = e
	}
	return out, true
}

func (w *walker) unknown(e entry, path string, known []string, hints map[string]string) {
	if h, ok := hints[e.key]; ok {
		w.fail(e.path, e.line, ErrUnknownKey, "%s", h)
		return
	}
	if s := yamlpath.Suggest(e.key, known); s != "" {
		w.fail(e.path, e.line, ErrUnknownKey, "did you mean %s?", yamlpath.Join(path, s))
		return
	}
	w.fail(e.path, e.line, ErrUnknownKey, "")
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// scalar returns a scalar node of the given YAML tag, or reports why the
// node is not one. When secret is set the value is never echoed.
func (w *walker) scalar(e entry, tag, want string, secret bool) (*yaml.Node, bool) {
	n := w.resolve(e.value)
	if n == nil {
		return nil, false
	}
	switch {
	case isNull(n):
		w.fail(e.path, n.Line, ErrInvalid, "no value given; want %s", want)
	case n.Kind != yaml.ScalarNode || n.Tag != tag:
		if secret || n.Kind != yaml.ScalarNode {
			w.fail(e.path, n.Line, ErrInvalid, "want %s", want)
		} else {
			w.fail(e.path, n.Line, ErrInvalid, "want %s, got %q", want, clip(n.Value))
		}
	default:
		return n, true
	}
	return nil, false
}

func (w *walker) str(e entry, secret bool) (string, int, bool) {
	n, ok := w.scalar(e, "!!str", "a string", secret)
	if !ok {
		return "", 0, false
	}
	return n.Value, n.Line, true
}

// integer reads an integer in [lo, hi].
func (w *walker) integer(e entry, lo, hi int64) (int64, int, bool) {
	n, ok := w.scalar(e, "!!int", "an integer", false)
	if !ok {
		return 0, 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || v < lo || v > hi {
		w.fail(e.path, n.Line, ErrInvalid, "want an integer from %d to %d, got %s", lo, hi, clip(n.Value))
		return 0, 0, false
	}
	return v, n.Line, true
}

// names reads a key name or a list of key names.
func (w *walker) names(e entry) ([]string, bool) {
	n := w.resolve(e.value)
	if n == nil {
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		s, _, ok := w.str(e, false)
		if !ok {
			return nil, false
		}
		return []string{s}, true
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		good := true
		for i, c := range n.Content {
			s, _, ok := w.str(entry{value: c, path: fmt.Sprintf("%s[%d]", e.path, i)}, false)
			if !ok {
				good = false
				continue
			}
			out = append(out, s)
		}
		return out, good
	}
	w.fail(e.path, n.Line, ErrInvalid, "want a key name or a list of key names")
	return nil, false
}

// structure checks a node against a struct type of package policy before
// it is decoded, so that every error names its path and line: unknown and
// duplicate keys, nulls, and values whose YAML type does not fit.
func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		w.value(n, t, path)
		return
	}
	var known []string
	types := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		known = append(known, tag)
		types[tag] = f.Type
	}
	fs, ok := w.fields(n, path, "a mapping", known, nil)
	if !ok {
		return
	}
	for _, k := range known {
		if e, ok := fs[k]; ok {
			w.structure(e.value, types[k], e.path)
		}
	}
}

// value checks that a node decodes into a value of type t.
func (w *walker) value(n *yaml.Node, t reflect.Type, path string) {
	n = w.resolve(n)
	if n == nil {
		return
	}
	if isNull(n) {
		w.fail(path, n.Line, ErrInvalid, "no value given")
		return
	}
	if !w.strictTag(n, t, 0) {
		if w.visits > maxVisits {
			return
		}
		w.fail(path, n.Line, ErrInvalid, "want %s, got %s", yamlpath.Want(t), describe(n))
		return
	}
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			w.fail(path, n.Line, ErrInvalid, "want %s, got %s", yamlpath.Want(t), describe(n))
			return
		}
		w.errs = append(w.errs, &ConfigError{Path: path, Line: n.Line, Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
	}
}

// strictTag reports whether a node's resolved YAML 1.2 tag fits type t, so
// that "yes" is not taken for true nor 8 for "8". Types with their own
// UnmarshalYAML check their nodes themselves, but not a list that
// contains itself through an alias, nor one nested deeper than any policy
// value is.
func (w *walker) strictTag(n *yaml.Node, t reflect.Type, depth int) bool {
	if depth > 4 {
		return false
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return !w.deep(n, depth)
	}
	switch t.Kind() {
	case reflect.Bool:
		return n.Kind == yaml.ScalarNode && n.Tag == "!!bool"
	case reflect.Int, reflect.Uint32, reflect.Int64, reflect.Uint16:
		return n.Kind == yaml.ScalarNode && n.Tag == "!!int"
	case reflect.String:
		return n.Kind == yaml.ScalarNode && n.Tag == "!!str"
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return false
		}
		for _, c := range n.Content {
			if c = w.resolve(c); c == nil || !w.strictTag(c, t.Elem(), depth+1) {
				return false
			}
		}
	}
	return true
}

// deep reports whether a node nests sequences or mappings more than four
// levels down (or visits too many nodes), aliases followed.
func (w *walker) deep(n *yaml.Node, depth int) bool {
	if depth > 4 {
		return true
	}
	for _, c := range n.Content {
		if c = w.resolve(c); c == nil || w.deep(c, depth+1) {
			return true
		}
	}
	return false
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return strconv.Quote(clip(n.Value))
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "something else"
}

// clip shortens a value echoed in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

func name(path string) string {
	if path == "" {
		return "configuration"
	}
	return path
}
