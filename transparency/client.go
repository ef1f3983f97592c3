package transparency

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-openapi/runtime"
	"github.com/go-openapi/strfmt"
	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	rekorclient "github.com/sigstore/rekor/pkg/client"
	"github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/rekor/pkg/generated/client/tlog"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types/hashedrekord"
	hashedrekord_v001 "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	"github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/rekor/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Defaults of a Client.
const (
	DefaultRetries      = 3 // so 4 tries in all
	DefaultRetryWaitMin = 500 * time.Millisecond
	DefaultRetryWaitMax = 4 * time.Second
	DefaultTimeout      = 2 * time.Minute
)

// Client talks to one Rekor server whose public key the operator pinned.
// Requests that fail on the network or with a server error (5xx, 429) are
// retried with exponential backoff (RetryWaitMin, doubling, at most
// RetryWaitMax, or the server's Retry-After) up to Retries times; the
// whole of one operation is bounded by Timeout.
type Client struct {
	URL          string           // base URL, e.g. https://rekor.sigstore.dev
	RekorKey     crypto.PublicKey // the pinned server key: every answer is verified against it
	Retries      int              // retries after the first try (DefaultRetries when 0; -1 for none)
	RetryWaitMin time.Duration    // first backoff (DefaultRetryWaitMin when 0)
	RetryWaitMax time.Duration    // backoff cap (DefaultRetryWaitMax when 0)
	Timeout      time.Duration    // bound on one operation with its retries (DefaultTimeout when 0)
	UserAgent    string
}

func (c *Client) rekor() (*client.Rekor, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rekor URL %q is not an http(s) URL", c.URL)
	}
	retries := c.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	opts := []rekorclient.Option{
		rekorclient.WithRetryCount(uint(retries)),
		rekorclient.WithRetryWaitMin(orDefault(c.RetryWaitMin, DefaultRetryWaitMin)),
		rekorclient.WithRetryWaitMax(orDefault(c.RetryWaitMax, DefaultRetryWaitMax)),
	}
	if c.UserAgent != "" {
		opts = append(opts, rekorclient.WithUserAgent(c.UserAgent))
	}
	rc, err := rekorclient.GetRekorClient(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("rekor client for %s: %w", c.URL, err)
	}
	return rc, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (c *Client) context(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
}

// statusError is what the generated client returns for an HTTP error
// status, typed (entries.CreateLogEntryBadRequest...) or not
// (runtime.APIError).
type statusError interface {
	IsClientError() bool
	IsServerError() bool
}

// apiError classifies an error of the generated client: an HTTP 4xx is
// ErrRefused, anything else (a network error, a 5xx through every retry, an
// answer that is not Rekor's) is ErrUnreachable.
func (c *Client) apiError(op string, err error) error {
	var se statusError
	if errors.As(err, &se) && se.IsClientError() {
		return fmt.Errorf("%w: %s %s: %s", ErrRefused, op, c.URL, describe(err))
	}
	return fmt.Errorf("%w: %s %s: %s", ErrUnreachable, op, c.URL, describe(err))
}

// describe returns the server's message for an error response, the error
// text otherwise.
func describe(err error) string {
	type payload interface{ GetPayload() *models.Error }
	var p payload
	if errors.As(err, &p) && p.GetPayload() != nil {
		code := ""
		var ae interface{ Code() int }
		if errors.As(err, &ae) {
			code = fmt.Sprintf("HTTP %d: ", ae.Code())
		}
		return code + p.GetPayload().Message
	}
	var ae *runtime.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("HTTP %d from %s", ae.Code, ae.OperationName)
	}
	return err.Error()
}

// SignerKey returns the attestation key's public key if it is ECDSA P-256,
// ErrUnsupportedKey otherwise.
func SignerKey(signer crypto.Signer) (*ecdsa.PublicKey, error) {
	pub, ok := signer.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: it is %s (make the ceremony attestation key with ksk keys generate --algorithm ECDSAP256SHA256)", ErrUnsupportedKey, keyKind(signer.Public()))
	}
	return pub, nil
}

func keyKind(k crypto.PublicKey) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	default:
		return strings.TrimPrefix(fmt.Sprintf("%T", k), "*")
	}
}

// ProposedEntry returns the hashedrekord entry that publishes head: the
// SHA-256 digest of attest.RekorMessage(head), an ASN.1 DER ECDSA signature
// over it by signer (which must be ECDSA P-256), and the signer's public
// key in PEM. The signature is checked before it is returned.
func ProposedEntry(head attest.Hash, signer crypto.Signer) (*models.Hashedrekord, error) {
	pub, err := SignerKey(signer)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(attest.RekorMessage(head))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign head %s with the attestation key: %w", head, err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return nil, fmt.Errorf("the attestation key's signature over head %s does not verify", head)
	}
	_, der, err := attest.KeyFingerprint(pub)
	if err != nil {
		return nil, err
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	alg, value := models.HashedrekordV001SchemaDataHashAlgorithmSha256, hex.EncodeToString(digest[:])
	version := hashedrekord_v001.APIVERSION
	e := &models.Hashedrekord{
		APIVersion: &version,
		Spec: &models.HashedrekordV001Schema{
			Data: &models.HashedrekordV001SchemaData{Hash: &models.HashedrekordV001SchemaDataHash{Algorithm: &alg, Value: &value}},
			Signature: &models.HashedrekordV001SchemaSignature{
				Content:   strfmt.Base64(sig),
				PublicKey: &models.HashedrekordV001SchemaSignaturePublicKey{Content: strfmt.Base64(pemKey)},
			},
		},
	}
	e.SetKind(hashedrekord.KIND)
	return e, nil
}

// Publish uploads head as a hashedrekord entry signed by signer (the
// ceremony attestation key, ECDSA P-256), verifies the answer against the
// pinned key (VerifyEntry, and that it is the entry sent), and returns it
// to be stored. If the server already holds the very same entry (a retry
// whose first answer was lost), that entry is fetched and returned.
//
// Errors: ErrUnsupportedKey, ErrUnreachable (network, 5xx through every
// retry), ErrRefused (4xx), or a *VerifyError (ErrInvalid) when the answer
// does not verify.
func (c *Client) Publish(ctx context.Context, head attest.Hash, signer crypto.Signer) (*Entry, error) {
	if c.RekorKey == nil {
		return nil, errors.New("no pinned Rekor key")
	}
	proposed, err := ProposedEntry(head, signer)
	if err != nil {
		return nil, err
	}
	rc, err := c.rekor()
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	params := entries.NewCreateLogEntryParams().WithProposedEntry(proposed)
	var payload models.LogEntry
	resp, err := rc.Entries.CreateLogEntryContext(ctx, params)
	var conflict *entries.CreateLogEntryConflict
	switch {
	case errors.As(err, &conflict):
		uuid := path.Base(string(conflict.Location))
		if !isHex(uuid, 64) && !isHex(uuid, 80) {
			return nil, fmt.Errorf("%w: the server says the entry exists but names no entry (%q)", ErrRefused, conflict.Location)
		}
		got, err := rc.Entries.GetLogEntryByUUIDContext(ctx, entries.NewGetLogEntryByUUIDParams().WithEntryUUID(uuid))
		if err != nil {
			return nil, c.apiError("get existing entry", err)
		}
		payload = got.Payload
	case err != nil:
		return nil, c.apiError("upload", err)
	default:
		payload = resp.Payload
	}
	e, err := c.entryFrom(payload, head)
	if err != nil {
		return nil, err
	}
	a, err := VerifyEntry(e, c.RekorKey)
	if err != nil {
		return nil, err
	}
	spec := proposed.Spec.(*models.HashedrekordV001Schema)
	pub := signer.Public().(*ecdsa.PublicKey)
	if !a.PublicKey.Equal(pub) || !bytes.Equal(a.Signature, spec.Signature.Content) {
		return nil, verr(CheckOnline, ErrMismatch, "the server returned an entry with another key or signature than the one sent")
	}
	return e, nil
}

// entryFrom converts the server's answer, which must hold exactly one entry
// with its inclusion proof, to an Entry.
func (c *Client) entryFrom(payload models.LogEntry, head attest.Hash) (*Entry, error) {
	if len(payload) != 1 {
		return nil, verr(CheckOnline, ErrMismatch, "the server returned %d entries, want 1", len(payload))
	}
	for uuid, a := range payload {
		return entryFromAnon(c.URL, uuid, &a, head)
	}
	panic("unreachable")
}

func entryFromAnon(rekorURL, uuid string, a *models.LogEntryAnon, head attest.Hash) (*Entry, error) {
	body, ok := a.Body.(string)
	if !ok || a.IntegratedTime == nil || a.LogID == nil || a.LogIndex == nil || a.Verification == nil ||
		a.Verification.InclusionProof == nil || a.Verification.InclusionProof.LogIndex == nil ||
		a.Verification.InclusionProof.TreeSize == nil || a.Verification.InclusionProof.RootHash == nil ||
		a.Verification.InclusionProof.Checkpoint == nil {
		return nil, verr(CheckOnline, ErrMismatch, "the server's entry %s lacks a body, time, index, log ID or inclusion proof", uuid)
	}
	p := a.Verification.InclusionProof
	e := &Entry{
		PublishedHead: head.String(), RekorURL: rekorURL, UUID: uuid, LogIndex: *a.LogIndex, LogID: *a.LogID,
		IntegratedTime: *a.IntegratedTime, Body: body,
		InclusionProof: InclusionProof{LogIndex: *p.LogIndex, TreeSize: *p.TreeSize, RootHash: *p.RootHash,
			Hashes: append([]string{}, p.Hashes...), Checkpoint: *p.Checkpoint},
		SignedEntryTimestamp: base64.StdEncoding.EncodeToString(a.Verification.SignedEntryTimestamp),
	}
	if err := e.validate(); err != nil {
		return nil, verr(CheckOnline, ErrMismatch, "the server's entry %s is malformed: %v", uuid, err)
	}
	return e, nil
}

// CheckOnline fetches each entry of f by UUID and checks it is the stored
// one (body, log index, integrated time, log ID), then fetches the server's
// current checkpoint, verifies its signature with the pinned key and proves
// it consistent with each stored checkpoint. Findings report what does not
// match (CheckOnline, CheckConsistency); the error is ErrUnreachable or
// ErrRefused when the server cannot answer.
func (c *Client) CheckOnline(ctx context.Context, f *File, name string) ([]check.Finding, error) {
	rc, err := c.rekor()
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	v, err := signature.LoadVerifier(c.RekorKey, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("pinned Rekor key: %w", err)
	}
	var r check.Report
	for i := range f.Entries {
		e := &f.Entries[i]
		where := fmt.Sprintf("%s entry %d", name, i+1)
		got, err := rc.Entries.GetLogEntryByUUIDContext(ctx, entries.NewGetLogEntryByUUIDParams().WithEntryUUID(e.UUID))
		var nf *entries.GetLogEntryByUUIDNotFound
		if errors.As(err, &nf) {
			r.Errorf(CheckOnline, where, "the server %s has no entry %s", c.URL, e.UUID)
			continue
		}
		if err != nil {
			return nil, c.apiError("get entry "+e.UUID, err)
		}
		a, ok := got.Payload[e.UUID]
		if !ok {
			for _, x := range got.Payload { // the server may name it by leaf hash alone
				a, ok = x, len(got.Payload) == 1
			}
		}
		if !ok {
			r.Errorf(CheckOnline, where, "the server returned another entry than %s", e.UUID)
			continue
		}
		body, _ := a.Body.(string)
		switch {
		case body != e.Body:
			r.Errorf(CheckOnline, where, "the server's body of entry %s differs from the stored one", e.UUID)
		case a.LogIndex == nil || *a.LogIndex != e.LogIndex, a.IntegratedTime == nil || *a.IntegratedTime != e.IntegratedTime,
			a.LogID == nil || *a.LogID != e.LogID:
			r.Errorf(CheckOnline, where, "the server's log index, integrated time or log ID of entry %s differ from the stored ones", e.UUID)
		}
	}
	info, err := rc.Tlog.GetLogInfoContext(ctx, tlog.NewGetLogInfoParams())
	if err != nil {
		return nil, c.apiError("get log info", err)
	}
	li := info.Payload
	if li == nil || li.SignedTreeHead == nil || li.TreeID == nil {
		r.Errorf(CheckConsistency, c.URL, "the server's log info has no signed tree head")
		return r.Findings, nil
	}
	current := &util.SignedCheckpoint{}
	if err := current.UnmarshalText([]byte(*li.SignedTreeHead)); err != nil || !current.Verify(v) {
		r.Errorf(CheckConsistency, c.URL, "the server's current checkpoint is not signed by the pinned Rekor key")
		return r.Findings, nil
	}
	// One proof per distinct stored checkpoint, smallest tree first.
	seen := map[string]bool{}
	idx := make([]int, 0, len(f.Entries))
	for i := range f.Entries {
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return f.Entries[idx[a]].InclusionProof.TreeSize < f.Entries[idx[b]].InclusionProof.TreeSize
	})
	for _, i := range idx {
		e := &f.Entries[i]
		where := fmt.Sprintf("%s entry %d", name, i+1)
		old := &util.SignedCheckpoint{}
		if err := old.UnmarshalText([]byte(e.InclusionProof.Checkpoint)); err != nil || !old.Verify(v) {
			continue // reported offline as LOG-REKOR-CHECKPOINT
		}
		key := strconv.FormatUint(old.Size, 10) + "/" + hex.EncodeToString(old.Hash)
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := verify.ProveConsistency(ctx, rc, old, current, *li.TreeID); err != nil {
			var se statusError
			if errors.As(err, &se) || ctx.Err() != nil {
				return nil, c.apiError("get consistency proof", err)
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				return nil, c.apiError("get consistency proof", err)
			}
			r.Errorf(CheckConsistency, where, "the stored checkpoint (tree size %d) is not consistent with the server's current one (tree size %d): %v", old.Size, current.Size, err)
		}
	}
	return r.Findings, nil
}
