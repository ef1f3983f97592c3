package skr

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// answers checks that the SKR answers opts.KSR: the same id, domain and
// bundles (ids in order, times, ZSKs).
func (v *verifier) answers() {
	req, r := v.opts.KSR, v.r
	if req.Request == nil {
		r.Errorf(CheckAnswersKSRBundles, "", "the --ksr document is not a KSR: it has no <Request>")
		return
	}
	if req.ID != v.doc.ID {
		r.Errorf(CheckAnswersKSRID, "", "the SKR's id %s is not the KSR's id %s", v.doc.ID, req.ID)
	}
	if dns.CanonicalName(req.Domain) != v.domain {
		r.Errorf(CheckAnswersKSRDomain, "", "the SKR is for %q, the KSR for %q", v.doc.Domain, req.Domain)
	}
	skrBundles, ksrBundles := v.doc.Response.Bundles, req.Request.Bundles
	ids := func(bs []ksr.Bundle) []string {
		out := make([]string, len(bs))
		for i := range bs {
			out[i] = bs[i].ID
		}
		return out
	}
	if a, b := ids(skrBundles), ids(ksrBundles); strings.Join(a, "\x00") != strings.Join(b, "\x00") {
		r.Errorf(CheckAnswersKSRBundles, "", "the SKR's bundles %s are not the KSR's %s", list(a), list(b))
	}
	byID := map[string]*ksr.Bundle{}
	for i := range ksrBundles {
		if _, dup := byID[ksrBundles[i].ID]; !dup {
			byID[ksrBundles[i].ID] = &ksrBundles[i]
		}
	}
	for i := range skrBundles {
		sb := &skrBundles[i]
		kb, ok := byID[sb.ID]
		if !ok {
			continue // reported by CheckAnswersKSRBundles
		}
		if !sb.Inception.Equal(kb.Inception) || !sb.Expiration.Equal(kb.Expiration) {
			r.Errorf(CheckAnswersKSRTimes, where(i, sb), "bundle %d (%s): %s to %s, the KSR asks for %s to %s",
				i+1, sb.ID, ts(sb.Inception), ts(sb.Expiration), ts(kb.Inception), ts(kb.Expiration))
		}
		var zsks []ksr.Key
		for _, k := range sb.Keys {
			if !k.IsKSK() {
				zsks = append(zsks, k)
			}
		}
		if extra, lacking := keyDiff(zsks, kb.Keys), keyDiff(kb.Keys, zsks); len(extra)+len(lacking) > 0 {
			var parts []string
			if len(extra) > 0 {
				parts = append(parts, "ZSKs not in the KSR: "+strings.Join(extra, ", "))
			}
			if len(lacking) > 0 {
				parts = append(parts, "KSR keys missing: "+strings.Join(lacking, ", "))
			}
			r.Errorf(CheckAnswersKSRZSKs, where(i, sb), "bundle %d (%s): %s", i+1, sb.ID, strings.Join(parts, "; "))
		}
	}
}

// keyDiff returns the key tags (with identifiers) of the keys in a that
// have no key with the same TTL and DNSKEY data in b.
func keyDiff(a, b []ksr.Key) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			if x.TTL == y.TTL && x.Flags == y.Flags && x.Protocol == y.Protocol && x.Algorithm == y.Algorithm && bytes.Equal(x.PublicKey, y.PublicKey) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("%d (%s)", x.KeyTag, x.Identifier))
		}
	}
	return out
}

func list(ids []string) string {
	if len(ids) == 0 {
		return "(none)"
	}
	return "[" + strings.Join(ids, " ") + "]"
}
