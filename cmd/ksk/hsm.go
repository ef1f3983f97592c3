package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/miekg/pkcs11"
	"github.com/spf13/cobra"
)

// hsmEnvironmentErrors are the hsm sentinels that mean exit 3.
var hsmEnvironmentErrors = []error{
	hsm.ErrModule, hsm.ErrTokenNotFound, hsm.ErrTokenAmbiguous, hsm.ErrPINSource,
	hsm.ErrPINIncorrect, hsm.ErrPINLocked, hsm.ErrNotLoggedIn, hsm.ErrKeyNotFound,
	hsm.ErrKeyAmbiguous, hsm.ErrLabelExists, hsm.ErrMechanism, hsm.ErrUnsupportedKey,
	hsm.ErrSignatureInvalid, hsm.ErrState, hsm.ErrPKCS11, hsm.ErrKeyAttributes,
}

// classifyHSMError maps the hsm package's errors to exit codes: malformed
// requests (unknown algorithm, bad PIN source syntax) are usage errors,
// everything else the HSM or its environment caused is exit 3.
func classifyHSMError(err error) int {
	if errors.Is(err, hsm.ErrInvalidArgument) {
		return exitUsage
	}
	for _, s := range hsmEnvironmentErrors {
		if errors.Is(err, s) {
			return exitEnvironment
		}
	}
	var code pkcs11.Error
	if errors.As(err, &code) {
		return exitEnvironment
	}
	return 0
}

func newHSMCmd(a *app) *cobra.Command {
	var hf hsmFlags
	cmd := &cobra.Command{
		Use:   "hsm",
		Short: "Inspect the PKCS#11 module and token; reset ksk's failed-login counter",
		Long: `Inspect the PKCS#11 module and token ksk uses.

` + hsmFlagsHelp,
		Example: `  ksk hsm info --module /usr/lib/softhsm/libsofthsm2.so
  KSK_TOKEN=ksk ksk hsm info -o json
  KSK_SO_PIN_SOURCE=prompt ksk hsm unlock --token ksk`,
		Args: subcommandArgs,
		RunE: needSubcommand,
	}
	hf.register(cmd)
	cmd.AddCommand(newHSMInfoCmd(a, &hf), newHSMUnlockCmd(a, &hf), newHSMInitTokenCmd(a, &hf))
	return cmd
}

// hsmInfo is the JSON of "ksk hsm info".
type hsmInfo struct {
	Module     hsm.ModuleInfo      `json:"module"`
	Tokens     []hsm.TokenInfo     `json:"tokens,omitempty"`
	Token      *hsm.TokenInfo      `json:"token,omitempty"`
	PINCounter *hsm.FailureState   `json:"pin_failures,omitempty"`
	Mechanisms []hsm.MechanismInfo `json:"mechanisms,omitempty"`
}

func newHSMInfoCmd(a *app, hf *hsmFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Show the module, the token, ksk's failed-login count and the DNSSEC mechanisms",
		Long: `Show the PKCS#11 module's library information and, when a token is selected,
the token's label, serial, model and flags, ksk's count of failed logins, and
which mechanisms ksk needs for DNSSEC the token supports. Without a token it
lists the module's initialised tokens. It does not log in.`,
		Example: `  ksk hsm info --module /usr/lib/softhsm/libsofthsm2.so
  ksk hsm info --module /usr/lib/softhsm/libsofthsm2.so --token ksk -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mod, err := hf.openModule()
			if err != nil {
				return err
			}
			defer mod.Close()
			var info hsmInfo
			if info.Module, err = mod.Info(); err != nil {
				return err
			}
			if !hf.hasSelector() {
				if info.Tokens, err = mod.Tokens(); err != nil {
					return err
				}
				return writeHSMInfo(a, info)
			}
			tok, err := mod.OpenToken(hf.selector())
			if err != nil {
				return err
			}
			defer tok.Close()
			ti := tok.Info()
			info.Token = &ti
			if info.Mechanisms, err = tok.Mechanisms(); err != nil {
				return err
			}
			if c, err := hf.counter(); err == nil {
				if st, err := tok.PINFailures(c); err == nil {
					info.PINCounter = &st
				}
			}
			return writeHSMInfo(a, info)
		},
	}
}

func writeHSMInfo(a *app, info hsmInfo) error {
	if a.output == "json" {
		return a.writeJSON(info)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	m := info.Module
	fmt.Fprintf(tw, "Module:\t%s\n", m.Path)
	fmt.Fprintf(tw, "Library:\t%s %s (%s), Cryptoki %s\n", m.LibraryDescription, m.LibraryVersion, m.ManufacturerID, m.CryptokiVersion)
	if info.Token == nil {
		if len(info.Tokens) == 0 {
			fmt.Fprintf(tw, "Tokens:\tnone initialised\n")
		}
		for _, t := range info.Tokens {
			fmt.Fprintf(tw, "Token:\t%q serial %s (%s, %s)\n", t.Label, t.Serial, t.Model, t.Manufacturer)
		}
		return tw.Flush()
	}
	t := info.Token
	fmt.Fprintf(tw, "Token:\t%q\n", t.Label)
	fmt.Fprintf(tw, "Serial:\t%s\n", t.Serial)
	fmt.Fprintf(tw, "Model:\t%s (%s), firmware %s, hardware %s\n", t.Model, t.Manufacturer, t.FirmwareVer, t.HardwareVer)
	fmt.Fprintf(tw, "Flags:\t%s\n", strings.Join(t.Flags, " "))
	if st := info.PINCounter; st != nil {
		state := "ok"
		if st.Locked() {
			state = `LOCKED by ksk: a security officer resets it with "ksk hsm unlock"`
		}
		fmt.Fprintf(tw, "Failed logins:\t%d of %d counted by ksk (%s)\n", st.Failures, st.Limit, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "Mechanisms:")
	tw = tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	for _, mi := range info.Mechanisms {
		sup, size := "no", ""
		if mi.Supported {
			sup = "yes"
			if mi.MaxKeySize > 0 {
				size = fmt.Sprintf("%d-%d", mi.MinKeySize, mi.MaxKeySize)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", mi.Name, sup, size, mi.Purpose)
	}
	return tw.Flush()
}

func newHSMUnlockCmd(a *app, hf *hsmFlags) *cobra.Command {
	var soSource, newSource string
	cmd := &cobra.Command{
		Use:   "unlock [--so-pin-source SRC] [--new-pin-source SRC]",
		Short: "Reset ksk's failed-login counter of a token after a security officer login",
		Long: `ksk counts failed user logins per token and, at the limit (default 3),
refuses to try again: SoftHSM never locks a PIN itself. unlock logs in as the
token's security officer (CKU_SO), whose PIN comes from --so-pin-source or
$KSK_SO_PIN_SOURCE (default prompt), and on success resets the count. With
--new-pin-source it also sets a new user PIN (C_InitPIN) from that source.
Security officer logins are counted too; when they reach the limit, the
counter file named in the error must be removed by hand.`,
		Example: `  ksk hsm unlock --token ksk
  KSK_SO_PIN_SOURCE=file:/run/ksk/so.pin ksk hsm unlock --token ksk --new-pin-source prompt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			so, err := soPINSource(soSource)
			if err != nil {
				return err
			}
			opts := hsm.UnlockOptions{SO: hsm.LoginOptions{PIN: so, Prompter: a.prompter()}}
			if newSource != "" {
				np, err := hsm.ParsePINSource(newSource)
				if err != nil {
					return fmt.Errorf("--new-pin-source: %w", err)
				}
				opts.NewUserPIN = &np
			}
			if opts.SO.Counter, err = hf.counter(); err != nil {
				return err
			}
			s, err := hf.open(a, false)
			if err != nil {
				return err
			}
			defer s.close()
			if err := s.tok.Unlock(opts); err != nil {
				return err
			}
			if a.output == "json" {
				return a.writeJSON(struct {
					Unlocked   bool          `json:"unlocked"`
					PINChanged bool          `json:"user_pin_changed"`
					Token      hsm.TokenInfo `json:"token"`
				}{true, opts.NewUserPIN != nil, s.tok.Info()})
			}
			msg := "ksk's failed-login count reset"
			if opts.NewUserPIN != nil {
				msg = "user PIN set and " + msg
			}
			_, err = fmt.Fprintf(a.out, "Unlocked %s: %s\n", s.tok.Info(), msg)
			return err
		},
	}
	cmd.Flags().StringVar(&soSource, "so-pin-source", "", "security officer PIN source: env:NAME, file:PATH or prompt (default $"+envSOPINSource+", else prompt)")
	cmd.Flags().StringVar(&newSource, "new-pin-source", "", "also set a new user PIN read from this source")
	return cmd
}
