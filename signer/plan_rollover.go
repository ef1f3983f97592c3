package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// ScheduleFormat is the format label of a rollover schedule file.
const ScheduleFormat = "ksk-rollover-schedule-v1"

// ErrPlan means a rollover cannot be planned as asked: a key the
// configuration does not have, the same key twice, a start missing, or a
// next KSK that is not valid when it would be published.
var ErrPlan = errors.New("cannot plan the rollover")

// RolloverOptions describe the RFC 5011 rollover PlanRollover plans.
type RolloverOptions struct {
	// Current is the configured KSK in use, Next the configured KSK rolled
	// to.
	Current, Next string
	// Start is the inception of the first bundle of the plan's first
	// quarter: the quarter in which Next is first published.
	Start time.Time
	// Slots is the number of bundles of each quarter's KSR; 0 means the
	// configuration's standard_schemas.slots, else DefaultSlots.
	Slots int
	// Interval is the time between two bundles' inceptions; 0 means the
	// middle of the request policy's minimum and maximum bundle interval
	// (10 days for the root).
	Interval time.Duration
	// PublishQuarters is how many quarters Next is published before the
	// quarter in which it takes over (at least 1, the default): more
	// quarters give validators that do not follow RFC 5011 time to update.
	// The planner adds quarters when the 30-day add hold-down needs them.
	PublishQuarters int
	// ConfigName is the file name the planned configuration is written
	// to, recorded in the schedule.
	ConfigName string
}

// PlannedQuarter is one quarter (one KSR, one SKR) of a planned
// rollover.
type PlannedQuarter struct {
	// Quarter counts the plan's quarters from 1.
	Quarter int `yaml:"quarter" json:"quarter"`
	// Start is the inception of the quarter's first bundle.
	Start time.Time `yaml:"start" json:"start"`
	// Schema is the standard schema to sign the quarter's KSR with.
	Schema string `yaml:"schema" json:"schema"`
	// What says what the root zone sees in the quarter.
	What string `yaml:"what" json:"what"`
}

// RolloverDates are the dates of a planned rollover, each a bundle's
// inception.
type RolloverDates struct {
	// Publish: Next is first published (slot 2 of the first quarter).
	Publish time.Time `yaml:"publish" json:"publish"`
	// HoldDownEnds: RFC 5011's 30-day add hold-down after Publish ends;
	// RFC 5011 resolvers trust Next from then on.
	HoldDownEnds time.Time `yaml:"add_hold_down_ends" json:"add_hold_down_ends"`
	// Rollover: Current no longer signs unrevoked; Next carries the
	// validation.
	Rollover time.Time `yaml:"rollover" json:"rollover"`
	// Revoke: Current is published with the REVOKE flag, signing its own
	// revocation (RFC 5011 §2.1).
	Revoke time.Time `yaml:"revoke" json:"revoke"`
	// Remove: Current leaves the DNSKEY RRset.
	Remove time.Time `yaml:"remove" json:"remove"`
}

// ScheduleKey names a key of the plan.
type ScheduleKey struct {
	Name      string `yaml:"name" json:"name"`
	Label     string `yaml:"label" json:"label"`
	KeyTag    uint16 `yaml:"key_tag" json:"key_tag"`
	Algorithm string `yaml:"algorithm" json:"algorithm"`
}

// Schedule is the rollover schedule file written beside the planned
// configuration: which standard schema signs each coming quarter, and the
// dates of the rollover.
type Schedule struct {
	// Format is ScheduleFormat.
	Format string `yaml:"format" json:"format"`
	// Config is the planned configuration's file name and ConfigSHA256
	// the SHA-256 of its bytes: the schedule is for that file only.
	Config       string `yaml:"config,omitempty" json:"config,omitempty"`
	ConfigSHA256 string `yaml:"config_sha256" json:"config_sha256"`
	// Rollover is "standard" (same algorithm) or "algorithm".
	Rollover string `yaml:"rollover" json:"rollover"`
	// Current and Next are the keys rolled from and to.
	Current ScheduleKey `yaml:"current" json:"current"`
	Next    ScheduleKey `yaml:"next" json:"next"`
	// Slots is the number of bundles per quarter, BundleInterval the time
	// between two bundles (ISO 8601), AddHoldDown RFC 5011's (P30D).
	Slots          int    `yaml:"slots" json:"slots"`
	BundleInterval string `yaml:"bundle_interval" json:"bundle_interval"`
	AddHoldDown    string `yaml:"add_hold_down" json:"add_hold_down"`
	// Dates are the rollover's dates.
	Dates RolloverDates `yaml:"dates" json:"dates"`
	// Quarters are the quarters to sign, in order, from the plan's start.
	Quarters []PlannedQuarter `yaml:"quarters" json:"quarters"`
	// ReplacedSchemas are schemas of the input configuration that the
	// standard schemas of the same name replace.
	ReplacedSchemas []string `yaml:"replaced_schemas,omitempty" json:"replaced_schemas,omitempty"`
	// Warnings are what the operator should know about the plan.
	Warnings []string `yaml:"warnings,omitempty" json:"warnings,omitempty"`
}

// RolloverPlan is a planned rollover: the configuration to sign with and
// the schedule, both encoded, ready to be written.
type RolloverPlan struct {
	// Schedule is the schedule; ScheduleData its YAML encoding.
	Schedule     Schedule
	ScheduleData []byte
	// Config is the planned signer configuration: the input with
	// standard_schemas {current, next} (and the schemas of the same names
	// removed from its schemas section). LoadConfig accepts it.
	Config []byte
}

// SchedulePath returns the schedule file written beside a planned
// configuration: rollover.yaml gives rollover.schedule.yaml.
func SchedulePath(configPath string) string {
	ext := filepath.Ext(configPath)
	return strings.TrimSuffix(configPath, ext) + ".schedule.yaml"
}

// ParseSchedule decodes a schedule file, strictly.
func ParseSchedule(data []byte) (*Schedule, error) {
	var s Schedule
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: rollover schedule: %w", ErrSyntax, err)
	}
	if s.Format != ScheduleFormat {
		return nil, fmt.Errorf("%w: rollover schedule: format %q, want %q", ErrInvalid, s.Format, ScheduleFormat)
	}
	return &s, nil
}

// PlanRollover plans an RFC 5011 rollover of the signer configuration
// data (YAML) from opts.Current to opts.Next, both keys of it, starting
// with the quarter whose first bundle begins at opts.Start.
//
// With keys of the same algorithm the quarters are: pre-publish (Next
// published from slot 2), publish+ while more publication quarters are
// asked for or the 30-day add hold-down (RFC 5011 §2.4.1) before Next
// signs needs them, rollover (Next signs from slot 2), revoke (Current
// revoked in slots 2 to N-1, removed in N) and post-revoke. With
// different algorithms: algorithm-pre-publish, algorithm-double-sign until
// the hold-down has passed, algorithm-revoke and post-revoke
// (AlgorithmRolloverSchemas). Every schema comes from the configuration's
// standard_schemas, which the planned configuration sets to {current,
// next}; schemas of the same names in its schemas section are removed and
// listed in the schedule. The plan satisfies the signer's own checks
// (SIGN-RFC5011-HOLDDOWN, SIGN-PUBLISH-SAFETY, SIGN-RETIRE-SAFETY) when
// each quarter is signed with the previous quarter's SKR.
func PlanRollover(data []byte, opts RolloverOptions) (*RolloverPlan, error) {
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, err
	}
	cur, next := cfg.Keys[opts.Current], cfg.Keys[opts.Next]
	switch {
	case opts.Current == "" || opts.Next == "":
		return nil, fmt.Errorf("%w: name the current and the next KSK", ErrPlan)
	case opts.Current == opts.Next:
		return nil, fmt.Errorf("%w: current and next are the same key %s", ErrPlan, opts.Current)
	case cur == nil:
		return nil, fmt.Errorf("%w: the configuration has no key %q (it has %s)", ErrPlan, opts.Current, strings.Join(cfg.KeyNames(), ", "))
	case next == nil:
		return nil, fmt.Errorf("%w: the configuration has no key %q (it has %s)", ErrPlan, opts.Next, strings.Join(cfg.KeyNames(), ", "))
	case opts.Start.IsZero():
		return nil, fmt.Errorf("%w: no start: give the inception of the first bundle of the first quarter", ErrPlan)
	}
	slots := opts.Slots
	if slots == 0 {
		if slots, err = configSlots(data); err != nil {
			return nil, err
		}
	}
	if slots < MinStandardSlots {
		return nil, fmt.Errorf("%w: %d slots; a rollover needs at least %d", ErrPlan, slots, MinStandardSlots)
	}
	interval := opts.Interval
	if interval == 0 {
		rp := cfg.Policy.Request
		interval = (rp.MinBundleInterval.Std() + rp.MaxBundleInterval.Std()) / 2
	}
	if interval <= 0 {
		return nil, fmt.Errorf("%w: the bundle interval must be positive", ErrPlan)
	}
	publishQuarters := max(opts.PublishQuarters, 1)

	start := opts.Start.UTC()
	quarterLen := time.Duration(slots) * interval
	slot := func(q, k int) time.Time { // q and k from 1
		return start.Add(time.Duration(q-1)*quarterLen + time.Duration(k-1)*interval)
	}
	s := Schedule{
		Format: ScheduleFormat, Config: opts.ConfigName, Rollover: "standard", Slots: slots,
		BundleInterval: policy.Duration(interval).String(), AddHoldDown: policy.Duration(AddHoldDown).String(),
		Current: scheduleKey(cur), Next: scheduleKey(next),
	}
	d := &s.Dates
	d.Publish = slot(1, 2)
	d.HoldDownEnds = d.Publish.Add(AddHoldDown)
	add := func(schema, what string) {
		q := len(s.Quarters) + 1
		s.Quarters = append(s.Quarters, PlannedQuarter{Quarter: q, Start: slot(q, 1), Schema: schema, What: what})
	}
	cn, nn := opts.Current, opts.Next
	if cur.Algorithm == next.Algorithm {
		// Next takes over at slot 2 of the rollover quarter: that is when
		// it signs alone, and it must have been published for the add
		// hold-down by then.
		r := publishQuarters + 1
		for slot(r, 2).Sub(d.Publish) < AddHoldDown {
			r++
		}
		add(SchemaPrePublish, fmt.Sprintf("%s published from slot 2 (%s); %s signs", nn, day(d.Publish), cn))
		for q := 2; q < r; q++ {
			add(SchemaPublishExt, fmt.Sprintf("%s and %s published; %s signs", cn, nn, cn))
		}
		d.Rollover = slot(r, 2)
		add(SchemaRollover, fmt.Sprintf("%s signs slot 1; %s signs from slot 2 (%s); both published", cn, nn, day(d.Rollover)))
		d.Revoke, d.Remove = slot(r+1, 2), slot(r+1, slots)
		add(SchemaRevoke, fmt.Sprintf("%s revoked from slot 2 (%s), signing its revocation with %s; removed at slot %d (%s)", cn, day(d.Revoke), nn, slots, day(d.Remove)))
		add(SchemaPostRevoke, fmt.Sprintf("%s alone", nn))
	} else {
		// Both sign from publication (RFC 4035 §2.2); Current is revoked
		// at slot 2 of the revoke quarter, after the hold-down.
		s.Rollover = "algorithm"
		v := publishQuarters + 1
		for slot(v, 2).Sub(d.Publish) < AddHoldDown {
			v++
		}
		add(SchemaAlgPrePublish, fmt.Sprintf("%s (%s) published and signing from slot 2 (%s); %s (%s) signs", nn, next.Algorithm, day(d.Publish), cn, cur.Algorithm))
		for q := 2; q < v; q++ {
			add(SchemaAlgDoubleSign, fmt.Sprintf("%s and %s published and signing", cn, nn))
		}
		d.Rollover, d.Revoke, d.Remove = slot(v, 2), slot(v, 2), slot(v, slots)
		add(SchemaAlgRevoke, fmt.Sprintf("%s revoked from slot 2 (%s), signing its revocation; %s alone at slot %d (%s)", cn, day(d.Revoke), nn, slots, day(d.Remove)))
		add(SchemaPostRevoke, fmt.Sprintf("%s alone", nn))
	}
	if next.ValidFrom.After(d.Publish) {
		return nil, fmt.Errorf("%w: key %s is valid from %s (valid_from), after it would be first published on %s: start later or change valid_from",
			ErrPlan, nn, next.ValidFrom.Format(time.RFC3339), d.Publish.Format(time.RFC3339))
	}
	if !cur.ValidUntil.IsZero() && cur.ValidUntil.Before(d.Rollover.Add(interval*2)) {
		s.Warnings = append(s.Warnings, fmt.Sprintf("key %s is valid until %s (valid_until); its last unrevoked bundles may end later: check with ksk sign before the rollover quarter", cn, cur.ValidUntil.Format(time.RFC3339)))
	}
	if kept := d.Remove.Sub(d.Revoke); kept < AddHoldDown {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s is published revoked for only %s: with so few or so short bundles, resolvers that query rarely may not see the revocation", cn, policy.Duration(kept)))
	}

	out, replaced, err := WithStandardSchemas(data, cn, nn, slots)
	if err != nil {
		return nil, err
	}
	planned, err := ParseConfig(out)
	if err != nil {
		return nil, fmt.Errorf("the planned configuration does not load: %w", err)
	}
	for _, q := range s.Quarters {
		if _, err := planned.Schema(q.Schema); err != nil {
			return nil, fmt.Errorf("the planned configuration lacks schema %s: %w", q.Schema, err)
		}
	}
	sum := sha256.Sum256(out)
	s.ConfigSHA256 = hex.EncodeToString(sum[:])
	s.ReplacedSchemas = replaced
	sched, err := marshalSchedule(&s)
	if err != nil {
		return nil, err
	}
	return &RolloverPlan{Schedule: s, ScheduleData: sched, Config: out}, nil
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func scheduleKey(k *KeyConfig) ScheduleKey {
	return ScheduleKey{Name: k.Name, Label: k.Label, KeyTag: k.KeyTag, Algorithm: k.Algorithm.String()}
}

func marshalSchedule(s *Schedule) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# RFC 5011 rollover of %s (key tag %d) to %s (key tag %d), planned by ksk.\n", s.Current.Name, s.Current.KeyTag, s.Next.Name, s.Next.KeyTag)
	fmt.Fprintf(&b, "# Sign each quarter's KSR with its schema and the previous quarter's SKR:\n")
	fmt.Fprintf(&b, "#   ksk sign --config %s --schema SCHEMA --ksr KSR --previous-skr PREVIOUS-SKR --out SKR\n", orConfig(s.Config))
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("rollover schedule: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rollover schedule: %w", err)
	}
	return b.Bytes(), nil
}

func orConfig(name string) string {
	if name == "" {
		return "CONFIG"
	}
	return filepath.Base(name)
}

// configSlots returns the slots of the configuration's standard_schemas,
// or DefaultSlots.
func configSlots(data []byte) (int, error) {
	top, _, err := configTop(data)
	if err != nil {
		return 0, err
	}
	if std := mapValue(top, "standard_schemas"); std != nil {
		if n := mapValue(std, "slots"); n != nil {
			v, err := strconv.Atoi(n.Value)
			if err != nil {
				return 0, fmt.Errorf("%w: standard_schemas.slots: %q", ErrInvalid, n.Value)
			}
			return v, nil
		}
	}
	return DefaultSlots, nil
}

// NewKeyConfig describes a KSK for a configuration's keys section from
// its public key: its label, algorithm, size, RSA exponent, and the key
// tag and SHA-256 DS of its DNSKEY (flags 257) owned by zone.
func NewKeyConfig(name, label string, pub crypto.PublicKey, alg hsm.Algorithm, zone string, validFrom time.Time) (*KeyConfig, error) {
	if !keyName.MatchString(name) {
		return nil, fmt.Errorf("%w: key name %q: 1 to 64 letters, digits, '_', '.', '+' or '-'", ErrInvalid, name)
	}
	if !validLabel(label) {
		return nil, fmt.Errorf("%w: label %q", ErrInvalid, label)
	}
	if zone == "" {
		zone = "."
	}
	dk, err := hsm.NewDNSKEY(pub, alg, hsm.DNSKEYOptions{Owner: dns.Fqdn(zone)})
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	ds, err := hsm.DS(dk, dns.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	kc := &KeyConfig{Name: name, Label: label, Algorithm: alg, KeyTag: dk.KeyTag(), DSSHA256: strings.ToUpper(ds.Digest), ValidFrom: validFrom.UTC()}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		kc.Size, kc.RSAExponent = p.N.BitLen(), p.E
	case *ecdsa.PublicKey:
		kc.Size = p.Curve.Params().BitSize
	case ed25519.PublicKey:
		kc.Size = 256
	default:
		return nil, fmt.Errorf("%w: key %s: public key type %T", ErrInvalid, name, pub)
	}
	return kc, nil
}

// AddKey returns the signer configuration data (YAML) with kc added to
// its keys section, keeping everything else, comments included. A key of
// that name or label already there is an error.
func AddKey(data []byte, kc *KeyConfig) ([]byte, error) {
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, err
	}
	if cfg.Keys[kc.Name] != nil {
		return nil, fmt.Errorf("%w: the configuration already has a key %s", ErrInvalid, kc.Name)
	}
	for _, k := range cfg.Keys {
		if k.Label == kc.Label {
			return nil, fmt.Errorf("%w: key %s already has label %q", ErrInvalid, k.Name, kc.Label)
		}
	}
	out, err := editConfig(data, func(top *yaml.Node) error {
		keys := mapValue(top, "keys")
		if keys == nil || keys.Kind != yaml.MappingNode {
			return fmt.Errorf("%w: keys is not a mapping ksk can add to", ErrInvalid)
		}
		entry := &yaml.Node{Kind: yaml.MappingNode}
		put := func(k string, v *yaml.Node) { entry.Content = append(entry.Content, str(k), v) }
		if kc.Description != "" {
			put("description", str(kc.Description))
		}
		put("label", str(kc.Label))
		put("algorithm", str(kc.Algorithm.String()))
		if kc.Algorithm.IsRSA() {
			put("rsa_size", integer(kc.Size))
			put("rsa_exponent", integer(kc.RSAExponent))
		} else {
			put("size", integer(kc.Size))
		}
		put("key_tag", integer(int(kc.KeyTag)))
		put("ds_sha256", str(kc.DSSHA256))
		put("valid_from", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: kc.ValidFrom.UTC().Format(time.RFC3339)})
		if !kc.ValidUntil.IsZero() {
			put("valid_until", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: kc.ValidUntil.UTC().Format(time.RFC3339)})
		}
		name := str(kc.Name)
		name.HeadComment = fmt.Sprintf("%s: key tag %d, read from the HSM by ksk", kc.Name, kc.KeyTag)
		keys.Content = append(keys.Content, name, entry)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := ParseConfig(out); err != nil {
		return nil, fmt.Errorf("the configuration with key %s does not load: %w", kc.Name, err)
	}
	return out, nil
}

// WithStandardSchemas returns the signer configuration data (YAML) with
// standard_schemas set to {current, next, slots}, replacing any it had,
// and the names of the schemas of its schemas section that the standard
// schemas replace (they are removed; a schemas section left empty goes).
// Slots 0 keeps the configuration's standard_schemas.slots, else
// DefaultSlots. Comments and everything else are kept.
func WithStandardSchemas(data []byte, current, next string, slots int) ([]byte, []string, error) {
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, nil, err
	}
	cur, nxt := cfg.Keys[current], cfg.Keys[next]
	if cur == nil || nxt == nil {
		return nil, nil, fmt.Errorf("%w: standard schemas from %q to %q: both must be keys of the configuration", ErrInvalid, current, next)
	}
	if slots == 0 {
		if slots, err = configSlots(data); err != nil {
			return nil, nil, err
		}
	}
	var std map[string]*Schema
	if cur.Algorithm != nxt.Algorithm {
		std, err = AlgorithmRolloverSchemas(current, next, slots)
	} else {
		std, err = StandardSchemas(current, next, slots)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var replaced []string
	out, err := editConfig(data, func(top *yaml.Node) error {
		deleteKey(top, "standard_schemas")
		if sc := mapValue(top, "schemas"); sc != nil {
			if sc.Kind != yaml.MappingNode {
				return fmt.Errorf("%w: schemas is not a mapping ksk can edit", ErrInvalid)
			}
			for name := range std {
				if deleteKey(sc, name) {
					replaced = append(replaced, name)
				}
			}
			if len(sc.Content) == 0 {
				deleteKey(top, "schemas")
			}
		}
		m := &yaml.Node{Kind: yaml.MappingNode}
		m.Content = append(m.Content, str("current"), str(current), str("next"), str(next))
		if slots != DefaultSlots {
			m.Content = append(m.Content, str("slots"), integer(slots))
		}
		k := str("standard_schemas")
		k.HeadComment = fmt.Sprintf("Standard schemas of the rollover from %s to %s (docs/signer.md)", current, next)
		top.Content = append(top.Content, k, m)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(replaced)
	return out, replaced, nil
}

// configTop parses a configuration's YAML into its document and top
// mapping.
func configTop(data []byte) (*yaml.Node, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%w: the configuration is not one mapping", ErrSyntax)
	}
	return doc.Content[0], &doc, nil
}

// editConfig applies edit to the top mapping of a configuration and
// encodes it again.
func editConfig(data []byte, edit func(top *yaml.Node) error) ([]byte, error) {
	top, doc, err := configTop(data)
	if err != nil {
		return nil, err
	}
	if err := edit(top); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	return b.Bytes(), nil
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// deleteKey removes key from a mapping node and reports whether it was
// there.
func deleteKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return true
		}
	}
	return false
}

func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func integer(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
}
