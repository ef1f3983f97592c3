package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

func TestHSMInitToken(t *testing.T) {
	tk := softhsmtest.NewToken(t) // sets up the private SoftHSM configuration
	tk.Setenv(t)
	dir := t.TempDir()
	soPIN, userPIN := "so-9f1c2e7d5a", "user-4b8e0c3f61"
	soFile, userFile := filepath.Join(dir, "so.pin"), filepath.Join(dir, "user.pin")
	for f, pin := range map[string]string{soFile: soPIN, userFile: userPIN} {
		if err := os.WriteFile(f, []byte(pin+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	label := "init-" + tk.Label
	if len(label) > 32 {
		label = label[:32]
	}
	args := []string{"hsm", "init-token", "--label", label, "--so-pin-source", "file:" + soFile, "--pin-source", "file:" + userFile}

	code, out, errOut := runKSK(t, "", args...)
	if code != 0 || !strings.Contains(out, label) {
		t.Fatalf("init-token: exit %d\n%s%s", code, out, errOut)
	}
	// The new token works with the user PIN that was set.
	code, out, errOut = runKSK(t, "", "keys", "generate", "--token", label, "--pin-source", "file:"+userFile,
		"--label", "k1", "--algorithm", "ECDSAP256SHA256")
	if code != 0 {
		t.Fatalf("keys generate on the new token: exit %d\n%s%s", code, out, errOut)
	}
	// A second token with the same label is refused.
	code, out2, errOut2 := runKSK(t, "", args...)
	if code != exitEnvironment || !strings.Contains(errOut2, "already initialised") {
		t.Fatalf("same label again: exit %d, stderr %q", code, errOut2)
	}
	for _, s := range []string{out, errOut, out2, errOut2} {
		if strings.Contains(s, soPIN) || strings.Contains(s, userPIN) {
			t.Fatal("a PIN appeared in output")
		}
	}

	// Usage errors: no label; a PIN source that is not one.
	if code, _, _ := runKSK(t, "", "hsm", "init-token"); code != exitUsage {
		t.Errorf("no --label: exit %d, want 2", code)
	}
	if code, _, _ := runKSK(t, "", "hsm", "init-token", "--label", "x", "--so-pin-source", "argv:1234"); code != exitUsage {
		t.Errorf("bad PIN source: exit %d, want 2", code)
	}
}
