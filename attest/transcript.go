package attest

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ksk-dev/ksk/check"
)

// WriteTranscriptEntry writes one entry as a person reads it in a
// transcript: sequence number, time, type, step and actor, then the
// details, the files with short hashes, any seal or witness signature, and
// the entry's hash.
func WriteTranscriptEntry(w io.Writer, e *Entry, h Hash) {
	fmt.Fprintf(w, "#%d  %s  %s %s  by %s\n", e.Seq, e.Time.Format(TimeLayout), e.Type, e.Step, e.Actor)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "      %s: %s\n", k, strings.ReplaceAll(e.Details[k], "\n", "\n        "))
	}
	for _, f := range e.Files {
		fmt.Fprintf(w, "      %-7s %s  sha256 %s\n", f.Role, f.Path, shortHex(f.SHA256.String()))
	}
	if s := e.Seal; s != nil {
		fmt.Fprintf(w, "      SEAL: head %s signed by attestation key %s (%s)\n", shortHex(s.Head.String()), shortHex(s.KeyFingerprint.String()), s.Alg)
	}
	if x := e.Witness; x != nil {
		fmt.Fprintf(w, "      WITNESS: %s signed head %s with %s\n", x.Name, shortHex(x.Head.String()), x.KeyFingerprint)
	}
	fmt.Fprintf(w, "      entry hash %s\n\n", shortHex(h.String()))
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
// the head in hex and as PGP words, the findings, the result (valid) and
// lines for a reviewer's initials.
func WriteTranscriptEnd(w io.Writer, res *Result, findings []check.Finding, valid bool) {
	fmt.Fprintf(w, "Entries: %d, seals: %d, witness signatures: %d\n", res.Entries, res.SealCount, res.WitnessCount)
	fmt.Fprintf(w, "Head: %s\nPGP Words: %s\n", res.Head, res.Head.Words())
	for _, f := range findings {
		fmt.Fprintln(w, f.String())
	}
	if valid {
		fmt.Fprintln(w, "Verification: VALID")
	} else {
		fmt.Fprintln(w, "Verification: INVALID (the transcript stops at the first bad entry)")
	}
	fmt.Fprint(w, "\nReviewed by (name): ______________________  Initials: ______  Date: __________\n")
}

func shortHex(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:16] + "…"
}
