package main

// The attack pass of issue 17, replayed against the files of a rehearsal
// room: a quarterly signing ceremony run on SoftHSM, its log, the
// attestation key's public half and the witnesses' allowed_signers. Each
// case says what the attack did before the fix and asserts the fixed
// behaviour through the CLI, as a TCR checking a published log would run
// it.

import (
	"bytes"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age/armor"
	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
)

// attackRoom is a finished quarterly signing: its log, the attestation key
// and the allowed signers a TCR pins.
type attackRoom struct {
	e                           *ceremonyEnv
	log, attestPEM, allowed     string
	lines                       []string
	signSeq, signOffSeq, seqEnd int
}

func newAttackRoom(t *testing.T) *attackRoom {
	t.Helper()
	e := stageCeremony(t)
	code, out, errOut := runKSK(t, "", e.quarterlyArgs("a", e.path("quarterly-answers.yaml"))...)
	if code != 0 {
		t.Fatalf("quarterly ceremony: exit %d\n%s\n%s", code, lastLines(out, 30), errOut)
	}
	r := &attackRoom{e: e, log: e.path("ceremony-a.log"), attestPEM: e.path("media", "ksk-attestation.pem"), allowed: e.path("allowed_signers")}
	var allowed strings.Builder
	for _, w := range []string{"tcr1", "tcr2", "ew1"} {
		fmt.Fprintf(&allowed, "%s %s", w, readFileT(t, e.path("witnesses", w+".pub")))
	}
	writeFileAt(t, r.allowed, allowed.String(), 0o644)
	r.lines = strings.SplitAfter(readFileT(t, r.log), "\n")
	r.lines = r.lines[:len(r.lines)-1] // after the last newline
	r.signSeq, r.signOffSeq = -1, -1
	for i, l := range r.lines {
		en := parseLine(t, l)
		if en.Step == "act4.sign" && en.Details["status"] == "done" {
			r.signSeq = i
		}
		if en.Step == "act5.sign-off" && r.signOffSeq < 0 {
			r.signOffSeq = i
		}
	}
	r.seqEnd = len(r.lines) - 1
	if r.signSeq < 0 || r.signOffSeq < r.signSeq || parseLine(t, r.lines[r.seqEnd]).Type != attest.TypeSeal {
		t.Fatalf("unexpected log layout: sign at %d, sign-off at %d, last %s", r.signSeq, r.signOffSeq, parseLine(t, r.lines[r.seqEnd]).Type)
	}
	return r
}

// rechain re-encodes lines from index from on with each prev set to the
// hash of the line before it, as an attacker without any key can.
func rechain(t *testing.T, lines []string, from int) []string {
	t.Helper()
	out := append([]string(nil), lines...)
	for i := max(from, 1); i < len(out); i++ {
		e := parseLine(t, out[i])
		e.Prev = attest.LineHash([]byte(strings.TrimSuffix(out[i-1], "\n")))
		b, err := attest.MarshalLine(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b) + "\n"
	}
	return out
}

func relineT(t *testing.T, line string, edit func(e *attest.Entry)) string {
	t.Helper()
	e := parseLine(t, line)
	edit(e)
	b, err := attest.MarshalLine(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// verifyForged writes lines to a file and runs ksk log verify -o json on
// it with the TCR's pins and extra flags.
func (r *attackRoom) verifyForged(t *testing.T, lines []string, extra ...string) (int, logReportJSON) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "forged.log")
	writeFileAt(t, p, strings.Join(lines, ""), 0o644)
	args := append([]string{"log", "verify", "-o", "json", "--attestation-key", r.attestPEM, "--allowed-signers", r.allowed}, extra...)
	code, out, errOut := runKSK(t, "", append(args, p)...)
	var rep logReportJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s%s", code, err, out, errOut)
	}
	return code, rep
}

type logReportJSON struct {
	Valid    bool            `json:"valid"`
	Finished bool            `json:"finished"`
	Status   string          `json:"status"`
	Attested int64           `json:"attested_through_seq"`
	Findings []check.Finding `json:"findings"`
}

func (r logReportJSON) errorChecks() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == check.Error {
			out = append(out, f.Check)
		}
	}
	return out
}

func TestAttackForgedLogs(t *testing.T) {
	r := newAttackRoom(t)
	// The genuine log verifies in the default, finished mode, bound to
	// its script and ceremony.
	code, rep := r.verifyForged(t, r.lines, "--script", quarterlyScript, "--ceremony", "KSK Ceremony 1 (quarterly signing)/1")
	if code != 0 || !rep.Valid || !rep.Finished || rep.Status != "VALID" {
		t.Fatalf("the genuine log: exit %d %+v", code, rep)
	}

	otherScript := filepath.Join(t.TempDir(), "other.yaml")
	writeFileAt(t, otherScript, readFileT(t, quarterlyScript)+"\n# another script\n", 0o644)

	tests := []struct {
		name   string
		before string // what the attack got before the fix
		forge  func() []string
		flags  []string
		want   string // the error check named
	}{
		{"SKR hash changed, chain re-hashed, tail dropped",
			"VALID, exit 0, with a LOG-NO-SEAL warning: the attendance signatures counted as every allowed signer signing",
			func() []string {
				l := append([]string(nil), r.lines[:r.signSeq+1]...)
				l[r.signSeq] = relineT(t, l[r.signSeq], func(e *attest.Entry) {
					for i := range e.Files {
						e.Files[i].SHA256[0] ^= 0xff
					}
				})
				return rechain(t, l, r.signSeq)
			}, nil, attest.CheckNoSeal},
		{"seal dropped", "VALID with a LOG-NO-SEAL warning",
			func() []string { return r.lines[:r.seqEnd] }, nil, attest.CheckNoSeal},
		{"tail truncated before the sign-off", "VALID with a warning",
			func() []string { return r.lines[:r.signOffSeq] }, nil, attest.CheckNoSeal},
		{"an entry appended after the seal", "VALID with a warning",
			func() []string {
				extra := relineT(t, r.lines[r.signSeq], func(e *attest.Entry) { e.Seq = int64(len(r.lines)) })
				return rechain(t, append(append([]string(nil), r.lines...), extra), len(r.lines))
			}, nil, attest.CheckUnsealed},
		{"a log of another ceremony script", "VALID: nothing bound the log to its ceremony",
			func() []string { return r.lines }, []string{"--script", otherScript}, attest.CheckCeremony},
		{"a log of another ceremony number", "VALID",
			func() []string { return r.lines }, []string{"--ceremony", "KSK Ceremony 1 (quarterly signing)/2"}, attest.CheckCeremony},
		{"high-S seal", "VALID: (r, N-s) verifies too, giving the same content a second head",
			func() []string {
				l := append([]string(nil), r.lines...)
				l[r.seqEnd] = relineT(t, l[r.seqEnd], func(e *attest.Entry) { e.Seal.Signature = highS(t, e.Seal.Signature) })
				return l
			}, nil, attest.CheckSeal},
		{"ESC in a detail", "VALID, and ksk log show sent the escape sequence to the terminal",
			func() []string {
				l := append([]string(nil), r.lines...)
				l[r.signSeq] = relineT(t, l[r.signSeq], func(e *attest.Entry) { e.Details["title"] = "Sign\x1b[2K\rthe KSR" })
				return rechain(t, l, r.signSeq)
			}, nil, attest.CheckControl},
		{"witness signature re-armored", "VALID: a re-wrapped armor gave the same signature a second head",
			func() []string {
				l := append([]string(nil), r.lines...)
				l[r.signOffSeq] = relineT(t, l[r.signOffSeq], func(e *attest.Entry) {
					e.Witness.Signature = strings.Replace(e.Witness.Signature, "\n", "\n\n", 1)
				})
				return rechain(t, l, r.signOffSeq)
			}, nil, attest.CheckWitness},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, rep := r.verifyForged(t, tt.forge(), tt.flags...)
			got := rep.errorChecks()
			if code != exitRejected || rep.Valid || rep.Finished || rep.Status != "INVALID" || len(got) == 0 || got[0] != tt.want {
				t.Errorf("before the fix: %s; now exit %d, status %s, errors %v; want exit 1 naming %s\n%+v", tt.before, code, rep.Status, got, tt.want, rep.Findings)
			}
			// A log cut before the sign-off also lacks every witness's
			// sign-off: the attendance signatures do not count.
			if tt.want == attest.CheckNoSeal && tt.name != "seal dropped" && !slices.Contains(got, attest.CheckSignOff) {
				t.Errorf("no %s among %v", attest.CheckSignOff, got)
			}
		})
	}

	// The forged log of the first case, checked as a log in progress:
	// it verifies only as NOT FINISHED, attested up to no signing.
	l := r.lines[:r.signSeq+1]
	code, rep = r.verifyForged(t, l, "--in-progress")
	if code != 0 || rep.Finished || rep.Status != "NOT FINISHED" {
		t.Errorf("the truncated log --in-progress: exit %d %+v", code, rep)
	}
	p := filepath.Join(t.TempDir(), "partial.log")
	writeFileAt(t, p, strings.Join(l, ""), 0o644)
	code, out, _ := runKSK(t, "", "log", "show", "--in-progress", p)
	if code != 0 || !strings.Contains(out, "Verification: NOT FINISHED") || strings.Contains(out, "Verification: VALID") {
		t.Errorf("log show --in-progress of a partial log: exit %d\n%s", code, lastLines(out, 5))
	}
	code, out, _ = runKSK(t, "", "log", "show", p)
	if code != exitRejected || !strings.Contains(out, "Verification: INVALID") {
		t.Errorf("log show of a partial log: exit %d\n%s", code, lastLines(out, 5))
	}
}

// highS returns the ECDSA P-256 signature sig with S replaced by N-S.
func highS(t *testing.T, sig []byte) []byte {
	t.Helper()
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &v); err != nil {
		t.Fatal(err)
	}
	v.S.Sub(elliptic.P256().Params().N, v.S)
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttackStepInputsLogged: every file a step reads is in the log with
// its SHA-256. Before the fix the quorum step logged "files: []", so a
// roster or credentials manifest swapped for the day left no trace; now
// the step that presents credentials logs both, the log's opening logs the
// answers file with the script, the KSR load its KSR and the signing its
// signer configuration, each hash that of the file on disk. A roster
// changed after the ceremony makes resuming it fail, naming the roster.
func TestAttackStepInputsLogged(t *testing.T) {
	r := newAttackRoom(t)
	want := map[string][]string{
		"ceremony.open":            {"quarterly-signing.yaml", "quarterly-answers.yaml"},
		"act3.present-credentials": {"roster-co.yaml", "credentials/credentials.json"},
		"act4.load-ksr":            {"ksr.xml"},
		"act4.sign":                {"signer.yaml"},
	}
	seen := map[string]bool{}
	for _, l := range r.lines {
		e := parseLine(t, l)
		for _, name := range want[e.Step] {
			i := slices.IndexFunc(e.Files, func(f attest.FileRef) bool { return f.Path == name && f.Role == attest.Read })
			if i < 0 {
				continue
			}
			path := r.e.path(name)
			if name == "quarterly-signing.yaml" {
				path = quarterlyScript
			}
			sum := sha256.Sum256([]byte(readFileT(t, path)))
			if e.Files[i].SHA256 != sum {
				t.Errorf("%s: %s logged with sha256 %s, the file has %x", e.Step, name, e.Files[i].SHA256, sum)
			}
			seen[e.Step+" "+name] = true
		}
	}
	for step, names := range want {
		for _, name := range names {
			if !seen[step+" "+name] {
				t.Errorf("step %s did not log reading %s", step, name)
			}
		}
	}

	// The ceremony stopped before the signing, and the roster changed
	// since: resuming refuses, naming it, before any step runs.
	writeFileAt(t, r.log, strings.Join(r.lines[:r.signSeq-2], ""), 0o644)
	stale, _ := filepath.Glob(r.e.path("out", "*-a.*"))
	for _, f := range stale { // outputs of the steps cut off, which pre-flight would refuse
		os.Remove(f)
	}
	writeFileAt(t, r.e.path("roster-co.yaml"), readFileT(t, r.e.path("roster-co.yaml"))+"# changed\n", 0o644)
	code, out, errOut := runKSK(t, "", r.e.quarterlyArgs("a", r.e.path("quarterly-answers.yaml"))...)
	if code == 0 || !strings.Contains(errOut, "roster-co.yaml") || !strings.Contains(errOut, "changed") {
		t.Errorf("resume after the roster changed: exit %d\n%s\n%s", code, lastLines(out, 5), errOut)
	}
}

// scryptWorkFactor rewrites the work factor of a credential's scrypt
// stanza ("-> scrypt SALT N") to logN and re-armors the file, as someone
// who can hand a file to the room could. The header MAC no longer matches,
// but age reads the work factor before it can check the MAC.
func scryptWorkFactor(t *testing.T, file []byte, logN int) []byte {
	t.Helper()
	raw, err := io.ReadAll(armor.NewReader(bytes.NewReader(file)))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(-> scrypt \S+) \d+$`)
	if !re.Match(raw) {
		t.Fatal("no scrypt stanza in the credential")
	}
	raw = re.ReplaceAll(raw, []byte(fmt.Sprintf("${1} %d", logN)))
	var out bytes.Buffer
	w := armor.NewWriter(&out)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestAttackHostileCredentials: before the fix a credential with a crafted
// scrypt work factor of 22 made ksk allocate 4 GiB and spend seconds of
// scrypt before the passphrase was even tried (age's own limit), and a
// file that was not a pinned credential was decrypted all the same. Now
// the work factor is refused from the header (quorum.MaxWorkFactor),
// allocating a few MB at most, and with --manifest a file that is not
// pinned is reported not-pinned without its passphrase being asked.
func TestAttackHostileCredentials(t *testing.T) {
	r := newAttackRoom(t)
	e := r.e
	genuine := e.path("credentials", "kmf-east-co.co1.age")
	hostile := filepath.Join(t.TempDir(), "kmf-east-co.co1.age")
	writeFileAt(t, hostile, string(scryptWorkFactor(t, []byte(readFileT(t, genuine)), 22)), 0o644)
	pass := "file:" + e.path("secrets", "co1.pass")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	code, out, errOut := runKSK(t, "", "credentials", "check", "--roster", e.path("roster-co.yaml"),
		"--passphrase-source", hostile+"="+pass, hostile)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("crafted work factor 22 refused in %v, %d kB allocated", took, alloc>>10)
	if code != exitRejected || !strings.Contains(out, "work factor too large") {
		t.Errorf("credential with work factor 22: exit %d, want %d naming the work factor\n%s%s", code, exitRejected, out, errOut)
	}
	if alloc > 100<<20 {
		t.Errorf("refusing the crafted credential allocated %d MB; scrypt ran", alloc>>20)
	}

	// With the manifest the crafted file is not pinned: not decrypted,
	// its passphrase not asked (no source given, and stdin is empty);
	// the genuine one still opens.
	var rep struct {
		Credentials []struct {
			Source  string `json:"source"`
			Counted bool   `json:"counted"`
			Reason  string `json:"reason"`
		} `json:"credentials"`
	}
	code, out, errOut = runKSK(t, "", "credentials", "check", "-o", "json", "--roster", e.path("roster-co.yaml"),
		"--manifest", e.path("credentials", "credentials.json"), "--passphrase-source", genuine+"="+pass, hostile, genuine)
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitRejected || len(rep.Credentials) != 2 {
		t.Fatalf("check with the manifest: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if c := rep.Credentials[0]; c.Counted || c.Reason != "not-pinned" {
		t.Errorf("the crafted credential with --manifest: %+v, want not-pinned", c)
	}
	if c := rep.Credentials[1]; !c.Counted {
		t.Errorf("the genuine credential with --manifest: %+v, want counted", c)
	}
	if strings.Contains(errOut, "passphrase") {
		t.Errorf("a passphrase was asked for a file that is not pinned:\n%s", errOut)
	}
}

// TestAttackReissueRevokes: before the fix, re-issuing the crypto
// officers' credentials split the same HSM PIN again, so a quorum of the
// old credentials (one of them lost or kept by a departed officer) still
// logged the HSM in. Now the re-issue ceremony changes the PIN (C_SetPIN
// in the activated session) before it records the new credentials: the
// new ones activate the HSM in the same ceremony, and a signing ceremony
// run with the old ones afterwards rebuilds the old PIN, which the HSM
// refuses (exit 3), and signs nothing.
func TestAttackReissueRevokes(t *testing.T) {
	e := stageCeremony(t)
	const witnesses = "{tcr1: witnesses/tcr1, tcr2: witnesses/tcr2, ew1: witnesses/ew1}"
	var passFiles, newCreds strings.Builder
	for i := 1; i <= 7; i++ {
		pass := "new-pass-" + randomHex(t, 8)
		writeFileAt(t, e.path("secrets", fmt.Sprintf("new-co%d.pass", i)), pass+"\n", 0o600)
		e.secrets = append(e.secrets, pass)
		if i > 1 {
			passFiles.WriteString(", ")
		}
		fmt.Fprintf(&passFiles, "co%d: secrets/new-co%d.pass", i, i)
	}
	for _, i := range []int{3, 5, 6} {
		fmt.Fprintf(&newCreds, "      - {file: credentials-new/kmf-east-co.co%d.age, passphrase_file: secrets/new-co%d.pass}\n", i, i)
	}
	answers := e.path("reissue-answers.yaml")
	writeFileAt(t, answers, `format: ksk-answers-v1
confirm_all: true
steps:
  act1.attendance: {ssh_keys: `+witnesses+`}
  act2.present-credentials:
    credentials:
      - {file: credentials/kmf-east-co.co1.age, passphrase_file: secrets/co1.pass}
      - {file: credentials/kmf-east-co.co2.age, passphrase_file: secrets/co2.pass}
      - {file: credentials/kmf-east-co.co4.age, passphrase_file: secrets/co4.pass}
  act3.reissue: {passphrase_files: {`+passFiles.String()+`}}
  act3.present-new-credentials:
    credentials:
`+newCreds.String()+`  act4.sign-off: {ssh_keys: `+witnesses+`}
`, 0o644)
	script := filepath.Join("..", "..", "scripts", "ceremonies", "credentials-reissue.yaml")
	log := e.path("reissue.log")
	code, out, errOut := runKSK(t, "", append([]string{"ceremony", "run", script, "--dir", e.work, "--log", log,
		"--answers", answers, "--scrypt-work-factor", "10"}, e.params...)...)
	if code != 0 {
		t.Fatalf("re-issue ceremony: exit %d\n%s\n%s", code, lastLines(out, 30), errOut)
	}
	e.noSecrets(t, out, errOut, readFileT(t, log))
	if !strings.Contains(out, "user PIN changed") {
		t.Errorf("the re-issue did not say the PIN changed:\n%s", lastLines(out, 30))
	}
	if code, rep := logVerify(t, log, "--attestation-key", e.path("media", "ksk-attestation.pem"), "--script", script); code != 0 || rep["status"] != "VALID" {
		t.Errorf("re-issue log: exit %d, %v", code, rep["findings"])
	}

	// A signing ceremony with a quorum of the old credentials: the quorum
	// still rebuilds the old PIN, and the HSM refuses it.
	code, out, errOut = runKSK(t, "", e.quarterlyArgs("old", e.path("quarterly-answers.yaml"))...)
	if code != exitEnvironment || !strings.Contains(errOut, "PIN incorrect") {
		t.Fatalf("signing with the old credentials: exit %d, want %d with the HSM refusing the PIN\n%s\n%s", code, exitEnvironment, lastLines(out, 10), errOut)
	}
	if _, err := os.Stat(e.path("out", "skr-old.xml")); err == nil {
		t.Error("an SKR was signed with the old credentials")
	}
}

// TestAttackCoreDump: before the fix, a ksk that crashed after the crypto
// officers activated the HSM (or was made to, with kill -ABRT by anyone
// of the same user) dumped core where core dumps were allowed, with the
// passphrases and the PIN in it; the same user could also attach a
// debugger. Now ksk sets RLIMIT_CORE to 0 and PR_SET_DUMPABLE to 0 before
// any command runs. Both halves are shown on the same machine, with core
// dumps allowed: with the protections switched off (test build only) the
// core holds a crypto officer's passphrase or the HSM PIN's bytes; with
// them on, no core file is written at all.
func TestAttackCoreDump(t *testing.T) {
	pattern, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		t.Fatalf("this test needs Linux's /proc/sys/kernel/core_pattern: %v", err)
	}
	if p := strings.TrimSpace(string(pattern)); strings.HasPrefix(p, "|") || strings.Contains(p, "/") {
		t.Fatalf("core_pattern is %q: this test needs core files written in the working directory (core_pattern core); set it with: echo core > /proc/sys/kernel/core_pattern", p)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: old.Max, Max: old.Max}); err != nil {
		t.Fatalf("cannot allow core dumps for the child: %v", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_CORE, &old) })
	if old.Max < 64<<20 {
		t.Fatalf("the hard core size limit is %d bytes: too small for a core of ksk", old.Max)
	}

	e := stageCeremony(t)
	bin := buildFaultKSK(t)
	answers := e.path("quarterly-answers.yaml")
	for _, tc := range []struct {
		name        string
		unprotected bool
	}{{"protections off (test build switch)", true}, {"protections on", false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tag := "core" + strconv.FormatBool(tc.unprotected)
			args := e.quarterlyArgs(tag, answers)
			script, err := filepath.Abs(quarterlyScript)
			if err != nil {
				t.Fatal(err)
			}
			args[2] = script // the child runs in dir, where a core lands
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "KSK_CEREMONY_FAULT=act3.activate:done", "KSK_CEREMONY_FAULT_SIGNAL=abort", "GOTRACEBACK=crash")
			if tc.unprotected {
				cmd.Env = append(cmd.Env, "KSK_TEST_UNPROTECTED=1")
			}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err = cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !strings.Contains(ee.Error(), "aborted") {
				t.Fatalf("want ksk aborted after act3.activate, got %v\n%s", err, lastLines(out.String(), 10))
			}
			if !strings.Contains(out.String(), "HSM kmf-hsm activated") {
				t.Fatalf("ksk aborted before the HSM was activated:\n%s", lastLines(out.String(), 10))
			}
			cores, _ := filepath.Glob(filepath.Join(dir, "core*"))
			if !tc.unprotected {
				if len(cores) != 0 || strings.Contains(ee.Error(), "core dumped") {
					t.Fatalf("a core was dumped with the protections on: %v (%v)", cores, ee)
				}
				return
			}
			if len(cores) != 1 {
				t.Fatalf("with the protections off and core dumps allowed, want one core file, got %v (%v)", cores, ee)
			}
			core, err := os.ReadFile(cores[0])
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(cores[0])
			found := ""
			for _, s := range e.secrets {
				if bytes.Contains(core, []byte(s)) {
					found = s
				}
			}
			t.Logf("core of %d MB; a secret found in it: %v", len(core)>>20, found != "")
			if found == "" {
				t.Fatal("the core of an unprotected ksk holds none of the passphrases: the test would not show what the protections prevent")
			}
		})
	}
}

// TestAttackSymlinkOnMedium: before the fix write-outputs followed a
// symbolic link prepared on the output medium (os.ReadFile, then a write
// through it), so a medium could point the SKR copy at a file elsewhere.
// Now a link as the medium directory or as a file on it stops the step,
// and the file it points to is untouched.
func TestAttackSymlinkOnMedium(t *testing.T) {
	e := stageCeremony(t)
	victim := filepath.Join(t.TempDir(), "victim")
	writeFileAt(t, victim, "do not touch\n", 0o644)
	for _, tc := range []struct{ tag, want string }{{"file", "not a regular file"}, {"dir", "is a symbolic link"}} {
		t.Run(tc.tag, func(t *testing.T) {
			media := e.path("media-" + tc.tag)
			if tc.tag == "file" {
				if err := os.MkdirAll(media, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(victim, filepath.Join(media, "skr-"+tc.tag+".xml")); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink(filepath.Dir(victim), media); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runKSK(t, "", e.quarterlyArgs(tc.tag, e.path("quarterly-answers.yaml"))...)
			if code != exitRejected || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "act4.copy-outputs") {
				t.Errorf("exit %d, want %d naming act4.copy-outputs and %q\n%s\n%s", code, exitRejected, tc.want, lastLines(out, 5), errOut)
			}
			if got := readFileT(t, victim); got != "do not touch\n" {
				t.Errorf("the file behind the link was changed: %q", got)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(victim), "skr-"+tc.tag+".xml")); err == nil {
				t.Error("the SKR was copied through the linked medium")
			}
		})
	}
}

// TestCountersignAfterSeal: witnesses who countersign a finished log later
// (ksk log witness) add entries after the seal. Checked against the
// pinned allowed signers the log stays VALID and finished, as only a
// pinned key can make such an entry; without the pins those entries are
// not attested by anything the TCR trusts and the log is LOG-UNSEALED.
func TestCountersignAfterSeal(t *testing.T) {
	r := newAttackRoom(t)
	p := filepath.Join(t.TempDir(), "countersigned.log")
	writeFileAt(t, p, strings.Join(r.lines, ""), 0o644)
	for _, w := range []string{"tcr1", "ew1"} {
		if code, out, errOut := runKSK(t, "", "log", "witness", p, "--name", w, "--key", r.e.path("witnesses", w)); code != 0 {
			t.Fatalf("log witness %s: exit %d\n%s%s", w, code, out, errOut)
		}
	}
	lines := strings.SplitAfter(readFileT(t, p), "\n")
	lines = lines[:len(lines)-1]
	if code, rep := r.verifyForged(t, lines); code != 0 || rep.Status != "VALID" || !rep.Finished {
		t.Errorf("countersigned log with the allowed signers: exit %d %+v", code, rep)
	}
	code, out, _ := runKSK(t, "", "log", "verify", "-o", "json", "--attestation-key", r.attestPEM, p)
	if code != exitRejected || !strings.Contains(out, attest.CheckUnsealed) {
		t.Errorf("countersigned log without the allowed signers: exit %d\n%s", code, out)
	}
}
