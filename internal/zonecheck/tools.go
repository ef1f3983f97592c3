package zonecheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/internal/testenv"
)

// Names of the validators: the keys of the maps Validate returns.
const (
	LDNS = "ldns-verify-zone"
	Knot = "kzonecheck"
	BIND = "dnssec-verify"
)

// SignZone is BIND's zone signer, which signs the zone around a bundle.
// It is also a validator of sorts: it keeps an existing signature of a key
// it has no private key for only after verifying it, so Validate reports
// whether it kept the bundle's signatures (when they are valid now: it does
// not verify signatures whose inception is in the future).
const SignZone = "dnssec-signzone"

// packages names the Debian package of each tool.
var packages = map[string]string{
	LDNS:     "ldnsutils",
	Knot:     "knot-dnssecutils",
	BIND:     "bind9-utils",
	SignZone: "bind9-utils",
}

// Timeout bounds each run of an external tool.
var Timeout = 2 * time.Minute

// Require returns the path of an external tool. When it is not installed
// it skips the test, or fails it when the CI environment variable is set,
// naming the Debian package to install.
func Require(t testing.TB, tool string) string {
	t.Helper()
	pkg := packages[tool]
	if pkg == "" {
		pkg = "the package that provides it"
	}
	return testenv.RequireTool(t, tool, pkg)
}

// RunError is the error of a tool that exited with a failure status.
type RunError struct {
	Tool   string
	Args   []string
	Output string // standard output and standard error, interleaved
	Err    error  // the *exec.ExitError, or the context's error on timeout
}

// Error names the tool, its arguments and failure, then its output.
func (e *RunError) Error() string {
	return fmt.Sprintf("%s %s: %v\n%s", e.Tool, strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Output))
}

// Unwrap returns the exit or timeout error.
func (e *RunError) Unwrap() error { return e.Err }

// run runs a tool in dir with a timeout and returns its combined output;
// the error is a *RunError when the tool fails.
func run(dir, tool string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(ctx.Err(), err)
	}
	if err != nil {
		return out.String(), &RunError{Tool: tool, Args: args, Output: out.String(), Err: err}
	}
	return out.String(), nil
}

// RunTool runs an external tool in dir, with the package's timeout, and
// returns its combined output; a failure is a *RunError.
func RunTool(dir, tool string, args ...string) (string, error) {
	return run(dir, tool, args...)
}
