package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes of the command-line contract (docs/exit-codes.md).
const (
	exitOK          = 0
	exitRejected    = 1   // the input was examined and rejected
	exitUsage       = 2   // usage or configuration error
	exitEnvironment = 3   // HSM or environment error
	exitInterrupted = 130 // interrupted by a signal
)

var (
	// errRejected marks an input that was examined and rejected (exit 1).
	errRejected = errors.New("rejected")
	// errUsage marks a usage or configuration error (exit 2).
	errUsage = errors.New("usage error")
	// errEnvironment marks an HSM or environment error (exit 3).
	errEnvironment = errors.New("environment error")
	// errInterrupted marks a run stopped by SIGINT or SIGTERM (exit 130).
	errInterrupted = errors.New("interrupted")
)

// classifiers map each command group's domain sentinel errors to exit
// codes, in this order; each lives beside its commands and returns 0 when
// it does not recognise the error. One table, so that every mapping is
// seen in one place (docs/exit-codes.md is its prose).
var classifiers = []func(error) int{
	classifyCeremonyError,
	classifyQuorumError,
	classifyHSMError,
	classifyBackupError,
	classifyTransparencyError,
	classifyRolloverError,
	classifyRolloverCheckError,
	classifySignerError,
}

// exitCode maps an error to the contract's exit code. Errors that nothing
// recognises are usage errors: cobra's own errors (unknown command, bad
// argument count) are the commonest of those.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, errEnvironment):
		return exitEnvironment
	case errors.Is(err, errRejected):
		return exitRejected
	case errors.Is(err, errUsage):
		return exitUsage
	}
	for _, c := range classifiers {
		if code := c(err); code != 0 {
			return code
		}
	}
	return exitUsage
}

func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// needSubcommand is the RunE of a command group run without a subcommand:
// a usage error naming the subcommands.
func needSubcommand(cmd *cobra.Command, _ []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return usageErrorf("%s needs a subcommand: %s (see %s --help)", cmd.CommandPath(), strings.Join(names, ", "), cmd.CommandPath())
}

// subcommandArgs is the Args of a command group: an unknown subcommand is
// a usage error naming the closest ones.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if sug := cmd.SuggestionsFor(args[0]); len(sug) > 0 {
		slices.Sort(sug)
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(sug, " or "))
	}
	return usageErrorf("%s; see %s --help", msg, cmd.CommandPath())
}

// silentError is returned when the command has already reported the
// failure on its output (for example a verify command's findings) and only
// the exit code remains to be set.
type silentError struct{ err error }

func (s silentError) Error() string { return s.err.Error() }
func (s silentError) Unwrap() error { return s.err }
