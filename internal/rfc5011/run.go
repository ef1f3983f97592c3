package rfc5011

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// RunOptions bounds a Run.
type RunOptions struct {
	// From is the first query time; zero means the timeline's start.
	From time.Time
	// Until ends the run: no query at or after it. Zero means the
	// timeline's end.
	Until time.Time
}

// Loss is a moment at which the resolver had no trusted key validating
// the RRset served.
type Loss struct {
	At     time.Time
	Source string
	// Query is true for an active refresh query, false for a check at the
	// start of a newly served RRset between two queries.
	Query  bool
	Reason string
	Cause  Cause
}

// String renders the loss on one line.
func (l Loss) String() string {
	kind := "served"
	if l.Query {
		kind = "query"
	}
	return fmt.Sprintf("%s  %s  %s: %s", ts(l.At), kind, l.Source, l.Reason)
}

// Trace is the record of a Run.
type Trace struct {
	From, Until time.Time
	// Queries counts the active refresh queries, NoDataQueries those that
	// found nothing served.
	Queries, NoDataQueries int
	// Transitions lists every state change, in time order.
	Transitions []Transition
	// Losses lists every time no trusted key validated the RRset served.
	Losses []Loss
	// Gaps lists the intervals of the run in which nothing was served.
	Gaps []Interval
	// Final is the state of every tracked key at the end of the run.
	Final []KeyStatus
	// Outages lists the spans in which the resolver could not validate:
	// each from a loss until the next time it validated again (a query,
	// or the check of a newly served RRset), or the end of the run
	// (Open). Gaps are not outages: nothing was served to fail on. A
	// failure whose cause changes is split into consecutive outages.
	Outages []Outage
}

// Outage is a span in which the resolver failed to validate the DNSKEY
// RRset, and why it failed first.
type Outage struct {
	From, Until time.Time
	// Open reports that the resolver still failed at the end of the run.
	Open   bool
	Source string // what was served at From
	Cause  Cause
	Reason string
}

// String renders the outage on one line.
func (o Outage) String() string {
	end := ts(o.Until)
	if o.Open {
		end += " (still failing)"
	}
	return fmt.Sprintf("%s .. %s  %s: %s (%s)", ts(o.From), end, o.Cause, o.Reason, o.Source)
}

// Lost reports whether trust was ever lost.
func (t *Trace) Lost() bool { return len(t.Losses) > 0 }

// First returns the first transition of the key with this key tag (of its
// unrevoked form) into state to.
func (t *Trace) First(tag uint16, to State) (Transition, bool) {
	for _, tr := range t.Transitions {
		if tr.KeyTag == tag && tr.To == to {
			return tr, true
		}
	}
	return Transition{}, false
}

// LossPeriod is a run of consecutive losses while one RRset was served.
type LossPeriod struct {
	First, Last time.Time // the first and last loss of the run
	Count       int
	Source      string
	Reason      string // the first loss's
}

// String renders the period on one line.
func (p LossPeriod) String() string {
	return fmt.Sprintf("%s .. %s (%d times) %s: %s", ts(p.First), ts(p.Last), p.Count, p.Source, p.Reason)
}

// LossPeriods groups the losses by the RRset served.
func (t *Trace) LossPeriods() []LossPeriod {
	var out []LossPeriod
	for _, l := range t.Losses {
		if n := len(out); n > 0 && out[n-1].Source == l.Source {
			out[n-1].Last = l.At
			out[n-1].Count++
			continue
		}
		out = append(out, LossPeriod{First: l.At, Last: l.At, Count: 1, Source: l.Source, Reason: l.Reason})
	}
	return out
}

// Summary renders the trace: the span, the transitions, the gaps, the
// losses (by LossPeriods) and the final states.
func (t *Trace) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "RFC 5011 simulation %s .. %s: %d queries (%d with nothing served)\n",
		ts(t.From), ts(t.Until), t.Queries, t.NoDataQueries)
	for _, tr := range t.Transitions {
		fmt.Fprintf(&b, "  %s\n", tr)
	}
	for _, g := range t.Gaps {
		fmt.Fprintf(&b, "  gap: nothing served %s\n", g)
	}
	if !t.Lost() {
		b.WriteString("  trust never lost\n")
	} else {
		fmt.Fprintf(&b, "  TRUST LOST %d times:\n", len(t.Losses))
		for _, p := range t.LossPeriods() {
			fmt.Fprintf(&b, "    %s\n", p)
		}
	}
	b.WriteString("  final:")
	for _, k := range t.Final {
		fmt.Fprintf(&b, " %d=%s", k.KeyTag, k.State)
	}
	b.WriteString("\n")
	return b.String()
}

// Run queries the timeline from opts.From, each query after the previous
// one's refresh or retry time, until opts.Until. Between two queries it
// also checks, at the start of every newly served RRset, that the keys
// trusted at that moment validate it (Resolver.Check). A query in a gap
// of the timeline finds nothing served: the resolver retries, nothing
// changes and trust is not counted as lost (the gap is reported in
// Trace.Gaps).
func (r *Resolver) Run(tl Timeline, opts RunOptions) (*Trace, error) {
	if err := tl.Validate(); err != nil {
		return nil, err
	}
	from, until := opts.From, opts.Until
	if from.IsZero() {
		from = tl.Start()
	}
	if until.IsZero() {
		until = tl.End()
	}
	tr := &Trace{From: from, Until: until}
	for _, g := range tl.Gaps() {
		if g.Until.After(from) && g.From.Before(until) {
			tr.Gaps = append(tr.Gaps, Interval{maxTime(g.From, from), minTime(g.Until, until)})
		}
	}
	var down *Outage
	lose := func(l Loss) {
		tr.Losses = append(tr.Losses, l)
		if down != nil && down.Cause != l.Cause { // the failure goes on, for another reason
			down.Until = l.At
			tr.Outages = append(tr.Outages, *down)
			down = nil
		}
		if down == nil {
			down = &Outage{From: l.At, Source: l.Source, Cause: l.Cause, Reason: l.Reason}
		}
	}
	regain := func(at time.Time) {
		if down != nil {
			down.Until = at
			tr.Outages = append(tr.Outages, *down)
			down = nil
		}
	}
	for t := from; t.Before(until); {
		s := tl.At(t)
		q := r.Query(t, s)
		tr.Queries++
		tr.Transitions = append(tr.Transitions, q.Transitions...)
		switch {
		case q.NoData:
			tr.NoDataQueries++
		case !q.Validated:
			lose(Loss{At: t, Source: q.Source, Query: true, Reason: q.Reason, Cause: q.Cause})
		default:
			regain(t)
		}
		next := q.Next
		// RRsets that start being served before the next query.
		i := sort.Search(len(tl), func(i int) bool { return tl[i].From.After(t) })
		for ; i < len(tl) && tl[i].From.Before(next) && tl[i].From.Before(until); i++ {
			s := &tl[i]
			if by, cause, reason := r.CheckCause(s.From, s); len(by) == 0 {
				lose(Loss{At: s.From, Source: s.Source, Reason: reason, Cause: cause})
			} else {
				regain(s.From)
			}
		}
		t = next
	}
	if down != nil {
		down.Until, down.Open = until, true
		tr.Outages = append(tr.Outages, *down)
	}
	tr.Final = r.Keys()
	return tr, nil
}

// Simulate runs a new resolver that trusts anchors over the whole
// timeline.
func Simulate(zone string, tl Timeline, p Params, anchors ...*dns.DNSKEY) (*Trace, error) {
	r, err := NewResolver(zone, p, anchors...)
	if err != nil {
		return nil, err
	}
	return r.Run(tl, RunOptions{})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
