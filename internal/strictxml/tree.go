package strictxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDepth bounds element nesting, whatever the schema says.
const maxDepth = 16

// Node is one element of a document that has passed the structural checks
// of its schema: known names, attributes and cardinalities.
type Node struct {
	Name     string
	Attrs    map[string]string
	Text     string // a leaf's text with surrounding white space removed
	Children []*Node
	Line     int // line of the start tag

	spec   *Spec
	counts []int // occurrences of each of spec.Children
	buf    []byte
}

// Child returns the first child named name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All returns the children named name, in document order.
func (n *Node) All(name string) []*Node {
	var cs []*Node
	for _, c := range n.Children {
		if c.Name == name {
			cs = append(cs, c)
		}
	}
	return cs
}

// reader turns the XML token stream into a tree of nodes, enforcing the
// schema as it goes so that bad input is rejected at its first error.
type reader struct {
	data     []byte
	schema   *Schema
	lastOff  int64
	lastLine int
}

// lineAt returns the 1-based line of byte offset off. Offsets must be
// requested in non-decreasing order.
func (t *reader) lineAt(off int64) int {
	if off < t.lastOff {
		t.lastOff, t.lastLine = 0, 1
	}
	off = min(off, int64(len(t.data)))
	t.lastLine += bytes.Count(t.data[t.lastOff:off], []byte{'\n'})
	t.lastOff = off
	return t.lastLine
}

func errAt(line int, element string, err error) *Error {
	return &Error{Line: line, Element: element, Err: err}
}

// Read parses data, a whole document, against schema and returns its
// document element. It accepts an XML declaration (version 1.0, encoding
// UTF-8) at the very start, comments and white space between elements; it
// rejects DTDs, other processing instructions, other encodings, namespaced
// names, text in elements that hold elements, and whatever schema forbids.
func Read(data []byte, schema *Schema) (*Node, error) {
	t := &reader{data: data, schema: schema, lastLine: 1}
	root, err := t.read()
	if err != nil {
		return nil, err
	}
	return root, nil
}

func (t *reader) read() (*Node, *Error) {
	dec := xml.NewDecoder(bytes.NewReader(t.data))
	dec.Strict = true
	// CharsetReader stays nil: a declared encoding other than UTF-8 is an error.
	docNode := &Node{spec: &Spec{Children: []Child{{t.schema.Root, 1, 1}}}, counts: make([]int, 1)}
	stack := []*Node{docNode}
	first := true
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		top := stack[len(stack)-1]
		if err != nil {
			line := t.lineAt(dec.InputOffset())
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
				err = errors.New(se.Msg)
			}
			return nil, errAt(line, top.Name, fmt.Errorf("%w: %v", ErrSyntax, err))
		}
		wasFirst := first
		first = false
		switch tok := tok.(type) {
		case xml.ProcInst:
			if tok.Target != "xml" || !wasFirst || off != 0 {
				return nil, errAt(t.lineAt(off), top.Name, fmt.Errorf("%w: processing instruction <?%s?> (only an XML declaration at the start is allowed)", ErrSyntax, abbrev(tok.Target)))
			}
			if err := checkDecl(string(tok.Inst)); err != nil {
				return nil, errAt(1, "", err)
			}
		case xml.Directive:
			return nil, errAt(t.lineAt(off), top.Name, fmt.Errorf("%w: directive <!%s> (DTDs are not allowed)", ErrSyntax, firstWord(tok)))
		case xml.Comment:
			// ignored
		case xml.CharData:
			if top.spec.leaf() {
				top.buf = append(top.buf, tok...)
			} else if trimmed := bytes.TrimSpace(tok); len(trimmed) > 0 {
				if top.Name == "" {
					return nil, errAt(t.lineAt(off), "", fmt.Errorf("%w: text outside the document element", ErrSyntax))
				}
				return nil, errAt(t.lineAt(off), top.Name, fmt.Errorf("%w: unexpected text %q", ErrUnknownElement, abbrev(string(trimmed))))
			}
		case xml.StartElement:
			n, err := t.start(top, tok, t.lineAt(off), len(stack))
			if err != nil {
				return nil, err
			}
			top.Children = append(top.Children, n)
			stack = append(stack, n)
		case xml.EndElement:
			// encoding/xml has already checked that the end tag matches.
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for i, r := range n.spec.Children {
				if n.counts[i] < r.Min {
					return nil, errAt(n.Line, n.Name, fmt.Errorf("%w: <%s> lacks <%s>", ErrMissingElement, n.Name, r.Name))
				}
			}
			n.Text = strings.TrimSpace(string(n.buf))
			n.buf, n.counts = nil, nil
		}
	}
	if len(stack) > 1 {
		top := stack[len(stack)-1]
		return nil, errAt(t.lineAt(int64(len(t.data))), top.Name, fmt.Errorf("%w: document ends inside <%s>", ErrSyntax, top.Name))
	}
	if len(docNode.Children) == 0 {
		return nil, errAt(t.lineAt(int64(len(t.data))), t.schema.Root, fmt.Errorf("%w: no <%s> document element", ErrMissingElement, t.schema.Root))
	}
	return docNode.Children[0], nil
}

// start checks a start tag against its parent's spec and returns its node.
func (t *reader) start(parent *Node, tok xml.StartElement, line, depth int) (*Node, *Error) {
	name := tok.Name.Local
	if tok.Name.Space != "" {
		name = tok.Name.Space + ":" + name
	}
	ri := parent.spec.rule(name)
	if ri < 0 || tok.Name.Space != "" {
		if parent.Name == "" {
			return nil, errAt(line, name, fmt.Errorf("%w: the document element must be <%s>", ErrUnknownElement, t.schema.Root))
		}
		return nil, errAt(line, name, fmt.Errorf("%w in <%s>", ErrUnknownElement, parent.Name))
	}
	parent.counts[ri]++
	if rule := parent.spec.Children[ri]; rule.Max >= 0 && parent.counts[ri] > rule.Max {
		if parent.Name == "" {
			return nil, errAt(line, name, fmt.Errorf("%w: a second document element", ErrDuplicateElement))
		}
		return nil, errAt(line, name, fmt.Errorf("%w: <%s> may hold only one", ErrDuplicateElement, parent.Name))
	}
	if depth > maxDepth {
		return nil, errAt(line, name, fmt.Errorf("%w: nesting deeper than %d", ErrUnknownElement, maxDepth))
	}
	spec := t.schema.spec(name)
	n := &Node{Name: name, Line: line, spec: spec, counts: make([]int, len(spec.Children))}
	if err := n.setAttrs(tok.Attr); err != nil {
		return nil, errAt(line, name, err)
	}
	return n, nil
}

// setAttrs checks attrs against the node's spec and stores them.
func (n *Node) setAttrs(attrs []xml.Attr) error {
	n.Attrs = make(map[string]string, len(attrs))
	for _, a := range attrs {
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		if a.Name.Space != "" || !n.spec.knowsAttr(name) {
			return fmt.Errorf("%w %q", ErrUnknownAttribute, abbrev(name))
		}
		if _, dup := n.Attrs[name]; dup {
			return fmt.Errorf("%w %q", ErrDuplicateAttribute, name)
		}
		n.Attrs[name] = a.Value
	}
	for _, r := range n.spec.Required {
		if _, ok := n.Attrs[r]; !ok {
			return fmt.Errorf("%w %q", ErrMissingAttribute, r)
		}
	}
	return nil
}

// checkDecl checks the XML declaration: version 1.0 and, if given, the
// encoding UTF-8.
func checkDecl(inst string) error {
	if v, _ := declAttr(inst, "version"); v != "1.0" {
		return fmt.Errorf("%w: XML declaration version %q, want \"1.0\"", ErrSyntax, abbrev(v))
	}
	if v, ok := declAttr(inst, "encoding"); ok && !strings.EqualFold(v, "UTF-8") {
		return fmt.Errorf("%w: XML declaration encoding %q, want \"UTF-8\"", ErrSyntax, abbrev(v))
	}
	return nil
}

// declAttr extracts a pseudo-attribute from an XML declaration.
func declAttr(inst, key string) (string, bool) {
	for _, f := range strings.Fields(inst) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != key || len(v) < 2 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] {
			continue
		}
		return v[1 : len(v)-1], true
	}
	return "", false
}

func firstWord(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return abbrev(f[0])
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
