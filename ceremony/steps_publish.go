package ceremony

import (
	"errors"
	"fmt"
	"os"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/transparency"
)

// runRekorPublish: the attestation key in the HSM signs the log's head as
// a Rekor hashedrekord entry; the server's answer is verified against the
// pinned Rekor key, stored beside the log (LOG.rekor.json) and recorded in
// the log by a rekor-publish entry. The published head is that entry's
// prev. A later seal step covers the publication.
func runRekorPublish(r *Runner, x *stepRun) error {
	st := x.st
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	key, err := tok.FindKey(st.Key)
	if err != nil {
		return fmt.Errorf("%w: HSM %s: attestation key %q: %w", ErrEnvironment, st.HSM, st.Key, err)
	}
	if key.Algorithm() != hsm.ECDSAP256SHA256 {
		return fmt.Errorf("%w: attestation key %q is %s; Rekor takes ECDSA P-256 (not pure Ed25519)", ErrStepFailed, st.Key, key.Algorithm())
	}
	keyFile := r.plan.File(st.RekorKey)
	pemData, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("%w: rekor_key: %w", ErrStepFailed, err)
	}
	rekorKey, err := attest.ParsePublicKeyPEM(pemData)
	if err != nil {
		return fmt.Errorf("%w: rekor_key %s: %w", ErrStepFailed, st.RekorKey, err)
	}
	if err := x.addFile(r, keyFile, attest.Read); err != nil {
		return err
	}
	c := &transparency.Client{URL: st.RekorURL, RekorKey: rekorKey, UserAgent: "ksk/" + r.opts.Version}
	head := r.log.Head()
	r.printf("  Publishing head %s to %s\n", head, st.RekorURL)
	entry, err := c.Publish(r.ctx, head, key)
	if err != nil {
		if errors.Is(err, transparency.ErrUnreachable) || errors.Is(err, transparency.ErrRefused) {
			return fmt.Errorf("%w: %w", ErrEnvironment, err)
		}
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	entryFile := transparency.DefaultPath(r.opts.Log)
	if _, err := transparency.Record(r.log, entryFile, entry); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	if err := x.addFile(r, entryFile, attest.Written); err != nil {
		return err
	}
	x.details["rekor_url"] = st.RekorURL
	x.details["published_head"] = head.String()
	x.details["uuid"] = entry.UUID
	x.details["log_index"] = fmt.Sprint(entry.LogIndex)
	r.printf("  Rekor entry stored in %s and recorded in the log; verify offline with\n    ksk log verify %s --rekor-key %s\n", entryFile, r.opts.Log, st.RekorKey)
	return nil
}
