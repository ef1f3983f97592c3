// Package softhsmtest gives tests real SoftHSM2 tokens without any shell
// set-up.
//
// SoftHSM reads SOFTHSM2_CONF once, at C_Initialize, and a PKCS#11 module
// is process-global, so a test binary gets one private configuration and
// token directory, made by Main from TestMain (or, without it, by the first
// NewToken), and each test a fresh token with a unique label and random
// PINs made by NewToken:
//
//	func TestMain(m *testing.M) { os.Exit(softhsmtest.Main(m)) }
//
//	func TestSign(t *testing.T) {
//		tk := softhsmtest.NewToken(t)
//		tok := tk.Open(t) // *hsm.Token, logged in, closed at cleanup
//		tk.ImportTestKey(t, "rsa-2048-1", "ksk-2017")
//		key, err := tok.FindKey("ksk-2017")
//		...
//	}
//
// Main also points KSK_STATE_DIR at a private directory, so ksk's
// failed-login counter never touches the user's. When SoftHSM2 is not
// installed, NewToken skips the test with a message naming the package to
// install, unless the CI environment variable is set: then it fails.
package softhsmtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/testenv"
)

// EnvModule overrides the search for the SoftHSM2 module.
const EnvModule = "SOFTHSM2_MODULE"

// ModuleCandidates are where Debian, Fedora, Alpine and Homebrew install
// the SoftHSM2 module.
var ModuleCandidates = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/lib/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// ModulePath returns the SoftHSM2 module: $SOFTHSM2_MODULE if set, else
// the first of ModuleCandidates that exists, else "".
func ModulePath() string {
	if m := os.Getenv(EnvModule); m != "" {
		return m
	}
	for _, m := range ModuleCandidates {
		if _, err := os.Stat(m); err == nil {
			return m
		}
	}
	return ""
}

var (
	setupMu sync.Mutex
	confDir string // set by Main
	counter atomic.Int64
)

// Main writes a private softhsm2.conf and token directory in a temporary
// directory, sets SOFTHSM2_CONF and KSK_STATE_DIR to them, runs the tests
// and removes the directory. Call it from TestMain before anything loads
// the SoftHSM module. Without it, the first NewToken sets up the same
// thing but cannot remove it at exit (a later run does).
func Main(m *testing.M) int {
	removeStaleDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "softhsmtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	conf, err := WriteConf(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "softhsmtest:", err)
		return 1
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	os.Setenv(hsm.EnvStateDir, filepath.Join(dir, "state"))
	// The user's own state directory too, so that tests never count in
	// the ~/.local/state/ksk of whoever runs them.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "xdg-state"))
	setupMu.Lock()
	confDir = dir
	setupMu.Unlock()
	return m.Run()
}

// WriteConf writes dir/softhsm2.conf with its token directory dir/tokens
// (created mode 0700) and returns the configuration's path.
func WriteConf(dir string) (string, error) {
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf(`# written by ksk's softhsmtest: a private token store, never the system one
directories.tokendir = %s
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
`, tokens)
	return conf, os.WriteFile(conf, []byte(body), 0o600)
}

// dirPrefix names the per-process directories; the process id after it
// lets a later run remove those that outlived their process (made without
// Main, or left by a crash).
const dirPrefix = "ksk-softhsm-"

// ensureConf sets up the private configuration on first use when Main did
// not. That directory outlives the test binary (nothing runs after the
// last test), so each set-up first removes those of processes that have
// exited.
func ensureConf() error {
	setupMu.Lock()
	defer setupMu.Unlock()
	if confDir != "" {
		return nil
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid()))
	if err != nil {
		return err
	}
	conf, err := WriteConf(dir)
	if err != nil {
		return err
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	os.Setenv(hsm.EnvStateDir, filepath.Join(dir, "state"))
	// The user's own state directory too, so that tests never count in
	// the ~/.local/state/ksk of whoever runs them.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "xdg-state"))
	confDir = dir
	return nil
}

func removeStaleDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), dirPrefix)
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(m)
		}
	}
}

// Require returns the SoftHSM2 module path. When there is none it skips
// the test, or fails it when $CI is set, naming the package to install.
func Require(t testing.TB) string {
	t.Helper()
	m := ModulePath()
	if m != "" {
		if _, err := os.Stat(m); err == nil {
			return m
		}
	}
	testenv.Missing(t, "SoftHSM2 is not installed: apt-get install softhsm2 (or run scripts/softhsm.sh install)")
	return ""
}

// Token is a fresh SoftHSM token made for one test.
type Token struct {
	// Module is the SoftHSM2 module path.
	Module string
	// Label and Serial identify the token.
	Label  string
	Serial string
	// UserPIN and SOPIN are random; tests may check they never leak.
	UserPIN string
	SOPIN   string
	// UserPINFile and SOPINFile hold the PINs (mode 0600) for file: PIN
	// sources.
	UserPINFile string
	SOPINFile   string
	// StateDir is a private ksk state directory for this token's
	// failed-login counter.
	StateDir string
}

// NewToken initialises a new token with a unique label and random PINs in
// the test binary's private token directory (see Main).
func NewToken(t testing.TB) *Token {
	t.Helper()
	module := Require(t)
	if err := ensureConf(); err != nil {
		t.Fatalf("softhsmtest: %v", err)
	}
	n := counter.Add(1)
	tk := &Token{
		Module:  module,
		Label:   fmt.Sprintf("t%d-%s", n, randomHex(t, 4)),
		UserPIN: randomHex(t, 8),
		SOPIN:   randomHex(t, 8),
	}
	own := t.TempDir()
	tk.UserPINFile = filepath.Join(own, "user.pin")
	tk.SOPINFile = filepath.Join(own, "so.pin")
	tk.StateDir = filepath.Join(own, "state")
	for f, pin := range map[string]string{tk.UserPINFile: tk.UserPIN, tk.SOPINFile: tk.SOPIN} {
		if err := os.WriteFile(f, []byte(pin+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	serial, err := initToken(module, tk.Label, tk.SOPIN, tk.UserPIN)
	if err != nil {
		t.Fatalf("softhsmtest: create token %q: %v", tk.Label, err)
	}
	tk.Serial = serial
	return tk
}

// initToken creates the token with hsm.Module.InitToken, the code behind
// ksk hsm init-token, and returns its serial.
func initToken(module, label, soPIN, userPIN string) (string, error) {
	m, err := hsm.OpenModule(module)
	if err != nil {
		return "", err
	}
	defer m.Close()
	ti, err := m.InitToken(label, []byte(soPIN), []byte(userPIN))
	if err != nil {
		return "", err
	}
	return ti.Serial, nil
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Selector returns the hsm.TokenSelector of the token (by label).
func (tk *Token) Selector() hsm.TokenSelector {
	return hsm.TokenSelector{Label: tk.Label}
}

// PINSource returns the file: source of the user PIN.
func (tk *Token) PINSource() hsm.PINSource {
	return hsm.PINSource{Kind: hsm.PINFromFile, Name: tk.UserPINFile}
}

// SOPINSource returns the file: source of the security officer's PIN.
func (tk *Token) SOPINSource() hsm.PINSource {
	return hsm.PINSource{Kind: hsm.PINFromFile, Name: tk.SOPINFile}
}

// Counter returns a failed-login counter private to this token.
func (tk *Token) Counter() *hsm.FailureCounter {
	return &hsm.FailureCounter{Dir: tk.StateDir, Limit: hsm.DefaultPINFailureLimit}
}

// LoginOptions returns options that log the user in from UserPINFile,
// counting failures in StateDir.
func (tk *Token) LoginOptions() hsm.LoginOptions {
	return hsm.LoginOptions{PIN: tk.PINSource(), Counter: tk.Counter()}
}

// Open opens the module and the token and logs the user in; cleanup closes
// them.
func (tk *Token) Open(t testing.TB) *hsm.Token {
	t.Helper()
	tok := tk.OpenNoLogin(t)
	if err := tok.Login(tk.LoginOptions()); err != nil {
		t.Fatalf("softhsmtest: %v", err)
	}
	return tok
}

// OpenNoLogin opens the module and the token without logging in; cleanup
// closes them.
func (tk *Token) OpenNoLogin(t testing.TB) *hsm.Token {
	t.Helper()
	m, err := hsm.OpenModule(tk.Module)
	if err != nil {
		t.Fatalf("softhsmtest: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := m.OpenToken(tk.Selector())
	if err != nil {
		t.Fatalf("softhsmtest: %v", err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

// Setenv points ksk's environment variables (KSK_PKCS11_MODULE,
// KSK_TOKEN, KSK_PIN_SOURCE, KSK_STATE_DIR) at this token for the rest of
// the test, for tests that run the ksk command in-process. Like
// t.Setenv, it cannot be used in parallel tests.
func (tk *Token) Setenv(t *testing.T) {
	t.Helper()
	t.Setenv("KSK_PKCS11_MODULE", tk.Module)
	t.Setenv("KSK_TOKEN", tk.Label)
	t.Setenv("KSK_PIN_SOURCE", tk.PINSource().String())
	t.Setenv(hsm.EnvStateDir, tk.StateDir)
}
