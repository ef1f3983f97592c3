// Package skr verifies Signed Key Responses: the <KSR><Response> documents
// in which a KSK operator returns the ZSK operator's bundles, each DNSKEY
// RRset signed by a KSK.
//
// Verify runs named checks (see checks.go) and reports every failure as a
// check.Finding that names the bundle (its index and id) and the key tag.
// It checks that every RRSIG verifies over its bundle's DNSKEY RRset and
// agrees with the key it names, that each bundle is signed by a KSK present
// in it and, when asked, that the signing KSKs chain to trust anchors, that
// the SKR answers a given KSR and that it meets a KSK operator's policy.
//
// The checks avoid cascades: a signature that fails a field check (missing
// key, wrong key tag, algorithm, signer, labels, type or validity window) is
// not also verified cryptographically, and a bundle whose signatures name
// keys it does not hold is not also reported as unsigned; so each defect
// gives one finding.
package skr
