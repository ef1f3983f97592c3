package rfc5011

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// Served is a DNSKEY RRset and its RRSIGs as the zone serves them from
// From (inclusive) until Until (exclusive).
type Served struct {
	From, Until time.Time
	// Source names what is served, for traces ("q3 bundle 2 (id)").
	Source string
	Keys   []*dns.DNSKEY
	Sigs   []*dns.RRSIG
}

// rrset returns the keys as an RRset for verification.
func (s *Served) rrset() []dns.RR {
	rrs := make([]dns.RR, len(s.Keys))
	for i, k := range s.Keys {
		rrs[i] = k
	}
	return rrs
}

// Timeline is what a zone serves over time: intervals sorted by From that
// do not overlap. Time not covered is a gap in which nothing is served.
type Timeline []Served

// ErrTimeline means a timeline's intervals are unsorted, empty or overlap.
var ErrTimeline = errors.New("invalid timeline")

// Validate checks that every interval is non-empty and that they are
// sorted and do not overlap.
func (tl Timeline) Validate() error {
	for i := range tl {
		s := &tl[i]
		if !s.From.Before(s.Until) {
			return fmt.Errorf("%w: %s: from %s is not before until %s", ErrTimeline, s.Source, ts(s.From), ts(s.Until))
		}
		if len(s.Keys) == 0 {
			return fmt.Errorf("%w: %s: no DNSKEY", ErrTimeline, s.Source)
		}
		if i > 0 && s.From.Before(tl[i-1].Until) {
			return fmt.Errorf("%w: %s starts at %s, before %s ends at %s", ErrTimeline,
				s.Source, ts(s.From), tl[i-1].Source, ts(tl[i-1].Until))
		}
	}
	return nil
}

// Start is when the first interval starts; zero for an empty timeline.
func (tl Timeline) Start() time.Time {
	if len(tl) == 0 {
		return time.Time{}
	}
	return tl[0].From
}

// End is when the last interval ends; zero for an empty timeline.
func (tl Timeline) End() time.Time {
	if len(tl) == 0 {
		return time.Time{}
	}
	return tl[len(tl)-1].Until
}

// At returns what is served at t, or nil in a gap.
func (tl Timeline) At(t time.Time) *Served {
	i := sort.Search(len(tl), func(i int) bool { return tl[i].From.After(t) }) - 1
	if i < 0 || !t.Before(tl[i].Until) {
		return nil
	}
	return &tl[i]
}

// Gaps returns the intervals between From and Until in which nothing is
// served.
func (tl Timeline) Gaps() []Interval {
	var out []Interval
	for i := 1; i < len(tl); i++ {
		if tl[i-1].Until.Before(tl[i].From) {
			out = append(out, Interval{tl[i-1].Until, tl[i].From})
		}
	}
	return out
}

// Interval is a span of time [From, Until).
type Interval struct {
	From, Until time.Time
}

// String renders the interval in RFC 3339.
func (iv Interval) String() string { return ts(iv.From) + " .. " + ts(iv.Until) }

// SKR is one SKR fed to FromSKRs, with a name for traces.
type SKR struct {
	Name string // e.g. "2017-q3"; the document's id when empty
	Doc  *ksr.Document
}

// FromSKRs returns the timeline of the bundles of skrs: every bundle is
// served from its inception until the next bundle's inception (over all
// the SKRs, by inception), or until its own expiration when that comes
// first, in which case a gap follows. Bundles with the same inception are
// an error, as is a document without a response.
func FromSKRs(skrs ...SKR) (Timeline, error) {
	type item struct {
		b      *ksr.Bundle
		zone   string
		source string
	}
	var items []item
	for _, s := range skrs {
		if s.Doc == nil || s.Doc.Response == nil {
			return nil, fmt.Errorf("%w: %s is not an SKR", ErrTimeline, s.Name)
		}
		name := s.Name
		if name == "" {
			name = s.Doc.ID
		}
		for i := range s.Doc.Response.Bundles {
			b := &s.Doc.Response.Bundles[i]
			items = append(items, item{b, s.Doc.Domain, fmt.Sprintf("%s bundle %d (%s)", name, i+1, b.ID)})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.b.Inception.Compare(b.b.Inception) })
	tl := make(Timeline, 0, len(items))
	for i, it := range items {
		until := it.b.Expiration
		if i+1 < len(items) {
			next := items[i+1].b.Inception
			if next.Equal(it.b.Inception) {
				return nil, fmt.Errorf("%w: %s and %s have the same inception %s", ErrTimeline,
					it.source, items[i+1].source, ts(next))
			}
			if next.Before(until) {
				until = next
			}
		}
		s := Served{From: it.b.Inception, Until: until, Source: it.source}
		for j := range it.b.Keys {
			s.Keys = append(s.Keys, it.b.Keys[j].DNSKEY(it.zone))
		}
		for j := range it.b.Signatures {
			s.Sigs = append(s.Sigs, it.b.Signatures[j].RRSIG(it.zone))
		}
		tl = append(tl, s)
	}
	if err := tl.Validate(); err != nil {
		return nil, err
	}
	return tl, nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }
