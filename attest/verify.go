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
	CheckMalformed     = "LOG-MALFORMED"      // a line is not a canonical entry
	CheckSequence      = "LOG-SEQUENCE"       // sequence numbers skip or go back
	CheckChain         = "LOG-CHAIN"          // an entry's hash is not the next entry's prev
	CheckTruncated     = "LOG-TRUNCATED"      // torn last line, or the log ends before the given head
	CheckHead          = "LOG-HEAD"           // the log continues past the given head
	CheckSeal          = "LOG-SEAL"           // a seal's signature does not verify
	CheckSealKey       = "LOG-SEAL-KEY"       // a seal is by a key other than the pinned one
	CheckWitness       = "LOG-WITNESS"        // a witness signature does not verify
	CheckWitnessKey    = "LOG-WITNESS-KEY"    // a witness key is not in the allowed signers
	CheckUnsealed      = "LOG-UNSEALED"       // warning: steps after the last seal
	CheckTime          = "LOG-TIME"           // warning: time goes backwards
	CheckSecretWarning = "LOG-SECRET"         // warning: a details key or value looks like a secret
	CheckNoSeal        = "LOG-NO-SEAL"        // warning: the log has no seal at all
	CheckWitnessUnseen = "LOG-WITNESS-UNSEEN" // warning: an allowed signer did not witness
)

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
	Unsealed     int64         // step entries after the last seal
	ValidBytes   int64         // length of the verified prefix of the file
	Findings     []check.Finding
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
	witnessed  map[int]bool
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
		opts:      opts,
		res:       &Result{LastSeq: -1, LastSealSeq: -1},
		h:         sha256.New(),
		witnessed: map[int]bool{},
	}
	err := v.run(r)
	var ee *EntryError
	if errors.As(err, &ee) {
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
	if v.res.SealCount == 0 {
		v.warn(CheckNoSeal, "", "no seal: the head is not signed by an attestation key")
	} else if v.res.Unsealed > 0 {
		v.warn(CheckUnsealed, fmt.Sprintf("seq %d", v.res.LastSealSeq+1), "%d step entries after the last seal (seq %d) are not covered by an attestation signature", v.res.Unsealed, v.res.LastSealSeq)
	}
	for i, s := range v.opts.AllowedSigners {
		if !v.witnessed[i] {
			v.warn(CheckWitnessUnseen, "", "allowed signer %s (%s) has no witness signature in the log", s.Principals, s.Fingerprint())
		}
	}
	return nil
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
	case TypeStep:
		v.res.Unsealed++
	}

	v.h.Reset()
	v.h.Write([]byte(EntryDomain))
	v.h.Write(data)
	v.h.Sum(v.res.Head[:0])
	if e.Type == TypeWitness {
		v.res.WitnessHead = e.Witness.Head
	} else {
		v.res.WitnessHead = v.res.Head
	}
	v.res.Entries++
	v.res.LastSeq = e.Seq
	v.res.LastType = e.Type
	v.res.ValidBytes += int64(len(data))
	return nil
}
