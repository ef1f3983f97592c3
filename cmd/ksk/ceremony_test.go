package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/internal/testenv"
	"github.com/ksk-dev/ksk/pgpwords"
	"golang.org/x/crypto/ssh"
)

// The shipped ceremony scripts, from this package's directory.
var (
	keygenScript    = filepath.Join("..", "..", "scripts", "ceremonies", "key-generation.yaml")
	quarterlyScript = filepath.Join("..", "..", "scripts", "ceremonies", "quarterly-signing.yaml")
)

// ceremonyEnv is a staged ceremony room: a work directory holding the
// rosters, the witnesses' SSH keys, the secrets of the rehearsal in 0600
// files, the credentials and KSK made by the key generation ceremony, a
// KSR from a ZSK token, a signer configuration and the answers of the
// quarterly signing.
type ceremonyEnv struct {
	work    string
	token   string   // the KSK token's label
	params  []string // --param flags of both scripts
	secrets []string // every secret of the rehearsal, to check nothing leaks
	words   string   // the last four PGP words of the KSR's hash
}

func (e *ceremonyEnv) path(p ...string) string {
	return filepath.Join(append([]string{e.work}, p...)...)
}

func writeFileAt(t *testing.T, path string, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// stageCeremony runs the key generation ceremony on a fresh token and
// prepares the quarterly signing.
func stageCeremony(t *testing.T) *ceremonyEnv {
	t.Helper()
	zskToken(t, 3) // the ZSK operator's token; also sets up SoftHSM and the environment
	e := &ceremonyEnv{work: t.TempDir(), token: "kmf-" + randomHex(t, 6)}
	today := time.Now().UTC()
	e.params = []string{"--param", "token=" + e.token, "--param", "date=" + today.Format(time.DateOnly)}

	// Rosters, secrets, witnesses.
	var co, rksh strings.Builder
	co.WriteString("id: kmf-east-co\nm: 3\nn: 7\nholders:\n")
	rksh.WriteString("id: kmf-east-rksh\nm: 5\nn: 7\nholders:\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&co, "  - {name: co%d, role: crypto-officer, passphrase_source: prompt}\n", i)
		fmt.Fprintf(&rksh, "  - {name: rksh%d, role: recovery-key-share-holder, passphrase_source: prompt}\n", i)
		pass := "pass-" + randomHex(t, 8)
		writeFileAt(t, e.path("secrets", fmt.Sprintf("co%d.pass", i)), pass+"\n", 0o600)
		e.secrets = append(e.secrets, pass)
	}
	writeFileAt(t, e.path("roster-co.yaml"), co.String(), 0o644)
	writeFileAt(t, e.path("roster-rksh.yaml"), rksh.String(), 0o644)
	so := "so-" + randomHex(t, 8)
	writeFileAt(t, e.path("secrets", "so.pin"), so+"\n", 0o600)
	e.secrets = append(e.secrets, so)
	for _, w := range []string{"tcr1", "tcr2", "ew1"} {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, w)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		writeFileAt(t, e.path("witnesses", w), string(pem.EncodeToMemory(block)), 0o600)
		writeFileAt(t, e.path("witnesses", w+".pub"), string(ssh.MarshalAuthorizedKey(sp)), 0o644)
	}
	const witnesses = "{tcr1: witnesses/tcr1, tcr2: witnesses/tcr2, ew1: witnesses/ew1}"
	var passFiles []string
	for i := 1; i <= 7; i++ {
		passFiles = append(passFiles, fmt.Sprintf("co%d: secrets/co%d.pass", i, i))
	}
	writeFileAt(t, e.path("keygen-answers.yaml"), `format: ksk-answers-v1
confirm_all: true
steps:
  act1.attendance: {ssh_keys: `+witnesses+`}
  act3.init-token: {so_pin_file: secrets/so.pin}
  act3.issue-credentials: {passphrase_files: {`+strings.Join(passFiles, ", ")+`}}
  act4.present-credentials:
    credentials:
      - {file: credentials/kmf-east-co.co2.age, passphrase_file: secrets/co2.pass}
      - {file: credentials/kmf-east-co.co4.age, passphrase_file: secrets/co4.pass}
      - {file: credentials/kmf-east-co.co7.age, passphrase_file: secrets/co7.pass}
  act6.sign-off: {ssh_keys: `+witnesses+`}
`, 0o644)

	// The key generation ceremony.
	code, out, errOut := runKSK(t, "", append([]string{"ceremony", "run", keygenScript, "--dir", e.work, "--log", e.path("keygen.log"),
		"--answers", e.path("keygen-answers.yaml"), "--scrypt-work-factor", "10"}, e.params...)...)
	if code != 0 {
		t.Fatalf("key generation ceremony: exit %d\n%s\n%s", code, lastLines(out, 30), errOut)
	}
	e.noSecrets(t, out, errOut)

	// The signer configuration pins the new KSK's key tag and DS.
	dsLine := regexp.MustCompile(`(?m)\tDS\t(\d+) 8 2 ([0-9A-F]{64})$`).FindStringSubmatch(readFileT(t, e.path("media", "ksk-2026.dnskey-ds")))
	if dsLine == nil {
		t.Fatalf("no DS in the key generation ceremony's output")
	}
	writeFileAt(t, e.path("anchors.ds"), ". 172800 IN DS "+dsLine[1]+" 8 2 "+dsLine[2]+"\n", 0o644)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "keys:\n  ksk:\n    label: ksk-2026\n    algorithm: RSASHA256\n    rsa_size: 2048\n    rsa_exponent: 65537\n    key_tag: %s\n    ds_sha256: %s\n    valid_from: 2020-01-01T00:00:00Z\nschemas:\n  normal:\n", dsLine[1], dsLine[2])
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&cfg, "    %d: {publish: ksk, sign: ksk}\n", i)
	}
	writeFileAt(t, e.path("signer.yaml"), cfg.String(), 0o644)

	// The ZSK operator's KSR, and the words the zone maintainer reads out.
	start := today.Truncate(24 * time.Hour).Format(time.RFC3339)
	mustRun(t, nil, "ksr", "create", "--zsk", "zsk-a", "--zsk", "zsk-b", "--zsk", "zsk-c", "--start", start, "--out", e.path("ksr.xml"))
	sum := sha256.Sum256([]byte(readFileT(t, e.path("ksr.xml"))))
	words := pgpwords.Encode(sum[:])
	e.words = strings.Join(words[len(words)-4:], " ")
	e.writeQuarterlyAnswers(t, "quarterly-answers.yaml", []string{"co1", "co3", "co6"}, "")
	return e
}

// writeQuarterlyAnswers writes answers for the quarterly signing with the
// credentials of the holders given; extra is appended under steps.
func (e *ceremonyEnv) writeQuarterlyAnswers(t *testing.T, name string, holders []string, extra string) string {
	t.Helper()
	var creds strings.Builder
	for _, h := range holders {
		fmt.Fprintf(&creds, "      - {file: credentials/kmf-east-co.%s.age, passphrase_file: secrets/%s.pass}\n", h, h)
	}
	return e.writeAnswersRaw(t, name, creds.String(), extra)
}

// writeAnswersRaw writes quarterly signing answers with the given YAML
// list of credentials.
func (e *ceremonyEnv) writeAnswersRaw(t *testing.T, name, creds, extra string) string {
	t.Helper()
	const witnesses = "{tcr1: witnesses/tcr1, tcr2: witnesses/tcr2, ew1: witnesses/ew1}"
	p := e.path(name)
	writeFileAt(t, p, `format: ksk-answers-v1
confirm_all: true
steps:
  act1.attendance: {ssh_keys: `+witnesses+`}
  act2.equipment-safe: {values: {hsm_bag: "BB1001", laptop_bag: "BB1002"}}
  act3.present-credentials:
    credentials:
`+creds+`  act4.ksr-hash: {words: "`+e.words+`"}
  act5.return-equipment: {values: {hsm_bag: "BB2001", laptop_bag: "BB2002"}}
  act5.sign-off: {ssh_keys: `+witnesses+`}
`+extra, 0o644)
	return p
}

func (e *ceremonyEnv) noSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, secret := range e.secrets {
			if strings.Contains(s, secret) {
				t.Fatalf("a secret appeared in output or log:\n%s", lastLines(s, 20))
			}
		}
	}
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// quarterlyArgs are the arguments of a quarterly signing run writing its
// SKR to out/skr-TAG.xml and its copy to media-TAG/.
func (e *ceremonyEnv) quarterlyArgs(tag, answers string) []string {
	return append([]string{"ceremony", "run", quarterlyScript, "--dir", e.work, "--log", e.path("ceremony-" + tag + ".log"),
		"--answers", answers, "--param", "skr=out/skr-" + tag + ".xml", "--param", "media=media-" + tag, "--param", "anchors=out/anchors-" + tag + ".xml"}, e.params...)
}

// logVerify runs ksk log verify and returns its JSON report.
func logVerify(t *testing.T, path string, flags ...string) (code int, report map[string]any) {
	t.Helper()
	code, out, errOut := runKSK(t, "", append([]string{"log", "verify", "-o", "json", path}, flags...)...)
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("log verify %s: exit %d, not JSON: %v\n%s%s", path, code, err, out, errOut)
	}
	return code, report
}

// logVerifyInProgress verifies the log of a ceremony that stopped early
// with --in-progress and fails the test unless it verifies as NOT
// FINISHED; checked as finished it must be refused.
func logVerifyInProgress(t *testing.T, path string) {
	t.Helper()
	if code, rep := logVerify(t, path, "--in-progress"); code != 0 || rep["valid"] != true || rep["finished"] != false || rep["status"] != "NOT FINISHED" {
		t.Errorf("log %s of a ceremony that stopped, verified --in-progress: exit %d %v; want NOT FINISHED", path, code, rep)
	}
	if code, rep := logVerify(t, path); code != exitRejected || rep["status"] != "INVALID" {
		t.Errorf("log %s of a ceremony that stopped, verified as finished: exit %d %v; want 1, INVALID", path, code, rep)
	}
}

// TestCeremonyRehearsal runs the shipped key generation and quarterly
// signing scripts end to end on SoftHSM: the SKR verifies against the new
// KSK's DS, both logs verify (seals, witnesses), the transcript is written,
// and no passphrase or PIN appears in any output, log or transcript.
func TestCeremonyRehearsal(t *testing.T) {
	e := stageCeremony(t)
	for _, script := range []string{keygenScript, quarterlyScript} {
		code, out, errOut := runKSK(t, "", append([]string{"ceremony", "check", script, "--dir", e.work}, e.params...)...)
		if code != 0 || !strings.Contains(out, "Checked without touching any HSM") {
			t.Fatalf("ceremony check %s: exit %d\n%s%s", script, code, out, errOut)
		}
	}
	args := append(e.quarterlyArgs("a", e.path("quarterly-answers.yaml")), "--transcript", e.path("transcript.txt"))
	code, out, errOut := runKSK(t, "", args...)
	if code != 0 {
		t.Fatalf("quarterly ceremony: exit %d\n%s\n%s", code, lastLines(out, 40), errOut)
	}
	for _, want := range []string{"Quorum met: 3 valid credentials of 3 required", "The words match.", "Wrote SKR out/skr-a.xml: 9 bundles, 9 signatures",
		"Ceremony complete.", "Head: ", "Transcript: ", "  9/9 bundles signed\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q", want)
		}
	}
	if strings.Contains(out, "1/9 bundles signed") {
		t.Error("progress lines written to a file that is not a terminal: only the final count belongs there")
	}
	mustRun(t, nil, "skr", "verify", "--ksr", e.path("ksr.xml"), "--anchors", e.path("anchors.ds"), e.path("out", "skr-a.xml"))
	// The trust anchor file the ceremony exported anchors the SKR too, and
	// its DS is the one the key generation ceremony recorded.
	mustRun(t, nil, "skr", "verify", "--ksr", e.path("ksr.xml"), "--anchors", e.path("media-a", "anchors-a.xml"), e.path("out", "skr-a.xml"))
	if ds := readFileT(t, e.path("out", "anchors-a.ds")); !strings.Contains(strings.Join(strings.Fields(ds), " "), strings.Join(strings.Fields(readFileT(t, e.path("anchors.ds")))[3:], " ")) {
		t.Errorf("exported DS %q differs from the key generation's %q", ds, readFileT(t, e.path("anchors.ds")))
	}
	if readFileT(t, e.path("media-a", "skr-a.xml")) != readFileT(t, e.path("out", "skr-a.xml")) {
		t.Error("the copy on the output media differs from the SKR")
	}
	for _, log := range []string{e.path("keygen.log"), e.path("ceremony-a.log")} {
		code, rep := logVerify(t, log)
		if code != 0 || rep["valid"] != true {
			t.Fatalf("log verify %s: exit %d %v", log, code, rep)
		}
		if len(rep["seals"].([]any)) != 1 || len(rep["witnesses"].([]any)) != 6 || rep["unsealed_entries"].(float64) != 0 {
			t.Errorf("%s: want 1 seal as the last entry and 6 witness signatures, got %v", log, rep)
		}
		e.noSecrets(t, readFileT(t, log))
	}
	transcript := readFileT(t, e.path("transcript.txt"))
	if !strings.Contains(transcript, "Verification: VALID") || !strings.Contains(transcript, "act4.sign") {
		t.Errorf("transcript incomplete:\n%s", lastLines(transcript, 10))
	}
	e.noSecrets(t, out, errOut, transcript)

	// The log records who presented which credential and the KSR's hash.
	log := readFileT(t, e.path("ceremony-a.log"))
	for _, want := range []string{`holder=co1 counted`, `"words_matched":"4"`, `"step":"act4.sign"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s", want)
		}
	}

	// Running it again with the same log: every step is done.
	code, out, errOut = runKSK(t, "", args[:len(args)-2]...)
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("complete ceremony run again: exit %d\n%s\n%s", code, lastLines(out, 5), errOut)
	}

	// A production script refuses an answers file.
	code, _, errOut = runKSK(t, "", append(e.quarterlyArgs("prod", e.path("quarterly-answers.yaml")), "--param", "mode=production")...)
	if code != exitUsage || !strings.Contains(errOut, "only in a rehearsal") {
		t.Errorf("production with answers: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(e.path("ceremony-prod.log")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a production run refused before starting still created its log")
	}
}

// TestCeremonyQuorumRefused: too few, duplicate, unknown, altered and
// wrong-passphrase credentials do not count; the ceremony stops at the
// quorum with exit 1, nothing is signed, and the log records every
// credential's reason and still verifies.
func TestCeremonyQuorumRefused(t *testing.T) {
	e := stageCeremony(t)
	// An altered credential: one base64 character of co5's file changed.
	orig := readFileT(t, e.path("credentials", "kmf-east-co.co5.age"))
	lines := strings.Split(orig, "\n")
	l := []byte(lines[3])
	l[10] ^= 0x01
	if l[10] == '\n' || l[10] == '=' {
		l[10] = 'A'
	}
	lines[3] = string(l)
	writeFileAt(t, e.path("credentials", "altered.co5.age"), strings.Join(lines, "\n"), 0o600)
	// A credential of another roster with the same holder names: issued
	// with ksk credentials issue under a roster of another id.
	other := strings.Replace(readFileT(t, e.path("roster-co.yaml")), "id: kmf-east-co", "id: other-site-co", 1)
	other = strings.ReplaceAll(other, "passphrase_source: prompt", "passphrase_source: file:"+e.path("secrets", "co2.pass"))
	writeFileAt(t, e.path("other-roster.yaml"), other, 0o644)
	writeFileAt(t, e.path("secrets", "other.pin"), "000000\n", 0o600)
	mustRun(t, nil, "credentials", "issue", "--roster", e.path("other-roster.yaml"), "--secret-source", "file:"+e.path("secrets", "other.pin"),
		"--out-dir", e.path("other-creds"), "--scrypt-work-factor", "10")

	cred := func(file, pass string) string {
		return fmt.Sprintf("      - {file: %s, passphrase_file: secrets/%s.pass}\n", file, pass)
	}
	// The script's manifest pins every holder's credential, so another
	// roster's file and an altered one are refused unopened (not-pinned,
	// issue 17) rather than decrypted and then found wanting.
	cases := []struct {
		name, creds, reason string
	}{
		{"too-few", cred("credentials/kmf-east-co.co1.age", "co1") + cred("credentials/kmf-east-co.co2.age", "co2"), ""},
		{"duplicate", cred("credentials/kmf-east-co.co1.age", "co1") + cred("credentials/kmf-east-co.co1.age", "co1") + cred("credentials/kmf-east-co.co2.age", "co2"), "not-counted=duplicate"},
		{"unknown", cred("credentials/kmf-east-co.co1.age", "co1") + cred("other-creds/other-site-co.co2.age", "co2") + cred("credentials/kmf-east-co.co3.age", "co3"), "not-counted=not-pinned"},
		{"altered", cred("credentials/kmf-east-co.co1.age", "co1") + cred("credentials/altered.co5.age", "co5") + cred("credentials/kmf-east-co.co3.age", "co3"), "not-counted=not-pinned"},
		{"wrong-passphrase", cred("credentials/kmf-east-co.co1.age", "co1") + cred("credentials/kmf-east-co.co4.age", "co2") + cred("credentials/kmf-east-co.co3.age", "co3"), "not-counted=wrong-passphrase"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			answers := e.writeAnswersRaw(t, "answers-"+c.name+".yaml", c.creds, "")
			code, out, errOut := runKSK(t, "", e.quarterlyArgs(c.name, answers)...)
			if code != exitRejected || !strings.Contains(errOut, "quorum not met") {
				t.Fatalf("exit %d, want 1 with quorum not met\n%s\n%s", code, lastLines(out, 15), errOut)
			}
			if _, err := os.Stat(e.path("out", "skr-"+c.name+".xml")); !errors.Is(err, os.ErrNotExist) {
				t.Error("an SKR was written")
			}
			log := readFileT(t, e.path("ceremony-"+c.name+".log"))
			if !strings.Contains(log, `"status":"failed"`) || !strings.Contains(log, c.reason) {
				t.Errorf("log lacks the failure or %q:\n%s", c.reason, lastLines(log, 2))
			}
			if strings.Contains(log, `"step":"act3.activate"`) {
				t.Error("the HSM activation step ran")
			}
			logVerifyInProgress(t, e.path("ceremony-"+c.name+".log"))
			e.noSecrets(t, out, errOut, log)
		})
	}
}

// buildFaultKSK builds ksk with the fault injection points compiled in
// (tag ksk_faultinject): KSK_CEREMONY_FAULT=STEP:PHASE makes it SIGKILL
// itself there.
func buildFaultKSK(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ksk-fault")
	cmd := exec.Command("go", "build", "-tags", "ksk_faultinject", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags ksk_faultinject: %v\n%s", err, out)
	}
	return bin
}

// TestCeremonyKilledAndResumed kills a real ksk process (SIGKILL) before,
// while and after every step of the quarterly signing. Each time the log
// verifies up to its last entry, and running the same command again
// resumes it to an SKR byte-identical to an uninterrupted run's. A step
// that touched the HSM and was left unfinished is not repeated without an
// explicit decision.
func TestCeremonyKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and resumes the ceremony some forty times")
	}
	e := stageCeremony(t)
	bin := buildFaultKSK(t)
	answers := e.path("quarterly-answers.yaml")

	code, out, errOut := runKSK(t, "", e.quarterlyArgs("ref", answers)...)
	if code != 0 {
		t.Fatalf("reference run: exit %d\n%s%s", code, lastLines(out, 20), errOut)
	}
	ref := readFileT(t, e.path("out", "skr-ref.xml"))

	var plan struct {
		Steps []struct {
			ID         string `json:"id"`
			Type       string `json:"type"`
			TouchesHSM bool   `json:"touches_hsm"`
		} `json:"steps"`
	}
	code, out, _ = runKSK(t, "", append([]string{"ceremony", "check", quarterlyScript, "--dir", e.work, "-o", "json"}, e.params...)...)
	if code != 0 || json.Unmarshal([]byte(out), &plan) != nil {
		t.Fatalf("ceremony check: exit %d\n%s", code, out)
	}
	n := 0
	for _, s := range plan.Steps {
		phases := []string{"before", "done"}
		if s.TouchesHSM && s.Type != "seal" && s.Type != "rekor-publish" { // rekor-publish is skipped here (publish=false)
			phases = append(phases, "started")
		}
		if s.Type == "sign" {
			phases = append(phases, "effect") // the SKR written, not yet recorded
		}
		for _, phase := range phases {
			n++
			tag := fmt.Sprintf("k%d", n)
			args := e.quarterlyArgs(tag, answers)
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "KSK_CEREMONY_FAULT="+s.ID+":"+phase)
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stdout
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys() == nil || !strings.Contains(ee.Error(), "killed") {
				t.Fatalf("%s:%s: want the process killed, got %v\n%s", s.ID, phase, err, lastLines(stdout.String(), 10))
			}
			logPath := e.path("ceremony-" + tag + ".log")
			if code, rep := logVerify(t, logPath, "--in-progress"); code != 0 || rep["valid"] != true || rep["finished"] != (s.ID == "act5.seal" && phase == "done") {
				t.Fatalf("%s:%s: the log left by the kill does not verify as in progress: %v", s.ID, phase, rep)
			}
			if phase == "started" || phase == "effect" {
				// Without an explicit decision the step is not repeated,
				// and the refusal comes before any step runs again (no
				// quorum presented for nothing): the log does not grow.
				before := readFileT(t, logPath)
				code, out, errOut := runKSK(t, "", args...)
				if code != exitRejected || !strings.Contains(errOut, "explicit decision") {
					t.Fatalf("%s:%s: resumed without repeat: exit %d\n%s\n%s", s.ID, phase, code, lastLines(out, 10), errOut)
				}
				if readFileT(t, logPath) != before {
					t.Fatalf("%s:%s: the refused resume ran steps first:\n%s", s.ID, phase, lastLines(out, 15))
				}
				args = e.quarterlyArgs(tag, e.writeQuarterlyAnswers(t, "answers-"+tag+".yaml", []string{"co1", "co3", "co6"},
					"  "+s.ID+": {repeat: true}\n"))
			}
			// A temporary file an interrupted write left beside the SKR
			// is removed when the ceremony resumes.
			stale := e.path("out", ".skr-"+tag+".xml.tmp-1234")
			if s.Type == "sign" && phase == "before" {
				writeFileAt(t, stale, "<partial", 0o600)
			}
			code, out, errOut := runKSK(t, "", args...)
			if code != 0 {
				t.Fatalf("%s:%s: resume: exit %d\n%s\n%s", s.ID, phase, code, lastLines(out, 20), errOut)
			}
			if _, err := os.Stat(stale); err == nil {
				t.Errorf("%s:%s: the stale temporary file %s is still there after the resume", s.ID, phase, stale)
			}
			if got := readFileT(t, e.path("out", "skr-"+tag+".xml")); got != ref {
				t.Fatalf("%s:%s: the resumed ceremony's SKR differs from the uninterrupted run's", s.ID, phase)
			}
			if code, rep := logVerify(t, logPath); code != 0 || rep["unsealed_entries"].(float64) != 0 {
				t.Fatalf("%s:%s: resumed log: exit %d %v", s.ID, phase, code, rep)
			}
			e.noSecrets(t, out, errOut, readFileT(t, logPath))
		}
	}
	t.Logf("%d kills, each resumed to the same SKR", n)
}

// TestKeygenCeremonyKilledAfterKeygen kills the key generation ceremony
// after the HSM made the KSK but before the log recorded it: the resumed
// ceremony, on the operator's explicit decision, adopts that key instead of
// making a second one, and its log verifies.
func TestKeygenCeremonyKilledAfterKeygen(t *testing.T) {
	e := stageCeremony(t)
	bin := buildFaultKSK(t)
	token := "kmf-" + randomHex(t, 6)
	args := []string{"ceremony", "run", keygenScript, "--dir", e.work, "--log", e.path("keygen2.log"), "--answers", e.path("keygen2-answers.yaml"),
		"--scrypt-work-factor", "10", "--param", "token=" + token, "--param", "media=media2", "--param", "ksk_label=ksk-second", "--param", "attestation_label=attest-second"}
	answers := strings.ReplaceAll(readFileT(t, e.path("keygen-answers.yaml")), "credentials/kmf-east-co.", "credentials2/kmf-east-co.")
	writeFileAt(t, e.path("keygen2-answers.yaml"), answers, 0o644)
	// The second ceremony writes its credentials to credentials2/.
	script := strings.Replace(readFileT(t, keygenScript), "out: credentials\n", "out: credentials2\n", 1)
	keygen2 := e.path("key-generation-2.yaml")
	writeFileAt(t, keygen2, script, 0o644)
	args[2] = keygen2
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KSK_CEREMONY_FAULT=act5.generate-ksk:effect")
	if err := cmd.Run(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("want the process killed, got %v", err)
	}
	code, out, errOut := runKSK(t, "", args...)
	if code != exitRejected || !strings.Contains(errOut, "explicit decision") {
		t.Fatalf("resume without repeat: exit %d\n%s\n%s", code, lastLines(out, 10), errOut)
	}
	writeFileAt(t, e.path("keygen2-answers.yaml"), answers+"  act5.generate-ksk: {repeat: true}\n", 0o644)
	code, out, errOut = runKSK(t, "", args...)
	if code != 0 || !strings.Contains(out, "adopted, not generated again") {
		t.Fatalf("resume with repeat: exit %d\n%s\n%s", code, lastLines(out, 20), errOut)
	}
	if code, rep := logVerify(t, e.path("keygen2.log")); code != 0 {
		t.Fatalf("log: %v", rep)
	}
	if !strings.Contains(readFileT(t, e.path("keygen2.log")), `"adopted":"true"`) {
		t.Error("the log does not record the adoption")
	}
}

// TestCeremonyResumeRefusesChangedFiles: a file a finished step recorded
// (here the SKR) changed before the resume: the ceremony refuses to go on.
func TestCeremonyResumeRefusesChangedFiles(t *testing.T) {
	e := stageCeremony(t)
	bin := buildFaultKSK(t)
	args := e.quarterlyArgs("chg", e.path("quarterly-answers.yaml"))
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KSK_CEREMONY_FAULT=act4.sign:done")
	_ = cmd.Run()
	skr := e.path("out", "skr-chg.xml")
	writeFileAt(t, skr, strings.Replace(readFileT(t, skr), "<Signature", "<Signature ", 1), 0o644)
	code, _, errOut := runKSK(t, "", args...)
	if code != exitRejected || !strings.Contains(errOut, "the file changed since") {
		t.Fatalf("resume after the SKR changed: exit %d, %s", code, errOut)
	}
	// Nor with other parameters.
	code, _, errOut = runKSK(t, "", append(e.quarterlyArgs("chg", e.path("quarterly-answers.yaml")), "--param", "site=elsewhere")...)
	if code != exitRejected || !strings.Contains(errOut, "resume with the same --param values") {
		t.Fatalf("resume with another parameter: exit %d, %s", code, errOut)
	}
	// Another script cannot continue the log either.
	code, _, errOut = runKSK(t, "", "ceremony", "run", keygenScript, "--dir", e.work, "--log", e.path("ceremony-chg.log"),
		"--answers", e.path("keygen-answers.yaml"), "--param", "token="+e.token)
	if code != exitRejected || !strings.Contains(errOut, "was opened by a script") {
		t.Fatalf("resume with another script: exit %d, %s", code, errOut)
	}
}

// TestCeremonyInteractive drives the stepper as a person at a terminal
// would, through stdin: a "no" stops the ceremony with exit 1 and the
// refusal recorded; typed answers run the quorum with credential files and
// passphrases. While ksk waits at a prompt, its command line holds no
// secret.
func TestCeremonyInteractive(t *testing.T) {
	e := stageCeremony(t)
	// "no" at the first step.
	code, out, _ := runKSK(t, "no\n", append([]string{"ceremony", "run", quarterlyScript, "--dir", e.work, "--log", e.path("i1.log")}, e.params...)...)
	if code != exitRejected || !strings.Contains(out, "type yes to confirm") {
		t.Fatalf("answer no: exit %d\n%s", code, lastLines(out, 10))
	}
	if log := readFileT(t, e.path("i1.log")); !strings.Contains(log, `"status":"failed"`) || !strings.Contains(log, "not yes") {
		t.Errorf("the refusal is not in the log:\n%s", log)
	}

	// A key generation ceremony's first act, then the process list while
	// ksk waits for the next answer.
	bin := buildFaultKSK(t)
	cmd := exec.Command(bin, append([]string{"ceremony", "run", quarterlyScript, "--dir", e.work, "--log", e.path("i2.log")}, e.params...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(stdin, "yes\n") // welcome
	time.Sleep(200 * time.Millisecond)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
	if err == nil {
		e.noSecrets(t, string(cmdline))
	}
	stdin.Close() // end of input at the witness step: not confirmed
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRejected {
		t.Fatalf("end of input: %v\n%s", err, lastLines(stdout.String(), 10))
	}
	if !strings.Contains(stdout.String(), "Signature file:") {
		t.Errorf("the witness step did not ask for a signature file:\n%s", lastLines(stdout.String(), 10))
	}

	// Ctrl-C while a question waits: the ceremony stops at once (exit
	// 130), records the interruption, and its log verifies; an answer typed
	// afterwards is never acted on.
	cmd = exec.Command(bin, append([]string{"ceremony", "run", quarterlyScript, "--dir", e.work, "--log", e.path("i3.log")}, e.params...)...)
	stdin, err = cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout = syncBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "type yes to confirm") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	stdin.Close()
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("Ctrl-C at a prompt: %v, want exit 130\n%s", err, lastLines(stdout.String(), 10))
	}
	if code, rep := logVerify(t, e.path("i3.log"), "--in-progress"); code != 0 || rep["finished"] != false || !strings.Contains(readFileT(t, e.path("i3.log")), "interrupted") {
		t.Errorf("the interrupted ceremony's log: exit %d %v", code, rep)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a child process's
// output is copied into it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCeremonyRekorPublish runs the quarterly signing with its
// rekor-publish step on, against the real Rekor server that .ci/run starts
// (KSK_REKOR_URL, KSK_REKOR_KEY): the log verifies offline against the
// pinned Rekor key, and one changed byte of the stored entry or of the log
// makes ksk log verify exit 1.
func TestCeremonyRekorPublish(t *testing.T) {
	url, key := os.Getenv("KSK_REKOR_URL"), os.Getenv("KSK_REKOR_KEY")
	if url == "" || key == "" {
		testenv.Missing(t, "no Rekor server: run eval \"$(scripts/rekor.sh start)\" (docs/transparency.md)")
	}
	e := stageCeremony(t)
	writeFileAt(t, e.path("rekor.pub"), readFileT(t, key), 0o644)
	args := append(e.quarterlyArgs("rk", e.path("quarterly-answers.yaml")), "--param", "publish=true", "--param", "rekor_url="+url, "--param", "rekor_key=rekor.pub")
	code, out, errOut := runKSK(t, "", args...)
	if code != 0 || !strings.Contains(out, "Rekor entry stored in") {
		t.Fatalf("quarterly ceremony with publication: exit %d\n%s\n%s", code, lastLines(out, 20), errOut)
	}
	logPath := e.path("ceremony-rk.log")
	verify := func() (int, string) {
		code, out, errOut := runKSK(t, "", "log", "verify", "--rekor-key", e.path("rekor.pub"), logPath)
		return code, out + errOut
	}
	if code, out := verify(); code != 0 || !strings.Contains(out, "Rekor: entry") {
		t.Fatalf("offline verification: exit %d\n%s", code, out)
	}
	for _, f := range []string{logPath + ".rekor.json", logPath} {
		orig := readFileT(t, f)
		i := strings.Index(orig, `"integrated_time":`) + len(`"integrated_time":`) + 2
		if f == logPath {
			i = strings.Index(orig, `"step":"act4.sign"`) + 9
		}
		b := []byte(orig)
		b[i] ^= 0x01
		writeFileAt(t, f, string(b), 0o644)
		if code, out := verify(); code != exitRejected {
			t.Errorf("one byte of %s changed: exit %d, want 1\n%s", filepath.Base(f), code, out)
		}
		writeFileAt(t, f, orig, 0o644)
	}
	if code, out := verify(); code != 0 {
		t.Fatalf("restored files: exit %d\n%s", code, out)
	}
}

// TestCeremonyPreflight: before the log opens, ceremony run loads the
// module, finds the token and the keys the script names, reads the
// failed-login counter and checks the outputs, and prints what it found.
// A wrong --param token, a key the signer configuration names that is not
// in the HSM, a missing input or an output already there each stop it
// with nothing written: no log file is created.
func TestCeremonyPreflight(t *testing.T) {
	e := stageCeremony(t)
	answers := e.path("quarterly-answers.yaml")
	code, out, errOut := runKSK(t, "", e.quarterlyArgs("ok", answers)...)
	if code != 0 || !strings.Contains(out, "Pre-flight (nothing is written until it passes):") ||
		!strings.Contains(out, "HSM kmf-hsm") || !strings.Contains(out, "key ksk-attestation") {
		t.Fatalf("a good run: exit %d\n%s\n%s", code, lastLines(out, 40), errOut)
	}
	if i, j := strings.Index(out, "Pre-flight"), strings.Index(out, "Log: "); i < 0 || j < i {
		t.Errorf("the pre-flight does not come before the log is opened:\n%s", out[:min(len(out), 2000)])
	}

	signer := readFileT(t, e.path("signer.yaml"))
	writeFileAt(t, e.path("signer-missing-key.yaml"), strings.Replace(signer, "label: ksk-2026", "label: ksk-absent", 1), 0o644)
	writeFileAt(t, e.path("out", "skr-exists.xml"), "<old/>", 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong token", append(e.quarterlyArgs("tok", answers), "--param", "token=no-such-token"), exitEnvironment, "check --param token"},
		{"key not in the HSM", append(e.quarterlyArgs("key", answers), "--param", "signer_config=signer-missing-key.yaml"), exitEnvironment, "ksk-absent"},
		{"missing KSR", append(e.quarterlyArgs("ksr", answers), "--param", "ksr=no-such.xml"), exitUsage, "no-such.xml"},
		{"output exists", e.quarterlyArgs("exists", answers), exitUsage, "skr-exists.xml"},
		{"unknown param", append(e.quarterlyArgs("param", answers), "--param", "tokn=x"), exitUsage, `did you mean "token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runKSK(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s\n%s", code, tt.code, tt.want, lastLines(out, 12), errOut)
			}
			for _, tag := range []string{"tok", "key", "ksr", "exists", "param", "near"} {
				if _, err := os.Stat(e.path("ceremony-" + tag + ".log")); err == nil {
					t.Errorf("a log was written: ceremony-%s.log", tag)
				}
			}
		})
	}

	// Two failed logins recorded on the KSK's token (of 3): one more
	// would lock it mid-ceremony, so the pre-flight stops first.
	wrong := e.path("secrets", "wrong.pin")
	writeFileAt(t, wrong, "000000\n", 0o600)
	for i := 0; i < 2; i++ {
		runKSK(t, "", "keys", "list", "--token", e.token, "--pin-source", "file:"+wrong)
	}
	code, out, errOut = runKSK(t, "", e.quarterlyArgs("near", answers)...)
	if code != exitEnvironment || !strings.Contains(errOut, "near its limit (2 of 3)") {
		t.Errorf("counter near its limit: exit %d\n%s\n%s", code, lastLines(out, 8), errOut)
	}
	if _, err := os.Stat(e.path("ceremony-near.log")); err == nil {
		t.Error("a log was written with the counter near its limit")
	}
}

// TestCeremonyRecordCompare: the quarterly signing records the bag numbers
// read out of the safe and sealed into it, and with --param previous_log
// compares what comes out with what the last ceremony sealed in: equal
// numbers are recorded as matching that entry; a different one is an
// exception that the witnesses acknowledge (recorded), or, not
// acknowledged, stops the ceremony.
func TestCeremonyRecordCompare(t *testing.T) {
	e := stageCeremony(t)
	answers := readFileT(t, e.path("quarterly-answers.yaml"))
	if code, out, errOut := runKSK(t, "", e.quarterlyArgs("a", e.path("quarterly-answers.yaml"))...); code != 0 {
		t.Fatalf("first ceremony: exit %d\n%s%s", code, lastLines(out, 20), errOut)
	}
	matching := e.path("answers-match.yaml")
	writeFileAt(t, matching, strings.Replace(answers, `{hsm_bag: "BB1001", laptop_bag: "BB1002"}`, `{hsm_bag: "BB2001", laptop_bag: "BB2002"}`, 1), 0o644)
	notAck := e.path("answers-noack.yaml")
	writeFileAt(t, notAck, strings.Replace(answers, `act2.equipment-safe: {values:`, `act2.equipment-safe: {confirm: false, values:`, 1), 0o644)
	prev := []string{"--param", "previous_log=ceremony-a.log"}

	code, out, errOut := runKSK(t, "", append(e.quarterlyArgs("b", matching), prev...)...)
	if code != 0 || !strings.Contains(out, "matches the previous ceremony's record") {
		t.Fatalf("same bags: exit %d\n%s%s", code, lastLines(out, 20), errOut)
	}
	logB := readFileT(t, e.path("ceremony-b.log"))
	if !strings.Contains(logB, `"previous.hsm_bag":"matches seq`) || !strings.Contains(logB, `"value.hsm_bag":"BB2001"`) || !strings.Contains(logB, "ceremony-a.log") {
		t.Errorf("the match is not in the log:\n%s", lastLines(logB, 30))
	}

	code, out, errOut = runKSK(t, "", append(e.quarterlyArgs("c", e.path("quarterly-answers.yaml")), prev...)...)
	if code != 0 || !strings.Contains(out, `EXCEPTION: HSM tamper-evident bag number is "BB1001", but the previous ceremony's log recorded "BB2001"`) {
		t.Fatalf("other bags, acknowledged: exit %d\n%s%s", code, lastLines(out, 20), errOut)
	}
	if logC := readFileT(t, e.path("ceremony-c.log")); !strings.Contains(logC, `"exception.hsm_bag":`) || !strings.Contains(logC, "acknowledged") {
		t.Errorf("the exception is not in the log")
	}

	code, out, errOut = runKSK(t, "", append(e.quarterlyArgs("d", notAck), prev...)...)
	if code != exitRejected || !strings.Contains(errOut, "not acknowledged") {
		t.Errorf("other bags, not acknowledged: exit %d\n%s%s", code, lastLines(out, 10), errOut)
	}
}
