package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Environment variables of the HSM flags (docs/hsm.md).
const (
	envModule      = "KSK_PKCS11_MODULE"
	envToken       = "KSK_TOKEN"
	envTokenSerial = "KSK_TOKEN_SERIAL"
	envPINSource   = "KSK_PIN_SOURCE"
	envSOPINSource = "KSK_SO_PIN_SOURCE"
)

// hsmFlags are the flags shared by every command that opens a token. An
// empty flag falls back to its environment variable.
type hsmFlags struct {
	module      string
	token       string
	tokenSerial string
	pinSource   string
	stateDir    string
	pinLimit    int
}

const hsmFlagsHelp = `The token is chosen by label (--token, $KSK_TOKEN) or serial
(--token-serial, $KSK_TOKEN_SERIAL), never by slot number. The PIN comes from
--pin-source or $KSK_PIN_SOURCE (default env:KSK_PIN): env:NAME, file:PATH or
prompt; never from the command line. After 3 failed logins in a row ksk stops
trying until a security officer runs "ksk hsm unlock" (docs/hsm.md).`

// register adds the flags to cmd as persistent flags, so subcommands
// inherit them.
func (f *hsmFlags) register(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringVar(&f.module, "module", "", "path of the PKCS#11 module (default $"+envModule+")")
	fs.StringVar(&f.token, "token", "", "token label (default $"+envToken+" when --token-serial is not given either)")
	fs.StringVar(&f.tokenSerial, "token-serial", "", "token serial number (default $"+envTokenSerial+" when --token is not given either)")
	fs.StringVar(&f.pinSource, "pin-source", "", "user PIN source: env:NAME, file:PATH or prompt (default $"+envPINSource+", else "+hsm.DefaultPINSource+")")
	fs.StringVar(&f.stateDir, "state-dir", "", "a directory that also counts failed logins, besides $XDG_STATE_HOME/ksk or ~/.local/state/ksk (and $"+hsm.EnvStateDir+"): it can only make the counter stricter")
	fs.IntVar(&f.pinLimit, "pin-failure-limit", 0, fmt.Sprintf("failed logins in a row after which ksk refuses to try; may only lower $%s or the default %d", hsm.EnvPINFailureLimit, hsm.DefaultPINFailureLimit))
}

func orEnv(v, env string) string {
	if v != "" {
		return v
	}
	return os.Getenv(env)
}

func (f *hsmFlags) modulePath() string { return orEnv(f.module, envModule) }

// selector returns the token the flags name; only when neither --token
// nor --token-serial is given do $KSK_TOKEN and $KSK_TOKEN_SERIAL apply.
func (f *hsmFlags) selector() hsm.TokenSelector {
	if f.token != "" || f.tokenSerial != "" {
		return hsm.TokenSelector{Label: f.token, Serial: f.tokenSerial}
	}
	return hsm.TokenSelector{Label: os.Getenv(envToken), Serial: os.Getenv(envTokenSerial)}
}

func (f *hsmFlags) hasSelector() bool {
	s := f.selector()
	return s.Label != "" || s.Serial != ""
}

func (f *hsmFlags) pin() (hsm.PINSource, error) {
	spec := orEnv(f.pinSource, envPINSource)
	if spec == "" {
		spec = hsm.DefaultPINSource
	}
	src, err := hsm.ParsePINSource(spec)
	if err != nil {
		return src, fmt.Errorf("--pin-source: %w", err)
	}
	return src, nil
}

// soPINSource returns the security officer's PIN source: the flag, else
// $KSK_SO_PIN_SOURCE, else prompt.
func soPINSource(flag string) (hsm.PINSource, error) {
	spec := orEnv(flag, envSOPINSource)
	if spec == "" {
		spec = "prompt"
	}
	src, err := hsm.ParsePINSource(spec)
	if err != nil {
		return src, fmt.Errorf("--so-pin-source: %w", err)
	}
	return src, nil
}

// counter is the failed-login counter: --state-dir adds a directory that
// counts too, and --pin-failure-limit may only lower the limit, so that no
// flag or variable of one call can start the count afresh or allow more
// guesses (docs/threat-model.md).
func (f *hsmFlags) counter() (*hsm.FailureCounter, error) {
	if f.pinLimit < 0 {
		return nil, usageErrorf("--pin-failure-limit must be positive")
	}
	c, err := hsm.DefaultFailureCounter()
	switch {
	case err == nil:
	case errors.Is(err, hsm.ErrState) && f.stateDir != "":
		c = &hsm.FailureCounter{Dir: f.stateDir, Limit: envLimitOrDefault()}
	default:
		return nil, err
	}
	if f.stateDir != "" {
		c.Also = append(c.Also, f.stateDir)
	}
	if f.pinLimit > 0 {
		if c.Limit, err = hsm.StricterLimit(c.Limit, strconv.Itoa(f.pinLimit), "--pin-failure-limit"); err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	return c, nil
}

func envLimitOrDefault() int {
	n, err := hsm.StricterLimit(hsm.DefaultPINFailureLimit, os.Getenv(hsm.EnvPINFailureLimit), hsm.EnvPINFailureLimit)
	if err != nil {
		return hsm.DefaultPINFailureLimit
	}
	return n
}

// session is an open module and token; close releases both.
type session struct {
	mod *hsm.Module
	tok *hsm.Token
}

func (s *session) close() {
	if s.tok != nil {
		s.tok.Close()
	}
	if s.mod != nil {
		s.mod.Close()
	}
}

// openModule loads the module named by --module or $KSK_PKCS11_MODULE.
func (f *hsmFlags) openModule() (*hsm.Module, error) {
	return hsm.OpenModule(f.modulePath())
}

// open opens the module and the selected token and, when login is true,
// logs the user in. The PIN source is checked before the module is loaded
// so a malformed one is a usage error whatever the HSM's state.
func (f *hsmFlags) open(a *app, login bool) (*session, error) {
	var (
		src hsm.PINSource
		c   *hsm.FailureCounter
		err error
	)
	if login {
		if src, err = f.pin(); err != nil {
			return nil, err
		}
		if c, err = f.counter(); err != nil {
			return nil, err
		}
	}
	s := &session{}
	if s.mod, err = f.openModule(); err != nil {
		return nil, err
	}
	if s.tok, err = s.mod.OpenToken(f.selector()); err != nil {
		s.close()
		return nil, err
	}
	if login {
		err := s.tok.Login(hsm.LoginOptions{PIN: src, Prompter: a.prompter(), Counter: c})
		if err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// prompter reads a secret from the terminal without echo: from stdin when
// it is a terminal, else from /dev/tty. With a non-file stdin (tests) there
// is no terminal.
func (a *app) prompter() hsm.Prompter {
	return func(prompt string) ([]byte, error) {
		in, ok := a.in.(*os.File)
		if !ok {
			return nil, errors.New("no terminal to prompt on")
		}
		fd := int(in.Fd())
		if !term.IsTerminal(fd) {
			tty, err := os.Open("/dev/tty")
			if err != nil {
				return nil, errors.New("no terminal to prompt on")
			}
			defer tty.Close()
			fd = int(tty.Fd())
		}
		fmt.Fprint(a.errOut, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(a.errOut)
		if err != nil {
			clear(b)
			return nil, fmt.Errorf("read from terminal: %w", err)
		}
		return b, nil
	}
}
