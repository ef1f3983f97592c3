// Command ksk runs DNSSEC Key Signing Key ceremonies: it checks a quorum of
// crypto officers, loads the KSK through PKCS#11, verifies Key Signing
// Requests and signs them into Signed Key Responses, and records every step
// in a hash-chained attestation log.
//
// This package only wires commands to the domain packages (hsm, ksr, skr,
// policy, trustanchor, pgpwords) and maps their errors to the exit codes of
// the command-line contract (docs/exit-codes.md).
package main

import (
	"fmt"
	"os"

	"github.com/ksk-dev/ksk/internal/secmem"
)

func main() {
	// Before any command can read a PIN, a passphrase or a credential: no
	// core dump, no same-user ptrace (docs/threat-model.md).
	if _, err := secmem.Protect(); err != nil {
		fmt.Fprintf(os.Stderr, "ksk: warning: %v; secrets in memory could reach a core dump\n", err)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
