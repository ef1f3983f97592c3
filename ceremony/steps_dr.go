package ceremony

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/backup"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/quorum"
	"github.com/ksk-dev/ksk/signer"
	"github.com/miekg/dns"
)

// Step types of disaster recovery (docs/disaster-recovery.md).
const (
	// TypeKeyBackup backs a backup-able KSK up from an activated HSM: the
	// key is wrapped under a new key-encryption key that is split M-of-N
	// among the recovery key share holders of a key-backup quorum.
	TypeKeyBackup = "key-backup"
	// TypeKeyRestore restores a backup into an activated HSM from the
	// credentials of M recovery key share holders, and proves the restored
	// key signs as the original did.
	TypeKeyRestore = "key-restore"
	// TypeRolloverPlan plans an RFC 5011 rollover from a configured KSK to
	// another: a signer configuration with the standard schemas and a
	// schedule of which schema signs each coming quarter.
	TypeRolloverPlan = "rollover-plan"
	// TypeSignerConfig writes a signer configuration naming a KSK made in
	// this ceremony, pinned by the key tag and DS read from the HSM, with
	// the standard schemas from the configuration's current KSK to it.
	TypeSignerConfig = "signer-config"
)

// parseStart reads a start date: YYYY-MM-DD (midnight UTC) or RFC 3339.
func parseStart(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want a date (YYYY-MM-DD) or an RFC 3339 time, got %q", s)
}

// drStep checks the disaster recovery step types' own rules: which
// purpose their quorums have, the two keys of a plan, the start date.
func (v *validator) drStep(st *Step, path string, quorums map[string]*Quorum) {
	q := quorums[st.Quorum]
	switch st.Type {
	case TypeKeyBackup, TypeKeyRestore:
		if q != nil && q.Purpose != "key-backup" {
			v.fail(path+".quorum", "a %s step's quorum holds the recovery key shares: quorum %q is for %s, not key-backup", st.Type, q.ID, q.Purpose)
		}
	}
	switch st.Type {
	case TypeKeyBackup:
		if st.Activation == "" {
			break // reported as a missing field
		}
		if a := quorums[st.Activation]; a == nil {
			v.fail(path+".activation", "%q is not a quorum of the script (quorums)", st.Activation)
		} else if a.Purpose != "hsm-activation" {
			v.fail(path+".activation", "the crypto officers log the HSM's user in again with an hsm-activation quorum: %q is for %s", a.ID, a.Purpose)
		}
	case TypeRolloverPlan, TypeSignerConfig:
		if len(st.Keys) != 2 || st.Keys[0] == st.Keys[1] {
			v.fail(path+".keys", "want [current, next]: the configuration's KSK in use and the one it rolls to, two different names")
		}
		if st.Start != "" {
			if _, err := parseStart(st.Start); err != nil {
				v.fail(path+".start", "%v", err)
			}
		}
	}
}

// drStepFiles are the files the disaster recovery step types read and
// write, resolved.
func (p *Plan) drStepFiles(st *Step, add func(*[]string, ...string)) (in, out []string) {
	switch st.Type {
	case TypeKeyBackup:
		add(&out, st.Out)
		if st.CredentialsDir != "" {
			out = append(out, filepath.Join(p.File(st.CredentialsDir), credentialsManifest))
		}
	case TypeKeyRestore:
		add(&in, st.Backup)
		add(&out, st.Out)
	case TypeRolloverPlan:
		add(&in, st.Config)
		if st.Out != "" {
			add(&out, st.Out, signer.SchedulePath(st.Out))
		}
	case TypeSignerConfig:
		add(&in, st.Config)
		add(&out, st.Out)
	}
	return in, out
}

// runKeyBackup: back up a backup-able KSK from the activated HSM. Only
// the security officer may create the trusted key-encryption key that can
// wrap it, so the security officer's PIN is asked for, the user is logged
// out for the security officer's login and logged in again with the
// secret of the activation quorum, whose crypto officers present their
// credentials in this step. The KEK is split among the recovery key share
// holders of the step's quorum, one credential each, encrypted to the
// passphrase each types; the backup file and the credentials are written,
// and their SHA-256, the key tag and the split are recorded.
func runKeyBackup(r *Runner, x *stepRun) (err error) {
	st := x.st
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	pq, act := r.plan.quorums[st.Quorum], r.plan.quorums[st.Activation]
	if err := backup.ValidateRoster(pq.roster); err != nil {
		return fmt.Errorf("%w: quorum %s: %w", ErrStepFailed, pq.ID, err)
	}
	if err := r.logQuorumFiles(x, pq); err != nil {
		return err
	}
	wf := r.opts.WorkFactor
	if wf > backup.MaxWorkFactor {
		return fmt.Errorf("%w: scrypt work factor %d: a backup's credentials take at most %d, so that a restore can open them", ErrStepFailed, wf, backup.MaxWorkFactor)
	}
	out := r.plan.File(st.Out)
	dir := r.plan.File(st.CredentialsDir)
	paths := make([]string, 0, len(pq.roster.Holders)+1)
	for _, h := range pq.roster.Holders {
		paths = append(paths, filepath.Join(dir, h.CredentialFileName(pq.roster.ID)))
	}
	paths = append(paths, out)
	mpath := filepath.Join(dir, credentialsManifest)
	repeat := x.details["repeat_of_seq"] != ""
	if !repeat {
		for _, p := range append(paths, mpath) {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%w: %s: %w; nothing written", ErrStepFailed, p, atomicfile.ErrExists)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	info := tok.Info()
	so, err := r.opts.Operator.Secret(x.info, fmt.Sprintf("security officer PIN of token %q (only the security officer may create the trusted key that wraps the KSK)", info.Label))
	if err != nil {
		return err
	}
	defer clear(so)
	passphrases, err := r.newPassphrases(x, pq.roster)
	defer wipeAll(passphrases)
	if err != nil {
		return err
	}
	r.printf("  The security officer's login ends the user's session: the crypto officers present their credentials again to log the user back in.\n")
	opened, err := r.presentCredentials(x, act)
	defer wipeOpened(opened)
	if err != nil {
		return err
	}
	user, res, err := act.roster.Combine(opened)
	defer clear(user)
	r.recordCredentials(x, "activation.", res, opened)
	if err != nil {
		if errors.Is(err, quorum.ErrQuorumNotMet) || errors.Is(err, quorum.ErrAltered) {
			return fmt.Errorf("%w: quorum %s: %w", ErrStepFailed, act.ID, err)
		}
		return err
	}
	counter, err := r.counter()
	if err != nil {
		return err
	}
	userLogin := hsm.LoginOptions{Secret: user, Counter: counter}
	if err := tok.Logout(); err != nil {
		return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, st.HSM, err)
	}
	var created *backup.Created
	defer func() {
		// Whatever else failed, later steps find the HSM activated again;
		// but a PIN that failed is not tried a second time.
		if !tok.LoggedIn() && !errors.Is(err, hsm.ErrPINIncorrect) && !errors.Is(err, hsm.ErrPINLocked) {
			_ = tok.Login(userLogin)
		}
	}()
	src := backup.NewHSMSource(tok, userLogin, hsm.LoginOptions{Secret: so, Counter: counter})
	created, err = backup.Create(src, backup.CreateOptions{Label: st.Label, Roster: pq.roster, Passphrases: passphrases, WorkFactor: wf, Now: r.opts.Clock(), Progress: r.progress("recovery credentials issued")})
	if err != nil {
		switch {
		case errors.Is(err, backup.ErrNotBackupable), errors.Is(err, backup.ErrInvalidArgument), errors.Is(err, hsm.ErrKeyNotFound):
			return fmt.Errorf("%w: %w", ErrStepFailed, err)
		}
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	data := make([][]byte, 0, len(paths))
	for _, c := range created.Credentials {
		data = append(data, c.File)
	}
	data = append(data, created.Data)
	if err := atomicfile.WriteAll(paths, data, 0o600, repeat); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	fault(x.ps.ID, "effect")
	f := created.File
	sum := sha256.Sum256(created.Data)
	x.details["label"] = f.Key.Label
	x.details["algorithm"] = f.Key.AlgorithmName
	x.details["key_tag"] = strconv.Itoa(int(f.Key.KeyTag))
	x.details["dnskey"] = f.Key.DNSKEY
	x.details["backup_sha256"] = hex.EncodeToString(sum[:])
	x.details["split_id"] = f.Quorum.SplitID
	x.details["wrap"] = f.Wrap.Mechanism + " " + f.Wrap.KEK
	r.printf("  Backed up %s key %q (key tag %d) to %s\n    SHA-256: %x\n  Its key-encryption key is split %d of %d among %s:\n",
		f.Key.AlgorithmName, f.Key.Label, f.Key.KeyTag, st.Out, sum, pq.roster.M, pq.roster.N, pq.roster.ID)
	if err := r.recordIssued(x, pq, created.Credentials, paths, mpath, repeat); err != nil {
		return err
	}
	return x.addFile(r, out, attest.Written)
}

// runKeyRestore: restore a backup file into the activated HSM. The
// recovery key share holders present their credentials; each one's
// outcome is recorded. Fewer than M valid shares, a share of another
// backup, a backup of another roster or a damaged file stop the step with
// nothing created in the HSM. The restored key is proved: the backup's
// DNSKEY and key tag, and a reference signature identical to the
// backup's (RSA, Ed25519) or verifying with its public key (ECDSA). A
// step repeated after an interruption adopts a key already restored under
// the backup's label with the backup's public key.
func runKeyRestore(r *Runner, x *stepRun) error {
	st := x.st
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	pq := r.plan.quorums[st.Quorum]
	path := r.plan.File(st.Backup)
	data, err := readSmall(path, backup.MaxFileSize)
	if err != nil {
		return fmt.Errorf("%w: backup %s: %w", ErrStepFailed, st.Backup, err)
	}
	if err := x.addFile(r, path, attest.Read); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	x.details["backup_sha256"] = hex.EncodeToString(sum[:])
	f, err := backup.Parse(data)
	if err != nil {
		return fmt.Errorf("%w: backup %s: %w", ErrStepFailed, st.Backup, err)
	}
	x.details["label"] = f.Key.Label
	x.details["backup_key_tag"] = strconv.Itoa(int(f.Key.KeyTag))
	x.details["backup_source_token"] = fmt.Sprintf("%s serial %s", f.SourceToken.Label, f.SourceToken.Serial)
	x.details["backup_created"] = f.Created.UTC().Format(time.RFC3339)
	r.printf("  Backup %s: %s key %q, key tag %d, made %s from token %q; KEK split %d of %d (roster %s)\n",
		st.Backup, f.Key.AlgorithmName, f.Key.Label, f.Key.KeyTag, f.Created.UTC().Format(time.RFC3339), f.SourceToken.Label, f.Quorum.M, f.Quorum.N, f.Quorum.RosterID)
	if st.Label != "" && st.Label != f.Key.Label {
		return fmt.Errorf("%w: backup %s holds key %q, not %q as the script says", ErrStepFailed, st.Backup, f.Key.Label, st.Label)
	}
	if err := f.CheckRoster(pq.roster); err != nil {
		return fmt.Errorf("%w: backup %s: %w", ErrStepFailed, st.Backup, err)
	}

	var key *hsm.Key
	if x.details["repeat_of_seq"] != "" {
		if k, err := tok.FindKey(f.Key.Label); err == nil {
			if !equalPublic(k.Public(), f.PublicKey()) {
				return fmt.Errorf("%w: HSM %s holds a key %q that is not the backup's key; nothing restored", ErrStepFailed, st.HSM, f.Key.Label)
			}
			key = k
			x.details["adopted"] = "true"
			r.printf("  The interrupted run had already restored %q with the backup's public key; it is adopted, not restored again.\n", f.Key.Label)
		}
	}
	if key == nil {
		target := backup.NewHSMTarget(tok)
		if err := target.CheckFree(f.Key.Label, f.KeyID()); err != nil {
			if errors.Is(err, hsm.ErrLabelExists) {
				return fmt.Errorf("%w: HSM %s: %w; nothing restored", ErrStepFailed, st.HSM, err)
			}
			return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, st.HSM, err)
		}
		opened, err := r.presentCredentials(x, pq)
		defer wipeOpened(opened)
		if err != nil {
			return err
		}
		rep, err := backup.Restore(f, target, backup.RestoreOptions{Roster: pq.roster, Credentials: opened})
		var res *quorum.Result
		if rep != nil {
			res = rep.Quorum
		}
		r.recordCredentials(x, "", res, opened)
		if err != nil {
			return restoreError(st, err)
		}
		fault(x.ps.ID, "effect")
		if key, err = tok.FindKey(f.Key.Label); err != nil {
			return fmt.Errorf("%w: HSM %s: the restored key: %w", ErrEnvironment, st.HSM, err)
		}
	}
	return proveRestored(r, x, f, key)
}

// restoreError classifies a refused restore: what was examined and found
// wanting is a failed step (exit 1), the rest an environment error.
func restoreError(st *Step, err error) error {
	for _, s := range []error{quorum.ErrQuorumNotMet, quorum.ErrAltered, backup.ErrOtherBackup, backup.ErrAltered, backup.ErrMalformed,
		backup.ErrMismatch, hsm.ErrPublicKeyMismatch, hsm.ErrWrappedKeyInvalid, hsm.ErrLabelExists} {
		if errors.Is(err, s) {
			return fmt.Errorf("%w: backup %s: %w; nothing restored", ErrStepFailed, st.Backup, err)
		}
	}
	return fmt.Errorf("%w: backup %s: %w", ErrEnvironment, st.Backup, err)
}

// proveRestored checks the restored key against the backup (DNSKEY, key
// tag, reference signature), records the proof and writes out.
func proveRestored(r *Runner, x *stepRun, f *backup.File, key *hsm.Key) error {
	st := x.st
	dk, err := key.DNSKEY(f.DNSKEYOptions())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	ds, err := hsm.DS(dk, dns.SHA256)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	if dk.KeyTag() != f.Key.KeyTag || !equalPublic(key.Public(), f.PublicKey()) {
		return fmt.Errorf("%w: the key in HSM %s (key tag %d) is not the backup's (key tag %d)", ErrStepFailed, st.HSM, dk.KeyTag(), f.Key.KeyTag)
	}
	sig, err := referenceSignature(key, f.Algorithm())
	if err != nil {
		return fmt.Errorf("%w: reference signature: %w", ErrEnvironment, err)
	}
	proof := "identical"
	if f.Algorithm().IsRSA() || f.Algorithm() == hsm.ED25519 {
		if !bytes.Equal(sig, f.Reference.Signature) {
			return fmt.Errorf("%w: the key in HSM %s signs the reference message differently from the backed-up key", ErrStepFailed, st.HSM)
		}
	} else {
		if err := backup.VerifyReference(f.PublicKey(), f.Algorithm(), sig); err != nil {
			return fmt.Errorf("%w: the restored key's reference signature does not verify with the backup's public key: %w", ErrStepFailed, err)
		}
		proof = "verified"
	}
	refSum, newSum := sha256.Sum256(f.Reference.Signature), sha256.Sum256(sig)
	at := key.Attributes()
	x.details["algorithm"] = key.Algorithm().String()
	x.details["key_tag"] = strconv.Itoa(int(dk.KeyTag()))
	x.details["dnskey"] = dk.String()
	x.details["ds"] = ds.String()
	x.details["reference_signature"] = proof
	x.details["reference_signature_sha256"] = hex.EncodeToString(refSum[:])
	x.details["restored_signature_sha256"] = hex.EncodeToString(newSum[:])
	x.details["attributes"] = fmt.Sprintf("%+v", at)
	r.printf("  Restored %s key %q into HSM %s: key tag %d, the backup's DNSKEY\n  %s\n  %s\n", key.Algorithm(), f.Key.Label, st.HSM, dk.KeyTag(), dk.String(), ds.String())
	if proof == "identical" {
		r.printf("  Reference signature: byte-identical to the backup's (SHA-256 %x)\n", newSum)
	} else {
		r.printf("  Reference signature: verifies with the backup's public key (ECDSA signatures are randomised)\n")
	}
	r.printf("  sensitive %t, extractable %t, sign %t, decrypt %t, unwrap %t\n", at.Sensitive, at.Extractable, at.Sign, at.Decrypt, at.Unwrap)
	if at.Extractable || !at.Sensitive {
		return fmt.Errorf("%w: the restored key is extractable or not sensitive", ErrEnvironment)
	}
	if st.Out != "" {
		out := r.plan.File(st.Out)
		if err := atomicfile.Write(out, []byte(dk.String()+"\n"+ds.String()+"\n"), 0o644, x.details["repeat_of_seq"] != ""); err != nil {
			return fmt.Errorf("%w: %w", ErrEnvironment, err)
		}
		if err := x.addFile(r, out, attest.Written); err != nil {
			return err
		}
	}
	return nil
}

// referenceSignature signs backup.ReferenceMessage with a key the way the
// backup package does: over its hash with the algorithm's hash function,
// or the message itself for Ed25519.
func referenceSignature(k crypto.Signer, alg hsm.Algorithm) ([]byte, error) {
	msg := []byte(backup.ReferenceMessage)
	h := alg.Hash()
	if h == 0 {
		return k.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	hh := h.New()
	hh.Write(msg)
	return k.Sign(rand.Reader, hh.Sum(nil), h)
}

// equalPublic reports whether two public keys are the same.
func equalPublic(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// writeOnce writes files that an interrupted run of a step may have
// written already: an existing file must hold exactly the same bytes.
func writeOnce(paths []string, data [][]byte) error {
	fresh := true
	for i, p := range paths {
		old, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrEnvironment, err)
		}
		if !bytes.Equal(old, data[i]) {
			return fmt.Errorf("%w: %s exists and differs from what this step writes; nothing replaced", ErrStepFailed, p)
		}
		fresh = false
	}
	if !fresh {
		// Every file that exists is identical: write the rest.
		for i, p := range paths {
			if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
				if err := atomicfile.Write(p, data[i], 0o644, false); err != nil {
					return fmt.Errorf("%w: %w", ErrEnvironment, err)
				}
			}
		}
		return nil
	}
	if err := atomicfile.WriteAll(paths, data, 0o644, false); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	return nil
}

// runRolloverPlan: plan an RFC 5011 rollover from keys[0] to keys[1] of
// the signer configuration, from the quarter starting at start; write the
// configuration with the standard schemas and the schedule beside it.
func runRolloverPlan(r *Runner, x *stepRun) error {
	st := x.st
	cfgPath := r.plan.File(st.Config)
	data, err := readSmall(cfgPath, signer.MaxConfigSize)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	if err := x.addFile(r, cfgPath, attest.Read); err != nil {
		return err
	}
	start, err := parseStart(st.Start)
	if err != nil {
		return fmt.Errorf("%w: start: %w", ErrStepFailed, err)
	}
	out := r.plan.File(st.Out)
	sched := signer.SchedulePath(out)
	plan, err := signer.PlanRollover(data, signer.RolloverOptions{Current: st.Keys[0], Next: st.Keys[1], Start: start, ConfigName: filepath.Base(out)})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	if err := writeOnce([]string{out, sched}, [][]byte{plan.Config, plan.ScheduleData}); err != nil {
		return err
	}
	for _, p := range []string{out, sched} {
		if err := x.addFile(r, p, attest.Written); err != nil {
			return err
		}
	}
	s := plan.Schedule
	var qs []string
	r.printf("  Rollover of %s (key tag %d) to %s (key tag %d), %s:\n", s.Current.Name, s.Current.KeyTag, s.Next.Name, s.Next.KeyTag, s.Rollover)
	for _, q := range s.Quarters {
		qs = append(qs, fmt.Sprintf("%d:%s", q.Quarter, q.Schema))
		r.printf("    quarter %d from %s: %-22s %s\n", q.Quarter, q.Start.Format(time.DateOnly), q.Schema, q.What)
	}
	d := s.Dates
	r.printf("  publish %s, RFC 5011 add hold-down ends %s, rollover %s, revoke %s, remove %s\n",
		d.Publish.Format(time.DateOnly), d.HoldDownEnds.Format(time.DateOnly), d.Rollover.Format(time.DateOnly), d.Revoke.Format(time.DateOnly), d.Remove.Format(time.DateOnly))
	for _, w := range s.Warnings {
		r.printf("  warning: %s\n", w)
	}
	x.details["current"] = fmt.Sprintf("%s key_tag=%d", s.Current.Name, s.Current.KeyTag)
	x.details["next"] = fmt.Sprintf("%s key_tag=%d", s.Next.Name, s.Next.KeyTag)
	x.details["quarters"] = strings.Join(qs, " ")
	x.details["publish"] = d.Publish.Format(time.RFC3339)
	x.details["add_hold_down_ends"] = d.HoldDownEnds.Format(time.RFC3339)
	x.details["rollover"] = d.Rollover.Format(time.RFC3339)
	x.details["revoke"] = d.Revoke.Format(time.RFC3339)
	x.details["remove"] = d.Remove.Format(time.RFC3339)
	x.details["config_sha256"] = s.ConfigSHA256
	return nil
}

// runSignerConfig: read the KSK labelled label from the activated HSM and
// write the signer configuration config with it added as keys[1] (pinned
// by its key tag and DS, valid from start) and the standard schemas from
// keys[0] to it: post-revoke signs with it alone, revoke revokes keys[0]
// with its own signature (RFC 5011 §2.1).
func runSignerConfig(r *Runner, x *stepRun) error {
	st := x.st
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	cfgPath := r.plan.File(st.Config)
	data, err := readSmall(cfgPath, signer.MaxConfigSize)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	if err := x.addFile(r, cfgPath, attest.Read); err != nil {
		return err
	}
	cfg, err := signer.ParseConfig(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStepFailed, st.Config, err)
	}
	start, err := parseStart(st.Start)
	if err != nil {
		return fmt.Errorf("%w: start: %w", ErrStepFailed, err)
	}
	key, err := tok.FindKey(st.Label)
	if err != nil {
		if errors.Is(err, hsm.ErrKeyNotFound) {
			return fmt.Errorf("%w: HSM %s: %w", ErrStepFailed, st.HSM, err)
		}
		return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, st.HSM, err)
	}
	current, next := st.Keys[0], st.Keys[1]
	kc, err := signer.NewKeyConfig(next, st.Label, key.Public(), key.Algorithm(), cfg.Policy.KSK.SignersName, start)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	withKey, err := signer.AddKey(data, kc)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	outData, replaced, err := signer.WithStandardSchemas(withKey, current, next, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	written, err := signer.ParseConfig(outData)
	if err != nil {
		return fmt.Errorf("%w: the configuration written does not load: %w", ErrStepFailed, err)
	}
	if _, rep := signer.MatchKey(written, written.Keys[next], written.Policy.KSK.SignersName, key); !rep.Valid() {
		return reportError("key "+next, rep)
	}
	out := r.plan.File(st.Out)
	if err := writeOnce([]string{out}, [][]byte{outData}); err != nil {
		return err
	}
	if err := x.addFile(r, out, attest.Written); err != nil {
		return err
	}
	x.details["key"] = next
	x.details["label"] = st.Label
	x.details["algorithm"] = kc.Algorithm.String()
	x.details["key_tag"] = strconv.Itoa(int(kc.KeyTag))
	x.details["ds_sha256"] = kc.DSSHA256
	x.details["valid_from"] = kc.ValidFrom.Format(time.RFC3339)
	x.details["standard_schemas"] = current + " -> " + next
	if len(replaced) > 0 {
		x.details["replaced_schemas"] = strings.Join(replaced, " ")
	}
	r.printf("  %s: key %s = %q (%s, key tag %d, DS %s), valid from %s; standard schemas from %s to %s\n",
		st.Out, next, st.Label, kc.Algorithm, kc.KeyTag, kc.DSSHA256, kc.ValidFrom.Format(time.RFC3339), current, next)
	return nil
}
