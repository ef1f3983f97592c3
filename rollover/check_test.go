package rollover

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/trustanchor"
)

func realSKR(t *testing.T, name string) SKR {
	t.Helper()
	d, err := ksr.ParseFile(filepath.Join("..", "testdata", "iana-root", name), ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return SKR{Name: name, Doc: d}
}

func rootAnchors(t *testing.T) *trustanchor.TrustAnchor {
	t.Helper()
	ta, err := trustanchor.ParseFile(filepath.Join("..", "testdata", "root-anchors", "root-anchors.xml"), trustanchor.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ta
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const (
	q1   = "skr-root-2017-q1-0.xml"
	q2   = "skr-root-2017-q2-0.xml"
	q3   = "skr-root-2017-q3-0-c_to_d.xml"
	q18  = "skr-root-2018-q1-0-d_to_e.xml"
	tag0 = 19036 // KSK-2010
	tag1 = 20326 // KSK-2017
)

// TestRealRoot runs the check over IANA's SKRs of 2017: KSK-2017 is
// published from 2017-07-11, its add hold-down ends 2017-08-10, and every
// resolver validates throughout; then over q3 and 2018-q1, between which
// the published set lacks 2017-q4: the gap is reported with its span, and
// the static KSK-2010 resolver fails from the first bundle that KSK-2017
// signs alone.
func TestRealRoot(t *testing.T) {
	ta := rootAnchors(t)
	// Given out of order: Check sorts them.
	res, err := Check([]SKR{realSKR(t, q3), realSKR(t, q1), realSKR(t, q2)},
		Options{Anchors: ta, Offline: []time.Duration{30 * 24 * time.Hour, 90 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Safe || len(res.Gaps) != 0 || res.SKRs[0].Name != q1 || res.SKRs[2].Name != q3 {
		t.Fatalf("safe %v, gaps %v, order %v", res.Safe, res.Gaps, res.SKRs)
	}
	for _, f := range res.Chain {
		if f.Error {
			t.Errorf("chain: %+v", f)
		}
	}
	for _, p := range res.Populations {
		if !p.Safe {
			t.Errorf("%s fails: %+v", p.ID, p.Outages)
		}
	}
	ids := []string{}
	for _, p := range res.Populations {
		ids = append(ids, p.ID)
	}
	if got := strings.Join(ids, " "); got != "rfc5011-online rfc5011-strict rfc5011-offline-30d rfc5011-offline-90d newest-anchors static" {
		t.Errorf("populations %s", got)
	}
	if len(res.AnchorTags) != 1 || res.AnchorTags[0] != tag0 {
		t.Errorf("anchors in force %v", res.AnchorTags)
	}
	l := lane(t, res, tag1)
	if l.Anchor || l.HoldDown == nil || *l.HoldDown != (Span{at("2017-07-11T00:00:00Z"), at("2017-08-10T00:00:00Z")}) {
		t.Errorf("KSK-2017 hold-down %+v", l.HoldDown)
	}
	if len(l.Phases) != 1 || l.Phases[0].Kind != PhasePublished || !l.Phases[0].From.Equal(at("2017-07-11T00:00:00Z")) {
		t.Errorf("KSK-2017 phases %+v", l.Phases)
	}
	if p := lane(t, res, tag0).Phases; len(p) != 1 || p[0].Kind != PhaseSigning {
		t.Errorf("KSK-2010 phases %+v", p)
	}

	// q3 then 2018-q1: the missing q4 is a gap.
	for _, allow := range []bool{false, true} {
		res, err = Check([]SKR{realSKR(t, q3), realSKR(t, q18)}, Options{Anchors: ta, AllowGaps: allow})
		if err != nil {
			t.Fatal(err)
		}
		gap := Span{at("2017-10-10T00:00:00Z"), at("2018-01-01T00:00:00Z")}
		if len(res.Gaps) != 1 || res.Gaps[0] != gap {
			t.Fatalf("gaps %v", res.Gaps)
		}
		if len(res.Chain) != 1 || res.Chain[0].Check != "ROLL-CHAIN-GAP" || res.Chain[0].Error == allow {
			t.Errorf("chain %+v", res.Chain)
		}
		online := res.Population(PopOnline)
		if allow {
			if !res.Safe || !online.Safe {
				t.Errorf("allow gaps: safe %v, online %+v", res.Safe, online.Outages)
			}
		} else if res.Safe || len(online.Outages) != 1 || online.Outages[0].Span != gap || online.Outages[0].Cause != rfc5011.CauseNothingServed {
			t.Errorf("gap: safe %v, online %+v", res.Safe, online.Outages)
		}
		st := res.Population(PopStatic)
		last := st.Outages[len(st.Outages)-1]
		if last.From != at("2018-01-11T00:00:00Z") || !last.Open || last.Cause != rfc5011.CauseUnknownKey {
			t.Errorf("static: %+v", st.Outages)
		}
	}
}

// TestCheckInput: what cannot be simulated is refused with ErrInput.
func TestCheckInput(t *testing.T) {
	k, err := ksr.ParseFile(filepath.Join("..", "testdata", "iana-root", "ksr-root-2017-q2-0.xml"), ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := realSKR(t, q2)
	otherDoc := *other.Doc
	otherDoc.Domain = "example."
	ta := rootAnchors(t)
	ta.Anchors = ta.Anchors[:0]
	tests := []struct {
		name string
		skrs []SKR
		opts Options
		want string
	}{
		{"none", nil, Options{}, "no SKR"},
		{"ksr", []SKR{{"k.xml", k}}, Options{}, "is not an SKR"},
		{"zones", []SKR{realSKR(t, q1), {"o.xml", &otherDoc}}, Options{}, "for the zone"},
		{"same start", []SKR{realSKR(t, q1), realSKR(t, q1)}, Options{}, "same inception"},
		{"no anchor", []SKR{realSKR(t, q1)}, Options{Anchors: ta}, "matches an anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(tt.skrs, tt.opts)
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want ErrInput with %q", err, tt.want)
			}
		})
	}
}

func lane(t *testing.T, r *Result, tag uint16) *Lane {
	t.Helper()
	for i := range r.Keys {
		if r.Keys[i].KeyTag == tag {
			return &r.Keys[i]
		}
	}
	t.Fatalf("no lane for KSK %d", tag)
	return nil
}
