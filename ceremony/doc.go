// Package ceremony runs scripted DNSSEC key ceremonies: a reviewed YAML
// script of acts and steps (who does what, and what result to expect), a
// quorum of crypto officer credentials that alone can activate the HSM, and
// an attestation log (package attest) that records every step, with the
// hashes of every file read or written, as it happens.
//
// Load reads a script strictly (every error names its YAML path and line);
// Check resolves every file, participant, quorum and HSM it names and
// returns the Plan without touching an HSM; a Runner executes the plan step
// by step, asking an Operator (a person at a terminal, or an answers file
// in a rehearsal) for every confirmation, credential and signature.
//
// A ceremony interrupted at any point is resumed by running the same script
// with the same log: steps the log records as done are not redone (their
// files are re-hashed and must be unchanged), and a step that touches the
// HSM and was started but not recorded as done is repeated only when the
// operator explicitly says so. Activation of an HSM is the exception: its
// secret is never stored, so a resumed ceremony presents the quorum again
// before any later step that needs the HSM, and the log says so.
//
// docs/ceremonies.md describes the script format, the step types and the
// answers file.
package ceremony
