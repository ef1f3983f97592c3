package rfc5011

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

const (
	tagKSK2010 = 19036
	tagKSK2017 = 20326
)

func loadSKR(t *testing.T, name string) *ksr.Document {
	t.Helper()
	d, err := ksr.ParseFile(filepath.Join("..", "..", "testdata", "iana-root", name), ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ksk2010 returns KSK-2010 as the DNSKEY of the first bundle of q3 that
// matches its KeyDigest in root-anchors.xml.
func ksk2010(t *testing.T, q3 *ksr.Document) *dns.DNSKEY {
	t.Helper()
	ta, err := trustanchor.ParseFile(filepath.Join("..", "..", "testdata", "root-anchors", "root-anchors.xml"), trustanchor.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := &q3.Response.Bundles[0]
	for i := range b.Keys {
		dk := b.Keys[i].DNSKEY(q3.Domain)
		for _, a := range ta.Match(dk, b.Inception) {
			if a.ID == "Kjqmt7v" {
				return dk
			}
		}
	}
	t.Fatal("KSK-2010 (Kjqmt7v) not in the first bundle of the 2017-q3 SKR")
	return nil
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestRootRollover2017 feeds the real SKRs of the 2017-2018 root KSK
// rollover to a resolver that trusts only KSK-2010 (19036).
//
// testdata has the 2017-q3 SKR (KSK-2017, 20326, published from bundle 2,
// 2017-07-11; KSK-2010 signs) and the 2018-q1 SKR (both published; bundle 1
// signed by 19036, bundles 2-9 by 20326), not the 2017-q4 SKR between them.
// The timeline therefore has a gap from the expiration of the last q3
// bundle (2017-10-10) to the first q1 inception (2018-01-01), in which the
// simulated resolver finds nothing served: it retries, changes no state
// and the gap is reported, not counted as a loss. Nothing served in q4
// could have been needed for the outcome: 20326 is Valid before the gap.
func TestRootRollover2017(t *testing.T) {
	q3 := loadSKR(t, "skr-root-2017-q3-0-c_to_d.xml")
	q1 := loadSKR(t, "skr-root-2018-q1-0-d_to_e.xml")
	tl, err := FromSKRs(SKR{Name: "2017-q3", Doc: q3}, SKR{Name: "2018-q1", Doc: q1})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl) != 18 {
		t.Fatalf("%d served RRsets, want 18", len(tl))
	}
	wantGap := Interval{date("2017-10-10T00:00:00Z"), date("2018-01-01T00:00:00Z")}
	if g := tl.Gaps(); len(g) != 1 || g[0] != wantGap {
		t.Fatalf("gaps %v, want [%v]", g, wantGap)
	}

	anchor := ksk2010(t, q3)
	r, err := NewResolver(".", Params{}, anchor)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := r.Run(tl, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", tr.Summary())

	if tr.Lost() {
		t.Errorf("trust lost:\n%s", tr.Summary())
	}
	if len(tr.Gaps) != 1 || tr.Gaps[0] != wantGap || tr.NoDataQueries == 0 {
		t.Errorf("gaps %v, %d queries with nothing served", tr.Gaps, tr.NoDataQueries)
	}
	want := []struct {
		at     string
		from   State
		to     State
		event  Event
		source string
	}{
		{"2017-07-11T00:00:00Z", Start, AddPend, NewKey, "2017-q3 bundle 2 "},
		{"2017-08-10T00:00:00Z", AddPend, Valid, AddTime, "2017-q3 bundle 5 "},
	}
	var got []Transition
	for _, x := range tr.Transitions {
		if x.KeyTag == tagKSK2017 {
			got = append(got, x)
		} else {
			t.Errorf("unexpected transition %v", x)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("KSK-2017 transitions:\n%s", tr.Summary())
	}
	for i, w := range want {
		g := got[i]
		if !g.At.Equal(date(w.at)) || g.From != w.from || g.To != w.to || g.Event != w.event || !strings.HasPrefix(g.Source, w.source) {
			t.Errorf("transition %d: %v, want %s %s->%s (%s) in %s", i, g, w.at, w.from, w.to, w.event, w.source)
		}
	}
	for _, k := range tr.Final {
		if k.State != Valid {
			t.Errorf("final: %d is %s", k.KeyTag, k.State)
		}
	}

	// Who validated what: with both keys trusted, 2018-q1 bundle 1 is
	// validated by KSK-2010 and bundles 2-9 by KSK-2017 alone, so the
	// resolver validated them thanks to the accepted KSK-2017.
	for i := range tl {
		s := &tl[i]
		by, reason := r.Check(s.From, s)
		want := []uint16{tagKSK2010}
		if strings.HasPrefix(s.Source, "2018-q1") && !strings.HasPrefix(s.Source, "2018-q1 bundle 1 ") {
			want = []uint16{tagKSK2017}
		}
		if !slices.Equal(by, want) {
			t.Errorf("%s validated by %v, want %v (%s)", s.Source, by, want, reason)
		}
	}
}

// TestRootRollover2017Unprepared is the control: a resolver that trusts
// only KSK-2010 and first queries on 2018-01-01 (it missed the months in
// which KSK-2017 was published) loses trust at 2018-01-11, when KSK-2017
// alone signs, and stays without trust until its hold-down has run.
func TestRootRollover2017Unprepared(t *testing.T) {
	q3 := loadSKR(t, "skr-root-2017-q3-0-c_to_d.xml")
	q1 := loadSKR(t, "skr-root-2018-q1-0-d_to_e.xml")
	tl, err := FromSKRs(SKR{Name: "2018-q1", Doc: q1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(".", Params{}, ksk2010(t, q3))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := r.Run(tl, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", tr.Summary())
	if !tr.Lost() {
		t.Fatal("an unprepared resolver kept trust")
	}
	first := tr.Losses[0]
	if !first.At.Equal(date("2018-01-11T00:00:00Z")) || !strings.HasPrefix(first.Source, "2018-q1 bundle 2 ") {
		t.Errorf("first loss %v", first)
	}
	if v, ok := tr.First(tagKSK2017, Valid); !ok || !v.At.Equal(date("2018-01-31T00:00:00Z")) {
		t.Errorf("KSK-2017 Valid: %v %v", v, ok)
	}
}
