package rfc5011

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Flag bits of a DNSKEY (RFC 4034 §2.1.1, RFC 5011 §7).
const (
	flagZone   = 0x0100
	flagRevoke = 0x0080
	flagSEP    = 0x0001
)

// ErrAnchor means a configured trust anchor is not usable.
var ErrAnchor = errors.New("invalid trust anchor")

// Resolver is the trust anchor store of one RFC 5011 resolver for one
// trust point (zone). It is not safe for concurrent use.
type Resolver struct {
	zone   string
	p      Params
	keys   []*tracked // in order of first sight
	cache  map[verifyKey]bool
	timers struct {
		ok              bool // a query has succeeded
		origTTL, expiry time.Duration
	}
}

// tracked is one key the resolver knows.
type tracked struct {
	id         string      // algorithm and public key: the key without its flags
	key        *dns.DNSKEY // unrevoked form, owned by the zone
	state      State
	since      time.Time     // when state was entered
	holdDown   time.Duration // add hold-down (AddPend)
	seen       int           // validated RRsets that held the key
	configured bool
}

type verifyKey struct {
	served *Served
	sig    int
	key    string
}

// keyID identifies a key by algorithm and public key, ignoring flags, so a
// revoked key is the same key as its unrevoked form.
func keyID(k *dns.DNSKEY) string {
	pk, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return fmt.Sprintf("%d/%s", k.Algorithm, k.PublicKey)
	}
	return fmt.Sprintf("%d/%s", k.Algorithm, base64.StdEncoding.EncodeToString(pk))
}

// unrevoked returns a copy of k owned by zone without the REVOKE bit.
func unrevoked(k *dns.DNSKEY, zone string) *dns.DNSKEY {
	c := dns.Copy(k).(*dns.DNSKEY)
	c.Hdr.Name = zone
	c.Hdr.Class = dns.ClassINET
	c.Flags &^= flagRevoke
	return c
}

// NewResolver returns a resolver for zone ("." for the root) that trusts
// anchors, each in state Valid. Anchors must be zone keys with protocol 3
// and without the REVOKE bit.
func NewResolver(zone string, p Params, anchors ...*dns.DNSKEY) (*Resolver, error) {
	if len(anchors) == 0 {
		return nil, fmt.Errorf("%w: no trust anchor", ErrAnchor)
	}
	r := &Resolver{zone: dns.CanonicalName(zone), p: p, cache: map[verifyKey]bool{}}
	for _, a := range anchors {
		if a == nil || a.Protocol != 3 || a.Flags&flagZone == 0 || a.Flags&flagRevoke != 0 {
			return nil, fmt.Errorf("%w: %v: want a zone key with protocol 3 and no REVOKE bit", ErrAnchor, a)
		}
		if _, err := base64.StdEncoding.DecodeString(a.PublicKey); err != nil {
			return nil, fmt.Errorf("%w: key %d: public key: %w", ErrAnchor, a.KeyTag(), err)
		}
		if r.find(keyID(a)) != nil {
			continue
		}
		r.keys = append(r.keys, &tracked{id: keyID(a), key: unrevoked(a, r.zone), state: Valid, configured: true})
	}
	return r, nil
}

func (r *Resolver) find(id string) *tracked {
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Keys returns the state of every key the resolver tracks, in order of
// first sight (configured anchors first).
func (r *Resolver) Keys() []KeyStatus {
	out := make([]KeyStatus, len(r.keys))
	for i, k := range r.keys {
		out[i] = KeyStatus{KeyTag: k.key.KeyTag(), Algorithm: k.key.Algorithm, State: k.state, Since: k.since, Configured: k.configured}
	}
	return out
}

// State returns the state of the key with this key tag (of its unrevoked
// form) and algorithm: Start when the resolver does not track it.
func (r *Resolver) State(tag uint16, alg uint8) State {
	for _, k := range r.keys {
		if k.key.KeyTag() == tag && k.key.Algorithm == alg {
			return k.state
		}
	}
	return Start
}

// Trusted returns the key tags of the keys that validate RRsets now.
func (r *Resolver) Trusted() []uint16 {
	var out []uint16
	for _, k := range r.keys {
		if k.state.Trusted() {
			out = append(out, k.key.KeyTag())
		}
	}
	return out
}

// QueryResult is the outcome of one active refresh query.
type QueryResult struct {
	At     time.Time
	Source string // Served.Source; "" when nothing was served
	// NoData reports that nothing was served: the query failed without an
	// answer and nothing changed.
	NoData bool
	// Validated reports that a trusted key validated the RRset. When it is
	// false and NoData is false, trust was lost at At.
	Validated bool
	// ValidatedBy lists the key tags of the trusted keys whose RRSIG
	// validated the RRset.
	ValidatedBy []uint16
	// Reason says why the RRset did not validate, Cause classifies it.
	Reason      string
	Cause       Cause
	Transitions []Transition
	// Next is when the resolver queries again: after the active refresh
	// time when the query succeeded, after the retry time otherwise.
	Next time.Time
}

// Query performs one active refresh at time at, receiving s (nil when
// nothing is served), and applies RFC 5011's events.
func (r *Resolver) Query(at time.Time, s *Served) QueryResult {
	res := QueryResult{At: at}
	if s == nil {
		res.NoData = true
		res.Next = at.Add(r.retry())
		return res
	}
	res.Source = s.Source
	rrset := s.rrset()
	move := func(k *tracked, to State, ev Event) {
		res.Transitions = append(res.Transitions, Transition{
			At: at, KeyTag: k.key.KeyTag(), Algorithm: k.key.Algorithm,
			From: k.state, To: to, Event: ev, Source: s.Source,
		})
		k.state, k.since = to, at
	}

	// 0. AddTime by time alone, as unbound does before validating: a key
	// pending for its whole hold-down, present in every validated RRset
	// seen meanwhile (an absence would have sent it back to Start) and
	// seen at least twice, is accepted, so it can validate this RRset.
	// A strict resolver (Params.Strict) does not.
	for _, k := range r.keys {
		if !r.p.Strict && k.state == AddPend && k.seen >= 2 && at.Sub(k.since) >= k.holdDown {
			move(k, Valid, AddTime)
		}
	}

	// 1. RevBit: a revoked SEP key that signs the RRset itself, accepted
	// without any other validation (RFC 5011 §2.1).
	for _, dk := range s.Keys {
		if dk.Flags&flagSEP == 0 || dk.Flags&flagRevoke == 0 {
			continue
		}
		k := r.find(keyID(dk))
		if k == nil || !k.state.Trusted() {
			continue
		}
		rk := dns.Copy(dk).(*dns.DNSKEY)
		rk.Hdr.Name, rk.Hdr.Class = r.zone, dns.ClassINET
		if r.signs(s, rrset, rk, "revoked/"+k.id, at) {
			move(k, Revoked, RevBit)
		}
	}

	// 2. Validation by a trusted key.
	res.ValidatedBy, res.Reason = r.validate(s, rrset, at)
	res.Validated = len(res.ValidatedBy) > 0
	if !res.Validated {
		res.Cause, res.Reason = r.explain(s, at, res.Reason)
		res.Next = at.Add(r.retry())
		return res
	}

	// 3. Events of a validated RRset.
	present := map[string]*dns.DNSKEY{}
	for _, dk := range s.Keys {
		if dk.Flags&flagSEP != 0 && dk.Flags&flagRevoke == 0 && dk.Flags&flagZone != 0 {
			present[keyID(dk)] = dk
		}
	}
	origTTL, expiry := r.rrsetTimers(s, at)
	for _, dk := range s.Keys { // RRset order, so traces are deterministic
		id := keyID(dk)
		if present[id] != dk {
			continue
		}
		k := r.find(id)
		if k == nil {
			k = &tracked{id: id, key: unrevoked(dk, r.zone), state: Start,
				holdDown: max(r.p.addHoldDown(), origTTL)}
			r.keys = append(r.keys, k)
			move(k, AddPend, NewKey)
		}
		k.seen++
		switch {
		case k.state == AddPend && k.seen >= 2 && at.Sub(k.since) >= k.holdDown:
			move(k, Valid, AddTime)
		case k.state == Missing:
			move(k, Valid, KeyPres)
		}
	}
	var forget []*tracked
	for _, k := range r.keys {
		if _, ok := present[k.id]; ok {
			continue
		}
		switch k.state {
		case AddPend:
			move(k, Start, KeyRem)
			forget = append(forget, k)
		case Valid:
			move(k, Missing, KeyRem)
		}
	}
	r.keys = slices.DeleteFunc(r.keys, func(k *tracked) bool { return slices.Contains(forget, k) })
	for _, k := range r.keys {
		if k.state == Revoked && at.Sub(k.since) >= r.p.removeHoldDown() {
			move(k, Removed, RemTime)
		}
	}

	r.timers.ok, r.timers.origTTL, r.timers.expiry = true, origTTL, expiry
	res.Next = at.Add(r.refresh())
	return res
}

// explain prefixes the validation failure detail with its diagnosis.
func (r *Resolver) explain(s *Served, at time.Time, detail string) (Cause, string) {
	c, why := r.diagnose(s, at)
	return c, why + "; " + detail
}

// CheckCause is Check with the cause of a failure: what a resolver that
// fetches the RRset between two active refreshes would conclude, and why
// it fails when it does.
func (r *Resolver) CheckCause(at time.Time, s *Served) (validatedBy []uint16, c Cause, reason string) {
	if s == nil {
		return nil, CauseNothingServed, "nothing served"
	}
	by, reason := r.validate(s, s.rrset(), at)
	if len(by) > 0 {
		return by, "", ""
	}
	c, reason = r.explain(s, at, reason)
	return nil, c, reason
}

// Check reports whether the keys trusted now validate s at time at,
// without changing any state: what a resolver that fetches the RRset
// between two active refreshes (its cached copy expired) would conclude.
func (r *Resolver) Check(at time.Time, s *Served) (validatedBy []uint16, reason string) {
	if s == nil {
		return nil, "nothing served"
	}
	return r.validate(s, s.rrset(), at)
}

// validate returns the trusted keys whose RRSIG over rrset verifies at
// time at, or why none does.
func (r *Resolver) validate(s *Served, rrset []dns.RR, at time.Time) ([]uint16, string) {
	var by []uint16
	for _, k := range r.keys {
		if k.state.Trusted() && r.signs(s, rrset, k.key, k.id, at) {
			by = append(by, k.key.KeyTag())
		}
	}
	if len(by) > 0 {
		return by, ""
	}
	var trusted, signers []string
	for _, k := range r.keys {
		if k.state.Trusted() {
			trusted = append(trusted, fmt.Sprint(k.key.KeyTag()))
		}
	}
	for _, sig := range s.Sigs {
		signers = append(signers, fmt.Sprint(sig.KeyTag))
	}
	return nil, fmt.Sprintf("no RRSIG by a trusted key verifies at %s (trusted: [%s]; RRSIGs by: [%s])",
		ts(at), strings.Join(trusted, " "), strings.Join(signers, " "))
}

// signs reports whether an RRSIG of s made by key verifies over rrset and
// is within its validity period at time at. Verifications are cached per
// served RRset, signature and key; the validity period is checked every
// time.
func (r *Resolver) signs(s *Served, rrset []dns.RR, key *dns.DNSKEY, id string, at time.Time) bool {
	tag := key.KeyTag()
	for i, sig := range s.Sigs {
		if sig.TypeCovered != dns.TypeDNSKEY || sig.KeyTag != tag || sig.Algorithm != key.Algorithm ||
			!sig.ValidityPeriod(at) {
			continue
		}
		ck := verifyKey{s, i, id}
		ok, seen := r.cache[ck]
		if !seen {
			ok = sig.Verify(key, rrset) == nil
			r.cache[ck] = ok
		}
		if ok {
			return true
		}
	}
	return false
}

// rrsetTimers returns the original TTL (the smallest of the RRSIGs', or
// the DNSKEY TTL without RRSIGs) and the time left until the earliest
// RRSIG expires.
func (r *Resolver) rrsetTimers(s *Served, at time.Time) (origTTL, expiry time.Duration) {
	ttl := uint32(0)
	if len(s.Keys) > 0 {
		ttl = s.Keys[0].Hdr.Ttl
	}
	expiry = MaxRefresh * 2
	for i, sig := range s.Sigs {
		if i == 0 || sig.OrigTtl < ttl {
			ttl = sig.OrigTtl
		}
		if left := time.Unix(int64(sig.Expiration), 0).Sub(at); left > 0 && left < expiry {
			expiry = left
		}
	}
	return time.Duration(ttl) * time.Second, expiry
}

func (r *Resolver) refresh() time.Duration {
	if r.p.FixedInterval > 0 {
		return r.p.FixedInterval
	}
	return RefreshTime(r.timers.origTTL, r.timers.expiry)
}

func (r *Resolver) retry() time.Duration {
	if r.p.FixedInterval > 0 {
		return r.p.FixedInterval
	}
	if !r.timers.ok {
		return MinQueryInterval
	}
	return RetryTime(r.timers.origTTL, r.timers.expiry)
}
