package yamlpath

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Sentinels are the errors a strict decode wraps, so that each loader
// keeps its own sentinel errors.
type Sentinels struct {
	// Syntax: not well-formed YAML, more than one document, a key given
	// twice or a key that is not a plain scalar.
	Syntax error
	// UnknownKey: a key the Go type has no field for.
	UnknownKey error
	// Invalid: a value of the wrong YAML type or a null.
	Invalid error
}

// maxErrors bounds the problems one Decode reports.
const maxErrors = 50

// maxNodes bounds the nodes Decode walks, aliases expanded, so that a small
// file of nested aliases cannot make it walk for ever.
const maxNodes = 200000

// Decode reads data, which must be exactly one YAML document, into v (a
// pointer to a struct) strictly: every key must name a field (by its yaml
// tag), no key may be given twice, scalars must have the YAML 1.2 type of
// their field ("yes" is not a bool, 8 is not a string) and nulls are
// refused. Every problem names its dotted path (acts[1].steps[0].type) and
// line, and wraps one of s. An empty document leaves v as it is and
// returns nil.
func Decode(data []byte, v any, s Sentinels) error {
	root, err := Parse(data, s)
	if err != nil || root == nil {
		return err
	}
	return DecodeNode(root, v, s)
}

// Parse reads exactly one YAML document and returns its root node, or nil
// for an empty document.
func Parse(data []byte, s Sentinels) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %w", s.Syntax, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one YAML document", s.Syntax)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	return root, nil
}

// DecodeNode is Decode for a node already parsed.
func DecodeNode(root *yaml.Node, v any, s Sentinels) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("yamlpath: Decode needs a non-nil pointer, got %T", v)
	}
	w := &strictWalker{s: s}
	w.walk(root, rv.Elem().Type(), "")
	if len(w.errs) > 0 {
		return errors.Join(w.errs...)
	}
	if err := root.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", s.Invalid, err)
	}
	return nil
}

type strictWalker struct {
	s     Sentinels
	errs  []error
	nodes int
}

func (w *strictWalker) fail(path string, line int, sentinel error, format string, args ...any) {
	if len(w.errs) == maxErrors {
		w.errs = append(w.errs, fmt.Errorf("%w: more than %d problems; stopped", sentinel, maxErrors))
	}
	if len(w.errs) > maxErrors {
		return
	}
	if path == "" {
		path = "(document)"
	}
	msg := fmt.Sprintf(format, args...)
	if msg != "" {
		msg = ": " + msg
	}
	w.errs = append(w.errs, fmt.Errorf("%s (line %d): %w%s", path, line, sentinel, msg))
}

func (w *strictWalker) walk(n *yaml.Node, t reflect.Type, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	w.nodes++
	if w.nodes > maxNodes {
		if w.nodes == maxNodes+1 {
			w.fail(path, n.Line, w.s.Syntax, "too many YAML nodes once aliases are expanded")
		}
		return
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		w.value(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(n, t.Elem(), path)
	case reflect.Struct:
		w.structure(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if isNull(n) {
				w.fail(path, n.Line, w.s.Invalid, "no value given; want %s", Want(t))
			} else {
				w.fail(path, n.Line, w.s.Invalid, "want %s, got %s", Want(t), describe(n))
			}
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		entries, ok := w.mapping(n, path, "a mapping")
		if !ok {
			return
		}
		for _, e := range entries {
			w.walk(e.value, t.Elem(), e.path)
		}
	default:
		w.value(n, t, path)
	}
}

type keyValue struct {
	key   string
	line  int
	path  string
	value *yaml.Node
}

// mapping returns a mapping's entries, reporting non-scalar and repeated
// keys.
func (w *strictWalker) mapping(n *yaml.Node, path, want string) ([]keyValue, bool) {
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			w.fail(path, n.Line, w.s.Invalid, "no value given; want %s", want)
		} else {
			w.fail(path, n.Line, w.s.Invalid, "want %s", want)
		}
		return nil, false
	}
	seen := map[string]bool{}
	var out []keyValue
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			w.fail(path, k.Line, w.s.Syntax, "keys must be plain scalars")
			continue
		}
		p := Join(path, k.Value)
		if seen[k.Value] {
			w.fail(p, k.Line, w.s.Syntax, "key given twice")
			continue
		}
		seen[k.Value] = true
		out = append(out, keyValue{key: k.Value, line: k.Line, path: p, value: n.Content[i+1]})
	}
	return out, true
}

func (w *strictWalker) structure(n *yaml.Node, t reflect.Type, path string) {
	entries, ok := w.mapping(n, path, "a mapping")
	if !ok {
		return
	}
	fields := map[string]reflect.Type{}
	var known []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		fields[tag] = f.Type
		known = append(known, tag)
	}
	for _, e := range entries {
		ft, ok := fields[e.key]
		if !ok {
			if s := Suggest(e.key, known); s != "" {
				w.fail(e.path, e.line, w.s.UnknownKey, "did you mean %s?", Join(path, s))
			} else {
				w.fail(e.path, e.line, w.s.UnknownKey, "")
			}
			continue
		}
		w.walk(e.value, ft, e.path)
	}
}

// value checks a leaf: its YAML tag must fit t and it must decode.
func (w *strictWalker) value(n *yaml.Node, t reflect.Type, path string) {
	if isNull(n) {
		w.fail(path, n.Line, w.s.Invalid, "no value given; want %s", Want(t))
		return
	}
	custom := reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]())
	if !custom && !scalarFits(n, t) {
		w.fail(path, n.Line, w.s.Invalid, "want %s, got %s", Want(t), describe(n))
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		if custom {
			w.fail(path, n.Line, w.s.Invalid, "%v", err)
		} else {
			w.fail(path, n.Line, w.s.Invalid, "want %s, got %s", Want(t), describe(n))
		}
	}
}

// scalarFits reports whether a scalar node's resolved YAML 1.2 tag fits a
// Go kind.
func scalarFits(n *yaml.Node, t reflect.Type) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	switch t.Kind() {
	case reflect.Bool:
		return n.Tag == "!!bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return n.Tag == "!!int"
	case reflect.String:
		return n.Tag == "!!str"
	case reflect.Float32, reflect.Float64:
		return n.Tag == "!!float" || n.Tag == "!!int"
	}
	return true
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names a node's value for an error message, clipped.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return fmt.Sprintf("%q", v)
}
