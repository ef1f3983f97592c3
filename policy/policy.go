package policy

// Policy is the KSK operator's policy file.
type Policy struct {
	// Base names the built-in policy the file starts from: "root" (Default,
	// the default) or "legacy" (Legacy). Keys the file leaves out keep the
	// base's values.
	Base string `yaml:"base,omitempty"`

	// Request is what a KSR must satisfy (kskm's request_policy).
	Request RequestPolicy `yaml:"request"`
	// Response is what an SKR must satisfy when verified (kskm's
	// response_policy).
	Response ResponsePolicy `yaml:"response"`
	// KSK is the KSK operator's own signature policy (kskm's ksk_policy):
	// every bundle ksk signs must also satisfy these limits.
	KSK KSKPolicy `yaml:"ksk"`
}

// RequestPolicy holds the switches and limits applied to a KSR. The YAML
// names are kskm's request_policy names; the fields marked "ksk addition"
// are not in kskm.
type RequestPolicy struct {
	// Verify KSR header.

	// AcceptableDomains lists the zones a KSR may be for (KSR-DOMAIN).
	AcceptableDomains []string `yaml:"acceptable_domains"`

	// Verify KSR bundles.

	// NumBundles is the acceptable number of bundles (KSR-BUNDLE-COUNT).
	NumBundles IntChoice `yaml:"num_bundles"`
	// ValidateSignatures controls proof of possession (KSR-BUNDLE-POP).
	ValidateSignatures bool `yaml:"validate_signatures"`
	// KeysMatchZSKPolicy controls whether each key must match an algorithm
	// entry of the KSR's own ZSK policy (KSR-KEY-ZSK-POLICY) and whether keys
	// must be consistent across bundles (KSR-BUNDLE-KEYS).
	KeysMatchZSKPolicy bool `yaml:"keys_match_zsk_policy"`
	// RSAExponentMatchZSKPolicy controls whether an RSA key's exponent must
	// equal the one its ZSK policy entry claims (KSR-KEY-ZSK-POLICY). The
	// root zone's 2009-2010 KSRs claim 3 and use 65537.
	RSAExponentMatchZSKPolicy bool `yaml:"rsa_exponent_match_zsk_policy"`
	// EnableUnsupportedECDSA accepts ECDSA ZSKs (KSR-POLICY-ALG).
	EnableUnsupportedECDSA bool `yaml:"enable_unsupported_ecdsa"`
	// CheckCycleLength controls KSR-BUNDLE-CYCLE-DURATION: the time from the
	// first bundle's inception to the last one's.
	CheckCycleLength bool `yaml:"check_cycle_length"`
	// MinCycleInceptionLength and MaxCycleInceptionLength bound that time.
	MinCycleInceptionLength Duration `yaml:"min_cycle_inception_length"`
	MaxCycleInceptionLength Duration `yaml:"max_cycle_inception_length"`
	// MinBundleInterval and MaxBundleInterval bound the time between two
	// consecutive bundles' inceptions (KSR-POLICY-BUNDLE-INTERVALS).
	MinBundleInterval Duration `yaml:"min_bundle_interval"`
	MaxBundleInterval Duration `yaml:"max_bundle_interval"`

	// Verify KSR policy parameters.

	// CheckBundleOverlap controls the overlap of consecutive bundles against
	// the KSR's own claimed Min/MaxValidityOverlap (KSR-POLICY-SIG-OVERLAP).
	CheckBundleOverlap bool `yaml:"check_bundle_overlap"`
	// SignatureAlgorithmsMatchZSKPolicy controls whether the algorithms and
	// parameters the KSR claims and its keys use must be approved below
	// (KSR-POLICY-ALG, KSR-POLICY-PARAMS).
	SignatureAlgorithmsMatchZSKPolicy bool `yaml:"signature_algorithms_match_zsk_policy"`
	// ApprovedAlgorithms lists DNSSEC algorithm mnemonics ("RSASHA256").
	ApprovedAlgorithms []string `yaml:"approved_algorithms"`
	// RSAApprovedExponents lists the acceptable RSA public exponents.
	RSAApprovedExponents []int `yaml:"rsa_approved_exponents"`
	// RSAApprovedKeySizes lists the acceptable RSA modulus sizes in bits.
	RSAApprovedKeySizes []int `yaml:"rsa_approved_key_sizes"`
	// SignatureValidityMatchZSKPolicy controls each bundle's validity
	// against the KSR's own claimed Min/MaxSignatureValidity
	// (KSR-POLICY-SIG-VALIDITY).
	SignatureValidityMatchZSKPolicy bool `yaml:"signature_validity_match_zsk_policy"`
	// CheckKeysMatchKSKOperatorPolicy controls KSR-POLICY-KEYS: keys per
	// bundle, distinct keys per KSR and the keys' TTL.
	CheckKeysMatchKSKOperatorPolicy bool `yaml:"check_keys_match_ksk_operator_policy"`
	// NumKeysPerBundle is the number of keys in each bundle slot, first to
	// last. An empty list leaves the per-slot count unchecked.
	NumKeysPerBundle []int `yaml:"num_keys_per_bundle"`
	// NumDifferentKeysInAllBundles is the acceptable number of distinct keys
	// in a KSR. An empty choice leaves it unchecked.
	NumDifferentKeysInAllBundles IntChoice `yaml:"num_different_keys_in_all_bundles"`
	// DNSTTL is the TTL every key must have; 0 means the ksk section's TTL.
	DNSTTL uint32 `yaml:"dns_ttl"`
	// SignatureCheckExpireHorizon controls KSR-POLICY-SIG-HORIZON.
	SignatureCheckExpireHorizon bool `yaml:"signature_check_expire_horizon"`
	// SignatureHorizonDays is how far after the reference time a bundle may
	// expire.
	SignatureHorizonDays int `yaml:"signature_horizon_days"`
	// CheckBundleIntervals controls KSR-POLICY-BUNDLE-INTERVALS.
	CheckBundleIntervals bool `yaml:"check_bundle_intervals"`

	// Verify KSR/SKR chaining (only with a previous SKR).

	// CheckChainKeys controls KSR-CHAIN-KEYS.
	CheckChainKeys bool `yaml:"check_chain_keys"`
	// CheckChainKeysInHSM asks the signer to check that the KSKs that signed
	// the previous SKR's last bundle are in the HSM. ksk ksr verify has no
	// HSM and does not use it.
	CheckChainKeysInHSM bool `yaml:"check_chain_keys_in_hsm"`
	// CheckChainOverlap controls KSR-CHAIN-OVERLAP.
	CheckChainOverlap bool `yaml:"check_chain_overlap"`
	// CheckKeysPublishSafety and CheckKeysRetireSafety control the two
	// halves of KSR-POLICY-SAFETY.
	CheckKeysPublishSafety bool `yaml:"check_keys_publish_safety"`
	CheckKeysRetireSafety  bool `yaml:"check_keys_retire_safety"`

	// ksk additions.

	// CheckKeyTagCollisions controls KSR-KEY-TAG-COLLISION: distinct keys
	// sharing a key tag, among the ZSKs or with the operator's KSKs.
	CheckKeyTagCollisions bool `yaml:"check_key_tag_collisions"`
	// CheckChainPolicy controls KSR-CHAIN-POLICY: the previous SKR's KSK
	// policy must equal the ksk section.
	CheckChainPolicy bool `yaml:"check_chain_policy"`
	// ExpirationSlack is subtracted from every lower limit and added to
	// every upper limit on a validity or overlap. The root zone's 2009-2016
	// KSRs end bundles at 23:59:59, one second short of the whole days
	// their policy states; Legacy sets PT1S. Default is PT0S.
	ExpirationSlack Duration `yaml:"expiration_slack"`
}

// ResponsePolicy holds what ksk skr verify --policy applies to an SKR
// (kskm's response_policy). ksk ksr verify applies ValidateSignatures to
// the previous SKR (KSR-CHAIN-PREVIOUS).
type ResponsePolicy struct {
	// NumBundles is the acceptable number of bundles in an SKR.
	NumBundles IntChoice `yaml:"num_bundles"`
	// ValidateSignatures controls the verification of every KSK signature.
	ValidateSignatures bool `yaml:"validate_signatures"`
}

// KSKPolicy is the KSK operator's own signature policy (kskm's ksk_policy).
// It is the <KSK> policy of every SKR ksk writes, and ksk ksr verify holds
// every requested bundle to its validity and overlap limits, which kskm
// never does.
type KSKPolicy struct {
	// SignersName is the RRSIG signer's name, "." for the root.
	SignersName string `yaml:"signers_name"`
	// PublishSafety and RetireSafety are the KSK's pre- and post-publication
	// periods.
	PublishSafety Duration `yaml:"publish_safety"`
	RetireSafety  Duration `yaml:"retire_safety"`
	// MaxSignatureValidity and MinSignatureValidity bound every bundle's
	// validity (expiration minus inception).
	MaxSignatureValidity Duration `yaml:"max_signature_validity"`
	MinSignatureValidity Duration `yaml:"min_signature_validity"`
	// MaxValidityOverlap and MinValidityOverlap bound the overlap of
	// consecutive bundles, across the quarter boundary too.
	MaxValidityOverlap Duration `yaml:"max_validity_overlap"`
	MinValidityOverlap Duration `yaml:"min_validity_overlap"`
	// TTL is the DNSKEY and RRSIG TTL, in seconds.
	TTL uint32 `yaml:"ttl"`
}

// KeyTTL returns the TTL every requested key must have: DNSTTL, or the KSK
// section's TTL when DNSTTL is 0 (kskm's rule).
func (p *Policy) KeyTTL() uint32 {
	if p.Request.DNSTTL != 0 {
		return p.Request.DNSTTL
	}
	return p.KSK.TTL
}

// Clone returns a deep copy of p, so that a caller may change it without
// touching the original.
func (p *Policy) Clone() *Policy {
	c := *p
	c.Request.AcceptableDomains = append([]string(nil), p.Request.AcceptableDomains...)
	c.Request.NumBundles = append(IntChoice(nil), p.Request.NumBundles...)
	c.Request.ApprovedAlgorithms = append([]string(nil), p.Request.ApprovedAlgorithms...)
	c.Request.RSAApprovedExponents = append([]int(nil), p.Request.RSAApprovedExponents...)
	c.Request.RSAApprovedKeySizes = append([]int(nil), p.Request.RSAApprovedKeySizes...)
	c.Request.NumKeysPerBundle = append([]int(nil), p.Request.NumKeysPerBundle...)
	c.Request.NumDifferentKeysInAllBundles = append(IntChoice(nil), p.Request.NumDifferentKeysInAllBundles...)
	c.Response.NumBundles = append(IntChoice(nil), p.Response.NumBundles...)
	return &c
}

// normalize makes empty lists nil, so that a policy read from YAML with
// "num_keys_per_bundle: []" equals one built in Go.
func (p *Policy) normalize() {
	*p = *p.Clone()
}
