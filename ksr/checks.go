package ksr

// Check IDs of Validate. They are stable: scripts and the acceptance tests
// match on them. docs/checks.md describes each one, the policy switch that
// controls it and how it differs from IANA's kskm. A check whose switch is
// off still runs and reports its findings as warnings.
const (
	// CheckParse: the input is not a well-formed KSR (a parse error, or an
	// SKR given where a KSR is expected).
	CheckParse = "KSR-PARSE"
	// CheckDomain: the KSR's domain is one of request.acceptable_domains.
	CheckDomain = "KSR-DOMAIN"
	// CheckID: the KSR id is well-formed and is not the previous SKR's id.
	CheckID = "KSR-ID"
	// CheckBundleUnique: bundle ids are well-formed, unique in the KSR and
	// absent from the previous SKR.
	CheckBundleUnique = "KSR-BUNDLE-UNIQUE"
	// CheckBundleCount: the number of bundles is one of request.num_bundles.
	CheckBundleCount = "KSR-BUNDLE-COUNT"
	// CheckBundleKeys: every bundle has keys, no key appears twice in a
	// bundle, a keyIdentifier names the same key in every bundle and one key
	// has one keyIdentifier.
	CheckBundleKeys = "KSR-BUNDLE-KEYS"
	// CheckKeyTag: each key's keyTag attribute is its RFC 4034 Appendix B
	// key tag.
	CheckKeyTag = "KSR-KEY-TAG"
	// CheckKeyTagCollision: no two distinct keys share a key tag, among the
	// ZSKs or with the operator's KSKs.
	CheckKeyTagCollision = "KSR-KEY-TAG-COLLISION"
	// CheckKeyFlags: each key's flags are 256 (Zone Key; no SEP, no REVOKE).
	CheckKeyFlags = "KSR-KEY-FLAGS"
	// CheckKeyProtocol: each key's protocol is 3 (RFC 4034 §2.1.2).
	CheckKeyProtocol = "KSR-KEY-PROTOCOL"
	// CheckKeyZSKPolicy: each key is well-formed and matches an algorithm
	// entry (algorithm, size, RSA exponent) of the KSR's own ZSK policy.
	CheckKeyZSKPolicy = "KSR-KEY-ZSK-POLICY"
	// CheckBundlePOP: proof of possession; every key signs its bundle's
	// DNSKEY RRset, every signature names a key of the bundle and verifies.
	CheckBundlePOP = "KSR-BUNDLE-POP"
	// CheckBundleRRSIG: every RRSIG's fields fit its bundle and key: type
	// covered DNSKEY, key tag and algorithm of the named key, signer name,
	// labels and original TTL, inception before expiration.
	CheckBundleRRSIG = "KSR-BUNDLE-RRSIG"
	// CheckCycleDuration: first to last bundle inception is within
	// request.min/max_cycle_inception_length.
	CheckCycleDuration = "KSR-BUNDLE-CYCLE-DURATION"
	// CheckBundleIntervals: consecutive inceptions are
	// request.min/max_bundle_interval apart.
	CheckBundleIntervals = "KSR-POLICY-BUNDLE-INTERVALS"
	// CheckPolicyAlg: the algorithms the KSR claims and its keys and
	// signatures use are not deprecated, are supported and are approved.
	CheckPolicyAlg = "KSR-POLICY-ALG"
	// CheckPolicyParams: the RSA sizes and exponents (and ECDSA curve sizes)
	// the KSR claims and its keys have are approved by the operator.
	CheckPolicyParams = "KSR-POLICY-PARAMS"
	// CheckPolicyKeys: keys per bundle slot, distinct keys per KSR and the
	// keys' TTL match the operator's policy.
	CheckPolicyKeys = "KSR-POLICY-KEYS"
	// CheckSigValidity: each bundle's validity is within the KSR's claimed
	// and the KSK's min/max signature validity.
	CheckSigValidity = "KSR-POLICY-SIG-VALIDITY"
	// CheckSigOverlap: consecutive bundles overlap, within the KSR's claimed
	// and the KSK's min/max validity overlap.
	CheckSigOverlap = "KSR-POLICY-SIG-OVERLAP"
	// CheckSigHorizon: no bundle has expired at the reference time or
	// expires more than request.signature_horizon_days after it.
	CheckSigHorizon = "KSR-POLICY-SIG-HORIZON"
	// CheckSafety: ZSKs are pre- and post-published for the KSR's claimed
	// PublishSafety and RetireSafety around the cycle boundary.
	CheckSafety = "KSR-POLICY-SAFETY"
	// CheckChainPrevious: the previous SKR is an SKR for the same zone and
	// every one of its bundles is signed by a KSK in it.
	CheckChainPrevious = "KSR-CHAIN-PREVIOUS"
	// CheckChainKeys: the KSR's first bundle and the previous SKR's last
	// bundle publish the same ZSKs, in both directions.
	CheckChainKeys = "KSR-CHAIN-KEYS"
	// CheckChainOverlap: the previous SKR's last bundle and the KSR's first
	// bundle overlap within the claimed and the KSK's limits.
	CheckChainOverlap = "KSR-CHAIN-OVERLAP"
	// CheckChainPolicy: the previous SKR's KSK policy is the operator's ksk
	// section; changes of the ZSK policy are reported as warnings.
	CheckChainPolicy = "KSR-CHAIN-POLICY"
)

// CheckIDs returns the ID of every check Validate makes, in the order it
// makes them.
func CheckIDs() []string {
	return []string{
		CheckParse, CheckDomain, CheckID, CheckBundleUnique, CheckBundleCount,
		CheckBundleKeys, CheckKeyTag, CheckKeyTagCollision, CheckKeyFlags,
		CheckKeyProtocol, CheckKeyZSKPolicy, CheckPolicyAlg, CheckPolicyParams,
		CheckBundlePOP, CheckBundleRRSIG, CheckCycleDuration, CheckBundleIntervals,
		CheckPolicyKeys, CheckSigValidity, CheckSigOverlap, CheckSigHorizon,
		CheckChainPrevious, CheckChainKeys, CheckChainOverlap, CheckSafety,
		CheckChainPolicy,
	}
}
