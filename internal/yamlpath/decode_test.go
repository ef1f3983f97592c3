package yamlpath

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	errSyntax  = errors.New("syntax")
	errUnknown = errors.New("unknown key")
	errInvalid = errors.New("invalid")
	sentinels  = Sentinels{Syntax: errSyntax, UnknownKey: errUnknown, Invalid: errInvalid}
)

// level is a type with its own YAML decoding.
type level int

func (l *level) UnmarshalYAML(n *yaml.Node) error {
	switch n.Value {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("want low or high, got %q", n.Value)
	}
	return nil
}

type item struct {
	Name  string   `yaml:"name"`
	Count int      `yaml:"count"`
	On    bool     `yaml:"on"`
	Tags  []string `yaml:"tags"`
}

type doc struct {
	Title   string            `yaml:"title"`
	Ratio   float64           `yaml:"ratio"`
	Size    uint16            `yaml:"size"`
	Items   []item            `yaml:"items"`
	Labels  map[string]string `yaml:"labels"`
	ByName  map[string]item   `yaml:"by_name"`
	Opt     *bool             `yaml:"opt"`
	Level   level             `yaml:"level"`
	Deep    [][]string        `yaml:"deep"`
	Skipped string            `yaml:"-"`
	hidden  string
}

func TestDecode(t *testing.T) {
	data := `# all the kinds
title: a title
ratio: 2
size: 512
items:
  - name: one
    count: 1
    on: true
    tags: [a, b]
  - {name: two}
labels: {x: "1", y: "yes"}
by_name:
  first: {name: f, count: 3}
opt: false
level: high
deep: [[a], [], [b, c]]
`
	var d doc
	if err := Decode([]byte(data), &d, sentinels); err != nil {
		t.Fatal(err)
	}
	f := false
	want := doc{Title: "a title", Ratio: 2, Size: 512,
		Items:  []item{{Name: "one", Count: 1, On: true, Tags: []string{"a", "b"}}, {Name: "two"}},
		Labels: map[string]string{"x": "1", "y": "yes"}, ByName: map[string]item{"first": {Name: "f", Count: 3}},
		Opt: &f, Level: 2, Deep: [][]string{{"a"}, {}, {"b", "c"}}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Decode =\n%+v\nwant\n%+v", d, want)
	}
	if d.hidden != "" || d.Skipped != "" {
		t.Errorf("unexported or skipped fields set: %+v", d)
	}
}

func TestDecodeEmpty(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "~\n", "null\n", "---\n"} {
		d := doc{Title: "kept"}
		if err := Decode([]byte(data), &d, sentinels); err != nil || d.Title != "kept" {
			t.Errorf("%q: %v, %+v", data, err, d)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, data string
		sentinel   error
		// want is the start of a problem: PATH (line N): SENTINEL
		want string
		text string
	}{
		{"unknown key", "title: x\ntitel: y\n", errUnknown, "titel (line 2): unknown key", ": did you mean title?"},
		{"unknown nested key", "items:\n  - name: a\n    cuont: 1\n", errUnknown, "items[0].cuont (line 3)", "did you mean items[0].count?"},
		{"unknown key, no suggestion", "zzzzzz: 1\n", errUnknown, "zzzzzz (line 1): unknown key", ""},
		{"a skipped field is unknown", "Skipped: x\n", errUnknown, "Skipped (line 1)", ""},
		{"an unexported field is unknown", "hidden: x\n", errUnknown, "hidden (line 1)", ""},
		{"yes is not a bool", "items: [{on: yes}]\n", errInvalid, "items[0].on (line 1): invalid", `want true or false, got "yes"`},
		{"on is not a bool", "items: [{on: on}]\n", errInvalid, "items[0].on (line 1)", "true or false"},
		{"quoted true is not a bool", "opt: \"true\"\n", errInvalid, "opt (line 1)", "true or false"},
		{"8 is not a string", "title: 8\n", errInvalid, "title (line 1)", `want a string, got "8"`},
		{"a bool is not a string", "title: true\n", errInvalid, "title (line 1)", "want a string"},
		{"a date is not a string", "title: 2026-01-02\n", errInvalid, "title (line 1)", "want a string"},
		{"a string is not an int", "items: [{count: many}]\n", errInvalid, "items[0].count (line 1)", "integer"},
		{"a float is not an int", "items: [{count: 1.5}]\n", errInvalid, "items[0].count (line 1)", "integer"},
		{"negative into unsigned", "size: -1\n", errInvalid, "size (line 1)", ""},
		{"too large for uint16", "size: 70000\n", errInvalid, "size (line 1)", ""},
		{"a map is not a string", "title: {a: b}\n", errInvalid, "title (line 1)", "got a mapping"},
		{"a list is not a string", "title: [a]\n", errInvalid, "title (line 1)", "got a list"},
		{"a scalar is not a list", "items: one\n", errInvalid, "items (line 1)", `want a list of mappings, got "one"`},
		{"a scalar is not a struct", "items: [one]\n", errInvalid, "items[0] (line 1)", "want a mapping"},
		{"a list is not a map", "labels: [a]\n", errInvalid, "labels (line 1)", "want a mapping"},
		{"null string", "title:\n", errInvalid, "title (line 1)", "no value given; want a string"},
		{"null tilde", "title: ~\n", errInvalid, "title (line 1)", "no value given"},
		{"null list", "items:\n", errInvalid, "items (line 1)", "no value given; want a list of mappings"},
		{"null list item", "items:\n  -\n", errInvalid, "items[0] (line 2)", "no value given; want a mapping"},
		{"null pointer", "opt: null\n", errInvalid, "opt (line 1)", "no value given"},
		{"null map value", "labels: {x: }\n", errInvalid, "labels.x (line 1)", "no value given"},
		{"duplicate key", "title: a\ntitle: b\n", errSyntax, "title (line 2): syntax", "key given twice"},
		{"duplicate nested key", "by_name:\n  a: {name: x}\n  a: {name: y}\n", errSyntax, "by_name.a (line 3)", "key given twice"},
		{"non-scalar key", "labels: {[a]: b}\n", errSyntax, "labels (line 1)", "plain scalars"},
		{"custom type refuses", "level: medium\n", errInvalid, "level (line 1)", `want low or high, got "medium"`},
		{"root is a list", "- a\n", errInvalid, "(document) (line 1)", "want a mapping"},
		{"root is a scalar", "x\n", errInvalid, "(document) (line 1)", "want a mapping"},
		{"two documents", "title: a\n---\ntitle: b\n", errSyntax, "syntax: more than one YAML document", ""},
		{"not YAML", "title: [a\n", errSyntax, "syntax: yaml: line", ""},
		{"unknown anchor", "title: *x\n", errSyntax, "syntax: yaml: ", "unknown anchor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := Decode([]byte(tc.data), &d, sentinels)
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("error does not wrap %v: %v", tc.sentinel, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), "\n"+tc.want) {
				t.Errorf("error does not start %q:\n%v", tc.want, err)
			}
			if !strings.Contains(err.Error(), tc.want+tc.text) && !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error does not say %q:\n%v", tc.text, err)
			}
		})
	}
}

// TestDecodeAllProblems: every problem is reported, up to maxErrors.
func TestDecodeAllProblems(t *testing.T) {
	var d doc
	err := Decode([]byte("titel: a\nratio: x\nitems: [{on: yes}]\n"), &d, sentinels)
	for _, s := range []error{errUnknown, errInvalid} {
		if !errors.Is(err, s) {
			t.Errorf("does not wrap %v: %v", s, err)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 3 {
		t.Errorf("%d problems:\n%v", n, err)
	}

	var b strings.Builder
	for i := range 2 * maxErrors {
		fmt.Fprintf(&b, "unknown%d: x\n", i)
	}
	err = Decode([]byte(b.String()), &d, sentinels)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || !strings.Contains(lines[maxErrors], fmt.Sprintf("more than %d problems; stopped", maxErrors)) {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

// laughs is a "billion laughs" document: x0 is a list of ten strings and
// each xN a list of ten aliases of x(N-1); deep is one alias of x8, 10^9
// strings once expanded, in 500 bytes.
func laughs() string {
	var b strings.Builder
	b.WriteString("x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("deep: *a8\n")
	return b.String()
}

// TestDecodeAliasBomb: aliases that would expand to a billion nodes are
// refused after a bounded walk, whether their anchors sit under unknown
// keys or under keys the type has.
func TestDecodeAliasBomb(t *testing.T) {
	var unknownAnchors struct {
		Deep [][][][][][][][][]string `yaml:"deep"`
	}
	var knownAnchors struct {
		X0   []string                 `yaml:"x0"`
		X1   [][]string               `yaml:"x1"`
		X2   [][][]string             `yaml:"x2"`
		X3   [][][][]string           `yaml:"x3"`
		X4   [][][][][]string         `yaml:"x4"`
		X5   [][][][][][]string       `yaml:"x5"`
		X6   [][][][][][][]string     `yaml:"x6"`
		X7   [][][][][][][][]string   `yaml:"x7"`
		X8   [][][][][][][][][]string `yaml:"x8"`
		Deep [][][][][][][][][]string `yaml:"deep"`
	}
	for name, v := range map[string]any{"anchors under unknown keys": &unknownAnchors, "anchors under known keys": &knownAnchors} {
		t.Run(name, func(t *testing.T) {
			data := laughs()
			if len(data) > 1024 {
				t.Fatalf("%d bytes", len(data))
			}
			start := time.Now()
			err := Decode([]byte(data), v, sentinels)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Decode took %v", d)
			}
			if !errors.Is(err, errSyntax) || !strings.Contains(err.Error(), "too many YAML nodes once aliases are expanded") {
				t.Fatalf("alias bomb: %v", err)
			}
		})
	}
	// Aliases within the limit decode.
	var v struct {
		A []string `yaml:"a"`
		B []string `yaml:"b"`
	}
	if err := Decode([]byte("a: &l [x, y]\nb: *l\n"), &v, sentinels); err != nil || len(v.B) != 2 {
		t.Errorf("a small alias: %v, %+v", err, v)
	}
}

func TestDecodeNeedsPointer(t *testing.T) {
	var d doc
	if err := Decode([]byte("title: x\n"), d, sentinels); err == nil {
		t.Error("a non-pointer was accepted")
	}
	var p *doc
	if err := Decode([]byte("title: x\n"), p, sentinels); err == nil {
		t.Error("a nil pointer was accepted")
	}
}

func TestParse(t *testing.T) {
	n, err := Parse([]byte("a: 1\n"), sentinels)
	if err != nil || n == nil || n.Kind != yaml.MappingNode || n.Line != 1 {
		t.Fatalf("Parse = %+v, %v", n, err)
	}
	if n, err := Parse([]byte("# nothing\n"), sentinels); n != nil || err != nil {
		t.Errorf("empty: %v, %v", n, err)
	}
	if _, err := Parse([]byte("a: 1\n---\nb: 2\n"), sentinels); !errors.Is(err, errSyntax) {
		t.Errorf("two documents: %v", err)
	}
	var d doc
	if err := DecodeNode(n, &d, sentinels); !errors.Is(err, errUnknown) {
		t.Errorf("DecodeNode: %v", err)
	}
}

func TestWant(t *testing.T) {
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[string]():            "a string",
		reflect.TypeFor[bool]():              "true or false",
		reflect.TypeFor[int]():               "a non-negative integer",
		reflect.TypeFor[[]string]():          "a list of strings",
		reflect.TypeFor[[]item]():            "a list of mappings",
		reflect.TypeFor[item]():              "a mapping",
		reflect.TypeFor[map[string]string](): "a mapping",
		reflect.TypeFor[*bool]():             "true or false",
	} {
		if got := Want(typ); got != want {
			t.Errorf("Want(%v) = %q, want %q", typ, got, want)
		}
	}
}

// FuzzDecode: Decode never panics, every error wraps one of the
// sentinels, and what it accepts gopkg.in/yaml.v3's own strict decoder
// accepts too, with the same result.
func FuzzDecode(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "scripts", "ceremonies", "*.yaml"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("title: a\nitems: [{name: x, count: 2, on: true, tags: [a]}]\nlabels: {a: b}\nlevel: low\n"))
	f.Add([]byte("by_name: {a: {name: b}}\nopt: true\ndeep: [[a, b], []]\nratio: 1.5\nsize: 3\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("items: &i [{name: x}]\nx: *i\n"))
	f.Add([]byte("title: a\ntitle: b\n"))
	f.Add([]byte("<<: {title: a}\n"))
	f.Add([]byte("ratio: .nan\nsize: 0x10\ncount: !!int \"8\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		err := Decode(data, &d, sentinels)
		if err != nil {
			if !errors.Is(err, errSyntax) && !errors.Is(err, errUnknown) && !errors.Is(err, errInvalid) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		var std doc
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&std); err != nil && err.Error() != "EOF" {
			t.Fatalf("Decode accepted what yaml.v3 refuses (%v):\n%q", err, data)
		}
		if math.IsNaN(d.Ratio) && math.IsNaN(std.Ratio) {
			d.Ratio, std.Ratio = 0, 0 // .nan is not equal to itself
		}
		if !reflect.DeepEqual(d, std) {
			t.Fatalf("Decode and yaml.v3 differ:\n%+v\n%+v", d, std)
		}
	})
}
