package rollover

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// Geometry of the timeline picture, in SVG user units.
const (
	svgWidth  = 1100
	svgLabel  = 190 // the label column
	svgRight  = 16
	svgLaneH  = 30
	svgBarH   = 14
	svgTop    = 34 // room for the axis labels
	svgLegend = 26
)

// Colours of the phases and verdicts; also used by the legend.
var phaseColour = map[string]string{
	PhasePublished: "#9ecae1",
	PhaseSigning:   "#08519c",
	PhaseRevoked:   "#e6550d",
	PhaseRemoved:   "#d9d9d9",
	"validates":    "#74c476",
	"fails":        "#cb181d",
	"gap":          "#bdbdbd",
	"hold-down":    "#fdae6b",
}

type svgRect struct {
	X, Y, W, H        float64
	Fill, Title, Kind string
	Lane, From, Until string
	Stroke            string
}

type svgText struct {
	X, Y   float64
	Anchor string
	Text   string
	Class  string
}

type svgLine struct{ X1, Y1, X2, Y2 float64 }

type picture struct {
	W, H  float64
	Rects []svgRect
	Texts []svgText
	Lines []svgLine
}

// timeline draws the picture: the month axis, one lane per KSK (its
// phases, and its add and remove hold-downs above the bar), then one lane
// per resolver population (green where it validates, red where it fails),
// the gaps shaded across all lanes.
func (r *Result) timeline() picture {
	span := r.Until.Sub(r.From).Seconds()
	plot := float64(svgWidth - svgLabel - svgRight)
	x := func(t time.Time) float64 {
		f := t.Sub(r.From).Seconds() / span
		return svgLabel + plot*min(max(f, 0), 1)
	}
	lanes := len(r.Keys) + len(r.Populations)
	p := picture{W: svgWidth, H: float64(svgTop + lanes*svgLaneH + 8 + svgLegend)}
	bottom := float64(svgTop + lanes*svgLaneH)

	// Axis: a tick at the first of each month, labelled every month for
	// up to 18 months, otherwise every quarter.
	months := int(r.Until.Sub(r.From).Hours()/24/30) + 1
	step := 1
	if months > 18 {
		step = 3
	}
	for m := time.Date(r.From.Year(), r.From.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(r.Until); m = m.AddDate(0, 1, 0) {
		if m.Before(r.From) {
			continue
		}
		xm := x(m)
		p.Lines = append(p.Lines, svgLine{xm, svgTop - 6, xm, bottom})
		if (int(m.Month())-1)%step == 0 && xm < svgWidth-svgRight-50 {
			p.Texts = append(p.Texts, svgText{xm + 2, svgTop - 10, "start", m.Format("2006-01"), "axis"})
		}
	}
	rect := func(lane int, from, until time.Time, dy, h float64, fill, kind, name, title string) {
		x0, x1 := x(from), x(until)
		p.Rects = append(p.Rects, svgRect{X: x0, Y: float64(svgTop+lane*svgLaneH) + dy, W: max(x1-x0, 1), H: h,
			Fill: fill, Title: title, Kind: kind, Lane: name, From: ts(from), Until: ts(until)})
	}
	for _, g := range r.Gaps {
		x0, x1 := x(g.From), x(g.Until)
		p.Rects = append(p.Rects, svgRect{X: x0, Y: svgTop, W: max(x1-x0, 1), H: bottom - svgTop, Fill: phaseColour["gap"],
			Title: fmt.Sprintf("gap: nothing served %s .. %s", ts(g.From), ts(g.Until)), Kind: "gap", Lane: "all",
			From: ts(g.From), Until: ts(g.Until)})
	}
	for i, l := range r.Keys {
		name := fmt.Sprintf("ksk-%d", l.KeyTag)
		label := fmt.Sprintf("KSK %d", l.KeyTag)
		if l.Anchor {
			label += " (anchor)"
		}
		p.Texts = append(p.Texts, svgText{8, float64(svgTop+i*svgLaneH) + 20, "start", label, "lane"})
		for _, ph := range l.Phases {
			rect(i, ph.From, ph.Until, 10, svgBarH, phaseColour[ph.Kind], ph.Kind, name,
				fmt.Sprintf("KSK %d %s %s .. %s", l.KeyTag, ph.Kind, ts(ph.From), ts(ph.Until)))
		}
		if h := l.HoldDown; h != nil {
			rect(i, h.From, h.Until, 3, 5, phaseColour["hold-down"], "add-hold-down", name,
				fmt.Sprintf("KSK %d add hold-down %s .. %s", l.KeyTag, ts(h.From), ts(h.Until)))
		}
		if h := l.RemoveHoldDown; h != nil {
			rect(i, h.From, h.Until, 3, 5, phaseColour["hold-down"], "remove-hold-down", name,
				fmt.Sprintf("KSK %d remove hold-down %s .. %s", l.KeyTag, ts(h.From), ts(h.Until)))
		}
	}
	for j, pop := range r.Populations {
		lane := len(r.Keys) + j
		p.Texts = append(p.Texts, svgText{8, float64(svgTop+lane*svgLaneH) + 20, "start", pop.ID, "lane"})
		rect(lane, r.From, r.Until, 10, svgBarH, phaseColour["validates"], "validates", pop.ID,
			pop.ID+": "+pop.Description)
		for _, o := range pop.Outages {
			title := fmt.Sprintf("%s fails %s .. %s: %s", pop.ID, ts(o.From), ts(o.Until), o.Reason)
			if o.Offline != nil {
				title += fmt.Sprintf(" (after offline %s .. %s)", ts(o.Offline.From), ts(o.Offline.Until))
			}
			rect(lane, o.From, o.Until, 10, svgBarH, phaseColour["fails"], "outage", pop.ID, title)
			p.Rects[len(p.Rects)-1].Stroke = string(o.Cause)
		}
	}
	// Legend.
	lx, ly := float64(svgLabel), bottom+14
	for _, k := range []string{PhasePublished, PhaseSigning, PhaseRevoked, PhaseRemoved, "hold-down", "validates", "fails", "gap"} {
		p.Rects = append(p.Rects, svgRect{X: lx, Y: ly, W: 12, H: 12, Fill: phaseColour[k], Kind: "legend", Lane: "legend", Title: k})
		p.Texts = append(p.Texts, svgText{lx + 16, ly + 10, "start", k, "legend"})
		lx += 16 + float64(8*len(k)) + 18
	}
	return p
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"ts":     ts,
	"day":    func(t time.Time) string { return day(t) },
	"tags":   tags,
	"f":      func(v float64) string { return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".") },
	"desc":   func(o Outage) string { return o.Cause.Describe() },
	"colour": func(k string) string { return phaseColour[k] },
	"zone":   zoneName,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ksk rollover check: {{zone .R.Zone}} {{day .R.From}} .. {{day .R.Until}}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1150px}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.4em}
#verdict{padding:10px 14px;border-radius:4px;font-weight:bold;font-size:1.1em}
#verdict[data-state=safe]{background:#e5f5e0;border:2px solid #31a354}
#verdict[data-state=unsafe]{background:#fee0d2;border:2px solid #de2d26}
table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #bbb;padding:3px 8px;font-size:.9em;text-align:left;vertical-align:top}
th{background:#f0f0f0} .fails{color:#a50f15;font-weight:bold} .ok{color:#006d2c;font-weight:bold}
svg text.axis{font-size:11px;fill:#555} svg text.lane{font-size:13px} svg text.legend{font-size:12px}
svg line{stroke:#e0e0e0;stroke-width:1}
code{font-size:.9em}
</style></head><body>
<h1>Rollover check: {{zone .R.Zone}}, {{ts .R.From}} .. {{ts .R.Until}}</h1>
<div id="verdict" data-state="{{if .R.Safe}}safe{{else}}unsafe{{end}}">{{if .R.Safe}}SAFE: RFC 5011 resolvers online throughout (either acceptance rule) validate from the first bundle to the last{{else}}UNSAFE: an RFC 5011 resolver online throughout would fail{{end}}</div>
<p>Trust anchors in force at the start: KSK {{tags .R.AnchorTags}} ({{.R.AnchorsFrom}}).</p>
<h2>Timeline</h2>
<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{{f .P.W}}" height="{{f .P.H}}" viewBox="0 0 {{f .P.W}} {{f .P.H}}" role="img" aria-label="KSK phases and resolver outcomes over time">
{{range .P.Lines}}<line x1="{{f .X1}}" y1="{{f .Y1}}" x2="{{f .X2}}" y2="{{f .Y2}}"/>
{{end}}{{range .P.Rects}}<rect x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}" fill="{{.Fill}}" data-kind="{{.Kind}}" data-lane="{{.Lane}}"{{if .From}} data-from="{{.From}}" data-until="{{.Until}}"{{end}}{{if .Stroke}} data-cause="{{.Stroke}}"{{end}}><title>{{.Title}}</title></rect>
{{end}}{{range .P.Texts}}<text x="{{f .X}}" y="{{f .Y}}" text-anchor="{{.Anchor}}" class="{{.Class}}">{{.Text}}</text>
{{end}}</svg>
<h2>Resolvers</h2>
<table id="populations"><tr><th>population</th><th>verdict</th><th>fails</th></tr>
{{range .R.Populations}}<tr data-pop="{{.ID}}" data-safe="{{.Safe}}"><td><b>{{.ID}}</b><br>{{.Description}}{{if .Runs}}<br>{{.FailingRuns}} of {{.Runs}} offline starts fail{{end}}</td>
<td>{{if .Safe}}<span class="ok">validates throughout</span>{{else}}<span class="fails">FAILS</span>{{end}}</td>
<td>{{range .Outages}}<div class="outage" data-from="{{ts .From}}" data-until="{{ts .Until}}" data-cause="{{.Cause}}">{{ts .From}} .. {{ts .Until}}{{if .Open}} (and after){{end}}{{if .Offline}}, after offline {{day .Offline.From}} .. {{day .Offline.Until}}{{end}}: {{desc .}}<br><small>{{.Reason}}</small></div>{{end}}</td></tr>
{{end}}</table>
<h2>KSKs</h2>
<table id="keys"><tr><th>KSK</th><th>phases</th><th>RFC 5011 states (online resolver)</th></tr>
{{range .R.Keys}}<tr data-key="{{.KeyTag}}"><td>{{.KeyTag}} (algorithm {{.Algorithm}}){{if .Anchor}}<br>trust anchor{{end}}<br>revoked: {{.RevokedTag}}</td>
<td>{{range .Phases}}{{.Kind}} {{day .From}} .. {{day .Until}}<br>{{end}}{{with .HoldDown}}add hold-down {{ts .From}} .. {{ts .Until}}<br>{{end}}{{with .RemoveHoldDown}}remove hold-down {{ts .From}} .. {{ts .Until}}{{end}}</td>
<td>{{range .States}}{{ts .At}} {{.From}} &rarr; {{.To}} ({{.Event}})<br>{{end}}</td></tr>
{{end}}</table>
<h2>SKRs</h2>
<table id="skrs"><tr><th>file</th><th>id</th><th>bundles</th><th>from</th><th>until</th></tr>
{{range .R.SKRs}}<tr><td>{{.Name}}</td><td><code>{{.ID}}</code></td><td>{{.Bundles}}</td><td>{{ts .From}}</td><td>{{ts .Until}}</td></tr>
{{end}}</table>
{{if .R.Chain}}<h2>Sequence</h2><ul>{{range .R.Chain}}<li data-check="{{.Check}}">{{if .Error}}<b>error</b>{{else}}note{{end}} {{.Check}}: {{.Message}}</li>{{end}}</ul>{{end}}
<p><small>Written by ksk rollover check. The simulation follows RFC 5011 (30-day add hold-down, active refresh MAX(1 h, MIN(15 d, TTL/2, expiry/2))); see docs/rollovers.md.</small></p>
</body></html>
`))

// WriteHTML writes a self-contained page: the verdict, the timeline
// picture (inline SVG, drawn here), the populations with their failure
// spans, the KSKs and the SKRs. It loads nothing and runs no script.
func (r *Result) WriteHTML(w io.Writer) error {
	return page.Execute(w, struct {
		R *Result
		P picture
	}{r, r.timeline()})
}

// zoneName names a zone for a heading.
func zoneName(z string) string {
	if z == "." {
		return "the root zone (.)"
	}
	return z
}
