// Package quorum splits an activation secret (for example an HSM user PIN)
// M-of-N among named holders so that only a quorum of them can bring it
// back, and checks that quorum cryptographically.
//
// Issue splits the secret with Shamir's scheme over GF(2^8)
// (github.com/hashicorp/vault/shamir, MPL-2.0) and writes one credential
// file per holder: an ASCII-armored age file encrypted to the holder's
// passphrase with age's scrypt recipient. Inside, the share is bound to the
// roster (its id, M, N and a digest of every holder's name and role), to
// the holder and to the split: every credential of one split carries the
// same random split id, a commitment to the reconstructed value and an
// Ed25519 signature by a key made for that split alone and then discarded.
//
// Open decrypts one credential file; Roster.Combine counts the distinct,
// valid credentials of one split, reconstructs the secret from M of them in
// memory and checks it against the commitment. Each credential that does
// not count is reported with a reason: ErrDuplicate, ErrUnknownHolder,
// ErrAltered, ErrWrongPassphrase or ErrOtherSplit; fewer than M valid
// credentials give ErrQuorumNotMet.
//
// No secret, share or passphrase appears in an error or a String method.
// See docs/quorum.md for the file format and the limits of wiping memory
// in Go.
package quorum
