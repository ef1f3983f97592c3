package policy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// IntChoice is a set of acceptable counts, written in YAML either as one
// integer ("num_bundles: 9", as in kskm) or as a list ("num_bundles: [6, 9]").
// An empty IntChoice accepts nothing; use Allows to test a value.
type IntChoice []int

// Allows reports whether n is one of the acceptable values.
func (c IntChoice) Allows(n int) bool { return slices.Contains(c, n) }

// String formats c as "9" or "6 or 9".
func (c IntChoice) String() string {
	s := make([]string, len(c))
	for i, v := range c {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, " or ")
}

// UnmarshalYAML reads an integer or a list of integers.
func (c *IntChoice) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var v int
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, errNotScalar)
		}
		*c = IntChoice{v}
		return nil
	case yaml.SequenceNode:
		var vs []int
		if err := n.Decode(&vs); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, errNotScalar)
		}
		*c = IntChoice(vs)
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errNotScalar)
}

// MarshalYAML writes a single value as a scalar and several as a list.
func (c IntChoice) MarshalYAML() (any, error) {
	if len(c) == 1 {
		return c[0], nil
	}
	return []int(c), nil
}

// errNotScalar is returned by IntChoice for a node that is neither an
// integer nor a sequence of integers.
var errNotScalar = errors.New("want an integer or a list of integers")
