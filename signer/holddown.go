package signer

import (
	"fmt"
	"math"
	"time"
)

// AddHoldDown is RFC 5011's add hold-down time (§2.4.1): a resolver that
// follows RFC 5011 accepts a new KSK as a trust anchor only after it has
// seen it published, in a DNSKEY RRset validly signed by a trusted key,
// for 30 days.
const AddHoldDown = 30 * 24 * time.Hour

// checkAddHoldDown: SIGN-RFC5011-HOLDDOWN. Each KSK that signs a new
// bundle unrevoked but did not sign the previous SKR's last bundle
// unrevoked is checked at the first new bundle it signs, unrevoked, without
// a co-signer that carries the trust over (coSignedByContinuing): its
// current run of unrevoked publication (walking back over the new bundles,
// then the previous SKR's) must have started at least AddHoldDown before
// that bundle's inception. When the run is known to start later, the key
// is not yet trusted by RFC 5011 resolvers: an error. When the run reaches
// back to the first bundle known, the history cannot prove the hold-down:
// a warning.
func (p *Plan) checkAddHoldDown(tl []slotState) {
	np := 0
	for np < len(tl) && tl[np].prev {
		np++
	}
	for _, id := range p.keyNames {
		if np > 0 && tl[np-1].roles[id] == PublishedSigning {
			continue // signed the previous SKR: trusted
		}
		first := -1
		for j := np; j < len(tl); j++ {
			if tl[j].roles[id] == PublishedSigning && !coSignedByContinuing(tl, j, id) {
				first = j
				break
			}
		}
		if first < 0 {
			continue
		}
		run := first
		for run > 0 && unrevoked(tl[run-1].roles[id]) {
			run--
		}
		d := tl[first].inception.Sub(tl[run].inception)
		if d >= AddHoldDown {
			continue
		}
		label := p.Config.Keys[id].Label
		if run > 0 {
			p.errorf(CheckRFC5011HoldDown, tl[first].where(), "key %s (%s) signs %s but has been published only %s, since %s: RFC 5011 resolvers trust a new KSK only after an add hold-down of %s (RFC 5011 §2.4.1)",
				id, label, tl[first].ref(), days(d), tl[run].ref(), days(AddHoldDown))
			continue
		}
		hint := "sign with --previous-skr so that its publication can be checked"
		if np > 0 {
			hint = "the previous SKR (--previous-skr) does not reach back far enough; check the SKRs before it"
		}
		p.warnf(CheckRFC5011HoldDown, tl[first].where(), "key %s (%s) signs %s and is published since %s, the first bundle known, %s before: the history given cannot prove RFC 5011's add hold-down of %s (§2.4.1); %s",
			id, label, tl[first].ref(), tl[run].ref(), days(d), days(AddHoldDown), hint)
	}
}

// days formats d in days, with one decimal when not whole.
func days(d time.Duration) string {
	n := d.Hours() / 24
	if n == math.Trunc(n) {
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", int64(n))
	}
	return fmt.Sprintf("%.1f days", n)
}

// coSignedByContinuing reports whether bundle j of the timeline is also
// signed, unrevoked, by a key other than id that signed the bundle before
// unrevoked. Such a bundle does not depend on resolvers trusting id yet
// (RFC 6840 §5.11: one valid signature by a trust anchor suffices), as when
// an algorithm rollover's new KSK must sign from the bundle it is
// published in (RFC 4035 §2.2); the continuing key's own trust is checked
// where it began to sign alone, or it signed the previous SKR.
func coSignedByContinuing(tl []slotState, j int, id string) bool {
	if j == 0 {
		return false
	}
	for other, r := range tl[j].roles {
		if other != id && r == PublishedSigning && tl[j-1].roles[other] == PublishedSigning {
			return true
		}
	}
	return false
}
