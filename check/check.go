// Package check holds the findings that ksk's validators report: each names
// a stable check ID, a severity, a message and where in the input it was
// found. ksk ksr verify and ksk skr verify print them as text or as the JSON
// object {"valid": bool, "findings": [...]} of the command-line contract.
package check

import (
	"fmt"
	"sort"
)

// Severity says whether a finding rejects the input.
type Severity string

// Severities.
const (
	Error   Severity = "error"   // the input is rejected
	Warning Severity = "warning" // reported, but the input is accepted
)

// Finding is one result of a named check.
type Finding struct {
	Check    string   `json:"check"`    // stable check ID, e.g. "KSR-BUNDLE-UNIQUE"
	Severity Severity `json:"severity"` // "error" or "warning"
	Message  string   `json:"message"`  // names the bundle or key and the rule
	Where    string   `json:"where"`    // file, bundle id, key tag or line
}

// String formats f as one line: "error KSR-X [where]: message".
func (f Finding) String() string {
	if f.Where == "" {
		return fmt.Sprintf("%s %s: %s", f.Severity, f.Check, f.Message)
	}
	return fmt.Sprintf("%s %s [%s]: %s", f.Severity, f.Check, f.Where, f.Message)
}

// Report collects findings.
type Report struct {
	Findings []Finding `json:"findings"`
}

// Errorf adds an error finding.
func (r *Report) Errorf(id, where, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Check: id, Severity: Error, Where: where, Message: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning finding.
func (r *Report) Warnf(id, where, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Check: id, Severity: Warning, Where: where, Message: fmt.Sprintf(format, args...)})
}

// Add appends findings, for example another validator's.
func (r *Report) Add(fs ...Finding) { r.Findings = append(r.Findings, fs...) }

// Valid reports whether no finding is an error.
func (r *Report) Valid() bool {
	for _, f := range r.Findings {
		if f.Severity == Error {
			return false
		}
	}
	return true
}

// Has reports whether some finding has the check ID id and severity Error.
func (r *Report) Has(id string) bool {
	for _, f := range r.Findings {
		if f.Check == id && f.Severity == Error {
			return true
		}
	}
	return false
}

// ErrorChecks returns the sorted, distinct IDs of the checks that failed.
func (r *Report) ErrorChecks() []string {
	seen := map[string]bool{}
	var ids []string
	for _, f := range r.Findings {
		if f.Severity == Error && !seen[f.Check] {
			seen[f.Check] = true
			ids = append(ids, f.Check)
		}
	}
	sort.Strings(ids)
	return ids
}
