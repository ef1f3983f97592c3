package attest

import (
	"bufio"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/ksk-dev/ksk/check"
)

// MaxLineBytes is the longest line, without its newline, that Verify
// accepts and a Writer writes.
const MaxLineBytes = 64 << 10

// maxListed bounds how many seals and witnesses a Result lists, so that
// memory stays bounded whatever the log holds; the counts are exact.
const maxListed = 1000

// Check IDs of the findings Verify reports.
const (
	CheckMalformed  = "LOG-MALFORMED"   // a line is not a canonical entry
	CheckSequence   = "LOG-SEQUENCE"    // sequence numbers skip or go back
	CheckChain      = "LOG-CHAIN"       // an entry's hash is not the next entry's prev
	CheckTruncated  = "LOG-TRUNCATED"   // torn last line, or the log ends before the given head
	CheckHead       = "LOG-HEAD"        // the log continues past the given head
	CheckSeal       = "LOG-SEAL"        // a seal's signature does not verify, or is not in its one canonical form
	CheckSealKey    = "LOG-SEAL-KEY"    // a seal is by a key other than the pinned one
	CheckWitness    = "LOG-WITNESS"     // a witness signature does not verify, or is not in its one canonical form
	CheckWitnessKey = "LOG-WITNESS-KEY" // a witness key is not in the allowed signers
	CheckControl    = "LOG-CONTROL"     // a logged value holds a control character
	CheckCeremony   = "LOG-CEREMONY"    // the log is of another ceremony than the one given
	// CheckUnsealed: entries follow the last seal. An error for a log
	// checked as finished, a warning with InProgress.
	CheckUnsealed = "LOG-UNSEALED"
	// CheckNoSeal: the log has no seal at all. An error for a log checked
	// as finished, a warning with InProgress.
	CheckNoSeal = "LOG-NO-SEAL"
	// CheckSignOff: an allowed signer has no witness signature over a
	// head at or after the log's last step that changed anything. An
	// error for a log checked as finished, a warning with InProgress.
	CheckSignOff = "LOG-SIGNOFF"
	// CheckInProgress: warning: the log verifies as a log still being
	// written, and says up to which entry it is attested.
	CheckInProgress    = "LOG-IN-PROGRESS"
	CheckTime          = "LOG-TIME"   // warning: time goes backwards
	CheckSecretWarning = "LOG-SECRET" // warning: a details key or value looks like a secret
	CheckWitnessUnseen = CheckSignOff // former name of CheckSignOff
)

// SignOffExemptTypes are the step types (an entry's "type" detail) that may
// follow the witnesses' sign-off without being covered by it: anchoring the
// log in a transparency log, and the quorum and HSM activation that a
// resumed ceremony runs again before it. Nothing else may: a step that
// signs, generates, restores, destroys, writes or loads anything after the
// sign-off leaves the log unfinished.
var SignOffExemptTypes = []string{"rekor-publish", "quorum", "hsm-activate"}

// SignOffExemptSteps are the step IDs of entries, written by ksk rather
// than a script's step, that may follow the sign-off: the record of a
// Rekor publication and the note that a ceremony was resumed.
var SignOffExemptSteps = []string{"rekor-publish", "ceremony.resume"}

// signOffExempt reports whether a step entry may follow the sign-off.
func signOffExempt(e *Entry) bool {
	for _, s := range SignOffExemptSteps {
		if e.Step == s {
			return true
		}
	}
	t := e.Details["type"]
	for _, x := range SignOffExemptTypes {
		if t == x {
			return true
		}
	}
	return false
}

// OpenAttestation is the open entry's details key that says what attests
// the log: AttestationSeal (the default when absent) or
// AttestationWitnesses.
const OpenAttestation = "attestation"

// Values of the open entry's OpenAttestation detail.
const (
	// AttestationSeal: the log is finished when an attestation key's seal
	// is its last entry.
	AttestationSeal = "seal"
	// AttestationWitnesses: no HSM is used by the ceremony; the log is
	// finished when the sign-off of every allowed signer is its last
	// entry, and it can be checked as finished only with allowed signers.
	AttestationWitnesses = "witnesses"
	// AttestationNone: neither; such a log is never finished.
	AttestationNone = "none"
)

// CeremonyBinding names the ceremony a log must be of. Empty fields are not
// checked. The log's open entry records them (details script_sha256,
// ceremony and number).
type CeremonyBinding struct {
	ScriptSHA256 string // the ceremony script's SHA-256, lower-case hex
	Name         string // the ceremony's name, as the open entry records it
	Number       string // the ceremony's number
}

// VerifyOptions says what to check a log against.
type VerifyOptions struct {
	// Head, when set, is the head the log must end at (from the paper
	// record or a signed statement).
	Head *Hash
	// AttestationKeys, when not empty, pins the seal keys: a seal by any
	// other key is an error wrapping ErrUnknownKey.
	AttestationKeys []crypto.PublicKey
	// AllowedSigners, when not nil, pins the witness keys: a witness entry
	// whose key and name are not listed is an error wrapping ErrUnknownKey.
	AllowedSigners []AllowedSigner
	// InProgress accepts a log that is still being written: no seal as
	// its last entry, or no sign-off yet, is a warning, and the Result
	// says up to which entry the log is attested. Without it such a log
	// is an error wrapping ErrNotFinished: a published ceremony record is
	// finished.
	InProgress bool
	// Ceremony, when set, binds the log to a ceremony: an open entry of
	// another script, name or number is an error wrapping ErrCeremony.
	Ceremony *CeremonyBinding
	// OnEntry, when set, is called with each entry that verified, in order,
	// with its hash and 1-based line number. An error from it stops Verify
	// and is returned as is.
	OnEntry func(e *Entry, h Hash, line int) error
}

// SealInfo describes a seal that verified.
type SealInfo struct {
	Seq            int64
	Line           int
	Head           Hash   // the head it signs
	Alg            string // signature algorithm
	KeyFingerprint Hash   // SHA-256 of the key's DER SubjectPublicKeyInfo
}

// WitnessInfo describes a witness signature that verified.
type WitnessInfo struct {
	Seq            int64
	Line           int
	Name           string
	Head           Hash   // the head it signs
	KeyFingerprint string // "SHA256:..." as ssh-keygen prints it
}

// Result is what Verify found. On error it describes the verified prefix.
type Result struct {
	Entries      int64         // entries that verified
	Head         Hash          // hash of the last entry that verified
	LastSeq      int64         // its sequence number (-1 if none)
	LastType     string        // its type
	WitnessHead  Hash          // the head a new witness signs (see Writer.WitnessHead)
	SealCount    int           // seals that verified
	Seals        []SealInfo    // the first 1000 of them
	Witnesses    []WitnessInfo // the first 1000 witness signatures that verified
	WitnessCount int           // witness signatures that verified
	LastSealSeq  int64         // sequence number of the last seal (-1 if none)
	Unsealed     int64         // entries after the last seal
	ValidBytes   int64         // length of the verified prefix of the file
	// Finished reports that the log is a finished ceremony record: it
	// verifies, its last entry is a seal and, when allowed signers were
	// given, every one of them signed a head at or after LastMaterialSeq.
	Finished bool
	// LastMaterialSeq is the sequence number of the last entry that the
	// witnesses' sign-off must cover: the last step entry not exempt by
	// SignOffExemptTypes or SignOffExemptSteps (-1 if none).
	LastMaterialSeq int64
	// SignOffSeq is the highest sequence number whose head every allowed
	// signer has signed (-1 if some allowed signer signed none, or no
	// allowed signers were given).
	SignOffSeq int64
	Findings   []check.Finding
}

// Status is the one word a person reads: "VALID" for a finished log that
// verifies, "NOT FINISHED" for a log that verifies as far as it goes (only
// with InProgress), "INVALID" otherwise.
func (r *Result) Status() string {
	switch {
	case !r.Valid():
		return "INVALID"
	case !r.Finished:
		return "NOT FINISHED"
	}
	return "VALID"
}

// AttestedSummary says in words how far the log is attested, for a log
// that is not finished: "attested by the attestation key up to entry N of
// M; K entries after it are not", or that no seal attests any of it.
func (r *Result) AttestedSummary() string {
	at := r.AttestedThrough()
	switch {
	case at < 0:
		return fmt.Sprintf("no seal attests any of its %d entries", r.Entries)
	case r.LastType == TypeSeal:
		return fmt.Sprintf("sealed as its last entry, but not signed off by every allowed witness after entry %d, its last step", r.LastMaterialSeq)
	}
	return fmt.Sprintf("attested by the attestation key up to entry %d of %d; the %d entries after it are not", at, r.LastSeq, r.LastSeq-at)
}

// AttestedThrough returns the sequence number of the last entry covered by
// a seal (-1 if none): the log is attested by the attestation key up to
// and including it.
func (r *Result) AttestedThrough() int64 {
	if r.LastSealSeq < 0 {
		return -1
	}
	return r.LastSealSeq - 1
}

// Valid reports whether no finding is an error.
func (r *Result) Valid() bool {
	rep := check.Report{Findings: r.Findings}
	return rep.Valid()
}

// verifier holds the streaming state of Verify.
type verifier struct {
	opts       VerifyOptions
	res        *Result
	h          hash.Hash
	scratch    []byte
	line       int
	lastTime   time.Time
	timeWarn   bool
	secretWarn bool
	// witnessHeadSeq is the sequence number of the entry whose hash is
	// res.WitnessHead.
	witnessHeadSeq int64
	// covered is, per allowed signer, the highest sequence number whose
	// head they signed (-1: none).
	covered          []int64
	lastMaterialStep string
	lastMaterialType string
	// witnessSealed: the open entry declares that witnesses, not an
	// attestation key, attest the log (AttestationWitnesses).
	witnessSealed bool
	// otherAfterSeal: an entry other than a witness signature follows
	// the last seal.
	otherAfterSeal bool
}

// Verify reads a log from r line by line and checks its canonical form, its
// hash chain, every seal and witness signature and, when opts.Head is set,
// that it ends at that head. It stops at the first bad entry and returns an
// *EntryError naming it (sequence number and line) that wraps one of
// ErrMalformed, ErrBrokenChain, ErrTruncated, ErrHeadMismatch,
// ErrBadSignature or ErrUnknownKey; the Result then describes the prefix
// that verified and carries the finding. A read error is returned as is.
// Memory is bounded by MaxLineBytes whatever the log's length.
func Verify(r io.Reader, opts VerifyOptions) (*Result, error) {
	v := &verifier{
		opts:    opts,
		res:     &Result{LastSeq: -1, LastSealSeq: -1, LastMaterialSeq: -1, SignOffSeq: -1},
		h:       sha256.New(),
		covered: make([]int64, len(opts.AllowedSigners)),
	}
	for i := range v.covered {
		v.covered[i] = -1
	}
	err := v.run(r)
	var ee *EntryError
	if errors.As(err, &ee) && !errors.Is(err, ErrNotFinished) {
		v.res.Findings = append(v.res.Findings, check.Finding{Check: ee.Check, Severity: check.Error, Message: ee.Msg, Where: ee.Where()})
	}
	return v.res, err
}

func (v *verifier) fail(seq int64, line int, id string, sentinel error, format string, args ...any) error {
	return &EntryError{Seq: seq, Line: line, Check: id, Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}

func (v *verifier) warn(id, where, format string, args ...any) {
	v.res.Findings = append(v.res.Findings, check.Finding{Check: id, Severity: check.Warning, Where: where, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) run(r io.Reader) error {
	br := bufio.NewReaderSize(r, MaxLineBytes+1)
	var headSeenAt int64 = -1
	var e Entry
	for {
		data, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return v.fail(v.res.LastSeq+1, v.line+1, CheckMalformed, ErrMalformed, "line longer than %d bytes", MaxLineBytes)
		}
		if err == io.EOF {
			if len(data) == 0 {
				break
			}
			return v.fail(v.res.LastSeq+1, v.line+1, CheckTruncated, ErrTruncated,
				"last line is torn (%d bytes, no newline): the write of entry %d did not complete, probably a crash; the %d entries before it verify up to head %s (the first %d bytes of the file)",
				len(data), v.res.LastSeq+1, v.res.Entries, v.res.Head, v.res.ValidBytes)
		}
		if err != nil {
			return fmt.Errorf("read log line %d: %w", v.line+1, err)
		}
		v.line++
		if err := v.entry(data, &e); err != nil {
			return err
		}
		if v.opts.Head != nil && v.res.Head == *v.opts.Head {
			headSeenAt = v.res.LastSeq
		}
		if v.opts.OnEntry != nil {
			if err := v.opts.OnEntry(&e, v.res.Head, v.line); err != nil {
				return err
			}
		}
	}
	if v.res.Entries == 0 {
		return v.fail(0, 1, CheckTruncated, ErrTruncated, "the log is empty: entry 0 (type %q) is missing", TypeOpen)
	}
	if want := v.opts.Head; want != nil && v.res.Head != *want {
		if headSeenAt >= 0 {
			return v.fail(headSeenAt+1, int(headSeenAt)+2, CheckHead, ErrHeadMismatch,
				"the log continues past the given head %s, which is entry %d: entries %d to %d were appended after it; the log's head is %s",
				*want, headSeenAt, headSeenAt+1, v.res.LastSeq, v.res.Head)
		}
		return &EntryError{Seq: v.res.LastSeq + 1, Line: v.line + 1, Check: CheckTruncated,
			Err: fmt.Errorf("%w (%w)", ErrTruncated, ErrHeadMismatch),
			Msg: fmt.Sprintf("the log ends at entry %d (line %d) with head %s, and no entry hashes to the given head %s: entries after %d were removed, or the last entry was altered",
				v.res.LastSeq, v.line, v.res.Head, *want, v.res.LastSeq)}
	}
	v.finish()
	if !v.opts.InProgress && !v.res.Finished {
		for _, f := range v.res.Findings {
			if f.Severity == check.Error {
				return &EntryError{Seq: v.res.LastSeq, Line: v.line, Check: f.Check, Err: ErrNotFinished, Msg: f.Message}
			}
		}
	}
	return nil
}

// finish applies the rules of a finished log once every entry verified:
// sealed as its last entry, and signed off by every allowed signer after
// its last material entry. Their findings are errors, or warnings with
// InProgress (which then adds the LOG-IN-PROGRESS summary).
func (v *verifier) finish() {
	sev := check.Error
	if v.opts.InProgress {
		sev = check.Warning
	}
	add := func(id, where, format string, args ...any) {
		v.res.Findings = append(v.res.Findings, check.Finding{Check: id, Severity: sev, Where: where, Message: fmt.Sprintf(format, args...)})
	}
	res := v.res
	sealed := res.LastType == TypeSeal
	res.Unsealed = res.LastSeq - res.LastSealSeq
	switch {
	case v.witnessSealed:
		// Attested by the witnesses alone: finished when it ends with
		// the sign-off that every allowed signer made (checked below).
		sealed = res.LastType == TypeWitness
		if !sealed {
			add(CheckUnsealed, fmt.Sprintf("seq %d", res.LastSeq), "the log is attested by its witnesses (its open entry says %s: %s), but its last entry (seq %d) is of type %s, not the witnesses' sign-off", OpenAttestation, AttestationWitnesses, res.LastSeq, res.LastType)
		}
		if len(v.opts.AllowedSigners) == 0 {
			sealed = false
			add(CheckSignOff, "", "the log is attested by its witnesses alone (no HSM seals it): it can be checked as finished only against the witnesses' keys (--allowed-signers)")
		}
	case res.SealCount == 0:
		add(CheckNoSeal, "", "no seal: the log is not signed by an attestation key; a finished ceremony log ends with the seal step's entry")
	case !sealed && !v.otherAfterSeal && len(v.opts.AllowedSigners) > 0:
		// Only witness signatures follow the seal, each by an allowed
		// signer (an unknown key fails LOG-WITNESS-KEY): countersigned
		// after the ceremony (ksk log witness), which no one without a
		// pinned key can forge. The log stays finished.
		sealed = true
	case !sealed:
		add(CheckUnsealed, fmt.Sprintf("seq %d", res.LastSealSeq+1),
			"%d entries after the last seal (seq %d) are not covered by an attestation signature: a finished ceremony log ends with its seal (entries %d to %d follow it, the last of type %s)",
			res.Unsealed, res.LastSealSeq, res.LastSealSeq+1, res.LastSeq, res.LastType)
	}
	signedOff := true
	if v.opts.AllowedSigners != nil {
		res.SignOffSeq = -1
		for i, s := range v.opts.AllowedSigners {
			c := v.covered[i]
			if i == 0 || c < res.SignOffSeq {
				res.SignOffSeq = c
			}
			switch {
			case c < 0:
				signedOff = false
				add(CheckSignOff, "", "allowed signer %s (%s) has no witness signature in the log", s.Principals, s.Fingerprint())
			case c < res.LastMaterialSeq:
				signedOff = false
				add(CheckSignOff, fmt.Sprintf("seq %d", res.LastMaterialSeq),
					"allowed signer %s (%s) signed heads only up to entry %d, not the sign-off: entry %d (step %s, type %s) comes later and no witness signature of theirs covers it",
					s.Principals, s.Fingerprint(), c, res.LastMaterialSeq, v.lastMaterialStep, v.lastMaterialType)
			}
		}
		if len(v.opts.AllowedSigners) == 0 {
			res.SignOffSeq = -1
		}
	}
	res.Finished = sealed && signedOff
	if v.opts.InProgress && !res.Finished {
		v.warn(CheckInProgress, "", "NOT FINISHED: the log verifies as far as it goes (%d entries, head %s); %s", res.Entries, res.Head, res.AttestedSummary())
	}
}

// entry checks one line (with its newline) and advances the state.
func (v *verifier) entry(data []byte, e *Entry) error {
	line := data[:len(data)-1]
	expect := v.res.LastSeq + 1
	var err error
	v.scratch, err = decodeEntry(line, e, v.scratch, false)
	if err != nil {
		return v.fail(expect, v.line, CheckMalformed, ErrMalformed, "%v", err)
	}
	switch {
	case e.Seq > expect:
		return v.fail(e.Seq, v.line, CheckSequence, ErrBrokenChain,
			"sequence number %d where %d was expected: entries %d to %d are missing (deleted) or out of order", e.Seq, expect, expect, e.Seq-1)
	case e.Seq < expect:
		return v.fail(e.Seq, v.line, CheckSequence, ErrBrokenChain,
			"sequence number %d where %d was expected (line %d has sequence number %d): an entry was inserted before this one, or entries were reordered", e.Seq, expect, v.line-1, v.res.LastSeq)
	}
	if (expect == 0) != (e.Type == TypeOpen) {
		return v.fail(e.Seq, v.line, CheckMalformed, ErrMalformed, "entry 0, and only entry 0, must have type %q (this one has %q)", TypeOpen, e.Type)
	}
	if e.Prev != v.res.Head {
		if expect == 0 {
			return v.fail(0, v.line, CheckChain, ErrBrokenChain, "entry 0 must have prev %s", zeroHex)
		}
		return v.fail(v.res.LastSeq, v.line-1, CheckChain, ErrBrokenChain,
			"this entry's hash %s is not the prev %s that the next entry (seq %d, line %d) records: this entry was altered (or the next one's prev), or an entry was inserted after it",
			v.res.Head, e.Prev, e.Seq, v.line)
	}
	if e.Time.Before(v.lastTime) && !v.timeWarn {
		v.timeWarn = true
		v.warn(CheckTime, fmt.Sprintf("seq %d, line %d", e.Seq, v.line), "time %s is before the previous entry's %s (clock changed?)", e.Time.Format(TimeLayout), v.lastTime.Format(TimeLayout))
	}
	v.lastTime = e.Time
	if err := checkControl(e); err != nil {
		return v.fail(e.Seq, v.line, CheckControl, ErrControl, "%v", err)
	}
	if e.Seq == 0 {
		v.witnessSealed = e.Details[OpenAttestation] == AttestationWitnesses
	}
	if e.Seq == 0 && v.opts.Ceremony != nil {
		if err := v.ceremony(e); err != nil {
			return err
		}
	}
	if !v.secretWarn {
		if err := checkEntry(e); err != nil {
			v.secretWarn = true
			v.warn(CheckSecretWarning, fmt.Sprintf("seq %d, line %d", e.Seq, v.line), "%v", err)
		}
	}
	switch e.Type {
	case TypeSeal:
		if err := v.seal(e); err != nil {
			return err
		}
	case TypeWitness:
		if err := v.witness(e); err != nil {
			return err
		}
	case TypeStep, TypeOpen:
		if e.Type == TypeOpen || !signOffExempt(e) {
			v.res.LastMaterialSeq = e.Seq
			v.lastMaterialStep, v.lastMaterialType = e.Step, e.Details["type"]
		}
	}

	switch {
	case e.Type == TypeSeal:
		v.otherAfterSeal = false
	case e.Type != TypeWitness:
		v.otherAfterSeal = true
	}

	v.h.Reset()
	v.h.Write([]byte(EntryDomain))
	v.h.Write(data)
	v.h.Sum(v.res.Head[:0])
	if e.Type == TypeWitness {
		v.res.WitnessHead = e.Witness.Head
	} else {
		v.res.WitnessHead = v.res.Head
		v.witnessHeadSeq = e.Seq
	}
	v.res.Entries++
	v.res.LastSeq = e.Seq
	v.res.LastType = e.Type
	v.res.ValidBytes += int64(len(data))
	return nil
}

// ceremony checks the open entry against the binding.
func (v *verifier) ceremony(e *Entry) error {
	b := v.opts.Ceremony
	for _, c := range []struct{ what, key, want string }{
		{"script SHA-256", "script_sha256", b.ScriptSHA256},
		{"ceremony name", "ceremony", b.Name},
		{"ceremony number", "number", b.Number},
	} {
		if c.want == "" {
			continue
		}
		if got := e.Details[c.key]; got != c.want {
			return v.fail(e.Seq, v.line, CheckCeremony, ErrCeremony,
				"the log is of another ceremony: its open entry records %s %q, not %q", c.what, got, c.want)
		}
	}
	return nil
}
