package rollover

import (
	"fmt"
	"slices"
	"time"

	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/miekg/dns"
)

// runOnline simulates the RFC 5011 resolver online throughout, with
// Unbound's acceptance rule or (strict) RFC 5011's to the letter
// (rfc5011.Params.Strict), and appends its population; it returns the
// trace for the key lanes.
func runOnline(tl rfc5011.Timeline, res *Result, opts Options, anchors []*dns.DNSKEY, strict bool) (*rfc5011.Trace, error) {
	params := opts.Params
	params.Strict = strict
	r, err := rfc5011.NewResolver(res.Zone, params, anchors...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	tr, err := r.Run(tl, rfc5011.RunOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	p := Population{ID: PopOnline,
		Description: "RFC 5011 resolver online throughout, trusting the anchors in force at the first bundle"}
	if strict {
		p = Population{ID: PopStrict,
			Description: "the same, accepting a new KSK only from a validated DNSKEY RRset (RFC 5011 §2.4.1 to the letter; BIND named)"}
	}
	p.Outages = withGaps(outages(tr, nil), res.Gaps, opts.AllowGaps)
	p.Final = final(tr)
	p.Safe = len(p.Outages) == 0
	res.Populations = append(res.Populations, p)
	return tr, nil
}

// runOffline simulates, for every bundle boundary b after the first, an
// RFC 5011 resolver online until b, offline for d, and online again.
func runOffline(tl rfc5011.Timeline, res *Result, opts Options, anchors []*dns.DNSKEY, d time.Duration) (Population, error) {
	p := Population{ID: fmt.Sprintf("%s%s", PopOfflinePrefix, days(d)),
		Description: fmt.Sprintf("RFC 5011 resolver offline for %s, from each bundle boundary in turn", days(d))}
	for i := 1; i < len(tl); i++ {
		b := tl[i].From
		back := b.Add(d)
		if !back.Before(tl.End()) {
			break
		}
		r, err := rfc5011.NewResolver(res.Zone, opts.Params, anchors...)
		if err != nil {
			return p, fmt.Errorf("%w: %w", ErrInput, err)
		}
		before, err := r.Run(tl, rfc5011.RunOptions{Until: b})
		if err != nil {
			return p, fmt.Errorf("%w: %w", ErrInput, err)
		}
		after, err := r.Run(tl, rfc5011.RunOptions{From: back})
		if err != nil {
			return p, fmt.Errorf("%w: %w", ErrInput, err)
		}
		p.Runs++
		window := &Span{b, back}
		// Failures before going offline are the online resolver's; only
		// what follows the offline window is this population's.
		_ = before
		os := outages(after, window)
		if len(os) > 0 {
			p.FailingRuns++
			p.Outages = append(p.Outages, os...)
		}
	}
	p.Safe = p.FailingRuns == 0
	return p, nil
}

// runNewest simulates an RFC 5011 resolver configured with every anchor
// of the trust anchor file that has not expired at the start.
func runNewest(tl rfc5011.Timeline, res *Result, opts Options) (Population, error) {
	p := Population{ID: PopNewestAnchors,
		Description: "resolver configured from the newest trust anchor file (every anchor not expired at the first bundle), then RFC 5011"}
	seen := map[string]bool{}
	var anchors []*dns.DNSKEY
	for i := range tl {
		for _, k := range tl[i].Keys {
			if k.Flags&0x0001 == 0 || k.Flags&0x0080 != 0 || seen[k.String()] {
				continue
			}
			for _, a := range opts.Anchors.Anchors {
				if a.Matches(k) && (a.ValidUntil.IsZero() || a.ValidUntil.After(tl.Start())) {
					seen[k.String()] = true
					anchors = append(anchors, k)
					break
				}
			}
		}
	}
	if len(anchors) == 0 {
		p.Outages = []Outage{{Span: Span{tl.Start(), tl.End()}, Open: true, Cause: rfc5011.CauseNotTrusted,
			Reason: "no anchor of the trust anchor file matches a KSK of the SKRs"}}
		return p, nil
	}
	r, err := rfc5011.NewResolver(res.Zone, opts.Params, anchors...)
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrInput, err)
	}
	tr, err := r.Run(tl, rfc5011.RunOptions{})
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrInput, err)
	}
	p.Outages = withGaps(outages(tr, nil), res.Gaps, opts.AllowGaps)
	p.Final = final(tr)
	p.Safe = len(p.Outages) == 0
	return p, nil
}

// runStatic checks every served RRset against the anchors in force at
// the first bundle, never updated: a resolver without RFC 5011.
func runStatic(tl rfc5011.Timeline, res *Result, opts Options, anchors []*dns.DNSKEY) Population {
	p := Population{ID: PopStatic,
		Description: "resolver with the anchors in force at the first bundle as a static trust anchor, no RFC 5011"}
	// A resolver that never queries keeps its configured anchors Valid.
	r, _ := rfc5011.NewResolver(res.Zone, opts.Params, anchors...)
	var cur *Outage
	for i := range tl {
		s := &tl[i]
		by, cause, reason := r.CheckCause(s.From, s)
		if len(by) > 0 {
			if cur != nil {
				cur.Until = s.From
				p.Outages = append(p.Outages, *cur)
				cur = nil
			}
			continue
		}
		if cur == nil {
			cur = &Outage{Span: Span{From: s.From}, Cause: cause, Reason: reason, Source: s.Source}
		}
	}
	if cur != nil {
		cur.Until, cur.Open = tl.End(), true
		p.Outages = append(p.Outages, *cur)
	}
	p.Outages = withGaps(p.Outages, res.Gaps, opts.AllowGaps)
	p.Safe = len(p.Outages) == 0
	return p
}

// outages converts a trace's outages.
func outages(tr *rfc5011.Trace, offline *Span) []Outage {
	var out []Outage
	for _, o := range tr.Outages {
		out = append(out, Outage{Span: Span{o.From, o.Until}, Open: o.Open, Cause: o.Cause, Reason: o.Reason,
			Source: o.Source, Offline: offline})
	}
	return out
}

// withGaps adds a nothing-served outage for every gap, unless allowed,
// and sorts the outages by time.
func withGaps(os []Outage, gaps []Span, allow bool) []Outage {
	if !allow {
		for _, g := range gaps {
			os = append(os, Outage{Span: g, Cause: rfc5011.CauseNothingServed,
				Reason: "no SKR covers this span: the zone serves no valid DNSKEY RRSIG", Source: "gap"})
		}
	}
	slices.SortStableFunc(os, func(a, b Outage) int { return a.From.Compare(b.From) })
	return os
}

func final(tr *rfc5011.Trace) []KeyState {
	var out []KeyState
	for _, k := range tr.Final {
		out = append(out, KeyState{k.KeyTag, k.State.String()})
	}
	return out
}

// days renders a duration in whole days ("60d"), or hours when shorter.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
