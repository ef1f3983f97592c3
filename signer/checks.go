package signer

// Check IDs of the signer. They are stable: scripts and tests match on
// them. docs/checks.md ("Signing checks") describes each one. The KSR's
// own checks (ksr.Validate, KSR-*) are reported with them.
const (
	// CheckSchema: the schema has one slot per KSR bundle, and the KSR's
	// bundle count is one the response policy accepts.
	CheckSchema = "SIGN-SCHEMA"
	// CheckKSKMatch: each KSK found in the HSM under its label has the
	// configured algorithm, size, RSA exponent, key tag and SHA-256 DS.
	CheckKSKMatch = "SIGN-KSK-MATCH"
	// CheckKSKValidity: each KSK's valid_from is at or before the inception
	// of every bundle it appears in, and its valid_until at or after the
	// expiration of every bundle it appears in unrevoked.
	CheckKSKValidity = "SIGN-KSK-VALIDITY"
	// CheckAlgCoverage: in every bundle each ZSK algorithm has a signature
	// by a (not revoked) KSK of that algorithm, and each algorithm a KSK
	// signs or is published with is a ZSK algorithm of the bundle.
	CheckAlgCoverage = "SIGN-ALG-COVERAGE"
	// CheckPublishSafety: a KSK that signs has been published, not
	// revoked, for at least ksk_policy.publish_safety; with a previous SKR,
	// a KSK that signs the first bundle is published in its last bundle.
	CheckPublishSafety = "SIGN-PUBLISH-SAFETY"
	// CheckRetireSafety: a KSK that stops signing (in the previous SKR or
	// in this one) stays in the DNSKEY RRset, published or revoked, for at
	// least ksk_policy.retire_safety after the first bundle it no longer
	// signs.
	CheckRetireSafety = "SIGN-RETIRE-SAFETY"
	// CheckRFC5011HoldDown: a KSK that signs, unrevoked, but did not sign
	// the previous SKR's last bundle has been published, unrevoked, for at
	// least AddHoldDown (RFC 5011 §2.4.1) before the first bundle it signs;
	// a warning when the history given (this KSR and the previous SKR)
	// starts too late to tell.
	CheckRFC5011HoldDown = "SIGN-RFC5011-HOLDDOWN"
	// CheckSigValidity: every signature's validity (the bundle's expiration
	// minus its inception) is within ksk_policy min/max_signature_validity,
	// and both times fit an RRSIG (1970 to 2106).
	CheckSigValidity = "SIGN-SIG-VALIDITY"
	// CheckRRset: the RRset to be signed is consistent: the signer's name
	// is the KSR's zone, every ZSK has the ksk_policy TTL, no KSK label is
	// also a ZSK keyIdentifier, and no two keys share a key tag (revoked
	// KSKs under their revoked tag).
	CheckRRset = "SIGN-RRSET"
	// CheckPreviousKSK: with a previous SKR, each KSK that signed its last
	// bundle is a configured key present in the HSM
	// (request_policy.check_chain_keys_in_hsm).
	CheckPreviousKSK = "SIGN-PREVIOUS-KSK"
)

// CheckIDs returns the ID of every check of the signer, in the order they
// run. The KSR checks (ksr.CheckIDs) run first, and the SKR produced is
// verified with skr.Verify (skr.CheckIDs) before it is returned.
func CheckIDs() []string {
	return []string{
		CheckSchema, CheckKSKValidity, CheckAlgCoverage, CheckSigValidity,
		CheckRRset, CheckPublishSafety, CheckRetireSafety, CheckRFC5011HoldDown,
		CheckKSKMatch,
		CheckPreviousKSK,
	}
}
