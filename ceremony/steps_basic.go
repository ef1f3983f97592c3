package ceremony

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/hsm"
	"golang.org/x/crypto/ssh"
)

// runNarrative: the actor does what the text says; the Runner asks for
// the confirmation.
func runNarrative(*Runner, *stepRun) error { return nil }

// runConfirm: as narrative; the expected result is what is confirmed.
func runConfirm(r *Runner, x *stepRun) error {
	if x.st.Expect != "" {
		x.details["expected"] = x.st.Expect
	}
	return nil
}

// runNotify: the actor informs the recipients of what the text says; the
// log records who was told, so that communication steps of a procedure
// (for example telling the zone maintainer of a signing disaster) leave a
// trace.
func runNotify(r *Runner, x *stepRun) error {
	x.details["recipients"] = strings.Join(x.st.Recipients, ", ")
	r.printf("  Inform: %s\n", strings.Join(x.st.Recipients, ", "))
	return nil
}

// runWitness: each witness signs the log's head with their SSH key; the
// signature is checked against the key the script pins for them and
// recorded as a witness entry. Witnesses who signed before an
// interruption are not asked again.
func runWitness(r *Runner, x *stepRun) error {
	for _, who := range x.st.Witnesses {
		if r.witnessed[x.ps.ID][who] {
			r.printf("  %s signed before the interruption.\n", who)
			continue
		}
		want := r.plan.sshKeys[who]
		head := r.log.WitnessHead()
		msg := attest.WitnessMessage(head)
		r.printf("  %s signs the head %s\n    %s\n", who, head, head.Words())
		in, err := r.opts.Operator.Witness(x.info, who, msg)
		if err != nil {
			return err
		}
		var pub ssh.PublicKey
		if in.Signer != nil {
			pub = in.Signer.PublicKey()
		}
		if pub != nil && !bytes.Equal(pub.Marshal(), want.Marshal()) {
			return fmt.Errorf("%w: witness %s: the key given is %s, the script pins %s", ErrStepFailed, who, ssh.FingerprintSHA256(pub), ssh.FingerprintSHA256(want))
		}
		if in.Signer != nil {
			_, err = r.log.Witness(x.ps.ID, who, in.Signer)
		} else {
			_, err = r.log.AddWitnessSignature(x.ps.ID, who, want, in.Armored)
		}
		if err != nil {
			if errors.Is(err, attest.ErrBadSignature) || errors.Is(err, attest.ErrMalformed) {
				return fmt.Errorf("%w: witness %s: %w", ErrStepFailed, who, err)
			}
			return fmt.Errorf("%w: log: %w", ErrEnvironment, err)
		}
		if r.witnessed[x.ps.ID] == nil {
			r.witnessed[x.ps.ID] = map[string]bool{}
		}
		r.witnessed[x.ps.ID][who] = true
		r.printf("  %s's signature (%s) verifies and is recorded.\n", who, ssh.FingerprintSHA256(want))
	}
	return nil
}

// runSeal: the ceremony attestation key in the HSM signs the log's head.
func runSeal(r *Runner, x *stepRun) error {
	tok, err := r.token(x.st.HSM)
	if err != nil {
		return err
	}
	key, err := tok.FindKey(x.st.Key)
	if err != nil {
		return fmt.Errorf("%w: HSM %s: attestation key %q: %w", ErrEnvironment, x.st.HSM, x.st.Key, err)
	}
	switch key.Algorithm() {
	case hsm.ECDSAP256SHA256, hsm.ED25519, hsm.RSASHA256:
	default:
		return fmt.Errorf("%w: attestation key %q is %s; a seal takes ECDSA P-256 (Rekor's choice), Ed25519 or RSA/SHA-256", ErrStepFailed, x.st.Key, key.Algorithm())
	}
	upTo := r.log.Seq()
	if _, err := r.log.Seal(x.ps.ID, x.st.Actor, key); err != nil {
		return fmt.Errorf("%w: seal: %w", ErrEnvironment, err)
	}
	fp, _, _ := attest.KeyFingerprint(key.Public())
	// No head here: the one to write down is printed once, at the end.
	r.printf("  Sealed: the %s key %q (SHA-256 of its public key %s) signed the log up to entry %d.\n", key.Algorithm(), x.st.Key, fp, upTo)
	x.details["sealed_seq"] = strconv.FormatInt(r.log.Seq(), 10)
	return nil
}

// token returns the activated token of an HSM of the script.
func (r *Runner) token(id string) (*hsm.Token, error) {
	t := r.tokens[id]
	if t == nil {
		return nil, fmt.Errorf("%w: HSM %s is not activated", ErrEnvironment, id)
	}
	return t, nil
}

func fingerprint(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }

// runRecord: the actor reads out each value, which the log stores as
// value.ID. With compare_log, each is compared with the last value of the
// same id in that (previous) ceremony's log: a match is recorded with the
// entry it matches, a difference is an exception that the witnesses
// acknowledge at a confirmation (recorded as exception.ID), or the step
// fails.
func runRecord(r *Runner, x *stepRun) error {
	st := x.st
	var prev map[string]previousValue
	if st.CompareLog != "" {
		path := r.plan.File(st.CompareLog)
		var err error
		if prev, err = previousValues(path); err != nil {
			return fmt.Errorf("%w: compare_log %s: %w", ErrStepFailed, st.CompareLog, err)
		}
		if err := x.addFile(r, path, attest.Read); err != nil {
			return err
		}
	}
	for _, v := range st.Values {
		label := v.Label
		if label == "" {
			label = v.ID
		}
		got, err := r.opts.Operator.Value(x.info, v.ID, label)
		if err != nil {
			return err
		}
		got = strings.TrimSpace(got)
		if err := attest.CheckText(label, got); err != nil {
			return fmt.Errorf("%w: %w", ErrStepFailed, err)
		}
		x.details["value."+v.ID] = got
		r.printf("  %s: %s\n", label, got)
		if st.CompareLog == "" {
			continue
		}
		p, ok := prev[v.ID]
		switch {
		case !ok:
			x.details["previous."+v.ID] = "none"
			r.printf("    (the previous ceremony's log records no %s)\n", v.ID)
		case p.value == got:
			x.details["previous."+v.ID] = fmt.Sprintf("matches seq %d (%s)", p.seq, p.step)
			r.printf("    matches the previous ceremony's record (seq %d, %s)\n", p.seq, p.step)
		default:
			why := fmt.Sprintf("%s is %q, but the previous ceremony's log recorded %q (seq %d, %s)", label, got, p.value, p.seq, p.step)
			r.printf("  EXCEPTION: %s\n", why)
			if err := r.opts.Operator.Confirm(x.info, "  The witnesses acknowledge this exception?"); err != nil {
				return fmt.Errorf("%w: %s; not acknowledged: %w", ErrStepFailed, why, err)
			}
			x.details["exception."+v.ID] = why + "; acknowledged"
		}
	}
	return nil
}

// previousValue is a value a record step of another ceremony stored.
type previousValue struct {
	value, step string
	seq         int64
}

// previousValues reads the value.ID details of every record entry of a
// ceremony log, verified as a chain, the last of each id winning.
func previousValues(path string) (map[string]previousValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]previousValue{}
	_, err = attest.Verify(f, attest.VerifyOptions{InProgress: true, OnEntry: func(e *attest.Entry, _ attest.Hash, _ int) error {
		if e.Details["type"] != TypeRecord || e.Details["status"] != StatusDone {
			return nil
		}
		for k, v := range e.Details {
			if id, ok := strings.CutPrefix(k, "value."); ok {
				out[id] = previousValue{value: v, step: e.Step, seq: e.Seq}
			}
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}
