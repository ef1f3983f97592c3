package zsk

import (
	"time"

	"github.com/ksk-dev/ksk/ksr"
)

// Margins of the claimed validity overlap around the actual one, those of
// the root zone's KSRs: an 11-day overlap (21-day validity, 10-day
// interval) is claimed as P9D to P12D.
const (
	overlapBelow = 2 * 24 * time.Hour
	overlapAbove = 24 * time.Hour
)

// RequestPolicy returns the ZSK policy a KSR claims for its keys (the
// DNSKEY records of every distinct ZSK) and its cadence, as the root zone's
// KSRs do:
//
//   - PublishSafety and RetireSafety: one interval, the time a pre- or
//     post-published key spends in one bundle;
//   - MinSignatureValidity and MaxSignatureValidity: the validity;
//   - MinValidityOverlap and MaxValidityOverlap: the overlap of
//     consecutive bundles (validity minus interval) from two days below
//     to one day above it, P9D to P12D at the root's cadence, which leaves
//     room for the uneven gap between two quarters;
//   - one SignatureAlgorithm per distinct algorithm, size and RSA exponent,
//     in the order of the keys.
func RequestPolicy(keys []ksr.Key, interval, validity time.Duration) ksr.SignaturePolicy {
	overlap := validity - interval
	lo := max(overlap-overlapBelow, 0)
	return ksr.SignaturePolicy{
		PublishSafety:        interval,
		RetireSafety:         interval,
		MinSignatureValidity: validity,
		MaxSignatureValidity: validity,
		MinValidityOverlap:   lo,
		MaxValidityOverlap:   overlap + overlapAbove,
		Algorithms:           algorithms(keys),
	}
}

// algorithms returns one AlgorithmPolicy per distinct (algorithm, size,
// exponent) of keys, in order.
func algorithms(keys []ksr.Key) []ksr.AlgorithmPolicy {
	var out []ksr.AlgorithmPolicy
	seen := map[ksr.AlgorithmPolicy]bool{}
	for i := range keys {
		a := AlgorithmPolicy(&keys[i])
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
