package rollover

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// Phase kinds of a KSK's lane.
const (
	PhasePublished = "published" // in the DNSKEY RRset, not signing it
	PhaseSigning   = "signing"   // in the RRset and signing it
	PhaseRevoked   = "revoked"   // in the RRset with the REVOKE bit
	PhaseRemoved   = "removed"   // no longer in the RRset after having been
)

// Lane is one KSK's life over the sequence.
type Lane struct {
	KeyTag     uint16 `json:"key_tag"` // the unrevoked key's
	RevokedTag uint16 `json:"revoked_key_tag"`
	Algorithm  uint8  `json:"algorithm"`
	// Anchor reports that the key is a trust anchor in force at the start.
	Anchor bool    `json:"anchor"`
	Phases []Phase `json:"phases"`
	// HoldDown is the online RFC 5011 resolver's add hold-down (AddPend
	// to Valid), RemoveHoldDown its remove hold-down (Revoked to Removed);
	// nil when it did not happen. Until is the sequence's end when the
	// hold-down had not ended.
	HoldDown       *Span `json:"add_hold_down,omitempty"`
	RemoveHoldDown *Span `json:"remove_hold_down,omitempty"`
	// States lists the online resolver's transitions of this key.
	States []State `json:"states"`
}

// Phase is a span in one phase.
type Phase struct {
	Span
	Kind string `json:"kind"`
}

// State is an RFC 5011 transition of the online resolver.
type State struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Event  string    `json:"event"`
	Source string    `json:"source"`
}

// lanes derives each KSK's phases from the timeline, and its hold-downs
// and states from the online resolver's trace.
func lanes(tl rfc5011.Timeline, zone string, anchors []*dns.DNSKEY, tr *rfc5011.Trace) []Lane {
	var out []Lane
	index := map[string]int{}
	idOf := func(k *dns.DNSKEY) string {
		pk, _ := base64.StdEncoding.DecodeString(k.PublicKey)
		return fmt.Sprintf("%d/%x", k.Algorithm, pk)
	}
	// lane returns the index of k's lane (indices, not pointers: out
	// grows as keys appear).
	lane := func(k *dns.DNSKEY) int {
		id := idOf(k)
		if i, ok := index[id]; ok {
			return i
		}
		u := *k
		u.Flags &^= ksr.FlagRevoke
		r := u
		r.Flags |= ksr.FlagRevoke
		l := Lane{KeyTag: u.KeyTag(), RevokedTag: r.KeyTag(), Algorithm: k.Algorithm}
		for _, a := range anchors {
			if idOf(a) == id {
				l.Anchor = true
			}
		}
		index[id] = len(out)
		out = append(out, l)
		return len(out) - 1
	}
	for _, a := range anchors {
		lane(a)
	}
	add := func(l *Lane, kind string, from, until time.Time) {
		if n := len(l.Phases); n > 0 && l.Phases[n-1].Kind == kind && !l.Phases[n-1].Until.Before(from) {
			l.Phases[n-1].Until = until
			return
		}
		l.Phases = append(l.Phases, Phase{Span{from, until}, kind})
	}
	for i := range tl {
		s := &tl[i]
		present := map[int]bool{}
		for _, k := range s.Keys {
			if k.Flags&ksr.FlagSEP == 0 {
				continue
			}
			li := lane(k)
			present[li] = true
			l := &out[li]
			kind := PhasePublished
			switch {
			case k.Flags&ksr.FlagRevoke != 0:
				kind = PhaseRevoked
			case signs(s, k):
				kind = PhaseSigning
			}
			add(l, kind, s.From, s.Until)
		}
		for j := range out {
			l := &out[j]
			if !present[j] && len(l.Phases) > 0 {
				add(l, PhaseRemoved, s.From, s.Until)
			}
		}
	}
	for j := range out {
		l := &out[j]
		for _, t := range tr.Transitions {
			if t.KeyTag != l.KeyTag || t.Algorithm != l.Algorithm {
				continue
			}
			l.States = append(l.States, State{t.At, t.From.String(), t.To.String(), t.Event.String(), t.Source})
			switch t.To {
			case rfc5011.AddPend:
				l.HoldDown = &Span{t.At, tl.End()}
			case rfc5011.Valid:
				if l.HoldDown != nil && t.From == rfc5011.AddPend {
					l.HoldDown.Until = t.At
				}
			case rfc5011.Start:
				l.HoldDown = nil
			case rfc5011.Revoked:
				l.RemoveHoldDown = &Span{t.At, tl.End()}
			case rfc5011.Removed:
				if l.RemoveHoldDown != nil {
					l.RemoveHoldDown.Until = t.At
				}
			}
		}
	}
	return out
}

// signs reports whether k has an RRSIG over the served RRset (by key tag
// and algorithm; the simulation verifies the signatures).
func signs(s *rfc5011.Served, k *dns.DNSKEY) bool {
	tag := k.KeyTag()
	for _, sig := range s.Sigs {
		if sig.KeyTag == tag && sig.Algorithm == k.Algorithm {
			return true
		}
	}
	return false
}
