package rfc5011

import (
	"fmt"
	"strings"
	"time"
)

// Cause classifies why a resolver could not validate the DNSKEY RRset
// served.
type Cause string

// The causes of a loss of trust, from the resolver's point of view.
const (
	// CauseNothingServed: no DNSKEY RRset is served (a gap between SKRs,
	// or after the last one): the zone is dark.
	CauseNothingServed Cause = "nothing-served"
	// CauseExpired: no RRSIG of the RRset is within its validity period.
	CauseExpired Cause = "rrsigs-expired"
	// CauseNotYetTrusted: the KSK that signs is pending (AddPend): its add
	// hold-down has not passed, or it was seen only once.
	CauseNotYetTrusted Cause = "not-yet-trusted"
	// CauseUnknownKey: the KSK that signs was never seen in an RRset the
	// resolver validated, so no hold-down even started (it was published
	// too late, or while the resolver was offline).
	CauseUnknownKey Cause = "unknown-key"
	// CauseRevoked: every key the resolver trusted is revoked (or removed)
	// and no other key has been accepted yet.
	CauseRevoked Cause = "revoked-first"
	// CauseNotTrusted: the signing key is known but neither trusted nor
	// pending, for any other reason (for example, it was itself revoked).
	CauseNotTrusted Cause = "not-trusted"
)

// Describe says in a sentence what the cause means for the operator.
func (c Cause) Describe() string {
	switch c {
	case CauseNothingServed:
		return "nothing is served: no SKR covers this time, the RRSIGs have expired"
	case CauseExpired:
		return "the RRSIGs of the DNSKEY RRset have expired (or are not yet valid)"
	case CauseNotYetTrusted:
		return "the new KSK signs before the resolver trusts it (RFC 5011 add hold-down not passed)"
	case CauseUnknownKey:
		return "the KSK that signs was never seen by the resolver, so its hold-down never started"
	case CauseRevoked:
		return "the trusted KSK was revoked before the new KSK was accepted"
	case CauseNotTrusted:
		return "the KSK that signs is not trusted"
	}
	return string(c)
}

// diagnose says why the keys trusted now do not validate s at time at. It
// is called only when validation failed.
func (r *Resolver) diagnose(s *Served, at time.Time) (Cause, string) {
	var inTime []uint16
	for _, sig := range s.Sigs {
		if sig.ValidityPeriod(at) {
			inTime = append(inTime, sig.KeyTag)
		}
	}
	if len(inTime) == 0 {
		return CauseExpired, fmt.Sprintf("no RRSIG is valid at %s", ts(at))
	}
	trusted := 0
	revoked := []string{}
	for _, k := range r.keys {
		switch {
		case k.state.Trusted():
			trusted++
		case k.state == Revoked || k.state == Removed:
			revoked = append(revoked, fmt.Sprint(k.key.KeyTag()))
		}
	}
	var pending, unknown, other []string
	for _, tag := range inTime {
		var found *tracked
		selfRevoked := false
		for _, k := range r.keys {
			if k.key.KeyTag() == tag {
				found = k
			}
			if revokedTag(k) == tag {
				selfRevoked = true
			}
		}
		switch {
		case found == nil && selfRevoked:
			// A revoked key's self-signature: never a validation.
		case found == nil:
			unknown = append(unknown, fmt.Sprint(tag))
		case found.state == AddPend:
			pending = append(pending, fmt.Sprintf("%d (pending since %s, hold-down until %s)", tag,
				ts(found.since), ts(found.since.Add(found.holdDown))))
		case !found.state.Trusted():
			other = append(other, fmt.Sprintf("%d (%s)", tag, found.state))
		}
	}
	switch {
	case trusted == 0 && len(revoked) > 0:
		msg := fmt.Sprintf("every trusted KSK is revoked (%s)", strings.Join(revoked, " "))
		if len(pending) > 0 {
			msg += "; KSK " + strings.Join(pending, ", ") + " not yet accepted"
		}
		return CauseRevoked, msg
	case len(pending) > 0:
		return CauseNotYetTrusted, "KSK " + strings.Join(pending, ", ") + " signs but is not yet trusted"
	case len(unknown) > 0:
		return CauseUnknownKey, "KSK " + strings.Join(unknown, ", ") + " signs but was never seen in a validated DNSKEY RRset"
	case len(other) > 0:
		return CauseNotTrusted, "KSK " + strings.Join(other, ", ") + " signs but is not trusted"
	}
	return CauseNotTrusted, "no RRSIG by a trusted key verifies"
}

// revokedTag is the key tag of k with the REVOKE bit set.
func revokedTag(k *tracked) uint16 {
	c := *k.key
	c.Flags |= flagRevoke
	return c.KeyTag()
}
