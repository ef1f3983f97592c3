// Package testenv holds ksk's one rule for tests that need something the
// machine may lack (SoftHSM2, an independent validator, ssh-keygen): skip
// with a message naming what to install, unless the CI environment
// variable is set, where a missing dependency is a failure, so that CI can
// never pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Missing skips the test with msg, or fails it when CI is set.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this is a failure")
	}
	t.Skip(msg)
}

// RequireTool returns the path of the command name, calling Missing with
// the Debian package pkg to install when it is not on the PATH.
func RequireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not installed: apt-get install "+pkg+" (or run scripts/setup.sh)")
	}
	return p
}
