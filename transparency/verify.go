package transparency

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/go-openapi/strfmt"
	"github.com/ksk-dev/ksk/attest"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/rekor/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Check IDs of the findings about Rekor entries (docs/transparency.md).
const (
	CheckMalformed   = "LOG-REKOR-MALFORMED"   // the entry file cannot be parsed
	CheckMissing     = "LOG-REKOR-MISSING"     // no entry file, no entry, or a recorded publication missing from it
	CheckBody        = "LOG-REKOR-BODY"        // the body is not a ksk hashedrekord, or the UUID is not its hash
	CheckSignature   = "LOG-REKOR-SIGNATURE"   // the signature in the body does not verify
	CheckHead        = "LOG-REKOR-HEAD"        // the entry does not commit to a head of this log
	CheckKey         = "LOG-REKOR-KEY"         // the key in the body is not the log's attestation key
	CheckLogID       = "LOG-REKOR-LOG-ID"      // the log ID is not the pinned Rekor key's
	CheckInclusion   = "LOG-REKOR-INCLUSION"   // the inclusion proof does not verify
	CheckCheckpoint  = "LOG-REKOR-CHECKPOINT"  // the checkpoint is not signed by the pinned key or does not match the proof
	CheckSET         = "LOG-REKOR-SET"         // the signed entry timestamp does not verify
	CheckRecord      = "LOG-REKOR-RECORD"      // the log's rekor-publish entry does not match the entry file
	CheckUnrecorded  = "LOG-REKOR-UNRECORDED"  // warning: a stored publication that the log does not record
	CheckOnline      = "LOG-REKOR-ONLINE"      // the server's copy of the entry differs from the stored one
	CheckConsistency = "LOG-REKOR-CONSISTENCY" // the stored checkpoint is not consistent with the server's current one
)

// Artifact is what a verified entry commits to.
type Artifact struct {
	Head           attest.Hash      // the published log head
	Digest         [32]byte         // SHA-256(attest.RekorMessage(Head))
	PublicKey      *ecdsa.PublicKey // the key in the entry
	KeyFingerprint attest.Hash      // SHA-256 of its DER SubjectPublicKeyInfo, as in seals
	Signature      []byte           // ASN.1 DER ECDSA signature over Digest
	Checkpoint     *util.SignedCheckpoint
}

// hashedRekord is the canonical body of a hashedrekord v0.0.1 entry as
// Rekor stores it.
type hashedRekord struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Data struct {
			Hash struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"value"`
			} `json:"hash"`
		} `json:"data"`
		Signature struct {
			Content   string `json:"content"`
			PublicKey struct {
				Content string `json:"content"`
			} `json:"publicKey"`
		} `json:"signature"`
	} `json:"spec"`
}

// parseBody decodes a hashedrekord body and returns its digest, ECDSA P-256
// key and signature.
func parseBody(body []byte) (digest []byte, pub *ecdsa.PublicKey, sig []byte, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var hr hashedRekord
	if err := dec.Decode(&hr); err != nil {
		return nil, nil, nil, fmt.Errorf("not a hashedrekord entry: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, nil, errors.New("data after the entry")
	}
	if hr.Kind != "hashedrekord" || hr.APIVersion != "0.0.1" {
		return nil, nil, nil, fmt.Errorf("kind %q version %q, want hashedrekord 0.0.1", hr.Kind, hr.APIVersion)
	}
	h := hr.Spec.Data.Hash
	if h.Algorithm != "sha256" || !isHex(h.Value, 64) {
		return nil, nil, nil, fmt.Errorf("digest %s:%s is not a SHA-256", h.Algorithm, h.Value)
	}
	sig, err = decodeStrictBase64(hr.Spec.Signature.Content)
	if err != nil || len(sig) == 0 {
		return nil, nil, nil, errors.New("signature content is not base64")
	}
	pemBytes, err := decodeStrictBase64(hr.Spec.Signature.PublicKey.Content)
	if err != nil {
		return nil, nil, nil, errors.New("public key content is not base64")
	}
	pub, err = parseP256PEM(pemBytes)
	if err != nil {
		return nil, nil, nil, err
	}
	return mustHex(h.Value), pub, sig, nil
}

// parseP256PEM parses a PEM PUBLIC KEY that must be ECDSA P-256.
func parseP256PEM(b []byte) (*ecdsa.PublicKey, error) {
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("public key is not one PEM PUBLIC KEY block")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %v", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("public key is %T, not ECDSA P-256", k)
	}
	return ek, nil
}

// LogID returns Rekor's log ID for a server key: the hex SHA-256 of its
// DER SubjectPublicKeyInfo.
func LogID(rekorKey crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(rekorKey)
	if err != nil {
		return "", fmt.Errorf("encode Rekor public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// anon converts e to the Rekor API model that pkg/verify checks.
func (e *Entry) anon() *models.LogEntryAnon {
	set, _ := decodeStrictBase64(e.SignedEntryTimestamp)
	p := e.InclusionProof
	idx, size, root, cp, logIndex, t, logID := p.LogIndex, p.TreeSize, p.RootHash, p.Checkpoint, e.LogIndex, e.IntegratedTime, e.LogID
	return &models.LogEntryAnon{
		Body: e.Body, IntegratedTime: &t, LogID: &logID, LogIndex: &logIndex,
		Verification: &models.LogEntryAnonVerification{
			InclusionProof:       &models.InclusionProof{Checkpoint: &cp, Hashes: p.Hashes, LogIndex: &idx, RootHash: &root, TreeSize: &size},
			SignedEntryTimestamp: strfmt.Base64(set),
		},
	}
}

// VerifyEntry verifies a stored entry with no network, against the pinned
// Rekor public key: the body is a hashedrekord whose SHA-256 digest is that
// of attest.RekorMessage(published head) and whose ECDSA P-256 signature
// verifies with the key in the body; the UUID is the body's leaf hash; the
// log ID is the pinned key's; the inclusion proof leads from the body to the
// proof's root; the checkpoint is signed by the pinned key and commits to
// that root and tree size; and the signed entry timestamp is the pinned
// key's signature over the entry. It returns the first failure as a
// *VerifyError (matching ErrInvalid); the entry must be well-formed
// (ParseFile checks that).
func VerifyEntry(e *Entry, rekorKey crypto.PublicKey) (*Artifact, error) {
	if err := e.validate(); err != nil {
		return nil, verr(CheckMalformed, ErrMalformed, "%v", err)
	}
	head, _ := e.Head()
	body, _ := decodeStrictBase64(e.Body)
	digest, pub, sig, err := parseBody(body)
	if err != nil {
		return nil, verr(CheckBody, ErrBody, "%v", err)
	}
	a := &Artifact{Head: head, PublicKey: pub, Signature: sig}
	copy(a.Digest[:], digest)
	if a.KeyFingerprint, _, err = attest.KeyFingerprint(pub); err != nil {
		return nil, verr(CheckBody, ErrBody, "%v", err)
	}
	if !ecdsa.VerifyASN1(pub, digest, sig) {
		return nil, verr(CheckSignature, ErrSignature, "the ECDSA signature in the entry does not verify with the entry's public key (fingerprint %s)", a.KeyFingerprint)
	}
	if want := sha256.Sum256(attest.RekorMessage(head)); want != a.Digest {
		return nil, verr(CheckHead, ErrHead, "the entry's digest %x is not SHA-256(\"%s%s\\n\") = %x: it does not commit to published head %s",
			digest, attest.SealDomain, head, want, head)
	}
	if leaf := hex.EncodeToString(rfc6962.DefaultHasher.HashLeaf(body)); leaf != e.LeafHash() {
		return nil, verr(CheckBody, ErrBody, "uuid %s does not end in the body's leaf hash %s", e.UUID, leaf)
	}
	logID, err := LogID(rekorKey)
	if err != nil {
		return nil, verr(CheckLogID, ErrLogID, "%v", err)
	}
	if e.LogID != logID {
		return nil, verr(CheckLogID, ErrLogID, "log_id %s is not the SHA-256 %s of the pinned Rekor key: the entry is from another log, or the wrong key is pinned", e.LogID, logID)
	}
	ctx := context.Background()
	m := e.anon()
	if err := verify.VerifyInclusion(ctx, m); err != nil {
		return nil, verr(CheckInclusion, ErrInclusion, "the inclusion proof (leaf %d, tree size %d) does not lead to root %s: %v", e.InclusionProof.LogIndex, e.InclusionProof.TreeSize, e.InclusionProof.RootHash, err)
	}
	v, err := signature.LoadVerifier(rekorKey, crypto.SHA256)
	if err != nil {
		return nil, verr(CheckCheckpoint, ErrCheckpoint, "pinned Rekor key: %v", err)
	}
	if err := verify.VerifyCheckpointSignature(m, v); err != nil {
		return nil, verr(CheckCheckpoint, ErrCheckpoint, "%v", err)
	}
	cp := &util.SignedCheckpoint{}
	if err := cp.UnmarshalText([]byte(e.InclusionProof.Checkpoint)); err != nil {
		return nil, verr(CheckCheckpoint, ErrCheckpoint, "%v", err)
	}
	if cp.Size != uint64(e.InclusionProof.TreeSize) {
		return nil, verr(CheckCheckpoint, ErrCheckpoint, "the checkpoint is for a tree of %d entries, the proof for %d", cp.Size, e.InclusionProof.TreeSize)
	}
	a.Checkpoint = cp
	if err := verify.VerifySignedEntryTimestamp(ctx, m, v); err != nil {
		return nil, verr(CheckSET, ErrSET, "the signed entry timestamp is not the pinned Rekor key's signature over this entry (log index %d, integrated time %d): %v", e.LogIndex, e.IntegratedTime, err)
	}
	return a, nil
}
