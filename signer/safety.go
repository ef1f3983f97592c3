package signer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// slotState is one bundle of the timeline that the safety checks walk:
// the previous SKR's bundles, then the new ones.
type slotState struct {
	prev       bool // a bundle of the previous SKR
	index      int  // in its document
	id         string
	inception  time.Time
	expiration time.Time
	roles      map[string]Role // by key identity
}

func (s *slotState) where() string {
	if s.prev {
		return fmt.Sprintf("previous SKR bundle #%d %s", s.index+1, s.id)
	}
	return fmt.Sprintf("bundle #%d %s", s.index+1, s.id)
}

func (s *slotState) ref() string {
	if s.prev {
		return fmt.Sprintf("the previous SKR's bundle #%d (%s)", s.index+1, s.id)
	}
	return fmt.Sprintf("bundle #%d (%s)", s.index+1, s.id)
}

// keyIdentity names a KSK of the previous SKR: the configured key whose
// DS it has (computed with the REVOKE flag cleared), or a description of
// an unknown KSK.
func (p *Plan) keyIdentity(k *ksr.Key) string {
	dk := k.DNSKEY(p.zone)
	dk.Flags &^= ksr.FlagRevoke
	if ds := dk.ToDS(dns.SHA256); ds != nil {
		for _, name := range p.Config.KeyNames() {
			if strings.EqualFold(p.Config.Keys[name].DSSHA256, ds.Digest) {
				return name
			}
		}
	}
	return fmt.Sprintf("KSK %d (%s, not in the configuration)", dk.KeyTag(), k.Identifier)
}

// timeline builds the slots of the previous SKR (when given) and of the
// new one. The previous SKR's KSKs are identified by the configured DS
// digests, which BindKeys confirms against the HSM.
func (p *Plan) timeline() []slotState {
	var tl []slotState
	if prev := p.PreviousSKR; prev != nil && prev.Response != nil {
		for i := range prev.Response.Bundles {
			b := &prev.Response.Bundles[i]
			s := slotState{prev: true, index: i, id: b.ID, inception: b.Inception, expiration: b.Expiration, roles: map[string]Role{}}
			for j := range b.Keys {
				k := &b.Keys[j]
				if !k.IsKSK() {
					continue
				}
				role := Published
				if k.IsRevoked() {
					role = Revoked
				}
				if signedBy(b, k, p.zone) {
					role++ // Published → PublishedSigning, Revoked → RevokedSigning
				}
				s.roles[p.keyIdentity(k)] = role
			}
			tl = append(tl, s)
		}
	}
	for i, b := range p.bundles() {
		s := slotState{index: i, id: b.ID, inception: b.Inception, expiration: b.Expiration, roles: map[string]Role{}}
		sl := &p.Schema.Slots[i]
		for _, n := range p.keyNames {
			if r := sl.Role(n); r != Absent {
				s.roles[n] = r
			}
		}
		tl = append(tl, s)
	}
	return tl
}

// signedBy reports whether a signature of bundle b names key k (by
// keyIdentifier, else by key tag and algorithm).
func signedBy(b *ksr.Bundle, k *ksr.Key, zone string) bool {
	tag := k.DNSKEY(zone).KeyTag()
	for _, s := range b.Signatures {
		if s.Identifier == k.Identifier || (s.KeyTag == tag && s.Algorithm == k.Algorithm) {
			return true
		}
	}
	return false
}

// identities returns every key identity of the timeline in a stable
// order: configured names first (sorted), then the others as they appear.
func identities(tl []slotState, names []string) []string {
	out := append([]string(nil), names...)
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	for _, s := range tl {
		var extra []string
		for id := range s.roles {
			if !seen[id] {
				extra = append(extra, id)
			}
		}
		slices.Sort(extra)
		for _, id := range extra {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func unrevoked(r Role) bool { return r == Published || r == PublishedSigning }

// checkPublishSafety: SIGN-PUBLISH-SAFETY. A KSK that signs a new bundle
// unrevoked has been published unrevoked, without a gap, since a bundle
// whose inception is at least publish_safety before; when that run of
// bundles reaches back to the start of what is known, the key is given
// the benefit of the doubt. With a previous SKR, as kskm does, a key that
// signs the first new bundle is published in the previous SKR's last one.
func (p *Plan) checkPublishSafety(tl []slotState) {
	safety := p.Config.Policy.KSK.PublishSafety.Std()
	np := 0
	for np < len(tl) && tl[np].prev {
		np++
	}
	if np > 0 && np < len(tl) {
		for _, n := range p.Schema.Slots[0].Sign {
			if tl[np].roles[n] == PublishedSigning && !unrevoked(tl[np-1].roles[n]) {
				p.errorf(CheckPublishSafety, tl[np].where(), "key %s (%s) signs %s but is not published in %s, the last one signed",
					n, p.Config.Keys[n].Label, tl[np].ref(), tl[np-1].ref())
			}
		}
	}
	for _, id := range identities(tl, p.Config.KeyNames()) {
		run := -1 // first bundle of the current run of unrevoked publication
		for j := range tl {
			r := tl[j].roles[id]
			switch {
			case !unrevoked(r):
				run = -1
				continue
			case run < 0:
				run = j
			}
			if j < np || r != PublishedSigning || run == 0 {
				continue // history, not signing, or published since before anything known
			}
			if d := tl[j].inception.Sub(tl[run].inception); d < safety {
				p.errorf(CheckPublishSafety, tl[j].where(), "key %s signs %s, %s after it was published in %s; ksk_policy.publish_safety is %s",
					id, tl[j].ref(), dur(d), tl[run].ref(), dur(safety))
				break // one finding per key
			}
		}
	}
}

// checkRetireSafety: SIGN-RETIRE-SAFETY. When a KSK stops signing
// unrevoked (it signs bundle j and not bundle j+1), every new bundle that
// starts within retire_safety of bundle j+1's inception still holds it,
// published or revoked, so that the signatures it made keep validating
// while caches hold them. A revoked KSK's own signature only proves its
// revocation and does not count as signing here.
func (p *Plan) checkRetireSafety(tl []slotState) {
	safety := p.Config.Policy.KSK.RetireSafety.Std()
	np := 0
	for np < len(tl) && tl[np].prev {
		np++
	}
	for _, id := range identities(tl, p.Config.KeyNames()) {
	next:
		for j := 0; j+1 < len(tl); j++ {
			if tl[j].roles[id] != PublishedSigning || tl[j+1].roles[id] == PublishedSigning {
				continue
			}
			stop := tl[j+1].inception
			for t := max(j+1, np); t < len(tl) && !tl[t].inception.After(stop.Add(safety)); t++ {
				if tl[t].roles[id] == Absent {
					p.errorf(CheckRetireSafety, tl[t].where(), "key %s signed %s and stopped signing at %s, but is removed from %s, %s later; ksk_policy.retire_safety is %s",
						id, tl[j].ref(), ts(stop), tl[t].ref(), dur(tl[t].inception.Sub(stop)), dur(safety))
					break next // one finding per key
				}
			}
		}
	}
}
