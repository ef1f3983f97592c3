// Package zonecheck is a test helper: it checks DNSKEY RRsets produced by
// ksk (a bundle of an SKR: the DNSKEY records and their RRSIGs) with DNSSEC
// validators that share no code with ksk: ldns-verify-zone (ldnsutils),
// kzonecheck (knot-dnssecutils) and dnssec-verify (bind9-utils).
//
// A validator checks a whole zone, not an RRset, so Validate wraps the
// bundle in a minimal root zone (SOA, NS, a delegation with glue A and
// AAAA records), has BIND's dnssec-signzone sign the rest of it with a test
// ZSK that is one of the bundle's keys (-x: the DNSKEY RRset keeps only the
// bundle's KSK signatures, which dnssec-signzone retains because it has no
// private key for them; -P: no post-signing verification, the validators
// do that), and runs each validator at a chosen time.
//
// Real bundles of the root zone cannot be wrapped that way: the ZSKs in
// them are the root's, whose private keys nobody outside the root zone
// maintainer holds, and adding a key to the RRset would break the KSK
// signature. ValidateDNSKEYRRset checks such a bundle with the one
// validator that reports each RRset separately, ldns-verify-zone: the rest
// of the zone is left unsigned and only the findings about the DNSKEY
// RRset count (docs/validators.md).
//
// External tools run with a timeout in a t.TempDir. A missing tool skips
// the test, unless the CI environment variable is set: then it fails.
package zonecheck
