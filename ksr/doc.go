// Package ksr reads, writes and validates the documents that a zone's ZSK
// operator and its KSK operator exchange each quarter, in the XML format of
// IANA's root zone KSK ceremonies: a Key Signing Request (KSR) and a Signed
// Key Response (SKR). Both are <KSR> documents; a KSR holds a <Request> and
// an SKR a <Response>.
//
// Parse is strict: unknown or duplicate elements, non-UTC timestamps,
// durations in months or years, malformed base64 and oversized input are
// errors that name the element and its line. Marshal is deterministic.
// Validate runs the named checks of a KSR (see checks.go) against a policy.
package ksr
