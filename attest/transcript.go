package attest

import (
	"fmt"
	"io"
	"sort"

	"github.com/ksk-dev/ksk/check"
)

// WriteTranscriptEntry writes one entry as a person reads it in a
// transcript: sequence number, time, type, step and actor, then the
// details, the files with their SHA-256, any seal or witness signature,
// and the entry's hash. Hashes are written in full, and every value with
// its control characters escaped (Sanitize), so that what is shown is
// what the log holds.
func WriteTranscriptEntry(w io.Writer, e *Entry, h Hash) {
	fmt.Fprintf(w, "#%d  %s  %s %s  by %s\n", e.Seq, e.Time.Format(TimeLayout), e.Type, Sanitize(e.Step), Sanitize(e.Actor))
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "      %s: %s\n", k, Sanitize(e.Details[k]))
	}
	for _, f := range e.Files {
		fmt.Fprintf(w, "      %-7s %s  sha256 %s\n", f.Role, Sanitize(f.Path), f.SHA256)
	}
	if s := e.Seal; s != nil {
		fmt.Fprintf(w, "      SEAL: head %s signed by attestation key %s (%s)\n", s.Head, s.KeyFingerprint, Sanitize(s.Alg))
	}
	if x := e.Witness; x != nil {
		fmt.Fprintf(w, "      WITNESS: %s signed head %s with %s\n", Sanitize(x.Name), x.Head, Sanitize(x.KeyFingerprint))
	}
	fmt.Fprintf(w, "      entry hash %s\n\n", h)
}

// WriteTranscript verifies the log read from r as Verify does and writes
// its transcript to w: a heading naming the log, every entry that
// verified, the counts, the head in hex and as PGP words, the result and
// lines for a reviewer's initials. It returns Verify's result and error;
// a log that does not verify is transcribed up to its first bad entry.
func WriteTranscript(w io.Writer, name string, r io.Reader, opts VerifyOptions) (*Result, error) {
	WriteTranscriptStart(w, name)
	inner := opts.OnEntry
	opts.OnEntry = func(e *Entry, h Hash, line int) error {
		WriteTranscriptEntry(w, e, h)
		if inner != nil {
			return inner(e, h, line)
		}
		return nil
	}
	res, err := Verify(r, opts)
	if res == nil {
		return res, err
	}
	WriteTranscriptEnd(w, res, res.Findings, err == nil && res.Valid())
	return res, err
}

// WriteTranscriptStart writes the heading of a transcript of the log
// called name.
func WriteTranscriptStart(w io.Writer, name string) {
	fmt.Fprintf(w, "ATTESTATION LOG TRANSCRIPT\nLog: %s\n\n", name)
}

// WriteTranscriptEnd writes the end of a transcript: the counts of res,
// the head in hex and as PGP words, the findings, the result and lines for
// a reviewer's initials. The result is VALID only for a finished log that
// verifies (valid and res.Finished); a log that verifies as far as it goes
// but is not finished is NOT FINISHED, with the entry up to which a seal
// attests it.
func WriteTranscriptEnd(w io.Writer, res *Result, findings []check.Finding, valid bool) {
	fmt.Fprintf(w, "Entries: %d, seals: %d, witness signatures: %d\n", res.Entries, res.SealCount, res.WitnessCount)
	fmt.Fprintf(w, "Head: %s\nPGP Words: %s\n", res.Head, res.Head.Words())
	for _, f := range findings {
		fmt.Fprintln(w, Sanitize(f.String()))
	}
	switch {
	case valid && res.Finished:
		fmt.Fprintln(w, "Verification: VALID (finished: sealed, and signed off by the witnesses when they were given)")
	case valid:
		fmt.Fprintf(w, "Verification: NOT FINISHED (%s)\n", res.AttestedSummary())
	default:
		fmt.Fprintln(w, "Verification: INVALID (the transcript stops at the first bad entry)")
	}
	fmt.Fprint(w, "\nReviewed by (name): ______________________  Initials: ______  Date: __________\n")
}
