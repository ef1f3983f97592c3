package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// app carries what every command needs: its streams and the output format.
type app struct {
	in     io.Reader
	out    io.Writer
	errOut io.Writer
	output string // "text" or "json"
}

// run builds the command tree, executes it and returns the process exit code.
func run(args []string, in io.Reader, out, errOut io.Writer) int {
	cw := &countingWriter{w: out}
	a := &app{in: in, out: cw, errOut: errOut, output: "text"}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(cw)
	root.SetErr(errOut)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", errInterrupted, err)
	}
	code := exitCode(err)
	var s silentError
	if !errors.As(err, &s) {
		fmt.Fprintf(errOut, "ksk: %v\n", err)
		// With -o json, a program reading stdout gets the error as JSON
		// too, unless the command already printed its JSON result.
		if a.output == "json" && cw.n == 0 {
			_ = json.NewEncoder(out).Encode(struct {
				Error    string `json:"error"`
				ExitCode int    `json:"exit_code"`
			}{err.Error(), code})
		}
	}
	return code
}

// countingWriter counts what a command wrote to stdout.
type countingWriter struct {
	w io.Writer
	n int64
}

// Fd is the underlying file's descriptor, so that whoever asks whether
// stdout is a terminal still can; ^0 when it is not a file.
func (c *countingWriter) Fd() uintptr {
	if f, ok := c.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "ksk",
		Short: "Run DNSSEC KSK ceremonies: verify KSRs, sign SKRs, manage KSKs in an HSM",
		Long: `ksk steps an operator through a DNSSEC Key Signing Key ceremony the way the
DNS root zone's are run: it loads the KSK through PKCS#11, verifies Key
Signing Requests (IANA's XML format) and signs them into Signed Key Responses.

Exit codes: 0 success, 1 input rejected, 2 usage or configuration error,
3 HSM or environment error, 130 interrupted (see docs/exit-codes.md).`,
		Example: `  ksk hash ksr-root-2017-q2-0.xml
  ksk ksr verify --at 2017-04-01T00:00:00Z ksr-root-2017-q2-0.xml
  KSK_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so KSK_TOKEN=ksk ksk keys list`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.output != "text" && a.output != "json" {
				return usageErrorf("--output must be text or json, not %q", a.output)
			}
			return nil
		},
	}
	root.PersistentFlags().StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageErrorf("%v", err)
	})
	root.AddCommand(
		newVersionCmd(a),
		newHashCmd(a),
		newKSRCmd(a),
		newSKRCmd(a),
		newKeysCmd(a),
		newHSMCmd(a),
		newLogCmd(a),
		newDRCmd(a),
		newSignCmd(a),
		newTrustAnchorCmd(a),
		newCredentialsCmd(a),
		newCeremonyCmd(a),
		newRolloverCmd(a),
	)
	registerCompletions(root)
	return root
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the ksk version",
		Example: "  ksk version\n  ksk version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.output == "json" {
				return a.writeJSON(map[string]string{"version": version})
			}
			_, err := fmt.Fprintf(a.out, "ksk %s\n", version)
			return err
		},
	}
}
