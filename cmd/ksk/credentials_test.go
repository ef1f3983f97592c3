package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/quorum"
)

const (
	testCredSecret = "8831-activation-PIN"
	testPassPrefix = "correct-horse-"
)

// writeTestRoster writes an m-of-n crypto officer roster whose holders'
// passphrases come from the environment, and sets those variables.
func writeTestRoster(t *testing.T, dir, id string, m, n int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nm: %d\nn: %d\nholders:\n", id, m, n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - name: co%d\n    role: crypto-officer\n    passphrase_source: env:KSK_TEST_CO%d\n", i, i)
		t.Setenv(fmt.Sprintf("KSK_TEST_CO%d", i), fmt.Sprintf("%sco%d", testPassPrefix, i))
	}
	p := filepath.Join(dir, id+".yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func issueTestCredentials(t *testing.T, dir, roster, outDir string) []quorum.ManifestEntry {
	t.Helper()
	t.Setenv("KSK_TEST_SECRET", testCredSecret)
	code, out, errOut := runKSK(t, "", "credentials", "issue", "--roster", roster, "--secret-source", "env:KSK_TEST_SECRET",
		"--out-dir", outDir, "--scrypt-work-factor", "10", "-o", "json")
	if code != 0 {
		t.Fatalf("issue: exit %d: %s", code, errOut)
	}
	assertNoCredSecrets(t, out, errOut)
	var got struct {
		Credentials []quorum.ManifestEntry `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	return got.Credentials
}

func assertNoCredSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, testCredSecret) || strings.Contains(s, testPassPrefix) {
			t.Errorf("secret or passphrase in output:\n%s", s)
		}
	}
}

func TestCredentialsIssueAndCheck(t *testing.T) {
	dir := t.TempDir()
	roster := writeTestRoster(t, dir, "keygen-1", 3, 7)
	outDir := filepath.Join(dir, "creds")
	if err := os.Mkdir(outDir, 0o700); err != nil {
		t.Fatal(err)
	}
	creds := issueTestCredentials(t, dir, roster, outDir)
	if len(creds) != 7 {
		t.Fatalf("%d credentials", len(creds))
	}
	for _, c := range creds {
		st, err := os.Stat(c.File)
		if err != nil || st.Mode().Perm() != 0o600 || len(c.SHA256) != 64 {
			t.Errorf("%s: %v %v %q", c.File, err, st, c.SHA256)
		}
	}
	file := func(i int) string { return creds[i].File }
	src := func(i, holder int) string {
		return fmt.Sprintf("%s=env:KSK_TEST_CO%d", creds[i].File, holder)
	}

	otherDir := filepath.Join(dir, "other")
	os.Mkdir(otherDir, 0o700)
	other := issueTestCredentials(t, dir, roster, otherDir)

	altered := filepath.Join(dir, "altered.age")
	data, _ := os.ReadFile(file(2))
	lines := strings.Split(string(data), "\n")
	// Flip a character of the last base64 line (the payload's tail).
	l := lines[len(lines)-3]
	c := byte('A')
	if l[0] == 'A' {
		c = 'B'
	}
	lines[len(lines)-3] = string(c) + l[1:]
	os.WriteFile(altered, []byte(strings.Join(lines, "\n")), 0o600)

	tests := []struct {
		name   string
		args   []string
		code   int
		reason string
	}{
		{"quorum met", []string{file(0), file(1), file(2), "--passphrase-source", src(0, 1), "--passphrase-source", src(1, 2), "--passphrase-source", src(2, 3)}, 0, ""},
		{"too few", []string{file(0), file(1), "--passphrase-source", src(0, 1), "--passphrase-source", src(1, 2)}, 1, ""},
		{"wrong passphrase", []string{file(0), file(1), file(2), "--passphrase-source", src(0, 1), "--passphrase-source", src(1, 2), "--passphrase-source", src(2, 4)}, 1, "wrong-passphrase"},
		{"other split", []string{file(0), file(1), other[2].File, "--passphrase-source", src(0, 1), "--passphrase-source", src(1, 2), "--passphrase-source", other[2].File + "=env:KSK_TEST_CO3"}, 1, "other-split"},
		{"altered", []string{file(0), file(1), altered, "--passphrase-source", src(0, 1), "--passphrase-source", src(1, 2), "--passphrase-source", altered + "=env:KSK_TEST_CO3"}, 1, "altered"},
		{"bad passphrase source", []string{file(0), "--passphrase-source", file(0) + "=argv:secret"}, 2, ""},
		{"source for no file", []string{file(0), "--passphrase-source", "nope=env:X"}, 2, ""},
		{"missing file", []string{"/no/such/file"}, 2, ""},
		{"no file", []string{}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"credentials", "check", "--roster", roster, "-o", "json"}, tt.args...)
			code, out, errOut := runKSK(t, "", args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tt.code, out, errOut)
			}
			assertNoCredSecrets(t, out, errOut)
			if tt.code == 2 {
				return
			}
			var got struct {
				Valid       bool `json:"valid"`
				Credentials []struct {
					Counted bool   `json:"counted"`
					Reason  string `json:"reason"`
				} `json:"credentials"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Valid != (tt.code == 0) {
				t.Errorf("valid %v with exit %d", got.Valid, code)
			}
			if tt.reason != "" && got.Credentials[2].Reason != tt.reason {
				t.Errorf("reason %q, want %q", got.Credentials[2].Reason, tt.reason)
			}
			// The text output too: same exit code, no secrets.
			code, out, errOut = runKSK(t, "", append([]string{"credentials", "check", "--roster", roster}, tt.args...)...)
			want := "Quorum met"
			if tt.code != 0 {
				want = "Quorum NOT met"
			}
			if code != tt.code || !strings.Contains(out, want) {
				t.Errorf("text: exit %d, output:\n%s%s", code, out, errOut)
			}
			if tt.reason != "" && !strings.Contains(out, "rejected  "+tt.args[2]+": "+tt.reason) {
				t.Errorf("text output does not reject %s as %s:\n%s", tt.args[2], tt.reason, out)
			}
			assertNoCredSecrets(t, out, errOut)
		})
	}
}

func TestCredentialsIssueErrors(t *testing.T) {
	dir := t.TempDir()
	roster := writeTestRoster(t, dir, "keygen-1", 2, 3)
	outDir := filepath.Join(dir, "creds")
	os.Mkdir(outDir, 0o700)
	issueTestCredentials(t, dir, roster, outDir)

	badRoster := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badRoster, []byte("id: x\nm: 1\nn: 1\nholders:\n  - name: a\n    role: crypto-officer\n    passphrase_source: env:A\n"), 0o644)
	unknownKey := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("id: x\nquorum: 2\n"), 0o644)
	t.Setenv("KSK_TEST_SECRET", testCredSecret)
	base := []string{"credentials", "issue", "--secret-source", "env:KSK_TEST_SECRET", "--scrypt-work-factor", "10"}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"existing files", []string{"--roster", roster, "--out-dir", outDir}, 2},
		{"force", []string{"--roster", roster, "--out-dir", outDir, "--force"}, 0},
		{"m of 1", []string{"--roster", badRoster, "--out-dir", t.TempDir()}, 2},
		{"unknown key", []string{"--roster", unknownKey, "--out-dir", t.TempDir()}, 2},
		{"no roster", []string{"--out-dir", t.TempDir()}, 2},
		{"no out dir", []string{"--roster", roster}, 2},
		{"low work factor", []string{"--roster", roster, "--out-dir", t.TempDir(), "--scrypt-work-factor", "4"}, 2},
		{"secret on argv", []string{"--roster", roster, "--out-dir", t.TempDir(), "--secret-source", testCredSecret}, 2},
		{"unset secret variable", []string{"--roster", roster, "--out-dir", t.TempDir(), "--secret-source", "env:KSK_TEST_UNSET_VAR"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runKSK(t, "", append(base, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tt.code, out, errOut)
			}
			assertNoCredSecrets(t, out, errOut)
		})
	}
	if code, _, _ := runKSK(t, "", "credentials"); code != exitUsage {
		t.Errorf("credentials without a subcommand: exit %d", code)
	}
}
