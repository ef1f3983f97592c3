package rollover

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the result for a terminal: the SKRs, the chain
// findings, the KSKs' lives, and each population's verdict with its
// failure spans.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Rollover check of %d SKRs for %s, %s .. %s\n", len(r.SKRs), r.Zone, ts(r.From), ts(r.Until))
	for _, s := range r.SKRs {
		fmt.Fprintf(&b, "  %-40s %s .. %s  %d bundles  id %s\n", s.Name, day(s.From), day(s.Until), s.Bundles, s.ID)
	}
	for _, f := range r.Chain {
		level := "note"
		if f.Error {
			level = "ERROR"
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", level, f.Check, f.Message)
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "  gap: nothing served %s .. %s (%.0f days)\n", ts(g.From), ts(g.Until), g.Days())
	}
	fmt.Fprintf(&b, "Anchors in force at the start: %s (%s)\n", tags(r.AnchorTags), r.AnchorsFrom)
	b.WriteString("\nKSKs\n")
	for _, l := range r.Keys {
		anchor := ""
		if l.Anchor {
			anchor = ", trust anchor"
		}
		fmt.Fprintf(&b, "  KSK %d (algorithm %d, revoked tag %d%s)\n", l.KeyTag, l.Algorithm, l.RevokedTag, anchor)
		for _, p := range l.Phases {
			fmt.Fprintf(&b, "    %-9s %s .. %s\n", p.Kind, day(p.From), day(p.Until))
		}
		if h := l.HoldDown; h != nil {
			fmt.Fprintf(&b, "    add hold-down    %s .. %s (%.0f days)\n", ts(h.From), ts(h.Until), h.Days())
		}
		if h := l.RemoveHoldDown; h != nil {
			fmt.Fprintf(&b, "    remove hold-down %s .. %s (%.0f days)\n", ts(h.From), ts(h.Until), h.Days())
		}
	}
	b.WriteString("\nResolvers\n")
	for _, p := range r.Populations {
		verdict := "validates throughout"
		if !p.Safe {
			verdict = "FAILS"
		}
		fmt.Fprintf(&b, "  %-22s %s\n", p.ID, verdict)
		fmt.Fprintf(&b, "    %s\n", p.Description)
		if p.Runs > 0 {
			fmt.Fprintf(&b, "    %d of %d offline starts fail\n", p.FailingRuns, p.Runs)
		}
		for _, o := range p.Outages {
			end := ts(o.Until)
			if o.Open {
				end += " (and after)"
			}
			off := ""
			if o.Offline != nil {
				off = fmt.Sprintf(" after offline %s .. %s", day(o.Offline.From), day(o.Offline.Until))
			}
			fmt.Fprintf(&b, "    fails %s .. %s%s: %s\n      %s\n", ts(o.From), end, off, o.Cause.Describe(), o.Reason)
		}
		if len(p.Final) > 0 {
			var fs []string
			for _, k := range p.Final {
				fs = append(fs, fmt.Sprintf("%d %s", k.KeyTag, k.State))
			}
			fmt.Fprintf(&b, "    final: %s\n", strings.Join(fs, ", "))
		}
	}
	if r.Safe {
		b.WriteString("\nSAFE: RFC 5011 resolvers online throughout (either acceptance rule) validate from the first bundle to the last\n")
	} else {
		b.WriteString("\nUNSAFE: an RFC 5011 resolver online throughout would fail (see above)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func day(t interface{ Format(string) string }) string { return t.Format("2006-01-02") }

func tags(ts []uint16) string {
	var s []string
	for _, t := range ts {
		s = append(s, fmt.Sprint(t))
	}
	return strings.Join(s, ", ")
}
