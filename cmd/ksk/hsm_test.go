package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

// kskRun runs ksk in-process and checks that no secret of the token ever
// appears on stdout or stderr.
func kskRun(t *testing.T, tk *softhsmtest.Token, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	code, stdout, stderr = runKSK(t, stdin, args...)
	if tk != nil {
		for _, secret := range []string{tk.UserPIN, tk.SOPIN} {
			if strings.Contains(stdout, secret) || strings.Contains(stderr, secret) {
				t.Fatalf("ksk %v: a PIN appeared in the output:\n%s\n%s", args, stdout, stderr)
			}
		}
	}
	return code, stdout, stderr
}

// mustRun runs ksk and fails unless it exits 0.
func mustRun(t *testing.T, tk *softhsmtest.Token, args ...string) string {
	t.Helper()
	code, out, errOut := kskRun(t, tk, "", args...)
	if code != 0 {
		t.Fatalf("ksk %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

// mustJSON runs ksk with -o json and decodes its single JSON object.
func mustJSON(t *testing.T, tk *softhsmtest.Token, v any, args ...string) {
	t.Helper()
	out := mustRun(t, tk, append(args, "-o", "json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("ksk %v: output is not the expected JSON object: %v\n%s", args, err, out)
	}
	if dec.More() {
		t.Fatalf("ksk %v: more than one JSON value:\n%s", args, out)
	}
}

// wantFailure checks an exit code and a one-line reason on stderr that
// contains each of the given fragments.
func wantFailure(t *testing.T, code int, stderr string, wantCode int, fragments ...string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("exit %d, want %d; stderr: %s", code, wantCode, stderr)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "ksk: ") {
		t.Errorf("want one line \"ksk: reason\" on stderr, got %q", stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(stderr, f) {
			t.Errorf("stderr %q does not mention %q", stderr, f)
		}
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHSMInfo(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	var info struct {
		Module struct {
			Path string `json:"path"`
		} `json:"module"`
		Token *struct {
			Label  string   `json:"label"`
			Serial string   `json:"serial"`
			Flags  []string `json:"flags"`
		} `json:"token"`
		PINFailures *struct {
			Failures int `json:"failures"`
			Limit    int `json:"limit"`
		} `json:"pin_failures"`
		Mechanisms []struct {
			Name      string `json:"name"`
			Supported bool   `json:"supported"`
		} `json:"mechanisms"`
	}
	var raw map[string]any
	out := mustRun(t, tk, "hsm", "info", "-o", "json")
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	if info.Module.Path != tk.Module || info.Token == nil || info.Token.Label != tk.Label || info.Token.Serial != tk.Serial {
		t.Fatalf("hsm info: %s", out)
	}
	if info.PINFailures == nil || info.PINFailures.Limit != 3 {
		t.Errorf("no failed-login counter in %s", out)
	}
	sup := map[string]bool{}
	for _, m := range info.Mechanisms {
		sup[m.Name] = m.Supported
	}
	for _, n := range []string{"CKM_RSA_PKCS", "CKM_ECDSA", "CKM_EDDSA", "CKM_EC_EDWARDS_KEY_PAIR_GEN"} {
		if !sup[n] {
			t.Errorf("hsm info: %s not reported as supported", n)
		}
	}
	text := mustRun(t, tk, "hsm", "info")
	for _, want := range []string{tk.Label, tk.Serial, "CKM_EDDSA", "Failed logins:"} {
		if !strings.Contains(text, want) {
			t.Errorf("hsm info text lacks %q:\n%s", want, text)
		}
	}
	// --token-serial alone selects by serial, whatever $KSK_TOKEN says.
	t.Setenv("KSK_TOKEN", "some-other-token")
	if text := mustRun(t, tk, "keys", "list", "--token-serial", tk.Serial); !strings.Contains(text, tk.Label) {
		t.Errorf("--token-serial did not select the token:\n%s", text)
	}
	// Without a token it lists the tokens.
	t.Setenv("KSK_TOKEN", "")
	if text := mustRun(t, tk, "hsm", "info"); !strings.Contains(text, tk.Serial) {
		t.Errorf("hsm info without a token does not list it:\n%s", text)
	}
}

func TestHSMErrorsExit3(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	wrong := writeFile(t, "not-"+tk.UserPIN+"\n")

	code, _, errOut := kskRun(t, tk, "", "keys", "list", "--pin-source", "file:"+wrong)
	wantFailure(t, code, errOut, exitEnvironment, "PIN incorrect", tk.Label)
	if strings.Contains(errOut, "not-"+tk.UserPIN) {
		t.Fatal("the wrong PIN was echoed")
	}

	code, _, errOut = kskRun(t, tk, "", "keys", "list", "--module", "/nonexistent/libsofthsm2.so")
	wantFailure(t, code, errOut, exitEnvironment, "/nonexistent/libsofthsm2.so", "not found")

	code, _, errOut = kskRun(t, tk, "", "keys", "ds", "--label", "no-such-key")
	wantFailure(t, code, errOut, exitEnvironment, `"no-such-key"`, "not found")

	code, _, errOut = kskRun(t, tk, "", "keys", "list", "--token", "no-such-token")
	wantFailure(t, code, errOut, exitEnvironment, `"no-such-token"`, "not found")

	t.Setenv("KSK_PKCS11_MODULE", "")
	code, _, errOut = kskRun(t, tk, "", "keys", "list")
	wantFailure(t, code, errOut, exitEnvironment, "KSK_PKCS11_MODULE")
	t.Setenv("KSK_PKCS11_MODULE", tk.Module)

	t.Setenv("KSK_PIN_SOURCE", "env:KSK_TEST_UNSET_PIN")
	code, _, errOut = kskRun(t, tk, "", "keys", "list")
	wantFailure(t, code, errOut, exitEnvironment, "KSK_TEST_UNSET_PIN")
}

func TestHSMUsageErrorsExit2(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	// A PIN typed where a PIN source belongs is refused and not echoed.
	code, _, errOut := kskRun(t, tk, "", "keys", "list", "--pin-source", tk.UserPIN)
	wantFailure(t, code, errOut, exitUsage, "env:NAME")
	code, _, errOut = kskRun(t, tk, "", "keys", "generate", "--label", "x", "--algorithm", "RSASHA1")
	wantFailure(t, code, errOut, exitUsage, "RSASHA1")
	code, _, errOut = kskRun(t, tk, "", "keys", "generate", "--label", "x", "--algorithm", "RSASHA256", "--bits", "1024")
	wantFailure(t, code, errOut, exitUsage, "1024")
	code, _, errOut = kskRun(t, tk, "", "keys", "generate", "--algorithm", "ED25519")
	wantFailure(t, code, errOut, exitUsage, "--label")
	code, _, errOut = kskRun(t, tk, "", "keys", "ds", "--label", "x", "--digest", "md5")
	wantFailure(t, code, errOut, exitUsage, "--digest")
}

func TestPINLockoutAndUnlock(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	wrong := writeFile(t, "bad\n")
	for i := 1; i <= 3; i++ {
		code, _, errOut := kskRun(t, tk, "", "keys", "list", "--pin-source", "file:"+wrong)
		wantFailure(t, code, errOut, exitEnvironment, "PIN incorrect")
	}
	// Locked: even the right PIN is not tried.
	code, _, errOut := kskRun(t, tk, "", "keys", "list")
	wantFailure(t, code, errOut, exitEnvironment, "PIN locked", "ksk hsm unlock")
	// Nothing of one call loosens the counter (issue 17): a fresh state
	// directory still sees the lock, a higher limit is refused.
	fresh := filepath.Join(t.TempDir(), "fresh")
	code, _, errOut = kskRun(t, tk, "", "keys", "list", "--state-dir", fresh)
	wantFailure(t, code, errOut, exitEnvironment, "PIN locked")
	code, _, errOut = kskRun(t, tk, "", "keys", "list", "--pin-failure-limit", "10")
	wantFailure(t, code, errOut, exitUsage, "stricter")
	t.Setenv("KSK_PIN_FAILURE_LIMIT", "10")
	code, _, errOut = kskRun(t, tk, "", "keys", "list")
	wantFailure(t, code, errOut, exitUsage, "stricter")
	t.Setenv("KSK_PIN_FAILURE_LIMIT", "")
	if out := mustRun(t, tk, "hsm", "info"); !strings.Contains(out, "LOCKED") {
		t.Errorf("hsm info does not show the lock:\n%s", out)
	}
	// A wrong SO PIN does not unlock.
	code, _, errOut = kskRun(t, tk, "", "hsm", "unlock", "--so-pin-source", "file:"+wrong)
	wantFailure(t, code, errOut, exitEnvironment, "security officer", "PIN incorrect")
	// The SO unlocks and sets a new user PIN.
	newPIN := writeFile(t, "fresh-"+tk.UserPIN+"\n")
	t.Setenv("KSK_SO_PIN_SOURCE", tk.SOPINSource().String())
	var res struct {
		Unlocked   bool `json:"unlocked"`
		PINChanged bool `json:"user_pin_changed"`
		Token      any  `json:"token"`
	}
	mustJSON(t, tk, &res, "hsm", "unlock", "--new-pin-source", "file:"+newPIN)
	if !res.Unlocked || !res.PINChanged {
		t.Fatalf("unlock: %+v", res)
	}
	code, _, errOut = kskRun(t, tk, "", "keys", "list")
	wantFailure(t, code, errOut, exitEnvironment, "PIN incorrect")
	mustRun(t, tk, "keys", "list", "--pin-source", "file:"+newPIN)
}

func TestHelpHasExamples(t *testing.T) {
	for _, args := range [][]string{
		{"keys"}, {"keys", "generate"}, {"keys", "list"}, {"keys", "delete"}, {"keys", "ds"},
		{"hsm"}, {"hsm", "info"}, {"hsm", "unlock"},
	} {
		code, out, errOut := kskRun(t, nil, "", append(args, "--help")...)
		if code != 0 || !strings.Contains(out, "Example") || !strings.Contains(out, "--pin-source") {
			t.Errorf("ksk %v --help: exit %d, no example or HSM flags:\n%s%s", args, code, out, errOut)
		}
	}
}
