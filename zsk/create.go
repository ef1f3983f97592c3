package zsk

import (
	"bytes"
	"crypto"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// CreateKSR builds a KSR from the ZSKs of opts: Bundles bundles starting at
// Start, Interval apart, each valid for Validity, each publishing the keys
// the Schedule names (flags 256, protocol 3, the TTL of opts) and carrying
// one proof-of-possession RRSIG per key over its DNSKEY RRset (valid from
// the bundle's inception to its expiration). The RequestPolicy is
// opts.Policy, or the one RequestPolicy derives from the keys and cadence.
// The KSR id and bundle ids are fresh UUIDs, or UUIDs derived from IDSeed.
//
// With opts.PreviousSKR, the KSR continues that SKR: the domain defaults to
// its domain, Start to one Interval after its last bundle's inception, and
// the KSR's first bundle must publish exactly the ZSKs of the previous
// SKR's last bundle (an error wrapping ErrChain otherwise); neither the KSR
// id nor a bundle id repeats one of the previous SKR's.
//
// Errors wrap ErrOptions, ErrChain or ErrSign, and the signer's own error
// (an HSM error, for instance) when a key fails to sign. CreateKSR does not
// apply the KSK operator's policy: run ksr.Validate on the result.
func CreateKSR(opts Options) (*ksr.Document, error) {
	o, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	zone := dns.CanonicalName(o.Domain)

	keys := make([]ksr.Key, len(o.Keys))
	signers := map[string]crypto.Signer{}
	for i := range o.Keys {
		k, err := requestKey(&o.Keys[i], zone, o.TTL)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if k.Identifier != strings.TrimSpace(k.Identifier) {
			return nil, fmt.Errorf("%w: key %d: identifier %q has surrounding space", ErrOptions, i+1, k.Identifier)
		}
		for j := range keys[:i] {
			switch {
			case keys[j].Algorithm == k.Algorithm && bytes.Equal(keys[j].PublicKey, k.PublicKey):
				return nil, fmt.Errorf("%w: keys %d and %d are the same key (key tag %d)", ErrOptions, j+1, i+1, k.KeyTag)
			case keys[j].Identifier == k.Identifier:
				return nil, fmt.Errorf("%w: keys %d and %d have the same identifier %q", ErrOptions, j+1, i+1, k.Identifier)
			}
		}
		keys[i] = k
		signers[k.Identifier] = o.Keys[i].Signer
	}
	if err := o.Schedule.check(len(keys), o.Bundles); err != nil {
		return nil, err
	}

	ids := idMaker{seed: o.IDSeed, rand: o.Rand}
	var taken map[string]bool
	if o.PreviousSKR != nil {
		taken = map[string]bool{strings.ToLower(o.PreviousSKR.ID): true}
		for _, b := range o.PreviousSKR.Bundles() {
			taken[strings.ToLower(b.ID)] = true
		}
	}
	newID := func(name string) (string, error) {
		id, err := ids.uuid(name)
		if err == nil && taken[id] {
			err = fmt.Errorf("%w: id %s of %s is already used by the previous SKR (change IDSeed)", ErrChain, id, name)
		}
		return id, err
	}

	policy := RequestPolicy(keys, o.Interval, o.Validity)
	if o.Policy != nil {
		policy = *o.Policy
		policy.Algorithms = slices.Clone(policy.Algorithms)
		if len(policy.Algorithms) == 0 {
			policy.Algorithms = algorithms(keys)
		}
	}
	d := &ksr.Document{Domain: zone, Serial: o.Serial, Request: &ksr.Request{ZSKPolicy: policy}}
	if d.ID, err = newID("ksr"); err != nil {
		return nil, err
	}
	start := o.Start.UTC().Truncate(time.Second)
	for i, entry := range o.Schedule {
		b := ksr.Bundle{
			Inception: start.Add(time.Duration(i) * o.Interval),
		}
		b.Expiration = b.Inception.Add(o.Validity)
		if b.ID, err = newID(fmt.Sprintf("bundle-%d", i+1)); err != nil {
			return nil, err
		}
		for _, k := range entry {
			b.Keys = append(b.Keys, keys[k])
		}
		if err := signBundle(&b, zone, signers); err != nil {
			return nil, err
		}
		d.Request.Bundles = append(d.Request.Bundles, b)
	}
	if o.PreviousSKR != nil {
		if err := checkChain(d, o.PreviousSKR); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// withDefaults fills the zero fields of opts and checks what can be checked
// before any key is used.
func withDefaults(o Options) (Options, error) {
	if len(o.Keys) == 0 {
		return o, fmt.Errorf("%w: no ZSK given", ErrOptions)
	}
	if o.Bundles == 0 {
		o.Bundles = DefaultBundles
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Validity == 0 {
		o.Validity = DefaultValidity
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	prev := o.PreviousSKR
	if prev != nil {
		if prev.Response == nil || len(prev.Response.Bundles) == 0 {
			return o, fmt.Errorf("%w: the previous document %s is not an SKR with bundles", ErrChain, prev.ID)
		}
		if o.Domain == "" {
			o.Domain = prev.Domain
		}
		if o.Start.IsZero() {
			last := prev.Response.Bundles[len(prev.Response.Bundles)-1]
			o.Start = last.Inception.Add(o.Interval)
		}
	}
	if o.Domain == "" {
		o.Domain = DefaultDomain
	}
	switch {
	case o.Bundles < 1:
		return o, fmt.Errorf("%w: %d bundles", ErrOptions, o.Bundles)
	case o.Interval < time.Second:
		return o, fmt.Errorf("%w: interval %s is less than a second", ErrOptions, o.Interval)
	case o.Validity <= o.Interval:
		return o, fmt.Errorf("%w: validity %s does not exceed the interval %s, so consecutive bundles would not overlap", ErrOptions, o.Validity, o.Interval)
	case o.Start.IsZero():
		return o, fmt.Errorf("%w: no start date", ErrOptions)
	}
	if _, ok := dns.IsDomainName(o.Domain); !ok {
		return o, fmt.Errorf("%w: %q is not a domain name", ErrOptions, o.Domain)
	}
	if prev != nil && dns.CanonicalName(prev.Domain) != dns.CanonicalName(o.Domain) {
		return o, fmt.Errorf("%w: the previous SKR is for %s, the KSR for %s", ErrChain, prev.Domain, o.Domain)
	}
	end := o.Start.Add(time.Duration(o.Bundles-1)*o.Interval + o.Validity)
	if o.Start.Unix() < 0 || end.Unix() > 1<<32-1 {
		return o, fmt.Errorf("%w: the bundles from %s to %s do not fit the RRSIG time fields (1970 to 2106)", ErrOptions, o.Start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	if o.Schedule == nil {
		s, err := DefaultSchedule(len(o.Keys), o.Bundles)
		if err != nil {
			return o, err
		}
		o.Schedule = s
	}
	return o, nil
}

// checkChain checks that the KSR's first bundle publishes the same ZSKs as
// the previous SKR's last bundle (KSR-CHAIN-KEYS in both directions).
func checkChain(d *ksr.Document, prev *ksr.Document) error {
	last := &prev.Response.Bundles[len(prev.Response.Bundles)-1]
	first := &d.Request.Bundles[0]
	material := func(k *ksr.Key) string {
		return fmt.Sprintf("%d/%d/%d/%x", k.Flags, k.TTL, k.Algorithm, k.PublicKey)
	}
	want, got := map[string]uint16{}, map[string]uint16{}
	for i := range last.Keys {
		if k := &last.Keys[i]; !k.IsKSK() {
			want[material(k)] = k.DNSKEY(d.Domain).KeyTag()
		}
	}
	for i := range first.Keys {
		got[material(&first.Keys[i])] = first.Keys[i].KeyTag
	}
	var missing, extra []string
	for m, tag := range want {
		if _, ok := got[m]; !ok {
			missing = append(missing, fmt.Sprint(tag))
		}
	}
	for m, tag := range got {
		if _, ok := want[m]; !ok {
			extra = append(extra, fmt.Sprint(tag))
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return fmt.Errorf("%w: the previous SKR's last bundle %s publishes ZSKs %s, the KSR's first bundle %s (missing %v, extra %v); give the keys in the order retiring, current, next, or a schedule",
		ErrChain, last.ID, tagList(want), tagList(got), missing, extra)
}

func tagList(m map[string]uint16) string {
	tags := make([]string, 0, len(m))
	for _, t := range m {
		tags = append(tags, fmt.Sprint(t))
	}
	slices.Sort(tags)
	return strings.Join(tags, ", ")
}
