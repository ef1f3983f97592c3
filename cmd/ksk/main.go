// Command ksk runs DNSSEC Key Signing Key ceremonies: it checks a quorum of
// crypto officers, loads the KSK through PKCS#11, verifies Key Signing
// Requests and signs them into Signed Key Responses, and records every step
// in a hash-chained attestation log.
//
// This package only wires commands to the domain packages (hsm, ksr, skr,
// policy, trustanchor, pgpwords) and maps their errors to the exit codes of
// the command-line contract (docs/exit-codes.md).
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
