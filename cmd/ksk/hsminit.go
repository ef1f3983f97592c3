package main

import (
	"fmt"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/spf13/cobra"
)

func newHSMInitTokenCmd(a *app, hf *hsmFlags) *cobra.Command {
	var label, soSource string
	cmd := &cobra.Command{
		Use:   "init-token --label L [--so-pin-source SRC] [--pin-source SRC]",
		Short: "Initialise a new token (rehearsal and test tokens such as SoftHSM's)",
		Long: `init-token initialises the first uninitialised token of the module with the
label given, sets its security officer PIN from --so-pin-source (default
$KSK_SO_PIN_SOURCE, else prompt) and its user PIN from --pin-source (default
$KSK_PIN_SOURCE, else env:KSK_PIN). PINs never come from the command line,
so unlike softhsm2-util --init-token they never show in the process list.

A label that an initialised token of the module already has is refused.
Production HSMs are usually initialised with the vendor's own tools.`,
		Example: `  umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > so.pin
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > user.pin
  ksk hsm init-token --label ksk-rehearsal --so-pin-source file:so.pin --pin-source file:user.pin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if label == "" {
				return usageErrorf("--label is required")
			}
			so, err := soPINSource(soSource)
			if err != nil {
				return err
			}
			user, err := hf.pin()
			if err != nil {
				return err
			}
			soPIN, err := so.Read(a.prompter(), "security officer PIN for the new token")
			if err != nil {
				return err
			}
			defer clear(soPIN)
			userPIN, err := user.Read(a.prompter(), "user PIN for the new token")
			if err != nil {
				return err
			}
			defer clear(userPIN)
			mod, err := hf.openModule()
			if err != nil {
				return err
			}
			defer mod.Close()
			ti, err := mod.InitToken(label, soPIN, userPIN)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.writeJSON(struct {
					Token hsm.TokenInfo `json:"token"`
				}{ti})
			}
			_, err = fmt.Fprintf(a.out, "Initialised %s\n", ti)
			return err
		},
	}
	cmd.Flags().StringVar(&label, "label", "", "label of the new token (1 to 32 bytes)")
	cmd.Flags().StringVar(&soSource, "so-pin-source", "", "security officer PIN source: env:NAME, file:PATH or prompt (default $"+envSOPINSource+", else prompt)")
	return cmd
}
