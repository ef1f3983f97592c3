package signer

import (
	"fmt"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/trustanchor"
)

// AnchorKey is one configured KSK of a trust anchor: its name in the
// configuration, its label, and the KeyDigest made of it.
type AnchorKey struct {
	Name   string
	Label  string
	Anchor trustanchor.Anchor
}

// BuildTrustAnchor reads each named KSK from src, checks it against its
// configuration (MatchKey: algorithm, size, exponent, key tag, DS) and
// returns the RFC 9718 trust anchor of those that match, with id and
// source. Keys that do not match are reported in the Report and left out;
// a key src cannot find is an error.
func BuildTrustAnchor(cfg *Config, names []string, src KeySource, id, source string) (*trustanchor.TrustAnchor, []AnchorKey, *check.Report, error) {
	zone := cfg.Policy.KSK.SignersName
	if zone == "" {
		zone = "."
	}
	report := &check.Report{}
	ta := &trustanchor.TrustAnchor{ID: id, Source: source, Zone: zone}
	var keys []AnchorKey
	for _, name := range names {
		kc := cfg.Keys[name]
		if kc == nil {
			return nil, nil, report, fmt.Errorf("%w: no key %q in the configuration", ErrInvalid, name)
		}
		key, err := src.FindKey(kc.Label)
		if err != nil {
			return nil, nil, report, fmt.Errorf("key %s (label %q): %w", name, kc.Label, err)
		}
		dk, rep := MatchKey(cfg, kc, zone, key)
		report.Add(rep.Findings...)
		if !rep.Valid() || dk == nil {
			continue
		}
		anchor, err := trustanchor.NewKeyDigest(kc.Label, dk, kc.ValidFrom, kc.ValidUntil)
		if err != nil {
			report.Errorf(CheckKSKMatch, fmt.Sprintf("key %s label %q", name, kc.Label), "key %s (label %q): %v", name, kc.Label, err)
			continue
		}
		ta.Anchors = append(ta.Anchors, anchor)
		keys = append(keys, AnchorKey{Name: name, Label: kc.Label, Anchor: anchor})
	}
	return ta, keys, report, nil
}
