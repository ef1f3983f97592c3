package rollover

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

// ErrInput means the SKRs cannot be checked as a sequence: one is not an
// SKR, they are for different zones, two start at the same time, or no
// trust anchor is in force at the first bundle.
var ErrInput = errors.New("rollover check: unusable SKR sequence")

// Population identifiers, stable for scripts and tests.
const (
	// PopOnline is an RFC 5011 resolver online throughout, starting from
	// the anchors in force at the first bundle.
	PopOnline = "rfc5011-online"
	// PopStrict is the same resolver accepting a new KSK only from a
	// DNSKEY RRset that its trusted keys validate, as RFC 5011 §2.4.1
	// words it and BIND's named does (rfc5011.Params.Strict); PopOnline
	// follows Unbound, which accepts a key once its hold-down has passed.
	PopStrict = "rfc5011-strict"
	// PopOfflinePrefix prefixes the offline populations: "rfc5011-offline-60d".
	PopOfflinePrefix = "rfc5011-offline-"
	// PopNewestAnchors is a resolver configured from the newest
	// root-anchors.xml (every anchor of --anchors not expired at the
	// start), which then follows RFC 5011.
	PopNewestAnchors = "newest-anchors"
	// PopStatic is a resolver with the anchors in force at the first
	// bundle as a static trust anchor and no RFC 5011.
	PopStatic = "static"
)

// SKR is one input of Check.
type SKR struct {
	Name string // the file name, for messages
	Doc  *ksr.Document
}

// Options are Check's settings.
type Options struct {
	// Anchors, when set, gives the trust anchors in force at the first
	// bundle (those valid at its inception that match one of its keys)
	// and the newest-anchors population. Without it, the KSKs that sign
	// the first bundle are taken as the anchors in force.
	Anchors *trustanchor.TrustAnchor
	// Offline lists the offline spans to simulate: for each, an RFC 5011
	// resolver that goes offline at every bundle boundary for that long.
	Offline []time.Duration
	// AllowGaps reports gaps between the SKRs without counting them as
	// failures: for incomplete historical sets of SKRs.
	AllowGaps bool
	// Params are the RFC 5011 timers (zero: the RFC's).
	Params rfc5011.Params
}

// Result is what Check found.
type Result struct {
	Zone        string       `json:"zone"`
	From        time.Time    `json:"from"`
	Until       time.Time    `json:"until"`
	SKRs        []SKRInfo    `json:"skrs"`
	Chain       []Finding    `json:"chain"`
	Gaps        []Span       `json:"gaps"`
	AnchorTags  []uint16     `json:"anchors_in_force"`
	AnchorsFrom string       `json:"anchors_from"`
	Keys        []Lane       `json:"keys"`
	Populations []Population `json:"populations"`
	// Safe reports that the online RFC 5011 resolvers (PopOnline and
	// PopStrict) never fail, the chain has no error and (unless allowed)
	// there is no gap.
	Safe bool `json:"safe"`
}

// SKRInfo describes one SKR of the sequence, in time order.
type SKRInfo struct {
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Bundles int       `json:"bundles"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until"`
}

// Finding is a problem of the sequence itself.
type Finding struct {
	Check   string `json:"check"`
	Error   bool   `json:"error"`
	Message string `json:"message"`
}

// Span is a time interval [From, Until).
type Span struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

// Days is the span's length in days.
func (s Span) Days() float64 { return s.Until.Sub(s.From).Hours() / 24 }

// Population is one resolver population's outcome.
type Population struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	// Safe reports that it validates throughout (for an offline
	// population: from every starting boundary).
	Safe bool `json:"safe"`
	// Outages are the spans in which it fails, with their causes.
	Outages []Outage `json:"outages"`
	// Runs and FailingRuns count the offline population's simulations
	// (one per bundle boundary) and those that fail.
	Runs        int `json:"runs,omitempty"`
	FailingRuns int `json:"failing_runs,omitempty"`
	// Final is the RFC 5011 state of each key at the end (not for static).
	Final []KeyState `json:"final,omitempty"`
}

// Outage is a span in which a population fails to validate.
type Outage struct {
	Span
	// Open reports that it still fails at the end of the sequence.
	Open   bool          `json:"open"`
	Cause  rfc5011.Cause `json:"cause"`
	Reason string        `json:"reason"`
	// Source names the bundle served when the failure began.
	Source string `json:"source"`
	// Offline is the offline window after which this failure happened
	// (offline populations only).
	Offline *Span `json:"offline,omitempty"`
}

// KeyState is a key's RFC 5011 state.
type KeyState struct {
	KeyTag uint16 `json:"key_tag"`
	State  string `json:"state"`
}

// Check simulates the SKRs, in time order, for the resolver populations
// of Options and describes each KSK's life in them. It returns ErrInput
// for a sequence it cannot simulate; every other problem is in the Result.
func Check(skrs []SKR, opts Options) (*Result, error) {
	if len(skrs) == 0 {
		return nil, fmt.Errorf("%w: no SKR given", ErrInput)
	}
	for _, s := range skrs {
		if s.Doc == nil || s.Doc.Response == nil {
			return nil, fmt.Errorf("%w: %s is not an SKR (it has no <Response>)", ErrInput, s.Name)
		}
		if len(s.Doc.Response.Bundles) == 0 {
			return nil, fmt.Errorf("%w: %s has no bundles", ErrInput, s.Name)
		}
	}
	sorted := slices.Clone(skrs)
	slices.SortStableFunc(sorted, func(a, b SKR) int {
		return first(a.Doc).Inception.Compare(first(b.Doc).Inception)
	})
	res := &Result{Zone: dns.CanonicalName(sorted[0].Doc.Domain)}
	in := make([]rfc5011.SKR, len(sorted))
	for i, s := range sorted {
		if z := dns.CanonicalName(s.Doc.Domain); z != res.Zone {
			return nil, fmt.Errorf("%w: %s is for the zone %s, %s for %s", ErrInput, s.Name, z, sorted[0].Name, res.Zone)
		}
		bs := s.Doc.Response.Bundles
		res.SKRs = append(res.SKRs, SKRInfo{Name: s.Name, ID: s.Doc.ID, Bundles: len(bs),
			From: bs[0].Inception, Until: bs[len(bs)-1].Expiration})
		in[i] = rfc5011.SKR{Name: s.Name, Doc: s.Doc}
	}
	res.Chain = chain(sorted, opts.AllowGaps)
	tl, err := rfc5011.FromSKRs(in...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	res.From, res.Until = tl.Start(), tl.End()
	for _, g := range tl.Gaps() {
		res.Gaps = append(res.Gaps, Span{g.From, g.Until})
	}

	anchors, from, err := anchorsInForce(tl, res.Zone, opts.Anchors)
	if err != nil {
		return nil, err
	}
	res.AnchorsFrom = from
	for _, a := range anchors {
		res.AnchorTags = append(res.AnchorTags, a.KeyTag())
	}

	online, err := runOnline(tl, res, opts, anchors, false)
	if err == nil {
		_, err = runOnline(tl, res, opts, anchors, true)
	}
	if err != nil {
		return nil, err
	}
	res.Keys = lanes(tl, res.Zone, anchors, online)
	for _, d := range opts.Offline {
		p, err := runOffline(tl, res, opts, anchors, d)
		if err != nil {
			return nil, err
		}
		res.Populations = append(res.Populations, p)
	}
	if opts.Anchors != nil {
		p, err := runNewest(tl, res, opts)
		if err != nil {
			return nil, err
		}
		res.Populations = append(res.Populations, p)
	}
	res.Populations = append(res.Populations, runStatic(tl, res, opts, anchors))

	res.Safe = res.Population(PopOnline).Safe && res.Population(PopStrict).Safe
	for _, f := range res.Chain {
		if f.Error {
			res.Safe = false
		}
	}
	return res, nil
}

func first(d *ksr.Document) *ksr.Bundle { return &d.Response.Bundles[0] }

// Population returns the population with this id, or nil.
func (r *Result) Population(id string) *Population {
	for i := range r.Populations {
		if r.Populations[i].ID == id {
			return &r.Populations[i]
		}
	}
	return nil
}

// chain checks consecutive SKRs: the first bundle of each should publish
// the keys of the previous SKR's last bundle (the quarter boundary), and
// SKRs must not overlap beyond that.
func chain(skrs []SKR, allowGaps bool) []Finding {
	var out []Finding
	for i := 1; i < len(skrs); i++ {
		prev, next := skrs[i-1], skrs[i]
		pb := &prev.Doc.Response.Bundles[len(prev.Doc.Response.Bundles)-1]
		nb := first(next.Doc)
		if prev.Doc.ID == next.Doc.ID {
			out = append(out, Finding{"ROLL-CHAIN-ID", true, fmt.Sprintf("%s and %s have the same id %s", prev.Name, next.Name, next.Doc.ID)})
		}
		if nb.Inception.After(pb.Expiration) {
			out = append(out, Finding{"ROLL-CHAIN-GAP", !allowGaps, fmt.Sprintf("%s starts %s, after %s's last bundle expires %s: an SKR is missing between them",
				next.Name, ts(nb.Inception), prev.Name, ts(pb.Expiration))})
			continue
		}
		if !nb.Inception.After(pb.Inception) {
			out = append(out, Finding{"ROLL-CHAIN-OVERLAP", true, fmt.Sprintf("%s starts %s, before %s's last bundle begins %s",
				next.Name, ts(nb.Inception), prev.Name, ts(pb.Inception))})
		}
		if a, b := keySet(pb, prev.Doc.Domain), keySet(nb, next.Doc.Domain); a != b {
			out = append(out, Finding{"ROLL-CHAIN-KEYS", false, fmt.Sprintf("%s's first bundle publishes %s, %s's last bundle %s",
				next.Name, b, prev.Name, a)})
		}
	}
	return out
}

// keySet names the keys of a bundle by key tag and flags, sorted.
func keySet(b *ksr.Bundle, zone string) string {
	var s []string
	for i := range b.Keys {
		k := b.Keys[i].DNSKEY(zone)
		s = append(s, fmt.Sprintf("%d/%d", k.KeyTag(), k.Flags))
	}
	slices.Sort(s)
	return "[" + strings.Join(s, " ") + "]"
}

// anchorsInForce returns the trust anchors at the first bundle.
func anchorsInForce(tl rfc5011.Timeline, zone string, ta *trustanchor.TrustAnchor) ([]*dns.DNSKEY, string, error) {
	s := &tl[0]
	var out []*dns.DNSKEY
	if ta != nil {
		for _, k := range s.Keys {
			if k.Flags&ksr.FlagSEP != 0 && len(ta.Match(k, s.From)) > 0 {
				out = append(out, k)
			}
		}
		if len(out) == 0 {
			return nil, "", fmt.Errorf("%w: no key of the first bundle (%s) matches an anchor of the trust anchor file valid at %s",
				ErrInput, s.Source, ts(s.From))
		}
		return out, "the trust anchor file: its anchors valid at the first bundle's inception", nil
	}
	for _, k := range s.Keys {
		if k.Flags&ksr.FlagSEP == 0 || k.Flags&ksr.FlagRevoke != 0 {
			continue
		}
		for _, sig := range s.Sigs {
			if sig.KeyTag == k.KeyTag() && sig.Algorithm == k.Algorithm && sig.Verify(k, rrset(s)) == nil {
				out = append(out, k)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, "", fmt.Errorf("%w: no KSK of the first bundle (%s) signs it", ErrInput, s.Source)
	}
	return out, "assumed: the KSKs that sign the first bundle (give --anchors to check against root-anchors.xml)", nil
}

func rrset(s *rfc5011.Served) []dns.RR {
	rrs := make([]dns.RR, len(s.Keys))
	for i, k := range s.Keys {
		rrs[i] = k
	}
	return rrs
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }
