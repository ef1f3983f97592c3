package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/ceremony"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/quorum"
	"github.com/spf13/cobra"
)

// classifyCeremonyError maps the ceremony package's errors to exit codes:
// a step that examined its input and rejected it, an unconfirmed step or a
// log that cannot be resumed is 1; a script or answers file that cannot be
// used is 2; an HSM or file system problem is 3.
func classifyCeremonyError(err error) int {
	switch {
	case errors.Is(err, ceremony.ErrInterrupted):
		return exitInterrupted
	case errors.Is(err, ceremony.ErrEnvironment):
		return exitEnvironment
	case errors.Is(err, ceremony.ErrStepFailed), errors.Is(err, ceremony.ErrNotConfirmed), errors.Is(err, ceremony.ErrResume):
		return exitRejected
	case errors.Is(err, ceremony.ErrAnswers), errors.Is(err, ceremony.ErrInvalid), errors.Is(err, ceremony.ErrSyntax),
		errors.Is(err, ceremony.ErrUnknownKey), errors.Is(err, ceremony.ErrRead):
		return exitUsage
	}
	return 0
}

func newCeremonyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ceremony",
		Short: "Check and run scripted key ceremonies",
		Long: `A ceremony script (YAML) names the ceremony, its participants and their
roles, the HSMs, the crypto officer quorums and the acts and steps, in
order. "ksk ceremony check" validates it and prints the plan without
touching any HSM; "ksk ceremony run" steps through it, recording every step
in an attestation log. See docs/ceremonies.md.`,
		Example: `  ksk ceremony check scripts/ceremonies/quarterly-signing.yaml --dir work/
  ksk ceremony run scripts/ceremonies/quarterly-signing.yaml --dir work/ --log work/ceremony.log`,
		Args: subcommandArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newCeremonyCheckCmd(a), newCeremonyRunCmd(a), newCeremonyPrintCmd(a))
	return cmd
}

// ceremonyFlags are the flags check and run share.
type ceremonyFlags struct {
	dir    string
	params []string
}

func (f *ceremonyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "dir", "", "directory the script's relative file names are resolved against (default: the script's directory)")
	cmd.Flags().StringArrayVar(&f.params, "param", nil, "NAME=VALUE: override a parameter of the script (repeatable; never a secret)")
}

// options returns the check options of the flags: the directory and the
// --param values.
func (f *ceremonyFlags) options() (ceremony.CheckOptions, error) {
	params := map[string]string{}
	for _, p := range f.params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return ceremony.CheckOptions{}, usageErrorf("--param %q: want NAME=VALUE", p)
		}
		params[k] = v
	}
	return ceremony.CheckOptions{Dir: f.dir, Params: params}, nil
}

func (f *ceremonyFlags) plan(path string) (*ceremony.Plan, error) {
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	plan, err := ceremony.Check(path, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return plan, nil
}

func newCeremonyCheckCmd(a *app) *cobra.Command {
	var f ceremonyFlags
	cmd := &cobra.Command{
		Use:   "check SCRIPT",
		Short: "Validate a ceremony script and print its plan; touches no HSM",
		Long: `Check reads the script strictly (every error names its YAML path and
line), resolves every participant, HSM, quorum roster, credential pin, SSH
key and file it names (files an earlier step writes need not exist yet),
loads the signer configurations and their schemas, and prints the plan:
who does what, in which order, which steps touch an HSM and which files
each reads and writes. Exit status 0 when the script is valid, 2 when not.`,
		Example: `  ksk ceremony check scripts/ceremonies/quarterly-signing.yaml --dir work/
  ksk ceremony check scripts/ceremonies/key-generation.yaml --dir work/ -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := f.plan(args[0])
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.writeJSON(plan.Summary())
			}
			return plan.WriteText(a.out)
		},
	}
	f.register(cmd)
	return cmd
}

func newCeremonyRunCmd(a *app) *cobra.Command {
	var (
		f                ceremonyFlags
		logPath, answers string
		transcript       string
		workers          int
		workFactor       int
	)
	cmd := &cobra.Command{
		Use:   "run SCRIPT --log LOG [--answers FILE]",
		Short: "Run a ceremony step by step, recording each step in an attestation log",
		Long: `Run checks the script as "ksk ceremony check" does, then steps through
it: for each step it shows what to do, who does it and the expected
result, and asks for an explicit confirmation ("yes"). Every step is
appended to the attestation log --log, fsynced, with the SHA-256 of every
file read or written; no secret ever enters it.

Crypto officers activate an HSM by presenting M of N credentials; the HSM
PIN is rebuilt in memory only and wiped once used. Witnesses sign the log's
head with their SSH keys; the ceremony attestation key in the HSM seals it.

An interrupted ceremony resumes when run again with the same script and
log: steps recorded as done are not redone (their files must be unchanged),
a step that touched the HSM but was not recorded as done is repeated only on
an explicit decision, and the quorum is presented again before the HSM is
used, since its secret was never stored.

--answers FILE gives every operator input for a rehearsal (mode: rehearsal
in the script; refused for production ceremonies): confirmations, the
words typed back, credential files and passphrase files, witness keys.
See docs/ceremonies.md for the script and answers formats.

Exit status: 0 the ceremony is complete; 1 a step rejected its input (KSR
invalid, words differ, quorum not met, signature does not verify), was not
confirmed, or the log cannot be resumed; 2 the script or answers file is
not usable; 3 HSM or environment error; 130 interrupted.`,
		Example: `  ksk ceremony run quarterly-signing.yaml --dir work/ --log work/ceremony.log
  ksk ceremony run quarterly-signing.yaml --dir work/ --log work/ceremony.log --answers rehearsal.yaml --transcript work/transcript.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if logPath == "" {
				return usageErrorf("--log is required")
			}
			if workFactor < 10 || workFactor > quorum.MaxWorkFactor {
				return usageErrorf("--scrypt-work-factor must be between 10 and %d (what a ceremony accepts when it opens a credential)", quorum.MaxWorkFactor)
			}
			if transcript != "" {
				if err := atomicfile.CheckFree(transcript); err != nil {
					return fmt.Errorf("%w: --transcript %w", errUsage, err)
				}
			}
			plan, err := f.plan(args[0])
			if err != nil {
				return err
			}
			tty := ceremony.NewTerminal(a.in, a.errOrOut())
			tty.Ctx = cmd.Context()
			var op ceremony.Operator = tty
			if answers != "" {
				ans, err := ceremony.LoadAnswers(answers)
				if err != nil {
					return fmt.Errorf("%w: %w", errUsage, err)
				}
				op = ans
			}
			res, err := ceremony.Run(cmd.Context(), plan, ceremony.RunOptions{Log: logPath, Operator: op, Out: a.errOrOut(),
				Workers: workers, Version: version, WorkFactor: workFactor})
			if err != nil {
				if res != nil {
					fmt.Fprintf(a.errOrOut(), "\nThe ceremony stopped. Log %s: %d entries, head %s\nIt verifies up to its last entry; run the same command again to resume.\n", logPath, res.Entries, res.Head)
				}
				return err
			}
			if transcript != "" {
				if err := writeTranscript(logPath, transcript); err != nil {
					return err
				}
			}
			if a.output == "json" {
				return a.writeJSON(map[string]any{"complete": res.Complete, "log": res.Log, "head": res.Head.String(),
					"head_pgp_words": res.Head.Words(), "entries": res.Entries, "resumed": res.Resumed, "skipped": res.Skipped,
					"outputs": res.Outputs, "transcript": transcript})
			}
			fmt.Fprintf(a.out, "\nCeremony complete.\nLog: %s (%d entries)\n\nWrite this head on the paper script; it is the head ksk log verify --head checks:\nHead: %s\nPGP Words: %s\n\n", res.Log, res.Entries, res.Head, res.Head.Words())
			for _, o := range res.Outputs {
				fmt.Fprintf(a.out, "Output: %s\n", o)
			}
			if transcript != "" {
				fmt.Fprintf(a.out, "Transcript: %s\n", transcript)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&logPath, "log", "", "the attestation log: created if it does not exist, resumed if it does (required)")
	cmd.Flags().StringVar(&answers, "answers", "", "answers file for a rehearsal: every operator input, secrets by file")
	cmd.Flags().StringVar(&transcript, "transcript", "", "write the log's transcript (as ksk log show prints it) here when the ceremony completes")
	cmd.Flags().IntVar(&workers, "workers", 0, "bundles a sign step signs at once (default: the signer's)")
	cmd.Flags().IntVar(&workFactor, "scrypt-work-factor", quorum.DefaultWorkFactor, "scrypt work factor (log2 N) of credentials a credentials-issue step writes; lower only in tests")
	return cmd
}

// errOrOut is where interactive narration goes: stderr when stdout
// carries JSON, else stdout.
func (a *app) errOrOut() interface{ Write([]byte) (int, error) } {
	if a.output == "json" {
		return a.errOut
	}
	return a.out
}

// writeTranscript writes the transcript of a log to path atomically.
func writeTranscript(logPath, path string) error {
	in, err := os.Open(logPath)
	if err != nil {
		return fmt.Errorf("%w: %w", errEnvironment, err)
	}
	defer in.Close()
	var b strings.Builder
	if _, err := attest.WriteTranscript(&b, logPath, in, attest.VerifyOptions{}); err != nil {
		return fmt.Errorf("%w: transcript: %w", errRejected, err)
	}
	if err := atomicfile.Write(path, []byte(b.String()), 0o644, false); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return nil
}
