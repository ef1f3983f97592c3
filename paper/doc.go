// Package paper lays out what people read and sign around a ceremony: the
// ceremony binder printed from the script before the day, the annotated
// transcript of the attestation log after it, and the report a trusted
// community representative reads after verifying the log.
//
// Each is built once as a Document (headings, fields, tables, a verdict,
// signature lines) and rendered by WriteHTML, a self-contained page with
// a print stylesheet, or by WritePDF, written by ksk itself so that the
// air-gapped ceremony laptop needs no browser. Both renderers embed the Go
// fonts and refuse a document with a character those fonts cannot draw
// (ErrGlyph), so that what is printed is what the script or log holds.
package paper
