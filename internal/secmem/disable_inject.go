//go:build ksk_faultinject

package secmem

import "os"

// EnvUnprotected, set to 1 in a test build (tag ksk_faultinject), leaves
// the protections off, so that a test can show what they prevent: a core
// dump with the secrets in it.
const EnvUnprotected = "KSK_TEST_UNPROTECTED"

func disabled() bool { return os.Getenv(EnvUnprotected) == "1" }
