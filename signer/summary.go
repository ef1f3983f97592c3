package signer

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// BundleSummary describes one bundle of a plan for the operator: what the
// ceremony is asked to approve before anything is signed.
type BundleSummary struct {
	// Index is the bundle's position, from 1.
	Index      int       `json:"index"`
	ID         string    `json:"id"`
	Inception  time.Time `json:"inception"`
	Expiration time.Time `json:"expiration"`
	// ZSKTags are the key tags of the KSR's keys in the bundle, sorted.
	ZSKTags []uint16 `json:"zsk_tags"`
	// KSKs are the KSKs of the slot and what it does with them.
	KSKs []KSKAction `json:"ksks"`
}

// KSKAction is one KSK of a bundle slot.
type KSKAction struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// KeyTag is the key tag in this bundle: the revoked key tag for a
	// revoked key once BindKeys has read the public key, the configured
	// key tag before.
	KeyTag uint16 `json:"key_tag"`
	// Published, Revoked and Signs say what the slot does with the key.
	Published bool `json:"published"`
	Revoked   bool `json:"revoked"`
	Signs     bool `json:"signs"`
}

// Summary describes every bundle the schema covers.
func (p *Plan) Summary() []BundleSummary {
	if p.KSR.Request == nil {
		return nil
	}
	bs := p.bundles()
	out := make([]BundleSummary, len(bs))
	for i, b := range bs {
		s := BundleSummary{Index: i + 1, ID: b.ID, Inception: b.Inception, Expiration: b.Expiration, ZSKTags: []uint16{}, KSKs: []KSKAction{}}
		for _, k := range b.Keys {
			s.ZSKTags = append(s.ZSKTags, k.KeyTag)
		}
		slices.Sort(s.ZSKTags)
		sl := &p.Schema.Slots[i]
		for _, n := range p.keyNames {
			role := sl.Role(n)
			if role == Absent {
				continue
			}
			kc := p.Config.Keys[n]
			a := KSKAction{Name: n, Label: kc.Label, KeyTag: kc.KeyTag,
				Published: role == Published || role == PublishedSigning,
				Revoked:   role == Revoked || role == RevokedSigning,
				Signs:     role == PublishedSigning || role == RevokedSigning}
			if bk := p.keys[n]; bk != nil && bk.dnskey != nil {
				a.KeyTag = bk.dnskey.KeyTag()
				if a.Revoked {
					a.KeyTag = bk.revkey.KeyTag()
				}
			}
			s.KSKs = append(s.KSKs, a)
		}
		out[i] = s
	}
	return out
}

// WriteBundleTable writes the bundles of a plan as the table an operator
// reviews before signing: index, inception, expiration, the ZSK key tags,
// and the KSKs published, revoked and signing.
func WriteBundleTable(w io.Writer, bundles []BundleSummary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tINCEPTION\tEXPIRATION\tZSK TAGS\tPUBLISHED\tREVOKED\tSIGNING")
	for _, s := range bundles {
		var pub, rev, sig []string
		for _, k := range s.KSKs {
			tag := fmt.Sprint(k.KeyTag)
			if k.Published {
				pub = append(pub, tag)
			}
			if k.Revoked {
				rev = append(rev, tag)
			}
			if k.Signs {
				sig = append(sig, tag)
			}
		}
		var zsk []string
		for _, t := range s.ZSKTags {
			zsk = append(zsk, fmt.Sprint(t))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Index, s.Inception.UTC().Format(time.RFC3339), s.Expiration.UTC().Format(time.RFC3339),
			orDash(zsk), orDash(pub), orDash(rev), orDash(sig))
	}
	return tw.Flush()
}

func orDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, " ")
}
