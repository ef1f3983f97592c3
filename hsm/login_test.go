package hsm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

func writePIN(t *testing.T, pin string) hsm.PINSource {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(p, []byte(pin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return hsm.PINSource{Kind: hsm.PINFromFile, Name: p}
}

func TestLoginCounter(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.OpenNoLogin(t)
	counter := &hsm.FailureCounter{Dir: privateDir(t), Limit: 3}
	wrong := "wrong-" + tk.UserPIN
	bad := hsm.LoginOptions{PIN: writePIN(t, wrong), Counter: counter}

	for i := 1; i <= 3; i++ {
		err := tok.Login(bad)
		if !errors.Is(err, hsm.ErrPINIncorrect) {
			t.Fatalf("attempt %d: %v, want ErrPINIncorrect", i, err)
		}
		assertNoSecret(t, err.Error(), wrong, tk.UserPIN, tk.SOPIN)
		if !strings.Contains(err.Error(), tk.Label) {
			t.Errorf("error does not name the token: %v", err)
		}
		st, _ := counter.State(tok.Info(), hsm.User)
		if st.Failures != i {
			t.Fatalf("after %d failures the counter says %d", i, st.Failures)
		}
	}
	// At the limit even the right PIN is not tried.
	good := hsm.LoginOptions{PIN: tk.PINSource(), Counter: counter}
	err := tok.Login(good)
	if !errors.Is(err, hsm.ErrPINLocked) || errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("at the limit: %v, want ErrPINLocked", err)
	}
	if !strings.Contains(err.Error(), "ksk hsm unlock") {
		t.Errorf("locked error does not say how to reset: %v", err)
	}
	if tok.LoggedIn() {
		t.Fatal("logged in while locked")
	}

	// A wrong SO PIN is counted separately and unlocks nothing.
	err = tok.Unlock(hsm.UnlockOptions{SO: hsm.LoginOptions{PIN: writePIN(t, "bad-so"), Counter: counter}})
	if !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("Unlock with a wrong SO PIN: %v", err)
	}
	if st, _ := counter.State(tok.Info(), hsm.SecurityOfficer); st.Failures != 1 {
		t.Fatalf("SO failures %d, want 1", st.Failures)
	}
	if err := tok.Login(good); !errors.Is(err, hsm.ErrPINLocked) {
		t.Fatalf("still locked after failed unlock: %v", err)
	}

	// The security officer resets the count.
	if err := tok.Unlock(hsm.UnlockOptions{SO: hsm.LoginOptions{PIN: tk.SOPINSource(), Counter: counter}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []hsm.UserType{hsm.User, hsm.SecurityOfficer} {
		if st, _ := counter.State(tok.Info(), u); st.Failures != 0 {
			t.Fatalf("%s failures %d after unlock", u, st.Failures)
		}
	}
	if err := tok.Login(bad); !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("after unlock: %v", err)
	}
	// Success resets the count.
	if err := tok.Login(good); err != nil {
		t.Fatal(err)
	}
	if st, _ := counter.State(tok.Info(), hsm.User); st.Failures != 0 {
		t.Fatalf("failures %d after a good login", st.Failures)
	}
}

func TestUnlockSetsNewPIN(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.OpenNoLogin(t)
	counter := &hsm.FailureCounter{Dir: privateDir(t)}
	newPIN := writePIN(t, "new-"+tk.UserPIN)
	err := tok.Unlock(hsm.UnlockOptions{SO: hsm.LoginOptions{PIN: tk.SOPINSource(), Counter: counter}, NewUserPIN: &newPIN})
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Login(hsm.LoginOptions{PIN: tk.PINSource(), Counter: counter}); !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("old PIN after reset: %v", err)
	}
	if err := tok.Login(hsm.LoginOptions{PIN: newPIN, Counter: counter}); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
}

func TestLoginPINSourceErrors(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.OpenNoLogin(t)
	counter := &hsm.FailureCounter{Dir: privateDir(t)}
	for name, src := range map[string]hsm.PINSource{
		"unset env":    {Kind: hsm.PINFromEnv, Name: "KSK_TEST_PIN_NEVER_SET"},
		"missing file": {Kind: hsm.PINFromFile, Name: filepath.Join(t.TempDir(), "none")},
		"prompt":       {Kind: hsm.PINFromPrompt},
	} {
		err := tok.Login(hsm.LoginOptions{PIN: src, Counter: counter})
		if !errors.Is(err, hsm.ErrPINSource) {
			t.Errorf("%s: %v, want ErrPINSource", name, err)
		}
	}
	// Failing to read a PIN is not a failed login.
	if st, _ := counter.State(tok.Info(), hsm.User); st.Failures != 0 {
		t.Errorf("PIN source errors counted as %d failures", st.Failures)
	}
	// The env source and a prompter work.
	t.Setenv("KSK_TEST_PIN", tk.UserPIN)
	if err := tok.Login(hsm.LoginOptions{PIN: hsm.PINSource{Kind: hsm.PINFromEnv, Name: "KSK_TEST_PIN"}, Counter: counter}); err != nil {
		t.Fatal(err)
	}
	tok.Logout()
	asked := ""
	p := func(prompt string) ([]byte, error) { asked = prompt; return []byte(tk.UserPIN), nil }
	if err := tok.Login(hsm.LoginOptions{PIN: hsm.PINSource{Kind: hsm.PINFromPrompt}, Prompter: p, Counter: counter}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(asked, tk.Label) {
		t.Errorf("prompt %q does not name the token", asked)
	}
}

func TestDamagedCounterIsLocked(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.OpenNoLogin(t)
	counter := &hsm.FailureCounter{Dir: privateDir(t)}
	path := counter.Path(tok.Info(), hsm.User)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tok.Login(hsm.LoginOptions{PIN: tk.PINSource(), Counter: counter}); !errors.Is(err, hsm.ErrPINLocked) {
		t.Fatalf("damaged counter: %v, want ErrPINLocked", err)
	}
}

// privateDir is a temporary directory with mode 0700, as the counter
// requires of its state directory.
func privateDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCounterCannotBeLoosened: a state directory given for one call
// counts besides the user's own, so a fresh one does not start the count
// afresh; the limit may only be lowered; a state directory others can
// write to, or a symbolic link, is refused.
func TestCounterCannotBeLoosened(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.OpenNoLogin(t)
	base := privateDir(t)
	wrong := hsm.PINSource{Kind: hsm.PINFromEnv, Name: "KSK_T_WRONG"}
	t.Setenv("KSK_T_WRONG", "0000")
	counter := &hsm.FailureCounter{Dir: base, Limit: 3}
	for i := 0; i < 3; i++ {
		if err := tok.Login(hsm.LoginOptions{PIN: wrong, Counter: counter}); !errors.Is(err, hsm.ErrPINIncorrect) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	fresh := &hsm.FailureCounter{Dir: base, Also: []string{privateDir(t)}, Limit: 3}
	if err := tok.Login(hsm.LoginOptions{PIN: tk.PINSource(), Counter: fresh}); !errors.Is(err, hsm.ErrPINLocked) {
		t.Errorf("a fresh extra state directory reopened the count: %v", err)
	}

	for _, tt := range []struct {
		v       string
		want    int
		invalid bool
	}{{"", 3, false}, {"2", 2, false}, {"3", 3, false}, {"4", 0, true}, {"0", 0, true}, {"x", 0, true}} {
		got, err := hsm.StricterLimit(3, tt.v, "KSK_PIN_FAILURE_LIMIT")
		if got != tt.want || errors.Is(err, hsm.ErrInvalidArgument) != tt.invalid {
			t.Errorf("StricterLimit(3, %q) = %d, %v", tt.v, got, err)
		}
	}
	t.Setenv(hsm.EnvPINFailureLimit, "10")
	if _, err := hsm.DefaultFailureCounter(); !errors.Is(err, hsm.ErrInvalidArgument) || !strings.Contains(err.Error(), "stricter") {
		t.Errorf("KSK_PIN_FAILURE_LIMIT=10: %v", err)
	}

	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(privateDir(t), "link")
	if err := os.Symlink(privateDir(t), link); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"mode 0777": open, "symbolic link": link} {
		c := &hsm.FailureCounter{Dir: dir}
		if err := tok.Login(hsm.LoginOptions{PIN: tk.PINSource(), Counter: c}); !errors.Is(err, hsm.ErrState) {
			t.Errorf("state directory with %s: %v, want ErrState", name, err)
		}
	}
}
