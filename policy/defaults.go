package policy

import "time"

const day = 24 * time.Hour

func days(n int) Duration { return Duration(time.Duration(n) * day) }

// Names of the built-in policies, as the base key of a policy file names
// them.
const (
	BaseRoot   = "root"
	BaseLegacy = "legacy"
)

// Default returns today's DNS root zone policy: the defaults of kskm's
// RequestPolicy, ResponsePolicy and ksk_policy. Nine bundles ten days apart
// (nine to eleven), 79 to 81 days from the first inception to the last,
// RSASHA256 ZSKs of 2048 bits with exponent 65537, two keys in the first
// and last slots and one in the others, three distinct ZSKs, TTL 172800,
// signatures valid exactly 21 days, overlapping 9 to 16 days, expiring at
// most 180 days ahead. Every check is on.
func Default() *Policy {
	return &Policy{
		Base: BaseRoot,
		Request: RequestPolicy{
			AcceptableDomains:                 []string{"."},
			NumBundles:                        IntChoice{9},
			ValidateSignatures:                true,
			KeysMatchZSKPolicy:                true,
			RSAExponentMatchZSKPolicy:         true,
			EnableUnsupportedECDSA:            false,
			CheckCycleLength:                  true,
			MinCycleInceptionLength:           days(79),
			MaxCycleInceptionLength:           days(81),
			MinBundleInterval:                 days(9),
			MaxBundleInterval:                 days(11),
			CheckBundleOverlap:                true,
			SignatureAlgorithmsMatchZSKPolicy: true,
			ApprovedAlgorithms:                []string{"RSASHA256"},
			RSAApprovedExponents:              []int{65537},
			RSAApprovedKeySizes:               []int{2048},
			SignatureValidityMatchZSKPolicy:   true,
			CheckKeysMatchKSKOperatorPolicy:   true,
			NumKeysPerBundle:                  []int{2, 1, 1, 1, 1, 1, 1, 1, 2},
			NumDifferentKeysInAllBundles:      IntChoice{3},
			DNSTTL:                            0,
			SignatureCheckExpireHorizon:       true,
			SignatureHorizonDays:              180,
			CheckBundleIntervals:              true,
			CheckChainKeys:                    true,
			CheckChainKeysInHSM:               true,
			CheckChainOverlap:                 true,
			CheckKeysPublishSafety:            true,
			CheckKeysRetireSafety:             true,
			CheckKeyTagCollisions:             true,
			CheckChainPolicy:                  true,
			ExpirationSlack:                   0,
		},
		Response: ResponsePolicy{
			NumBundles:         IntChoice{9},
			ValidateSignatures: true,
		},
		KSK: KSKPolicy{
			SignersName:          ".",
			PublishSafety:        0,
			RetireSafety:         days(28),
			MaxSignatureValidity: days(21),
			MinSignatureValidity: days(21),
			MaxValidityOverlap:   days(16),
			MinValidityOverlap:   days(9),
			TTL:                  172800,
		},
	}
}

// Legacy returns a policy that accepts the root zone's KSRs from 2009 to
// 2016 (ksr-root-2009-q4-2 to ksr-root-2016-q3-0), which Default rejects.
// It differs from Default only where those files need it:
//
//   - num_bundles 6 or 9: the pre-launch KSR 2009-q4-2 has six bundles;
//   - num_keys_per_bundle unchecked and num_different_keys_in_all_bundles
//     2 or 3: 2009-q4-2 has one key in five slots and two ZSKs in all;
//   - min_bundle_interval P8D: 2009-q4-2's last interval is eight days;
//   - min_cycle_inception_length P45D: 2009-q4-2 spans 48 days;
//   - rsa_approved_key_sizes 1024 and 2048, rsa_approved_exponents 3 and
//     65537: the ZSKs were RSA-1024 until 2016 and the policies claim 3;
//   - rsa_exponent_match_zsk_policy false: the policies claim exponent 3
//     while every key uses 65537, so the mismatch is a warning;
//   - check_bundle_overlap false: 2009-q4-2 and 2010-q1 overlap their last
//     two bundles by seven and six days, more than the P5D they claim, so
//     those findings are warnings;
//   - expiration_slack PT1S: bundles end at 23:59:59, one second short of
//     the P15D validity and P5D overlap the files claim;
//   - ksk limits of that era: validity P15D to P21D, overlap P5D to P16D.
//
// Every check still runs; the horizon is measured from the reference time,
// so verify these files with a time inside their period.
func Legacy() *Policy {
	p := Default()
	p.Base = BaseLegacy
	r := &p.Request
	r.NumBundles = IntChoice{6, 9}
	r.NumKeysPerBundle = nil
	r.NumDifferentKeysInAllBundles = IntChoice{2, 3}
	r.MinBundleInterval = days(8)
	r.MinCycleInceptionLength = days(45)
	r.RSAApprovedKeySizes = []int{1024, 2048}
	r.RSAApprovedExponents = []int{3, 65537}
	r.RSAExponentMatchZSKPolicy = false
	r.CheckBundleOverlap = false
	r.ExpirationSlack = Duration(time.Second)
	p.KSK.MinSignatureValidity = days(15)
	p.KSK.MaxSignatureValidity = days(21)
	p.KSK.MinValidityOverlap = days(5)
	p.KSK.MaxValidityOverlap = days(16)
	return p
}

// Builtin returns the built-in policy called name ("root" or "legacy").
func Builtin(name string) (*Policy, bool) {
	switch name {
	case BaseRoot, "":
		return Default(), true
	case BaseLegacy:
		return Legacy(), true
	}
	return nil, false
}
