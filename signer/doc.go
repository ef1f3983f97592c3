// Package signer turns a Key Signing Request into a Signed Key Response:
// the equivalent of IANA's ksrsigner (kskm), built on package hsm for the
// KSKs and on packages ksr and skr for the documents.
//
// A signing run has three steps, each of which can stop it:
//
//  1. Prepare checks everything that needs no HSM: the signer
//     configuration (LoadConfig), the schema it names against the KSR,
//     the KSR itself (ksr.Validate, with the previous SKR when given), the
//     KSKs' validity windows, algorithm coverage, publish and retire
//     safety against the previous SKR, RFC 5011's add hold-down for a KSK
//     that starts signing and the signature validity limits of the KSK
//     policy. The findings go to a check.Report.
//  2. Plan.BindKeys looks up every KSK of the schema in the HSM (through a
//     KeySource such as TokenKeys) and checks that each matches its
//     configured algorithm, size, exponent, key tag and DS, then reruns the
//     checks that need the public keys.
//  3. Plan.Sign builds each bundle's DNSKEY RRset (the KSR's ZSKs and the
//     slot's KSKs, revoked ones with the REVOKE flag), signs it with every
//     KSK the slot names through crypto.Signer, verifies every signature in
//     software with miekg/dns and returns the SKR as a *ksr.Document, which
//     ksr.Marshal writes deterministically.
//
// The check IDs (CheckIDs) are stable; docs/checks.md describes them and
// docs/signer.md the configuration and the standard schemas.
package signer
