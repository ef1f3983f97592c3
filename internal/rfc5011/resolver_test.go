package rfc5011

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestStateMachine(t *testing.T) {
	A, B, C := newKey(t, "A"), newKey(t, "B"), newKey(t, "C")
	nm := names(A, B, C)
	ks := func(k ...*testKey) []*testKey { return k }
	const daily = 24 * time.Hour

	tests := []struct {
		name     string
		anchors  []*testKey
		params   Params
		slots    []slot
		want     []string // transitions, rendered by render
		lostDays []int    // days of the losses, in order (query or served check)
		final    string   // "A=Valid B=..." as Summary prints, with names
	}{
		{
			name:    "new key accepted after the add hold-down",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 10, publish: ks(A), sign: ks(A)},
				{from: 10, until: 60, publish: ks(A, B), sign: ks(A)},
			},
			want:  []string{"d10 B Start->AddPend", "d40 B AddPend->Valid"},
			final: "A=Valid B=Valid",
		},
		{
			name:    "hold-down not met: the key leaves after 29 days",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 10, publish: ks(A), sign: ks(A)},
				{from: 10, until: 39, publish: ks(A, B), sign: ks(A)},
				{from: 39, until: 80, publish: ks(A), sign: ks(A)},
			},
			want:  []string{"d10 B Start->AddPend", "d39 B AddPend->Start"},
			final: "A=Valid",
		},
		{
			name:    "a key seen once then gone, back later: the hold-down restarts",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 10, publish: ks(A), sign: ks(A)},
				{from: 10, until: 11, publish: ks(A, B), sign: ks(A)},
				{from: 11, until: 20, publish: ks(A), sign: ks(A)},
				{from: 20, until: 60, publish: ks(A, B), sign: ks(A)},
			},
			want: []string{
				"d10 B Start->AddPend", "d11 B AddPend->Start",
				"d20 B Start->AddPend", "d50 B AddPend->Valid",
			},
			final: "A=Valid B=Valid",
		},
		{
			name:    "rollover and revocation: old key revoked, then removed",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 30, publish: ks(A, B), sign: ks(A)},
				// B signs from the first query at which its hold-down has passed.
				{from: 30, until: 50, publish: ks(A, B), sign: ks(B)},
				{from: 50, until: 60, publish: ks(B), revoke: ks(A), sign: ks(B)},
				{from: 60, until: 100, publish: ks(B), sign: ks(B)},
			},
			want: []string{
				"d0 B Start->AddPend", "d30 B AddPend->Valid",
				"d50 A Valid->Revoked", "d80 A Revoked->Removed",
			},
			final: "A=Removed B=Valid",
		},
		{
			name:    "REVOKE bit without a self-signature is no revocation: the key is Missing",
			anchors: ks(A, B),
			slots: []slot{
				{from: 0, until: 10, publish: ks(A, B), sign: ks(A)},
				{from: 10, until: 20, publish: ks(B), revokeNoSig: ks(A), sign: ks(B)},
				{from: 20, until: 30, publish: ks(A, B), sign: ks(B)},
			},
			want:  []string{"d10 A Valid->Missing", "d20 A Missing->Valid"},
			final: "A=Valid B=Valid",
		},
		{
			name:    "missing key stays trusted and validates until it returns",
			anchors: ks(A, B),
			slots: []slot{
				{from: 0, until: 10, publish: ks(A, B), sign: ks(A)},
				// B absent from the RRset, yet its RRSIG validates it.
				{from: 10, until: 20, publish: ks(A), sign: ks(B)},
				{from: 20, until: 30, publish: ks(A, B), sign: ks(B)},
			},
			want:  []string{"d10 B Valid->Missing", "d20 B Missing->Valid"},
			final: "A=Valid B=Valid",
		},
		{
			// As in unbound, the hold-down runs on time alone once the key
			// has been in every validated RRset seen: B is accepted on day
			// 30 and validates again from then on.
			name:    "new key signs before its hold-down ends: trust lost until it is accepted",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 10, publish: ks(A, B), sign: ks(A)},
				{from: 10, until: 35, publish: ks(A, B), sign: ks(B)},
			},
			want: []string{"d0 B Start->AddPend", "d30 B AddPend->Valid"},
			lostDays: []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
				20, 21, 22, 23, 24, 25, 26, 27, 28, 29},
			final: "A=Valid B=Valid",
		},
		{
			name:    "a key signed only by an untrusted key is never added",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 3, publish: ks(A, C), sign: ks(C)},
			},
			lostDays: []int{0, 1, 2},
			final:    "A=Valid",
		},
		{
			name:    "a revoked key validates nothing",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 2, publish: ks(A), sign: ks(A)},
				{from: 2, until: 4, revoke: ks(A)},
			},
			want:     []string{"d2 A Valid->Revoked"},
			lostDays: []int{2, 3},
			final:    "A=Revoked",
		},
		{
			name:    "a pending key seen revoked goes back to Start and is never trusted",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 10, publish: ks(A, B), sign: ks(A)},
				{from: 10, until: 60, publish: ks(A), revoke: ks(B), sign: ks(A)},
			},
			want:  []string{"d0 B Start->AddPend", "d10 B AddPend->Start"},
			final: "A=Valid",
		},
		{
			name:    "add hold-down is MAX(30 days, original TTL)",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 80, publish: ks(A, B), sign: ks(A), ttl: 40 * 86400},
			},
			want:  []string{"d0 B Start->AddPend", "d40 B AddPend->Valid"},
			final: "A=Valid B=Valid",
		},
		{
			name:    "expired signatures do not validate",
			anchors: ks(A),
			slots: []slot{
				{from: 0, until: 2, publish: ks(A), sign: ks(A), expired: true},
			},
			lostDays: []int{0, 1},
			final:    "A=Valid",
		},
		{
			name:    "a change between two queries is checked when it is served",
			anchors: ks(A),
			params:  Params{FixedInterval: 10 * daily},
			slots: []slot{
				{from: 0, until: 5, publish: ks(A), sign: ks(A)},
				{from: 5, until: 10, publish: ks(A, C), sign: ks(C)},
				{from: 10, until: 20, publish: ks(A), sign: ks(A)},
			},
			lostDays: []int{5},
			final:    "A=Valid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.params
			if p.FixedInterval == 0 {
				p.FixedInterval = daily
			}
			var anchors []*dns.DNSKEY
			for _, k := range tt.anchors {
				anchors = append(anchors, k.dk)
			}
			tr, err := Simulate(".", build(t, tt.slots...), p, anchors...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range tr.Transitions {
				got = append(got, render(x, nm))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("transitions:\n got %q\nwant %q\n%s", got, tt.want, tr.Summary())
			}
			var lost []int
			for _, l := range tr.Losses {
				lost = append(lost, int(l.At.Sub(t0)/daily))
			}
			if !slices.Equal(lost, tt.lostDays) {
				t.Errorf("losses on days %v, want %v\n%s", lost, tt.lostDays, tr.Summary())
			}
			if tr.Lost() != (len(tt.lostDays) > 0) {
				t.Errorf("Lost() = %v", tr.Lost())
			}
			var final []string
			for _, k := range tr.Final {
				final = append(final, nm[k.KeyTag]+"="+k.State.String())
			}
			if f := strings.Join(final, " "); f != tt.final {
				t.Errorf("final %q, want %q", f, tt.final)
			}
		})
	}
}

// TestNewKeyTransition pins the NewKey transition and the query result.
func TestNewKeyTransition(t *testing.T) {
	A, B := newKey(t, "A"), newKey(t, "B")
	r, err := NewResolver(".", Params{}, A.dk)
	if err != nil {
		t.Fatal(err)
	}
	tl := build(t, slot{from: 0, until: 10, publish: []*testKey{A, B}, sign: []*testKey{A}})
	q := r.Query(day(0), tl.At(day(0)))
	if !q.Validated || len(q.Transitions) != 1 {
		t.Fatalf("query: %+v", q)
	}
	tr := q.Transitions[0]
	if tr.From != Start || tr.To != AddPend || tr.Event != NewKey || tr.KeyTag != B.dk.KeyTag() || tr.Source != "slot 1" {
		t.Errorf("transition %v", tr)
	}
	if got := r.State(B.dk.KeyTag(), B.dk.Algorithm); got != AddPend {
		t.Errorf("State = %v", got)
	}
	if got := r.Trusted(); !slices.Equal(got, []uint16{A.dk.KeyTag()}) {
		t.Errorf("Trusted = %v", got)
	}
	// TTL 2 days, RRSIGs valid 21 days: refresh MIN(15d, 1d, 10.5d) = 1 day.
	if want := day(1); !q.Next.Equal(want) {
		t.Errorf("next query %s, want %s", q.Next, want)
	}
}

func TestRefreshAndRetryTimes(t *testing.T) {
	h, d := time.Hour, 24*time.Hour
	tests := []struct {
		name            string
		origTTL, expiry time.Duration
		refresh, retry  time.Duration
	}{
		{"root: TTL 2 days, 21-day signatures", 2 * d, 21 * d, d, 4*h + 48*time.Minute},
		{"long TTL, far expiry: capped at 15 days and 1 day", 60 * d, 60 * d, 15 * d, d},
		{"short TTL: floored at 1 hour", 10 * time.Minute, 21 * d, h, h},
		{"signatures about to expire", 2 * d, 6 * h, 3 * h, h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RefreshTime(tt.origTTL, tt.expiry); got != tt.refresh {
				t.Errorf("RefreshTime = %s, want %s", got, tt.refresh)
			}
			if got := RetryTime(tt.origTTL, tt.expiry); got != tt.retry {
				t.Errorf("RetryTime = %s, want %s", got, tt.retry)
			}
		})
	}
}

// TestActiveRefreshTimer runs with the RFC's own timers: root-like RRsets
// (TTL 2 days) are queried daily, so a key first served on day 10 is Valid
// on day 40 exactly.
func TestActiveRefreshTimer(t *testing.T) {
	A, B := newKey(t, "A"), newKey(t, "B")
	tl := build(t,
		slot{from: 0, until: 10, publish: []*testKey{A}, sign: []*testKey{A}},
		slot{from: 10, until: 50, publish: []*testKey{A, B}, sign: []*testKey{A}},
	)
	tr, err := Simulate(".", tl, Params{}, A.dk)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Queries != 50 {
		t.Errorf("%d queries over 50 days, want 50", tr.Queries)
	}
	v, ok := tr.First(B.dk.KeyTag(), Valid)
	if !ok || !v.At.Equal(day(40)) || v.Event != AddTime {
		t.Errorf("B Valid: %v %v\n%s", v, ok, tr.Summary())
	}
}

func TestGap(t *testing.T) {
	A, B := newKey(t, "A"), newKey(t, "B")
	tl := build(t,
		slot{from: 0, until: 10, publish: []*testKey{A, B}, sign: []*testKey{A}},
		slot{from: 20, until: 45, publish: []*testKey{A, B}, sign: []*testKey{A}},
	)
	if g := tl.Gaps(); len(g) != 1 || !g[0].From.Equal(day(10)) || !g[0].Until.Equal(day(20)) {
		t.Fatalf("gaps %v", g)
	}
	if tl.At(day(15)) != nil || tl.At(day(10)) != nil || tl.At(day(20)) != &tl[1] || tl.At(day(-1)) != nil {
		t.Error("At does not follow the intervals")
	}
	tr, err := Simulate(".", tl, Params{}, A.dk)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Lost() || tr.NoDataQueries == 0 || len(tr.Gaps) != 1 {
		t.Errorf("lost %v, %d no-data queries, gaps %v", tr.Lost(), tr.NoDataQueries, tr.Gaps)
	}
	// A gap changes nothing: B, first seen on day 0, is Valid at the first
	// query at or after day 30.
	if v, ok := tr.First(B.dk.KeyTag(), Valid); !ok || !v.At.Equal(day(30)) {
		t.Errorf("B Valid: %v\n%s", v, tr.Summary())
	}
	if !strings.Contains(tr.Summary(), "gap: nothing served 2030-01-11T00:00:00Z .. 2030-01-21T00:00:00Z") {
		t.Errorf("summary:\n%s", tr.Summary())
	}
}

func TestTimelineAndAnchorErrors(t *testing.T) {
	A := newKey(t, "A")
	ok := build(t, slot{from: 0, until: 10, publish: []*testKey{A}, sign: []*testKey{A}})
	rev := A.revoked()
	tests := []struct {
		name    string
		run     func() error
		wantErr error
	}{
		{"overlapping intervals", func() error {
			tl := Timeline{ok[0], ok[0]}
			return tl.Validate()
		}, ErrTimeline},
		{"empty interval", func() error {
			s := ok[0]
			s.Until = s.From
			return Timeline{s}.Validate()
		}, ErrTimeline},
		{"no anchor", func() error { _, err := NewResolver(".", Params{}); return err }, ErrAnchor},
		{"revoked anchor", func() error { _, err := NewResolver(".", Params{}, rev); return err }, ErrAnchor},
		{"not an SKR", func() error { _, err := FromSKRs(SKR{Name: "x"}); return err }, ErrTimeline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.wantErr) {
				t.Errorf("err %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestStringers(t *testing.T) {
	if Removed.String() != "Removed" || State(9).String() != "State(9)" || RemTime.String() != "RemTime" || Event(-1).String() != "Event(-1)" {
		t.Error("names")
	}
	if !Missing.Trusted() || AddPend.Trusted() || Revoked.Trusted() {
		t.Error("Trusted")
	}
}
