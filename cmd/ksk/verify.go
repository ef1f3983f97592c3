package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"
)

// verifyResult is what ksk ksr verify and ksk skr verify report about the
// file they examined; each command embeds it in its own result, so both
// JSON objects start with the contract's {"valid", "findings"} fields.
type verifyResult struct {
	Valid    bool            `json:"valid"`
	Findings []check.Finding `json:"findings"`
	File     string          `json:"file"`
	SHA256   string          `json:"sha256,omitempty"`
	ID       string          `json:"id,omitempty"`
	Bundles  int             `json:"bundles"`
	At       string          `json:"at"`
	Errors   int             `json:"errors"`
	Warnings int             `json:"warnings"`
}

// finish records the report's verdict and findings, and the document's id
// and bundle count when it parsed.
func (r *verifyResult) finish(rep *check.Report, doc *ksr.Document) {
	if doc != nil {
		r.ID = doc.ID
		r.Bundles = len(doc.Bundles())
	}
	r.Valid = rep.Valid()
	r.Findings = rep.Findings
	if r.Findings == nil {
		r.Findings = []check.Finding{}
	}
	for _, fd := range r.Findings {
		if fd.Severity == check.Error {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
}

// writeVerify prints a verify command's result: the whole result object
// (full, which embeds r) as JSON, or one line per finding and a summary
// naming the kind of document ("KSR", "SKR") and what it was checked with.
// It returns a silent errRejected when the document is invalid, so that the
// exit code is 1 and nothing more is printed.
func (a *app) writeVerify(full any, r *verifyResult, kind, with string) error {
	if err := a.printVerify(full, r, kind, with); err != nil {
		return err
	}
	if !r.Valid {
		return silentError{fmt.Errorf("%w: %s %s fails %s", errRejected, kind, r.File, plural(r.Errors, "check"))}
	}
	return nil
}

func (a *app) printVerify(full any, r *verifyResult, kind, with string) error {
	if a.output == "json" {
		return a.writeJSON(full)
	}
	for _, fd := range r.Findings {
		if _, err := fmt.Fprintln(a.out, fd.String()); err != nil {
			return err
		}
	}
	verdict := "VALID"
	if !r.Valid {
		verdict = "INVALID"
	}
	desc := ""
	if r.ID != "" {
		desc = fmt.Sprintf("%s %s, %d bundles; ", kind, r.ID, r.Bundles)
	}
	_, err := fmt.Fprintf(a.out, "%s: %s (%s%s, %s%s; at %s)\n", r.File, verdict, desc,
		plural(r.Errors, "error"), plural(r.Warnings, "warning"), with, r.At)
	if err == nil && r.SHA256 != "" {
		_, err = fmt.Fprintf(a.out, "SHA-256: %s\n", r.SHA256)
	}
	return err
}

// parseAt parses --at (RFC 3339); empty means now. The result is UTC.
func parseAt(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageErrorf("--at %q is not an RFC 3339 time such as 2017-04-01T00:00:00Z", s)
	}
	return t.UTC(), nil
}

// checkMaxSize validates --max-size.
func checkMaxSize(max int64) error {
	if max <= 0 {
		return usageErrorf("--max-size must be a positive number of bytes, not %d", max)
	}
	return nil
}

// readBounded reads at most max+1 bytes of file, so that an oversized file
// is rejected by its parser instead of read whole, and returns them with
// their SHA-256 (empty when oversized). An unreadable file is a usage
// error: nothing was examined.
func readBounded(file string, max int64) ([]byte, string, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, "", usageErrorf("%v", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, "", usageErrorf("reading %s: %v", file, err)
	}
	if int64(len(data)) > max {
		return data, "", nil
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// parseDocument parses a KSR or SKR read by readBounded; its errors name
// the file.
func parseDocument(data []byte, file string, max int64) (*ksr.Document, error) {
	d, err := ksr.Parse(bytes.NewReader(data), ksr.ParseOptions{MaxSize: max})
	var pe *ksr.ParseError
	if errors.As(err, &pe) {
		pe.File = file
	}
	return d, err
}

// plural returns "1 error", "2 errors".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
