// Package transparency anchors ksk attestation logs in a Sigstore Rekor
// transparency log, and verifies the anchoring offline.
//
// Publishing (Client.Publish) uploads a log's head as a Rekor
// "hashedrekord" entry: the artifact is attest.RekorMessage(head), so the
// entry's digest is SHA-256 of "ksk-attestation-rekor-v1 <head hex>\n" (a prefix of its
// own, so that the signature can never pass as a seal of the log), and
// the signature over that digest is made by the ceremony attestation key
// (ECDSA P-256 in the HSM), whose PEM public key goes in the entry. The
// server's answer is verified against the operator's pinned Rekor public
// key (signed entry timestamp, inclusion proof, signed checkpoint, log ID,
// and that the entry is the one sent) before anything is stored.
//
// The answer is kept in an entry file beside the log (File, by default
// LOG.rekor.json): one Entry per publication, in canonical JSON, so that
// the file's SHA-256, which the log records in its "rekor-publish" step
// entry, can be recomputed. Checker verifies a log's entry file with no
// network while attest.Verify streams the log; Client.CheckOnline also
// fetches each entry and a current checkpoint and proves consistency.
// docs/transparency.md describes the format and every check.
package transparency
