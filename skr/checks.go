package skr

// Check IDs of Verify. They are stable: scripts and tests match on them.
const (
	// CheckParse: the SKR file does not parse (reported by ksk skr verify,
	// not by Verify).
	CheckParse = "SKR-PARSE"
	// CheckResponse: the document is an SKR (a <Response>), not a KSR.
	CheckResponse = "SKR-RESPONSE"

	// CheckBundleCount: the SKR has bundles, as many as the policy's
	// response num_bundles when a policy is given.
	CheckBundleCount = "SKR-BUNDLE-COUNT"
	// CheckBundleIDUnique: no two bundles share an id.
	CheckBundleIDUnique = "SKR-BUNDLE-ID-UNIQUE"
	// CheckBundleTimes: a bundle's inception is before its expiration.
	CheckBundleTimes = "SKR-BUNDLE-TIMES"
	// CheckBundleKSKSigned: each bundle has a signature by a KSK (SEP flag
	// set, REVOKE clear) present in the bundle.
	CheckBundleKSKSigned = "SKR-BUNDLE-KSK-SIGNED"

	// CheckKeyIDUnique: no two keys of a bundle share a keyIdentifier, which
	// signatures name their key by.
	CheckKeyIDUnique = "SKR-KEY-ID-UNIQUE"
	// CheckKeyTag: a key's keyTag attribute is its key tag (RFC 4034
	// Appendix B).
	CheckKeyTag = "SKR-KEY-TAG"
	// CheckKeyProtocol: a key's protocol is 3 (RFC 4034 §2.1.2).
	CheckKeyProtocol = "SKR-KEY-PROTOCOL"
	// CheckKeyFlags: a key has the Zone Key flag (RFC 4034 §2.1.1).
	CheckKeyFlags = "SKR-KEY-FLAGS"

	// CheckSigKeyPresent: the key a signature names (keyIdentifier) is in
	// the bundle.
	CheckSigKeyPresent = "SKR-SIG-KEY-PRESENT"
	// CheckSigKeyTag: the RRSIG's key tag is that of the key it names.
	CheckSigKeyTag = "SKR-SIG-KEYTAG"
	// CheckSigAlgorithm: the RRSIG's algorithm is that of the key it names.
	CheckSigAlgorithm = "SKR-SIG-ALGORITHM"
	// CheckSigSigner: the RRSIG's signer's name is the SKR's domain.
	CheckSigSigner = "SKR-SIG-SIGNER"
	// CheckSigLabels: the RRSIG's labels field is the domain's label count.
	CheckSigLabels = "SKR-SIG-LABELS"
	// CheckSigType: the RRSIG covers type DNSKEY.
	CheckSigType = "SKR-SIG-TYPE"
	// CheckSigTTL: the RRSIG's TTL and original TTL are the keys' TTL.
	CheckSigTTL = "SKR-SIG-TTL"
	// CheckSigValidityWindow: the RRSIG's inception and expiration lie within
	// (or on) the bundle's, inception before expiration.
	CheckSigValidityWindow = "SKR-SIG-VALIDITY-WINDOW"
	// CheckSigValid: the RRSIG verifies cryptographically over the bundle's
	// DNSKEY RRset with the key it names.
	CheckSigValid = "SKR-SIG-VALID"

	// CheckAnchorZone: the trust anchors are for the SKR's domain.
	CheckAnchorZone = "SKR-ANCHOR-ZONE"
	// CheckAnchorChain: a KSK that signs the bundle matches a trust anchor
	// whose validity period covers the bundle's inception.
	CheckAnchorChain = "SKR-ANCHOR-CHAIN"

	// CheckAnswersKSRID: the SKR has the KSR's id.
	CheckAnswersKSRID = "SKR-ANSWERS-KSR-ID"
	// CheckAnswersKSRDomain: the SKR is for the KSR's domain.
	CheckAnswersKSRDomain = "SKR-ANSWERS-KSR-DOMAIN"
	// CheckAnswersKSRBundles: the SKR has the KSR's bundle ids, in order.
	CheckAnswersKSRBundles = "SKR-ANSWERS-KSR-BUNDLES"
	// CheckAnswersKSRTimes: each bundle has the inception and expiration of
	// the KSR's bundle with its id.
	CheckAnswersKSRTimes = "SKR-ANSWERS-KSR-TIMES"
	// CheckAnswersKSRZSKs: each bundle's ZSKs (keys without the SEP flag)
	// are the keys of the KSR's bundle with its id: same DNSKEY data and TTL.
	CheckAnswersKSRZSKs = "SKR-ANSWERS-KSR-ZSKS"

	// CheckPolicySigValidity: each bundle's validity (expiration minus
	// inception) is within the policy's KSK signature validity limits.
	CheckPolicySigValidity = "SKR-POLICY-SIG-VALIDITY"
	// CheckPolicyOverlap: consecutive bundles overlap within the policy's KSK
	// validity overlap limits.
	CheckPolicyOverlap = "SKR-POLICY-OVERLAP"
	// CheckPolicySigner: the RRSIGs' signer's name is the policy's KSK
	// signers_name.
	CheckPolicySigner = "SKR-POLICY-SIGNER"

	// CheckExpired (warning): with VerifyOptions.At, every bundle has
	// expired at that time. An expired SKR is not invalid.
	CheckExpired = "SKR-EXPIRED"
)

// CheckIDs returns the ID of every check of an SKR, CheckParse included.
func CheckIDs() []string {
	return []string{
		CheckParse, CheckResponse, CheckBundleCount, CheckBundleIDUnique,
		CheckBundleTimes, CheckBundleKSKSigned, CheckKeyIDUnique, CheckKeyTag,
		CheckKeyProtocol, CheckKeyFlags, CheckSigKeyPresent, CheckSigKeyTag,
		CheckSigAlgorithm, CheckSigSigner, CheckSigLabels, CheckSigType,
		CheckSigTTL, CheckSigValidityWindow, CheckSigValid, CheckAnchorZone,
		CheckAnchorChain, CheckAnswersKSRID, CheckAnswersKSRDomain,
		CheckAnswersKSRBundles, CheckAnswersKSRTimes, CheckAnswersKSRZSKs,
		CheckPolicySigValidity, CheckPolicyOverlap, CheckPolicySigner,
		CheckExpired,
	}
}
