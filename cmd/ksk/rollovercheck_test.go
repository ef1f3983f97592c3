package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/rollover"
	"golang.org/x/net/html"
)

// rolloverRehearsal is what TestRehearsedRollover made: five quarters,
// normal to post-revoke, signed on SoftHSM.
type rolloverRehearsal struct {
	dir, config, anchors string
	skrs, ksrs           []string // q1..q5
	start                time.Time
	oldTag, newTag       uint16
}

func (r rolloverRehearsal) day(n int) time.Time {
	return r.start.Add(time.Duration(n) * 24 * time.Hour)
}

// rolloverCheckJSON runs ksk rollover check -o json and returns its exit
// code and result.
func rolloverCheckJSON(t *testing.T, want int, args ...string) *rollover.Result {
	t.Helper()
	code, out, errOut := runKSK(t, "", append([]string{"rollover", "check", "-o", "json"}, args...)...)
	if code != want {
		t.Fatalf("ksk rollover check %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
	}
	var res rollover.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("rollover check JSON: %v\n%s", err, out)
	}
	return &res
}

// rolloverCheckRehearsal runs ksk rollover check on the rehearsed
// rollover (safe, with the phases and hold-downs on the days of the
// standard schemas) and on sequences that are wrong on purpose, each
// reported with the span and the cause of the failure.
func rolloverCheckRehearsal(t *testing.T, tk *softhsmtest.Token, r rolloverRehearsal) {
	day := r.day
	htmlFile := filepath.Join(r.dir, "rollover.html")
	args := append([]string{"--anchors", r.anchors, "--offline", "30,120", "--html", htmlFile}, r.skrs...)
	code, text, errOut := runKSK(t, "", append([]string{"rollover", "check"}, args...)...)
	if code != 0 || !strings.Contains(text, "SAFE: RFC 5011 resolvers online throughout (either acceptance rule) validate") {
		t.Fatalf("rollover check of the rehearsal: exit %d\n%s%s", code, text, errOut)
	}
	res := rolloverCheckJSON(t, 0, append([]string{"--force"}, args...)...)
	if len(res.SKRs) != 5 || len(res.Gaps) != 0 || !res.Safe {
		t.Fatalf("rehearsal: %d SKRs, gaps %v, safe %v", len(res.SKRs), res.Gaps, res.Safe)
	}
	for _, f := range res.Chain {
		t.Errorf("rehearsal chain finding %+v", f)
	}
	newLane, oldLane := findLane(t, res, r.newTag), findLane(t, res, r.oldTag)
	if h := newLane.HoldDown; h == nil || !h.From.Equal(day(100)) || !h.Until.Equal(day(130)) {
		t.Errorf("new KSK add hold-down %+v, want day 100 .. 130", h)
	}
	if h := oldLane.RemoveHoldDown; h == nil || !h.From.Equal(day(280)) || !h.Until.Equal(day(310)) {
		t.Errorf("old KSK remove hold-down %+v, want day 280 .. 310", h)
	}
	var kinds []string
	for _, p := range oldLane.Phases {
		kinds = append(kinds, p.Kind)
	}
	if got := strings.Join(kinds, " "); got != "signing published revoked removed" || !oldLane.Anchor {
		t.Errorf("old KSK phases %s (anchor %v)", got, oldLane.Anchor)
	}
	kinds = kinds[:0]
	for _, p := range newLane.Phases {
		kinds = append(kinds, p.Kind)
	}
	if got := strings.Join(kinds, " "); got != "published signing" || !newLane.Phases[1].From.Equal(day(190)) {
		t.Errorf("new KSK phases %s %+v", got, newLane.Phases)
	}
	for _, id := range []string{rollover.PopOnline, "rfc5011-offline-30d", rollover.PopNewestAnchors} {
		if p := res.Population(id); p == nil || !p.Safe {
			t.Errorf("%s: %+v", id, p)
		}
	}
	// Offline 120 days from before the pre-publication until the new KSK
	// signs alone: those starts fail, each after its window and for a
	// reason; 30 days offline is always safe.
	if p := res.Population("rfc5011-offline-120d"); p == nil || p.Safe || p.FailingRuns == 0 || p.FailingRuns >= p.Runs {
		t.Errorf("offline 60 days: %+v", p)
	} else {
		for _, o := range p.Outages {
			if o.Offline == nil || o.From.Before(o.Offline.Until) || o.Cause == "" {
				t.Errorf("offline outage %+v", o)
			}
		}
	}
	// The static resolver fails from the first bundle the new KSK signs
	// alone, for good.
	if p := res.Population(rollover.PopStatic); p.Safe || len(p.Outages) != 1 || !p.Outages[0].From.Equal(day(190)) ||
		!p.Outages[0].Open || p.Outages[0].Cause != rfc5011.CauseUnknownKey {
		t.Errorf("static: %+v", p.Outages)
	}
	checkRolloverHTML(t, htmlFile, res)

	// Wrong on purpose. Each quarter below is signed without
	// --previous-skr, so ksk sign can only warn that the history does not
	// prove the hold-down.
	sign := func(q int, schema, name string) string {
		out := filepath.Join(r.dir, name)
		mustRun(t, tk, "sign", "--config", r.config, "--schema", schema, "--ksr", r.ksrs[q], "--out", out, "--yes",
			"--at", day(90*q).Format(time.RFC3339))
		return out
	}
	type want struct {
		from       time.Time
		cause      rfc5011.Cause
		untilAbout time.Time // zero: open
	}
	cases := []struct {
		name  string
		skrs  []string
		chain string
		want  []want
	}{
		{
			// The new KSK is published in q2 slot 1 (day 90) and signs
			// from slot 2 (day 100): resolvers fail until its hold-down
			// ends on day 120 and they accept it on time alone.
			name: "signs without hold-down",
			skrs: []string{r.skrs[0], sign(1, "rollover", "wrong-rollover-q2.xml")},
			want: []want{{day(100), rfc5011.CauseNotYetTrusted, day(120)}},
		},
		{
			// Published in q2 slot 1, the old KSK revoked from slot 2:
			// nothing trusted validates until day 120.
			name: "revoked in the quarter of publication",
			skrs: []string{r.skrs[0], sign(1, "publish-revoke", "wrong-revoke-q2.xml")},
			want: []want{{day(100), rfc5011.CauseRevoked, day(120)}},
		},
		{
			// q2 (the pre-publication) missing: nothing served from the
			// end of q1's last bundle (day 101) to q3 (day 180), and the
			// new KSK, first seen on day 180, signs on day 190.
			name:  "gap between SKRs",
			skrs:  []string{r.skrs[2], r.skrs[0]},
			chain: "ROLL-CHAIN-GAP",
			want: []want{{day(101), rfc5011.CauseNothingServed, day(180)},
				{day(190), rfc5011.CauseNotYetTrusted, day(210)}},
		},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			res := rolloverCheckJSON(t, 1, append([]string{"--anchors", r.anchors}, tt.skrs...)...)
			if res.Safe {
				t.Fatal("reported safe")
			}
			if tt.chain != "" && (len(res.Chain) == 0 || res.Chain[0].Check != tt.chain || !res.Chain[0].Error) {
				t.Errorf("chain %+v, want %s", res.Chain, tt.chain)
			}
			got := res.Population(rollover.PopOnline).Outages
			if len(got) != len(tt.want) {
				t.Fatalf("online outages %+v, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				o := got[i]
				// Recovery comes at the first retry after the hold-down:
				// within one retry time (at most a day).
				late := o.Until.Sub(w.untilAbout)
				if !o.From.Equal(w.from) || o.Cause != w.cause || o.Open || late < 0 || late > rfc5011.MaxRetry {
					t.Errorf("outage %d: %s .. %s %s (%s), want from %s, %s, until about %s", i, o.From, o.Until, o.Cause, o.Reason,
						w.from, w.cause, w.untilAbout)
				}
			}
			// The strict resolver never accepts the new KSK: no RRset
			// its trusted keys validate shows it after the hold-down.
			st := res.Population(rollover.PopStrict).Outages
			if n := len(st); n != len(tt.want) || !st[n-1].From.Equal(tt.want[n-1].from) || st[n-1].Cause != tt.want[n-1].cause || !st[n-1].Open {
				t.Errorf("strict outages %+v, want the last from %s to the end", st, tt.want[len(tt.want)-1].from)
			}
			code, text, _ := runKSK(t, "", append([]string{"rollover", "check", "--anchors", r.anchors}, tt.skrs...)...)
			if code != 1 || !strings.Contains(text, "UNSAFE") || !strings.Contains(text, tt.want[0].from.Format(time.RFC3339)) {
				t.Errorf("text: exit %d\n%s", code, text)
			}
		})
	}
}

// checkRolloverHTML loads the page in headless Chromium and checks the
// verdict, one timeline lane per KSK with its phases, the hold-downs, and
// every population's outages drawn where the JSON puts them.
func checkRolloverHTML(t *testing.T, file string, res *rollover.Result) {
	t.Helper()
	doc := renderedDOM(t, file)
	verdicts, rects := 0, map[string][]string{}
	var forbidden []string
	walk(doc, func(n *html.Node) {
		if id, _ := attr(n, "id"); id == "verdict" {
			verdicts++
			if s, _ := attr(n, "data-state"); s != "safe" {
				t.Errorf("verdict state %q", s)
			}
		}
		switch n.Data {
		case "rect":
			lane, _ := attr(n, "data-lane")
			kind, _ := attr(n, "data-kind")
			from, _ := attr(n, "data-from")
			until, _ := attr(n, "data-until")
			rects[lane] = append(rects[lane], kind+" "+from+" "+until)
		case "script", "link", "img", "iframe":
			forbidden = append(forbidden, n.Data)
		}
	})
	if verdicts != 1 || len(forbidden) > 0 {
		t.Errorf("%d verdicts, forbidden elements %v", verdicts, forbidden)
	}
	for _, l := range res.Keys {
		lane := "ksk-" + strconv.Itoa(int(l.KeyTag))
		for _, p := range l.Phases {
			if w := p.Kind + " " + p.From.Format(time.RFC3339) + " " + p.Until.Format(time.RFC3339); !slices.Contains(rects[lane], w) {
				t.Errorf("timeline lane %s lacks %q: %v", lane, w, rects[lane])
			}
		}
		if h := l.HoldDown; h != nil {
			if w := "add-hold-down " + h.From.Format(time.RFC3339) + " " + h.Until.Format(time.RFC3339); !slices.Contains(rects[lane], w) {
				t.Errorf("timeline lane %s lacks %q", lane, w)
			}
		}
	}
	for _, p := range res.Populations {
		n := 0
		for _, r := range rects[p.ID] {
			if strings.HasPrefix(r, "outage ") {
				n++
			}
		}
		if len(rects[p.ID]) == 0 || n != len(p.Outages) {
			t.Errorf("timeline lane %s: %d outages drawn, %d in the result", p.ID, n, len(p.Outages))
		}
	}
	shot := filepath.Join(filepath.Dir(file), "rollover-check.png")
	chromium(t, "--screenshot="+shot, "--window-size=1180,760", "file://"+file)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot: %v", err)
	}
	docsImage(t, shot, "rollover-check.png")
}

func findLane(t *testing.T, r *rollover.Result, tag uint16) *rollover.Lane {
	t.Helper()
	for i := range r.Keys {
		if r.Keys[i].KeyTag == tag {
			return &r.Keys[i]
		}
	}
	t.Fatalf("no lane for KSK %d", tag)
	return nil
}
