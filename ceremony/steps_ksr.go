package ceremony

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/pgpwords"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/signer"
)

// defaultWords is how many PGP words a ksr-hash step has typed back.
const defaultWords = 4

// readKSRFile reads and parses a KSR or SKR, returning its SHA-256.
func readKSRFile(path string) (*ksr.Document, [32]byte, error) {
	data, err := readSmall(path, ksr.DefaultMaxSize)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("%w: %w", ErrRead, err)
	}
	sum := sha256.Sum256(data)
	d, err := ksr.Parse(bytes.NewReader(data), ksr.ParseOptions{})
	if err != nil {
		return nil, sum, fmt.Errorf("%w: %s: %w", ErrStepFailed, path, err)
	}
	return d, sum, nil
}

// reportError turns a report's error findings into an error that lists
// them.
func reportError(what string, rep *check.Report) error {
	var lines []string
	for _, f := range rep.Findings {
		if f.Severity == check.Error {
			lines = append(lines, f.String())
		}
	}
	return fmt.Errorf("%w: %s: failed %s:\n    %s", ErrStepFailed, what, strings.Join(rep.ErrorChecks(), ", "), strings.Join(lines, "\n    "))
}

// runKSRLoad: load the KSR (and the previous SKR) and validate it against
// the policy at the reference time. On resume it runs again to rebuild the
// ceremony's memory (its files were checked unchanged).
func runKSRLoad(r *Runner, x *stepRun) error {
	st := x.st
	path := r.plan.File(st.KSR)
	doc, sum, err := readKSRFile(path)
	if err != nil {
		return err
	}
	l := &loadedKSR{path: path, sha256: sum, doc: doc}
	if err := x.addFile(r, path, attest.Read); err != nil {
		return err
	}
	if st.PreviousSKR != "" {
		pp := r.plan.File(st.PreviousSKR)
		if l.prev, _, err = readKSRFile(pp); err != nil {
			return err
		}
		if err := x.addFile(r, pp, attest.Read); err != nil {
			return err
		}
	}
	pol := policy.Default()
	if st.Legacy {
		pol = policy.Legacy()
	}
	if st.Policy != "" {
		pp := r.plan.File(st.Policy)
		base := pol
		if pol, err = policy.LoadWithBase(pp, base); err != nil {
			return fmt.Errorf("%w: %w", ErrStepFailed, err)
		}
		if err := x.addFile(r, pp, attest.Read); err != nil {
			return err
		}
	}
	l.at = r.opts.Clock().UTC()
	if st.At != "" {
		l.at, _ = time.Parse(time.RFC3339, st.At)
	}
	rep := ksr.Validate(doc, pol, ksr.ValidateOptions{At: l.at, PreviousSKR: l.prev})
	for _, f := range rep.Findings {
		if f.Severity != check.Error {
			r.printf("  %s\n", f.String())
		}
	}
	if !rep.Valid() {
		return reportError("KSR "+st.KSR, rep)
	}
	r.ksr = l
	x.details["ksr_id"] = doc.ID
	x.details["ksr_sha256"] = hex.EncodeToString(sum[:])
	x.details["bundles"] = strconv.Itoa(len(doc.Request.Bundles))
	x.details["at"] = l.at.Format(time.RFC3339)
	r.printf("  KSR %s: id %s, domain %s, %d bundles: valid at %s\n", st.KSR, doc.ID, doc.Domain, len(doc.Request.Bundles), l.at.Format(time.RFC3339))
	return nil
}

// runKSRHash: show the KSR's SHA-256 and PGP words; the actor types back
// the last words as the zone maintainer reads them out over an
// independent channel.
func runKSRHash(r *Runner, x *stepRun) error {
	l := r.ksr
	if l == nil {
		return fmt.Errorf("%w: no KSR loaded", ErrStepFailed)
	}
	n := x.st.Words
	if n == 0 {
		n = defaultWords
	}
	words := pgpwords.Encode(l.sha256[:])
	// Heard, not copied: the words come from the zone maintainer's
	// channel first; ksk shows its own only once they match.
	r.printf("  KSR %s loaded. The zone maintainer reads the PGP words of its SHA-256 over the independent channel.\n", filepath.Base(l.path))
	prompt := fmt.Sprintf("type the last %d or more of the %d PGP words as you hear them", n, len(words))
	for attempt := 1; ; attempt++ {
		got, err := r.opts.Operator.Words(x.info, prompt)
		if err != nil {
			return err
		}
		typed := strings.Fields(got)
		why := matchWords(typed, words, n)
		if why == "" {
			x.details["words_matched"] = strconv.Itoa(len(typed))
			break
		}
		if !r.canRetry() {
			return fmt.Errorf("%w: %s: this is not the KSR the zone maintainer sent", ErrStepFailed, why)
		}
		x.details[fmt.Sprintf("mismatch.%d", attempt)] = why
		r.printf("  %s. Listen again and type the words again.\n", why)
		prompt = fmt.Sprintf("type the last %d or more PGP words again", n)
	}
	l.hashRun = true
	x.details["ksr_sha256"] = hex.EncodeToString(l.sha256[:])
	r.printf("  The words match. The KSR's SHA-256:\n  %s\n  PGP Words: %s\n", hex.EncodeToString(l.sha256[:]), strings.Join(words, " "))
	return nil
}

// matchWords compares the words typed with the last len(typed) words of
// want, word by word, and says what is wrong ("" when they match): too
// few, too many, or the first word that differs, by its position in the
// 32 (never showing the expected word, which is to be heard, not read).
func matchWords(typed, want []string, min int) string {
	switch {
	case len(typed) < min:
		return fmt.Sprintf("%d words typed; at least %d are needed", len(typed), min)
	case len(typed) > len(want):
		return fmt.Sprintf("%d words typed; the hash has %d", len(typed), len(want))
	}
	off := len(want) - len(typed)
	for i, w := range typed {
		if !strings.EqualFold(w, want[off+i]) {
			return fmt.Sprintf("word %d of %d differs (typed %q)", off+i+1, len(want), clip(w))
		}
	}
	return ""
}

// runSign: sign the loaded KSR with the configuration's schema and the
// activated HSM's keys, after every check; write the SKR atomically.
func runSign(r *Runner, x *stepRun) error {
	st := x.st
	l := r.ksr
	if l == nil {
		return fmt.Errorf("%w: no KSR loaded", ErrStepFailed)
	}
	cfgPath := r.plan.File(st.Config)
	cfg, err := signer.LoadConfig(cfgPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	if err := x.addFile(r, cfgPath, attest.Read); err != nil {
		return err
	}
	out := r.plan.File(st.Out)
	_, exists := os.Lstat(out)
	repeat := x.details["repeat_of_seq"] != ""
	if exists == nil && !repeat {
		return fmt.Errorf("%w: %s: %w; nothing signed", ErrStepFailed, out, atomicfile.ErrExists)
	}
	at := l.at
	if st.At != "" {
		at, _ = time.Parse(time.RFC3339, st.At)
	}
	plan, rep, err := signer.Prepare(cfg, signer.Options{Schema: st.Schema, KSR: l.doc, PreviousSKR: l.prev, At: at})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	if !rep.Valid() {
		return reportError("signing checks", rep)
	}
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	if rep, err = plan.BindKeys(signer.TokenKeys(tok)); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	if !rep.Valid() {
		return reportError("KSK checks", rep)
	}
	for _, f := range rep.Findings {
		r.printf("  %s\n", f.String())
	}
	r.printf("  Schema %s of %s, %d bundles:\n", st.Schema, st.Config, len(plan.Summary()))
	var tbl bytes.Buffer
	_ = signer.WriteBundleTable(&tbl, plan.Summary())
	r.printf("%s", indentBlock(tbl.String(), "    "))
	if err := r.opts.Operator.Confirm(x.info, fmt.Sprintf("  Sign these %d bundles?", len(plan.Summary()))); err != nil {
		return err
	}
	doc, rep, err := plan.Sign(r.ctx, signer.SignOptions{Workers: r.opts.Workers, Progress: r.progress("bundles signed")})
	if err != nil {
		if errors.Is(err, signer.ErrChecksFailed) && rep != nil {
			return reportError("signatures", rep)
		}
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	data, err := ksr.Marshal(doc)
	if err != nil {
		return err
	}
	if exists == nil {
		old, err := readSmall(out, int64(len(data))+1)
		if err != nil || !bytes.Equal(old, data) {
			return fmt.Errorf("%w: %s exists from the interrupted run and differs from the SKR signed now; nothing replaced: compare them, then remove or keep it by hand", ErrStepFailed, out)
		}
		r.printf("  %s from the interrupted run is byte-identical to the SKR signed now; kept.\n", st.Out)
	} else if err := atomicfile.Write(out, data, 0o644, false); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	fault(x.ps.ID, "effect")
	if err := x.addFile(r, out, attest.Written); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	sigs := 0
	for _, b := range doc.Response.Bundles {
		sigs += len(b.Signatures)
	}
	x.details["skr_id"] = doc.ID
	x.details["skr_sha256"] = hex.EncodeToString(sum[:])
	x.details["schema"] = st.Schema
	x.details["bundles"] = strconv.Itoa(len(doc.Response.Bundles))
	x.details["signatures"] = strconv.Itoa(sigs)
	r.printf("  Wrote SKR %s: %d bundles, %d signatures\n  SHA-256:   %s\n  PGP Words: %s\n", st.Out, len(doc.Response.Bundles), sigs,
		hex.EncodeToString(sum[:]), pgpwords.String(sum[:]))
	return nil
}

// runWriteOutputs: copy files to the output media directory and check
// each copy by hashing it back.
func runWriteOutputs(r *Runner, x *stepRun) error {
	to := r.plan.File(x.st.To)
	// The medium is checked with Lstat, never followed: a symbolic link
	// there (the directory or a file) could send the copy anywhere.
	if fi, err := os.Lstat(to); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: output medium %s is a symbolic link; nothing copied", ErrStepFailed, to)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	for _, f := range x.st.Files {
		src := r.plan.File(f)
		data, err := readSmall(src, 64<<20)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrStepFailed, err)
		}
		dst := filepath.Join(to, filepath.Base(src))
		if fi, err := os.Lstat(dst); err == nil && !fi.Mode().IsRegular() {
			return fmt.Errorf("%w: %s on the output medium is not a regular file (%s); nothing replaced", ErrStepFailed, dst, fi.Mode().Type())
		}
		if old, err := os.ReadFile(dst); err == nil {
			if !bytes.Equal(old, data) {
				return fmt.Errorf("%w: %s exists and differs from %s; nothing replaced", ErrStepFailed, dst, src)
			}
		} else if err := atomicfile.Write(dst, data, 0o644, false); err != nil {
			return fmt.Errorf("%w: %w", ErrEnvironment, err)
		}
		in, err := r.fileRef(src, attest.Read)
		if err != nil {
			return err
		}
		outRef, err := r.fileRef(dst, attest.Written)
		if err != nil {
			return err
		}
		if in.SHA256 != outRef.SHA256 {
			return fmt.Errorf("%w: the copy %s does not read back as %s", ErrStepFailed, dst, src)
		}
		x.files = append(x.files, in, outRef)
		r.printf("  %s -> %s  SHA-256 %s\n", f, dst, in.SHA256)
	}
	x.details["copied"] = strconv.Itoa(len(x.st.Files))
	return nil
}

func indentBlock(s, pad string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(pad + line)
		}
	}
	return b.String()
}
