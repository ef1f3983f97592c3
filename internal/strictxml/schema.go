package strictxml

// Child says how often a child element may occur in its parent.
type Child struct {
	Name string
	Min  int
	Max  int // -1: unbounded
}

// Spec describes the content of an element: its child elements, or text
// when Children is nil and Empty is false; and its attributes.
type Spec struct {
	Children []Child  // nil for a leaf element that holds text
	Required []string // required attributes
	Optional []string // optional attributes
	Empty    bool     // neither children nor text (<RSA .../>)
}

// Schema describes a format whose element content depends only on the
// element's name. Elements not in Elements are leaves without attributes.
type Schema struct {
	Root     string           // the document element's name
	Elements map[string]*Spec // by element name
}

var leafSpec = &Spec{}

func (s *Schema) spec(name string) *Spec {
	if sp, ok := s.Elements[name]; ok {
		return sp
	}
	return leafSpec
}

func (s *Spec) leaf() bool { return s.Children == nil && !s.Empty }

// rule returns the index in Children of the rule for name, or -1.
func (s *Spec) rule(name string) int {
	for i := range s.Children {
		if s.Children[i].Name == name {
			return i
		}
	}
	return -1
}

func (s *Spec) knowsAttr(name string) bool {
	for _, a := range s.Required {
		if a == name {
			return true
		}
	}
	for _, a := range s.Optional {
		if a == name {
			return true
		}
	}
	return false
}
