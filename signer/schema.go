package signer

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/ksk-dev/ksk/internal/yamlpath"
)

// Schema is a named signing schedule: for each bundle slot of a KSR, which
// KSKs are published, which are published revoked and which sign.
type Schema struct {
	// Name is the schema's name in the configuration.
	Name string
	// Slots are the bundle slots: Slots[0] is slot 1, for the KSR's first
	// bundle. A schema fits a KSR with exactly len(Slots) bundles.
	Slots []Slot
	// Line is the line of the schema in the file, 0 when built in Go.
	Line int
}

// Slot is what one bundle slot does with the KSKs, by key name.
type Slot struct {
	// Publish are the KSKs in the DNSKEY RRset with flags 257.
	Publish []string
	// Revoke are the KSKs in the RRset with the REVOKE flag (385), under
	// their revoked key tag (RFC 5011).
	Revoke []string
	// Sign are the KSKs that sign the RRset; each is in Publish or
	// Revoke. A revoked KSK signs to prove its revocation (RFC 5011 §2.1);
	// at least one signer is not revoked.
	Sign []string
}

// Role is what a slot does with one key.
type Role int

// The roles of a key in a slot.
const (
	// Absent: the key is not in the slot's DNSKEY RRset.
	Absent Role = iota
	// Published: the key is in the RRset with flags 257 and does not sign.
	Published
	// PublishedSigning: the key is in the RRset with flags 257 and signs.
	PublishedSigning
	// Revoked: the key is in the RRset with flags 385 and does not sign.
	Revoked
	// RevokedSigning: the key is in the RRset with flags 385 and signs.
	RevokedSigning
)

// String names a role for summaries.
func (r Role) String() string {
	return [...]string{"absent", "published", "signs", "revoked", "revoked, signs"}[r]
}

// Role returns what the slot does with the key called name.
func (s *Slot) Role(name string) Role {
	signs := slices.Contains(s.Sign, name)
	switch {
	case slices.Contains(s.Revoke, name) && signs:
		return RevokedSigning
	case slices.Contains(s.Revoke, name):
		return Revoked
	case slices.Contains(s.Publish, name) && signs:
		return PublishedSigning
	case slices.Contains(s.Publish, name):
		return Published
	}
	return Absent
}

// KeyNames returns every key the schema names, in order of first
// appearance (slot by slot: publish, revoke, sign).
func (s *Schema) KeyNames() []string {
	var out []string
	for _, sl := range s.Slots {
		for _, l := range [][]string{sl.Publish, sl.Revoke, sl.Sign} {
			for _, n := range l {
				if !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// Validate checks a schema against the configured keys: at least one
// slot, every name defined, no name twice in a list, a revoked key not
// also published, every slot with a signer that is not revoked, and every
// signer published or revoked in its slot. Errors are *ConfigError values
// wrapping ErrInvalid, joined.
func (s *Schema) Validate(keys map[string]*KeyConfig) error {
	w := &walker{}
	w.checkSchema(s, "schemas."+s.Name, nil)
	w.checkSchemaKeys(s, "schemas."+s.Name, keys, nil)
	return w.err()
}

// slotLists are a slot's lists in the order errors report them.
var slotLists = []string{"publish", "revoke", "sign"}

// list returns the slot's list of that YAML name.
func (s *Slot) list(name string) *[]string {
	switch name {
	case "publish":
		return &s.Publish
	case "revoke":
		return &s.Revoke
	}
	return &s.Sign
}

// slotLines records where each slot's lists are, for errors.
type slotLines map[string]int

func (w *walker) schemasSection(e entry, c *Config) {
	es, ok := w.mapping(e.value, "schemas", "a mapping of schema names to schemas")
	if !ok {
		return
	}
	for _, se := range es {
		if !keyName.MatchString(se.key) {
			w.fail(se.path, se.line, ErrInvalid, "a schema name is 1 to 64 letters, digits, '_', '.', '+' or '-', starting with a letter or digit")
			continue
		}
		before := len(w.errs)
		s, lines := w.schemaEntry(se)
		if s == nil || len(w.errs) > before {
			continue
		}
		w.checkSchema(s, se.path, lines)
		w.checkSchemaKeys(s, se.path, c.Keys, lines)
		if len(w.errs) == before {
			c.Schemas[s.Name] = s
		}
	}
}

// schemaEntry reads the slots of one schema: integer keys 1..N, each a
// mapping of publish, sign and revoke.
func (w *walker) schemaEntry(se entry) (*Schema, slotLines) {
	es, ok := w.mapping(se.value, se.path, "a mapping of bundle slots 1, 2, ... to publish, sign and revoke")
	if !ok {
		return nil, nil
	}
	if len(es) == 0 {
		w.fail(se.path, se.line, ErrInvalid, "a schema needs at least one slot")
		return nil, nil
	}
	lines := slotLines{}
	slots := map[int]Slot{}
	max := 0
	for _, sl := range es {
		n, err := strconv.Atoi(sl.key)
		if err != nil || n < 1 || n > 100000 || strconv.Itoa(n) != sl.key {
			w.fail(sl.path, sl.line, ErrInvalid, "a slot is a bundle number from 1, not %q", clip(sl.key))
			continue
		}
		lines[sl.path] = sl.line
		fs, ok := w.fields(sl.value, sl.path, "a mapping with keys publish, sign and revoke", []string{"publish", "sign", "revoke"}, nil)
		if !ok {
			continue
		}
		var s Slot
		for _, name := range slotLists {
			if f, ok := fs[name]; ok {
				*s.list(name), _ = w.names(f)
				lines[f.path] = f.line
			}
		}
		slots[n] = s
		max = maxInt(max, n)
	}
	s := &Schema{Name: se.key, Line: se.line, Slots: make([]Slot, max)}
	for i := 1; i <= max; i++ {
		sl, ok := slots[i]
		if !ok {
			w.fail(se.path, se.line, ErrInvalid, "slot %d is missing: slots are numbered 1 to %d without gaps", i, max)
			continue
		}
		s.Slots[i-1] = sl
	}
	return s, lines
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// checkSchema checks the structure of each slot.
func (w *walker) checkSchema(s *Schema, path string, lines slotLines) {
	if len(s.Slots) == 0 {
		w.fail(path, s.Line, ErrInvalid, "a schema needs at least one slot")
	}
	for i, sl := range s.Slots {
		sp := yamlpath.Join(path, strconv.Itoa(i+1))
		line := func(list string) int {
			if l, ok := lines[yamlpath.Join(sp, list)]; ok {
				return l
			}
			return lines[sp]
		}
		for _, list := range slotLists {
			names := *sl.list(list)
			for j, n := range names {
				if slices.Contains(names[:j], n) {
					w.fail(yamlpath.Join(sp, list), line(list), ErrInvalid, "%s is listed twice", n)
				}
			}
		}
		for _, n := range sl.Revoke {
			if slices.Contains(sl.Publish, n) {
				w.fail(yamlpath.Join(sp, "revoke"), line("revoke"), ErrInvalid, "%s is both published and revoked in slot %d", n, i+1)
			}
		}
		if len(sl.Sign) == 0 {
			w.fail(yamlpath.Join(sp, "sign"), line("sign"), ErrInvalid, "slot %d has no signer", i+1)
		}
		revoked := 0
		for _, n := range sl.Sign {
			switch {
			case slices.Contains(sl.Publish, n):
			case slices.Contains(sl.Revoke, n):
				revoked++
			default:
				w.fail(yamlpath.Join(sp, "sign"), line("sign"), ErrInvalid, "%s signs slot %d but is neither published nor revoked in it", n, i+1)
			}
		}
		if len(sl.Sign) > 0 && revoked == len(sl.Sign) {
			w.fail(yamlpath.Join(sp, "sign"), line("sign"), ErrInvalid, "slot %d is signed only by revoked keys; a validator needs a signature by a key that is not revoked", i+1)
		}
	}
}

// checkSchemaKeys checks that every name is a configured key.
func (w *walker) checkSchemaKeys(s *Schema, path string, keys map[string]*KeyConfig, lines slotLines) {
	for i, sl := range s.Slots {
		sp := yamlpath.Join(path, strconv.Itoa(i+1))
		for _, list := range slotLists {
			for _, n := range *sl.list(list) {
				if _, ok := keys[n]; !ok && !w.named[n] {
					line := lines[yamlpath.Join(sp, list)]
					w.fail(yamlpath.Join(sp, list), line, ErrInvalid, "%s is not defined in keys", n)
				}
			}
		}
	}
}

// standardSection reads standard_schemas: current, next and slots, and
// adds the standard schemas of a rollover from current to next (or of an
// algorithm rollover when their algorithms differ).
func (w *walker) standardSection(e entry, c *Config) {
	fs, ok := w.fields(e.value, "standard_schemas", "a mapping with keys current, next and slots", []string{"current", "next", "slots"}, nil)
	if !ok {
		return
	}
	var cur, next string
	slots := DefaultSlots
	for _, name := range []string{"current", "next"} {
		dst := &cur
		if name == "next" {
			dst = &next
		}
		f, ok := fs[name]
		if !ok {
			w.fail(yamlpath.Join("standard_schemas", name), e.line, ErrInvalid, "missing")
			continue
		}
		v, line, ok := w.str(f, false)
		if !ok {
			continue
		}
		if _, ok := c.Keys[v]; !ok {
			if !w.named[v] {
				w.fail(f.path, line, ErrInvalid, "%s is not defined in keys", v)
			}
			continue
		}
		*dst = v
	}
	if f, ok := fs["slots"]; ok {
		if v, _, ok := w.integer(f, MinStandardSlots, 100000); ok {
			slots = int(v)
		}
	}
	if cur == "" || next == "" {
		return
	}
	if cur == next {
		w.fail("standard_schemas.next", fs["next"].line, ErrInvalid, "current and next are the same key")
		return
	}
	var std map[string]*Schema
	var err error
	if c.Keys[cur].Algorithm != c.Keys[next].Algorithm {
		std, err = AlgorithmRolloverSchemas(cur, next, slots)
	} else {
		std, err = StandardSchemas(cur, next, slots)
	}
	if err != nil {
		w.fail("standard_schemas", e.line, ErrInvalid, "%v", err)
		return
	}
	names := make([]string, 0, len(std))
	for name := range std {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := std[name]
		if _, dup := c.Schemas[name]; dup {
			w.fail("standard_schemas", e.line, ErrInvalid, "schema %s is also defined in schemas", name)
			continue
		}
		s.Line = e.line
		c.Schemas[name] = s
	}
}

// DefaultSlots is the number of bundles of a root zone KSR, and of the
// standard schemas when none is given.
const DefaultSlots = 9

// MinStandardSlots is the fewest slots a standard schema can have: the
// revoke schema needs a first slot, a revoked slot and a last slot.
const MinStandardSlots = 3

// Names of the standard schemas (StandardSchemas), kskm's where kskm has
// them.
const (
	SchemaNormal      = "normal"      // the current KSK alone
	SchemaPrePublish  = "pre-publish" // the next KSK published from slot 2
	SchemaPublishExt  = "publish+"    // both published, the current signs (extends pre-publish)
	SchemaRollover    = "rollover"    // both published, the next signs from slot 2
	SchemaRolloverExt = "rollover+"   // both published, the next signs (extends rollover)
	SchemaRevoke      = "revoke"      // the current revoked in slots 2..N-1, removed in N
	SchemaPostRevoke  = "post-revoke" // the next KSK alone
)

// StandardSchemas returns the schemas of a root-style KSK rollover from
// the KSK called current to the one called next, each with slots slots
// (9 for the root). Used quarter after quarter they give the phases of
// the 2017-2018 root KSK rollover:
//
//   - normal: current published and signing in every slot;
//   - pre-publish: next published too from slot 2 (slot 1 overlaps the
//     previous quarter);
//   - publish+: both published in every slot, current signing, for
//     quarters that extend the pre-publication;
//   - rollover: both published; current signs slot 1, next signs from
//     slot 2;
//   - rollover+: both published, next signing, extending the rollover;
//   - revoke: slot 1 as rollover+; in slots 2 to N-1 current is published
//     revoked and signs with next (RFC 5011 §2.1); slot N has next alone;
//   - post-revoke: next published and signing alone (the new normal).
//
// An error means slots is below MinStandardSlots or the names are empty or
// equal.
func StandardSchemas(current, next string, slots int) (map[string]*Schema, error) {
	if err := checkStandard(current, next, slots); err != nil {
		return nil, err
	}
	c, n := current, next
	both := []string{c, n}
	return map[string]*Schema{
		SchemaNormal:      uniform(SchemaNormal, slots, Slot{Publish: l(c), Sign: l(c)}),
		SchemaPrePublish:  firstThen(SchemaPrePublish, slots, Slot{Publish: l(c), Sign: l(c)}, Slot{Publish: both, Sign: l(c)}),
		SchemaPublishExt:  uniform(SchemaPublishExt, slots, Slot{Publish: both, Sign: l(c)}),
		SchemaRollover:    firstThen(SchemaRollover, slots, Slot{Publish: both, Sign: l(c)}, Slot{Publish: both, Sign: l(n)}),
		SchemaRolloverExt: uniform(SchemaRolloverExt, slots, Slot{Publish: both, Sign: l(n)}),
		SchemaRevoke: revokeSchema(SchemaRevoke, slots, Slot{Publish: both, Sign: l(n)},
			Slot{Publish: l(n), Revoke: l(c), Sign: both}, Slot{Publish: l(n), Sign: l(n)}),
		SchemaPostRevoke: uniform(SchemaPostRevoke, slots, Slot{Publish: l(n), Sign: l(n)}),
	}, nil
}

// Names of the algorithm rollover schemas (AlgorithmRolloverSchemas).
const (
	SchemaAlgPrePublish = "algorithm-pre-publish" // the next KSK published and signing from slot 2
	SchemaAlgDoubleSign = "algorithm-double-sign" // both published and signing
	SchemaAlgRevoke     = "algorithm-revoke"      // the current revoked in slots 2..N-1
)

// AlgorithmRolloverSchemas returns the schemas of a rollover from the KSK
// called current to next when the two use different algorithms. RFC 4035
// §2.2 wants every algorithm of the apex DNSKEY RRset to sign it, so the
// next KSK signs from the slot it is published in, and both algorithms
// sign until the current one is revoked; the KSR must carry ZSKs of both
// algorithms in the same slots (check SIGN-ALG-COVERAGE):
//
//   - normal: current alone;
//   - algorithm-pre-publish: from slot 2, next published and both sign;
//   - algorithm-double-sign: both published and signing, for as many
//     quarters as the new trust anchor needs (RFC 5011 hold-down);
//   - algorithm-revoke: slot 1 both sign; slots 2 to N-1 current revoked
//     (signing, RFC 5011) and next signing; slot N next alone; the KSR
//     drops the current algorithm's ZSKs from slot 2;
//   - post-revoke: next alone.
func AlgorithmRolloverSchemas(current, next string, slots int) (map[string]*Schema, error) {
	if err := checkStandard(current, next, slots); err != nil {
		return nil, err
	}
	c, n := current, next
	both := []string{c, n}
	return map[string]*Schema{
		SchemaNormal:        uniform(SchemaNormal, slots, Slot{Publish: l(c), Sign: l(c)}),
		SchemaAlgPrePublish: firstThen(SchemaAlgPrePublish, slots, Slot{Publish: l(c), Sign: l(c)}, Slot{Publish: both, Sign: both}),
		SchemaAlgDoubleSign: uniform(SchemaAlgDoubleSign, slots, Slot{Publish: both, Sign: both}),
		SchemaAlgRevoke: revokeSchema(SchemaAlgRevoke, slots, Slot{Publish: both, Sign: both},
			Slot{Publish: l(n), Revoke: l(c), Sign: both}, Slot{Publish: l(n), Sign: l(n)}),
		SchemaPostRevoke: uniform(SchemaPostRevoke, slots, Slot{Publish: l(n), Sign: l(n)}),
	}, nil
}

func checkStandard(current, next string, slots int) error {
	switch {
	case current == "" || next == "":
		return fmt.Errorf("%w: the current and next key names must not be empty", ErrInvalid)
	case current == next:
		return fmt.Errorf("%w: the current and next keys are both %s", ErrInvalid, current)
	case slots < MinStandardSlots:
		return fmt.Errorf("%w: a standard schema has at least %d slots, not %d", ErrInvalid, MinStandardSlots, slots)
	}
	return nil
}

func l(names ...string) []string { return names }

func clone(s Slot) Slot {
	return Slot{Publish: slices.Clone(s.Publish), Revoke: slices.Clone(s.Revoke), Sign: slices.Clone(s.Sign)}
}

func uniform(name string, n int, s Slot) *Schema {
	return firstThen(name, n, s, s)
}

func firstThen(name string, n int, first, rest Slot) *Schema {
	sc := &Schema{Name: name, Slots: make([]Slot, n)}
	sc.Slots[0] = clone(first)
	for i := 1; i < n; i++ {
		sc.Slots[i] = clone(rest)
	}
	return sc
}

func revokeSchema(name string, n int, first, middle, last Slot) *Schema {
	sc := firstThen(name, n, first, middle)
	sc.Slots[n-1] = clone(last)
	return sc
}
