package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/quorum"
)

const testRecoveryPassPrefix = "recovery-horse-"

// writeRecoveryRoster writes an m-of-n roster of recovery key share
// holders whose passphrases come from KSK_TEST_RKSH<i>, and sets them.
func writeRecoveryRoster(t *testing.T, dir, id string, m, n int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nm: %d\nn: %d\nholders:\n", id, m, n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - name: rksh%d\n    role: recovery-key-share-holder\n    passphrase_source: env:KSK_TEST_RKSH%d\n", i, i)
		t.Setenv(fmt.Sprintf("KSK_TEST_RKSH%d", i), fmt.Sprintf("%s%d", testRecoveryPassPrefix, i))
	}
	p := filepath.Join(dir, id+".yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// objectCount logs in to a token, counts the objects it shows and closes
// it again (an open login would stop the in-process ksk from logging in).
func objectCount(t *testing.T, tk *softhsmtest.Token) int {
	t.Helper()
	m, err := hsm.OpenModule(tk.Module)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := m.OpenToken(tk.Selector())
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if err := tok.Login(tk.LoginOptions()); err != nil {
		t.Fatal(err)
	}
	n, err := tok.CountObjects()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// backupJSON mirrors the JSON of ksk keys backup.
type backupJSON struct {
	Backup       string                 `json:"backup"`
	SHA256       string                 `json:"sha256"`
	Token        tokenJSON              `json:"token"`
	Key          backupKeyView          `json:"key"`
	RosterID     string                 `json:"roster_id"`
	M            int                    `json:"m"`
	N            int                    `json:"n"`
	RosterDigest string                 `json:"roster_digest"`
	SplitID      string                 `json:"split_id"`
	Credentials  []quorum.ManifestEntry `json:"credentials"`
}

// restoreJSON mirrors the JSON of ksk keys restore.
type restoreJSON struct {
	// Error and ExitCode are the JSON error object of a refused restore.
	Error            string          `json:"error"`
	ExitCode         int             `json:"exit_code"`
	Restored         bool            `json:"restored"`
	Backup           backupKeyView   `json:"backup"`
	Token            tokenJSON       `json:"token"`
	QuorumMet        bool            `json:"quorum_met"`
	ValidCredentials int             `json:"valid_credentials"`
	Credentials      []quorumOutcome `json:"credentials"`
	Findings         []checkFinding  `json:"findings"`
	Key              *keyJSON        `json:"key"`
	SignatureCheck   string          `json:"signature_check"`
}

type quorumOutcome struct {
	Source  string `json:"source"`
	SHA256  string `json:"sha256"`
	Holder  string `json:"holder"`
	Role    string `json:"role"`
	Index   int    `json:"index"`
	Counted bool   `json:"counted"`
	Reason  string `json:"reason"`
}

// backupFixture is a backup-able key on a source token, backed up through
// the CLI.
type backupFixture struct {
	src, dst *softhsmtest.Token
	dir      string
	roster   string
	backup   backupJSON
	kek      []byte
}

// dstArgs select the target token.
func (fx *backupFixture) dstArgs() []string {
	return []string{"--token", fx.dst.Label, "--pin-source", "file:" + fx.dst.UserPINFile}
}

func (fx *backupFixture) cred(i int) string { return fx.backup.Credentials[i].File }

func credArgs(files ...string) []string {
	var out []string
	for _, f := range files {
		out = append(out, "--credential", f)
	}
	return out
}

// assertNoBackupSecrets fails when an output holds a passphrase, a PIN or
// the KEK.
func (fx *backupFixture) assertNoSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, testRecoveryPassPrefix) {
			t.Errorf("a passphrase in the output:\n%s", s)
		}
		for _, tk := range []*softhsmtest.Token{fx.src, fx.dst} {
			if strings.Contains(s, tk.UserPIN) || strings.Contains(s, tk.SOPIN) {
				t.Errorf("a PIN in the output:\n%s", s)
			}
		}
		if len(fx.kek) > 0 && (strings.Contains(s, hex.EncodeToString(fx.kek)) || strings.Contains(s, base64.StdEncoding.EncodeToString(fx.kek))) {
			t.Errorf("the KEK in the output:\n%s", s)
		}
	}
}

// newBackupFixture generates a backup-able key of alg on a fresh token
// through the CLI and backs it up under an m-of-n roster.
func newBackupFixture(t *testing.T, alg string, m, n int) *backupFixture {
	t.Helper()
	fx := &backupFixture{src: softhsmtest.NewToken(t), dst: softhsmtest.NewToken(t), dir: t.TempDir()}
	fx.src.Setenv(t)
	fx.roster = writeRecoveryRoster(t, fx.dir, "dr-2026", m, n)
	mustRun(t, fx.src, "keys", "generate", "--label", "ksk", "--algorithm", alg, "--backupable")
	fx.backup = fx.runBackup(t, "ksk", "ksk.backup", "creds")
	return fx
}

func (fx *backupFixture) runBackup(t *testing.T, label, out, credDir string) backupJSON {
	t.Helper()
	os.MkdirAll(filepath.Join(fx.dir, credDir), 0o700)
	var b backupJSON
	code, stdout, stderr := fx.backupCmd(t, label, out, credDir)
	if code != 0 {
		t.Fatalf("keys backup: exit %d: %s%s", code, stdout, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &b); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if fx.kek == nil {
		fx.kek = reconstructKEK(t, fx.roster, b.Credentials)
	}
	fx.assertNoSecrets(t, stdout, stderr)
	// The credentials directory is one output: every credential and a
	// copy of the backup, and no temporary directory left beside it.
	entries, err := os.ReadDir(filepath.Join(fx.dir, credDir))
	if err != nil || len(entries) != len(b.Credentials)+1 {
		t.Errorf("credentials directory: %d entries, want %d credentials and the backup: %v", len(entries), len(b.Credentials), err)
	}
	if readFileT(t, filepath.Join(fx.dir, credDir, filepath.Base(out))) != readFileT(t, filepath.Join(fx.dir, out)) {
		t.Error("the backup's copy in the credentials directory differs from --out")
	}
	if left, _ := filepath.Glob(filepath.Join(fx.dir, "."+filepath.Base(credDir)+".tmp-*")); len(left) != 0 {
		t.Errorf("temporary directories left: %v", left)
	}
	return b
}

func (fx *backupFixture) backupCmd(t *testing.T, label, out, credDir string, extra ...string) (int, string, string) {
	t.Helper()
	args := append([]string{"keys", "backup", "--label", label, "--out", filepath.Join(fx.dir, out), "--roster", fx.roster,
		"--credentials-dir", filepath.Join(fx.dir, credDir), "--so-pin-source", "file:" + fx.src.SOPINFile,
		"--scrypt-work-factor", "10", "-o", "json"}, extra...)
	return kskRun(t, fx.src, "", args...)
}

// reconstructKEK opens every credential as a holder would, to check below
// that the KEK never appears in any output.
func reconstructKEK(t *testing.T, rosterPath string, creds []quorum.ManifestEntry) []byte {
	t.Helper()
	rf, err := readRoster(rosterPath)
	if err != nil {
		t.Fatal(err)
	}
	var opened []quorum.Opened
	for _, c := range creds {
		data, err := os.ReadFile(c.File)
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, quorum.Open(c.File, data, []byte(os.Getenv("KSK_TEST_"+strings.ToUpper(c.Holder)))))
	}
	kek, _, err := rf.Roster().Combine(opened)
	if err != nil || len(kek) != hsm.KEKSize {
		t.Fatalf("the credentials do not give a KEK: %v", err)
	}
	return kek
}

func (fx *backupFixture) restore(t *testing.T, in string, extra ...string) (int, restoreJSON, string, string) {
	t.Helper()
	args := append(append([]string{"keys", "restore", "--in", in, "--roster", fx.roster, "-o", "json"}, fx.dstArgs()...), extra...)
	code, stdout, stderr := kskRun(t, fx.dst, "", args...)
	fx.assertNoSecrets(t, stdout, stderr)
	var r restoreJSON
	if stdout != "" {
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("restore output: %v: %s", err, stdout)
		}
	}
	return code, r, stdout, stderr
}

// TestKeysBackupRestore backs a key up from one SoftHSM token and restores
// it into a new one with 5 of 7 credentials: same DNSKEY and key tag, the
// reference signature byte-identical (RSA) or verified (ECDSA), and the
// restored key sensitive and not extractable.
func TestKeysBackupRestore(t *testing.T) {
	for _, tt := range []struct {
		alg, check string
	}{
		{"RSASHA256", "identical"},
		{"ECDSAP256SHA256", "verified"},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			fx := newBackupFixture(t, tt.alg, 5, 7)
			b := fx.backup
			if b.M != 5 || b.N != 7 || len(b.Credentials) != 7 || b.Key.Algorithm != tt.alg || len(b.SplitID) != 64 {
				t.Fatalf("backup output %+v", b)
			}
			data, err := os.ReadFile(b.Backup)
			if err != nil {
				t.Fatal(err)
			}
			fx.assertNoSecrets(t, string(data))
			for _, c := range b.Credentials {
				if st, err := os.Stat(c.File); err != nil || st.Mode().Perm() != 0o600 || filepath.Base(c.File) != "dr-2026."+c.Holder+".age" {
					t.Errorf("credential %s: %v", c.File, err)
				}
			}
			var gen struct {
				Token tokenJSON `json:"token"`
				Keys  []keyJSON `json:"keys"`
			}
			mustJSON(t, fx.src, &gen, "keys", "list")

			before := objectCount(t, fx.dst)
			code, r, stdout, stderr := fx.restore(t, b.Backup, credArgs(fx.cred(6), fx.cred(1), fx.cred(3), fx.cred(4), fx.cred(2))...)
			if code != 0 {
				t.Fatalf("restore: exit %d\n%s%s", code, stdout, stderr)
			}
			if !r.Restored || !r.QuorumMet || r.ValidCredentials != 5 || r.SignatureCheck != tt.check || r.Key == nil {
				t.Fatalf("restore output %s", stdout)
			}
			if n := objectCount(t, fx.dst); n != before+3 {
				t.Errorf("%d objects after restore, want %d", n, before+3)
			}
			k := *r.Key
			if k.KeyTag != b.Key.KeyTag || k.DNSKEY != b.Key.DNSKEY || k.DNSKEY != gen.Keys[0].DNSKEY || k.ID != gen.Keys[0].ID {
				t.Errorf("restored %+v, backed up %+v", k, b.Key)
			}
			if !k.Attributes["sensitive"] || k.Attributes["extractable"] || !k.Attributes["sign"] || k.Attributes["decrypt"] {
				t.Errorf("restored attributes %v", k.Attributes)
			}
			// The target's own listing agrees.
			var list struct {
				Token tokenJSON `json:"token"`
				Keys  []keyJSON `json:"keys"`
			}
			mustJSON(t, fx.dst, &list, append([]string{"keys", "list"}, fx.dstArgs()...)...)
			if len(list.Keys) != 1 || list.Keys[0].KeyTag != b.Key.KeyTag || list.Keys[0].Attributes["extractable"] {
				t.Errorf("keys list on the target: %+v", list.Keys)
			}

			// The text output says the same.
			mustRun(t, fx.dst, append([]string{"keys", "delete", "--label", "ksk", "--force"}, fx.dstArgs()...)...)
			code, stdout, stderr = kskRun(t, fx.dst, "", append(append([]string{"keys", "restore", "--in", b.Backup, "--roster", fx.roster},
				fx.dstArgs()...), credArgs(fx.cred(0), fx.cred(1), fx.cred(2), fx.cred(3), fx.cred(4))...)...)
			if code != 0 || !strings.Contains(stdout, "Quorum met: 5 valid credentials, 5 required") ||
				!strings.Contains(stdout, fmt.Sprintf("key tag %d", b.Key.KeyTag)) || !strings.Contains(stdout, "CKA_EXTRACTABLE false") {
				t.Errorf("text restore: exit %d\n%s%s", code, stdout, stderr)
			}
			fx.assertNoSecrets(t, stdout, stderr)
		})
	}
}

// TestKeysRestoreRefusals checks that each refused restore exits with its
// code, says why, and leaves the target token without a new object.
func TestKeysRestoreRefusals(t *testing.T) {
	fx := newBackupFixture(t, "RSASHA256", 3, 5)
	b := fx.backup
	other := fx.runBackup(t, "ksk", "other.backup", "other-creds") // same key, another split

	data, err := os.ReadFile(b.Backup)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, content []byte) string {
		p := filepath.Join(fx.dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var doc map[string]any
	json.Unmarshal(data, &doc)
	wrap := doc["wrap"].(map[string]any)
	blob := []byte(wrap["wrapped_key"].(string))
	blob[20] = map[bool]byte{true: 'A', false: 'B'}[blob[20] != 'A']
	wrap["wrapped_key"] = string(blob)
	corrupt, _ := json.Marshal(doc)
	json.Unmarshal(data, &doc)
	doc["key"].(map[string]any)["public_key"] = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
	otherPub, _ := json.Marshal(doc)
	otherRoster := writeRecoveryRoster(t, t.TempDir(), "dr-2027", 3, 5)
	t.Setenv("KSK_TEST_WRONG", "not-the-passphrase")

	c := fx.cred
	tests := []struct {
		name     string
		in       string
		args     []string
		code     int
		reason   string // of the last credential, in the JSON output
		fragment string // of the one-line reason on stderr
	}{
		{"M-1 credentials", b.Backup, credArgs(c(0), c(1)), 1, "", "quorum not met"},
		{"a share of another backup", b.Backup, credArgs(c(0), c(1), other.Credentials[2].File), 1, "other-split", "quorum not met"},
		{"the shares of another backup", b.Backup, credArgs(other.Credentials[0].File, other.Credentials[1].File, other.Credentials[4].File), 1, "", "another backup"},
		{"wrong passphrase", b.Backup, append(credArgs(c(0), c(1), c(2)), "--passphrase-source", c(2)+"=env:KSK_TEST_WRONG"), 1, "wrong-passphrase", "quorum not met"},
		{"corrupted blob", write("corrupt.backup", corrupt), credArgs(c(0), c(1), c(2)), 1, "", "MAC does not verify"},
		{"public key of another key", write("otherpub.backup", otherPub), credArgs(c(0), c(1), c(2)), 1, "", "altered"},
		{"truncated file", write("truncated.backup", data[:len(data)-40]), credArgs(c(0), c(1), c(2)), 1, "", "malformed backup file"},
		{"empty file", write("empty.backup", nil), credArgs(c(0), c(1), c(2)), 1, "", "malformed backup file"},
		{"another roster", b.Backup, append(credArgs(c(0), c(1), c(2)), "--roster", otherRoster), 1, "", "not the roster"},
		{"missing backup file", filepath.Join(fx.dir, "nope.backup"), credArgs(c(0), c(1), c(2)), 2, "", "nope.backup"},
		{"no credential", b.Backup, nil, 2, "", "--credential"},
		{"missing credential file", b.Backup, credArgs(c(0), c(1), filepath.Join(fx.dir, "nope.age")), 2, "", "nope.age"},
		{"passphrase on argv", b.Backup, append(credArgs(c(0), c(1), c(2)), "--passphrase-source", c(2)+"="+testRecoveryPassPrefix+"3"), 2, "", "--passphrase-source"},
		{"passphrase source for another file", b.Backup, append(credArgs(c(0), c(1), c(2)), "--passphrase-source", "x.age=env:X"), 2, "", "x.age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := objectCount(t, fx.dst)
			code, r, stdout, stderr := fx.restore(t, tt.in, tt.args...)
			wantFailure(t, code, stderr, tt.code, tt.fragment)
			if n := objectCount(t, fx.dst); n != before {
				t.Errorf("%d objects on the target after a refused restore, want %d", n, before)
			}
			if r.Restored || r.Key != nil {
				t.Errorf("restore output claims success: %s", stdout)
			}
			if tt.reason != "" {
				if len(r.Credentials) == 0 || r.Credentials[len(r.Credentials)-1].Reason != tt.reason {
					t.Errorf("want the last credential rejected as %s: %s", tt.reason, stdout)
				}
			}
		})
	}

	// The label already on the target: exit 3 (as for keys generate),
	// before any passphrase is read.
	mustRun(t, fx.dst, append([]string{"keys", "generate", "--label", "ksk", "--algorithm", "ECDSAP256SHA256"}, fx.dstArgs()...)...)
	before := objectCount(t, fx.dst)
	t.Setenv("KSK_TEST_RKSH1", "")
	code, _, _, stderr := fx.restore(t, b.Backup, credArgs(c(0), c(1), c(2))...)
	wantFailure(t, code, stderr, exitEnvironment, "label already exists")
	if n := objectCount(t, fx.dst); n != before {
		t.Errorf("%d objects after a refused restore, want %d", n, before)
	}
}

func TestKeysBackupRefusals(t *testing.T) {
	fx := newBackupFixture(t, "RSASHA256", 2, 3)
	mustRun(t, fx.src, "keys", "generate", "--label", "plain", "--algorithm", "RSASHA256")
	mustRun(t, fx.src, "keys", "generate", "--label", "ed", "--algorithm", "ED25519", "--backupable")
	officers := writeTestRoster(t, t.TempDir(), "officers", 2, 3)
	for _, tt := range []struct {
		name     string
		label    string
		out      string
		extra    []string
		code     int
		fragment string
	}{
		{"not backup-able", "plain", "plain.backup", nil, 1, "not backup-able"},
		{"Ed25519 on SoftHSM", "ed", "ed.backup", nil, 3, "CKR_KEY_NOT_WRAPPABLE"},
		{"backup file exists", "ksk", "ksk.backup", nil, 2, "exists"},
		{"credentials exist", "ksk", "new.backup", nil, 2, "exists"},
		{"crypto officer roster", "ksk", "co.backup", []string{"--roster", officers}, 2, "recovery-key-share-holder"},
		{"no such key", "nope", "nope.backup", nil, 3, "key not found"},
		{"wrong SO PIN", "ksk", "so.backup", []string{"--so-pin-source", "file:" + fx.src.UserPINFile}, 3, "PIN incorrect"},
		{"work factor too high", "ksk", "wf.backup", []string{"--scrypt-work-factor", "23"}, 2, "--scrypt-work-factor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			credDir := "fresh-" + strings.ReplaceAll(tt.name, " ", "-")
			if tt.name == "credentials exist" {
				credDir = "creds"
			}
			os.MkdirAll(filepath.Join(fx.dir, credDir), 0o700)
			before, _ := os.ReadDir(filepath.Join(fx.dir, credDir))
			objects := objectCount(t, fx.src)
			code, stdout, stderr := fx.backupCmd(t, tt.label, tt.out, credDir, tt.extra...)
			if n := objectCount(t, fx.src); n != objects {
				t.Errorf("%d objects on the source after a refused backup, want %d", n, objects)
			}
			wantFailure(t, code, stderr, tt.code, tt.fragment)
			fx.assertNoSecrets(t, stdout, stderr)
			after, _ := os.ReadDir(filepath.Join(fx.dir, credDir))
			if len(after) != len(before) {
				t.Errorf("credential files written by a refused backup: %v", after)
			}
			if tt.name != "backup file exists" {
				if _, err := os.Stat(filepath.Join(fx.dir, tt.out)); err == nil {
					t.Error("backup file written by a refused backup")
				}
			}
		})
	}
	// --force overwrites.
	code, stdout, stderr := fx.backupCmd(t, "ksk", "ksk.backup", "creds", "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d %s%s", code, stdout, stderr)
	}
}
