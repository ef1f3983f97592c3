// Package attest implements ksk's attestation log: an append-only,
// hash-chained record of every step of a key ceremony that a trusted
// community representative can verify offline.
//
// The log is a file of JSON Lines. Each line is one [Entry] in the RFC 8785
// (JSON Canonicalization Scheme) form, so it has exactly one byte
// representation. An entry's hash is SHA-256 over the domain string
// "ksk-attestation-log-v1\n" followed by the line's bytes including its
// newline, and each entry records the hash of the one before it in prev;
// the hash of the last entry is the log's head. The first entry (sequence
// number 0) has type "open" and a prev of 64 zeros.
//
// The head is signed in "seal" entries by a ceremony attestation key, any
// [crypto.Signer] (in production an ECDSA P-256 key in the HSM), and
// countersigned in "witness" entries by witnesses with their SSH keys as
// SSH signatures (namespace "ksk-attestation") that ssh-keygen -Y verify
// checks.
//
// A [Writer] appends entries, fsyncing each before it returns; [Verify]
// streams a log and reports the first modification, insertion, deletion,
// reordering, truncation or bad signature. docs/attestation-log.md describes
// the format for reviewers and how to check it by hand.
package attest
