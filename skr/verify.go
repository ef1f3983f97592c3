package skr

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

// VerifyOptions selects the optional checks of Verify.
type VerifyOptions struct {
	// Anchors, when set, are the trust anchors the KSK that signs each
	// bundle must chain to (CheckAnchorChain), at the bundle's inception.
	Anchors *trustanchor.TrustAnchor
	// KSR, when set, is the request the SKR must answer (CheckAnswersKSR*).
	KSR *ksr.Document
	// Policy, when set, is the KSK operator's policy: its response section
	// (number of bundles, whether to verify signatures) and its ksk section
	// (validity and overlap limits, signer's name).
	Policy *policy.Policy
	// At, when set, is the reference time. RRSIG validity is not checked
	// against it (a historical SKR is still valid); only CheckExpired, a
	// warning, uses it.
	At time.Time
}

// Verify checks an SKR and returns its findings; the SKR is valid when the
// report has no error (report.Valid()). It never modifies resp.
func Verify(resp *ksr.Document, opts VerifyOptions) *check.Report {
	r := &check.Report{}
	if resp == nil || resp.Response == nil {
		r.Errorf(CheckResponse, "", "the document is not an SKR: it has no <Response>")
		return r
	}
	v := &verifier{doc: resp, opts: opts, r: r, domain: dns.CanonicalName(resp.Domain), verifySigs: true}
	if p := opts.Policy; p != nil && !p.Response.ValidateSignatures {
		v.verifySigs = false
		r.Warnf(CheckSigValid, "", "signature verification disabled by the policy (response.validate_signatures)")
	}
	bundles := resp.Response.Bundles
	if len(bundles) == 0 {
		r.Errorf(CheckBundleCount, "", "the SKR has no bundles")
	}
	v.signers = make([][]*ksr.Key, len(bundles))
	// Each bundle's findings go to a report of its own, so that bundles
	// (their signatures, the costly part) are checked in parallel and the
	// findings still come out in bundle order.
	per := make([]check.Report, len(bundles))
	seen := map[string]int{}
	for i := range bundles {
		b := &bundles[i]
		if j, dup := seen[b.ID]; dup {
			per[i].Errorf(CheckBundleIDUnique, where(i, b), "bundle id %s is also the id of bundle %d", b.ID, j+1)
		} else {
			seen[b.ID] = i
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(bundles)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(bundles); i = int(next.Add(1)) - 1 {
				v.bundle(i, &bundles[i], &per[i])
			}
		})
	}
	wg.Wait()
	for i := range per {
		r.Add(per[i].Findings...)
	}
	if opts.Anchors != nil {
		v.anchors()
	}
	if opts.KSR != nil {
		v.answers()
	}
	if opts.Policy != nil {
		v.policy()
	}
	if !opts.At.IsZero() && len(bundles) > 0 {
		last := bundles[0].Expiration
		for _, b := range bundles {
			if b.Expiration.After(last) {
				last = b.Expiration
			}
		}
		if !opts.At.Before(last) {
			r.Warnf(CheckExpired, "", "every bundle has expired at %s (the last at %s)", opts.At.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
		}
	}
	return r
}

type verifier struct {
	doc        *ksr.Document
	opts       VerifyOptions
	r          *check.Report
	domain     string // canonical
	verifySigs bool
	signers    [][]*ksr.Key // per bundle: the KSKs that sign it
}

// where names a bundle by index (1-based) and id.
func where(i int, b *ksr.Bundle) string {
	return fmt.Sprintf("bundle %d %s", i+1, b.ID)
}

// whereKey names a bundle and a key tag.
func whereKey(i int, b *ksr.Bundle, tag uint16) string {
	return fmt.Sprintf("bundle %d %s key %d", i+1, b.ID, tag)
}

// bundle checks bundle i into r; it writes no other state of v than
// v.signers[i], so bundles can be checked concurrently.
func (v *verifier) bundle(i int, b *ksr.Bundle, r *check.Report) {
	if !b.Inception.Before(b.Expiration) {
		r.Errorf(CheckBundleTimes, where(i, b), "bundle %d (%s): inception %s is not before expiration %s",
			i+1, b.ID, ts(b.Inception), ts(b.Expiration))
	}
	rrset := make([]dns.RR, len(b.Keys))
	dnskeys := make([]*dns.DNSKEY, len(b.Keys))
	byID := map[string]int{}
	for j := range b.Keys {
		k := &b.Keys[j]
		dk := k.DNSKEY(v.doc.Domain)
		dnskeys[j], rrset[j] = dk, dk
		if tag := dk.KeyTag(); tag != k.KeyTag {
			r.Errorf(CheckKeyTag, whereKey(i, b, k.KeyTag), "bundle %d (%s): key %s claims key tag %d, its key tag is %d",
				i+1, b.ID, k.Identifier, k.KeyTag, tag)
		}
		if k.Protocol != 3 {
			r.Errorf(CheckKeyProtocol, whereKey(i, b, k.KeyTag), "bundle %d (%s): key %d has protocol %d, not 3", i+1, b.ID, k.KeyTag, k.Protocol)
		}
		if k.Flags&ksr.FlagZone == 0 {
			r.Errorf(CheckKeyFlags, whereKey(i, b, k.KeyTag), "bundle %d (%s): key %d has flags %d, without the Zone Key flag", i+1, b.ID, k.KeyTag, k.Flags)
		}
		if _, dup := byID[k.Identifier]; dup {
			r.Errorf(CheckKeyIDUnique, whereKey(i, b, k.KeyTag), "bundle %d (%s): two keys have the keyIdentifier %s", i+1, b.ID, k.Identifier)
		} else {
			byID[k.Identifier] = j
		}
	}
	labels := uint8(dns.CountLabel(v.domain))
	missing := false
	for si := range b.Signatures {
		s := &b.Signatures[si]
		j, ok := byID[s.Identifier]
		if !ok {
			missing = true
			r.Errorf(CheckSigKeyPresent, whereKey(i, b, s.KeyTag), "bundle %d (%s): the signature with key tag %d names key %s, which is not in the bundle",
				i+1, b.ID, s.KeyTag, s.Identifier)
			continue
		}
		k, dk := &b.Keys[j], dnskeys[j]
		w := whereKey(i, b, s.KeyTag)
		good := true
		fail := func(id, format string, args ...any) {
			good = false
			r.Errorf(id, w, "bundle %d (%s): signature by %s (key tag %d): %s", i+1, b.ID, s.Identifier, s.KeyTag, fmt.Sprintf(format, args...))
		}
		if tag := dk.KeyTag(); s.KeyTag != tag {
			fail(CheckSigKeyTag, "RRSIG key tag %d is not the key tag %d of the key it names", s.KeyTag, tag)
		}
		if s.Algorithm != k.Algorithm {
			fail(CheckSigAlgorithm, "RRSIG algorithm %d is not the algorithm %d of the key it names", s.Algorithm, k.Algorithm)
		}
		if dns.CanonicalName(s.SignersName) != v.domain {
			fail(CheckSigSigner, "signer's name %q is not the domain %q", s.SignersName, v.doc.Domain)
		}
		if s.Labels != labels {
			fail(CheckSigLabels, "labels %d, the domain %q has %d", s.Labels, v.doc.Domain, labels)
		}
		if s.TypeCovered != dns.TypeDNSKEY {
			fail(CheckSigType, "covers type %s, not DNSKEY", dns.Type(s.TypeCovered))
		}
		if s.OriginalTTL != k.TTL || s.TTL != s.OriginalTTL {
			fail(CheckSigTTL, "TTL %d and original TTL %d, the keys' TTL is %d", s.TTL, s.OriginalTTL, k.TTL)
		}
		if s.Inception.Before(b.Inception) || s.Expiration.After(b.Expiration) || !s.Inception.Before(s.Expiration) {
			fail(CheckSigValidityWindow, "RRSIG validity %s to %s is not within the bundle's %s to %s",
				ts(s.Inception), ts(s.Expiration), ts(b.Inception), ts(b.Expiration))
		}
		if k.IsKSK() && !k.IsRevoked() {
			v.signers[i] = appendKey(v.signers[i], k)
		}
		if !good || !v.verifySigs || k.Protocol != 3 || k.Flags&ksr.FlagZone == 0 {
			continue
		}
		if err := s.RRSIG(v.doc.Domain).Verify(dk, rrset); err != nil {
			r.Errorf(CheckSigValid, w, "bundle %d (%s): signature by %s (key tag %d) does not verify over the bundle's DNSKEY RRset: %v",
				i+1, b.ID, s.Identifier, s.KeyTag, err)
		}
	}
	if len(v.signers[i]) == 0 && !missing {
		r.Errorf(CheckBundleKSKSigned, where(i, b), "bundle %d (%s) has no signature by a KSK in the bundle (SEP flag set, not revoked)", i+1, b.ID)
	}
}

func appendKey(ks []*ksr.Key, k *ksr.Key) []*ksr.Key {
	for _, x := range ks {
		if x == k {
			return ks
		}
	}
	return append(ks, k)
}

// anchors checks that each bundle's signing KSKs chain to a trust anchor
// valid at the bundle's inception.
func (v *verifier) anchors() {
	ta := v.opts.Anchors
	if dns.CanonicalName(ta.Zone) != v.domain {
		v.r.Errorf(CheckAnchorZone, "", "the trust anchors are for %q, the SKR for %q", ta.Zone, v.doc.Domain)
		return
	}
	bundles := v.doc.Response.Bundles
	for i := range bundles {
		b := &bundles[i]
		if len(v.signers[i]) == 0 {
			continue // CheckBundleKSKSigned or CheckSigKeyPresent has reported it
		}
		var why []string
		chained := false
		for _, k := range v.signers[i] {
			dk := k.DNSKEY(v.doc.Domain)
			if len(ta.Match(dk, b.Inception)) > 0 {
				chained = true
				break
			}
			var ids []string
			for _, a := range ta.Anchors {
				if a.Matches(dk) {
					ids = append(ids, fmt.Sprintf("%s (valid %s)", anchorName(&a), period(&a)))
				}
			}
			if len(ids) == 0 {
				why = append(why, fmt.Sprintf("KSK %d matches no anchor", dk.KeyTag()))
			} else {
				why = append(why, fmt.Sprintf("KSK %d matches %s, not valid at the bundle's inception %s", dk.KeyTag(), strings.Join(ids, ", "), ts(b.Inception)))
			}
		}
		if !chained {
			v.r.Errorf(CheckAnchorChain, whereKey(i, b, v.signers[i][0].KeyTag), "bundle %d (%s) is not signed by a trust anchor: %s",
				i+1, b.ID, strings.Join(why, "; "))
		}
	}
}

func anchorName(a *trustanchor.Anchor) string {
	if a.ID != "" {
		return "anchor " + a.ID
	}
	return fmt.Sprintf("DS anchor %d", a.KeyTag)
}

func period(a *trustanchor.Anchor) string {
	from, until := "always", "open-ended"
	if !a.ValidFrom.IsZero() {
		from = ts(a.ValidFrom)
	}
	if !a.ValidUntil.IsZero() {
		until = ts(a.ValidUntil)
	}
	return from + " to " + until
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }
