package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/ksk-dev/ksk/attest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/pgpwords"
	"github.com/ksk-dev/ksk/rollover"
	"github.com/ksk-dev/ksk/signer"
	"github.com/miekg/dns"
)

// The disaster recovery scripts and the ceremony that prepares them, from
// this package's directory.
var (
	drDir            = filepath.Join("..", "..", "scripts", "dr")
	keygenBackupPath = filepath.Join("..", "..", "scripts", "ceremonies", "key-generation-backup.yaml")
)

const drWitnesses = "{tcr1: witnesses/tcr1, tcr2: witnesses/tcr2, ew1: witnesses/ew1}"

// drEnv is a staged disaster recovery rehearsal: the ceremony room of
// stageCeremony (KMF East's token and crypto officers, the ZSK operator's
// token), plus KMF West's token and crypto officers, an outside HSM with
// its emergency crypto officers, the recovery key share holders, the
// backup-able KSK of the key generation with backup, and one KSR per
// quarter from today.
type drEnv struct {
	*ceremonyEnv
	west, outside *softhsmtest.Token
	date          string            // today, YYYY-MM-DD
	quarters      []drQuarter       // Q0 (ksr.xml, today) to Q4
	kskTag        string            // the KSK's key tag and DS digest
	kskDS         string            //
	ran           map[string]bool   // scripts of scripts/dr run to completion
	newTokens     map[string]string // tokens initialised by a variant, by slug
}

// drQuarter is one quarter's KSR.
type drQuarter struct {
	file  string // relative to the work directory
	start time.Time
	words string // the last four PGP words of its SHA-256
}

// stageDR stages the rehearsal and runs the key generation with backup.
func stageDR(t *testing.T) *drEnv {
	t.Helper()
	e := &drEnv{ceremonyEnv: stageCeremony(t), ran: map[string]bool{}, newTokens: map[string]string{}}
	e.date = time.Now().UTC().Format(time.DateOnly)
	for _, h := range append(holderNames("rksh", 7), append(holderNames("wco", 7), holderNames("eco", 3)...)...) {
		pass := "pass-" + randomHex(t, 8)
		writeFileAt(t, e.path("secrets", h+".pass"), pass+"\n", 0o600)
		e.secrets = append(e.secrets, pass)
	}
	e.writeRoster(t, "roster-west-co.yaml", "kmf-west-co", 3, "crypto-officer", holderNames("wco", 7))
	e.writeRoster(t, "roster-outside-co.yaml", "outside-hsm-co", 2, "crypto-officer", holderNames("eco", 3))
	e.writeRoster(t, "roster-alt-co.yaml", "alt-site-co", 3, "crypto-officer", holderNames("co", 7))
	e.writeRoster(t, "roster-east2-co.yaml", "kmf-east-2-co", 3, "crypto-officer", holderNames("co", 7))
	e.writeRoster(t, "roster-spare-co.yaml", "kmf-west-spare-co", 2, "crypto-officer", holderNames("eco", 3))

	// KMF West's and the outside HSM's tokens: their user PINs are split
	// among their crypto officers, as "ksk credentials issue" does.
	e.west, e.outside = softhsmtest.NewToken(t), softhsmtest.NewToken(t)
	e.secrets = append(e.secrets, e.west.UserPIN, e.west.SOPIN, e.outside.UserPIN, e.outside.SOPIN)
	for _, c := range []struct {
		tk          *softhsmtest.Token
		roster, dir string
	}{{e.west, "roster-west-co.yaml", "west-credentials"}, {e.outside, "roster-outside-co.yaml", "outside-credentials"}} {
		out := mustRun(t, nil, "credentials", "issue", "--roster", e.path(c.roster), "--secret-source", "file:"+c.tk.UserPINFile,
			"--out-dir", e.path(c.dir), "--scrypt-work-factor", "10", "-o", "json")
		writeFileAt(t, e.path(c.dir, "credentials.json"), out, 0o644)
	}

	// The ZSK operator's KSRs: Q0 is stageCeremony's ksr.xml (today), each
	// later quarter starts 90 days on, its ZSKs one step on.
	for _, z := range []string{"zsk-d", "zsk-e", "zsk-f", "zsk-g"} {
		mustRun(t, nil, "keys", "generate", "--label", z, "--algorithm", "RSASHA256", "--flags", "256")
	}
	start := time.Now().UTC().Truncate(24 * time.Hour)
	e.quarters = append(e.quarters, drQuarter{file: "ksr.xml", start: start, words: e.words})
	zsks := []string{"zsk-a", "zsk-b", "zsk-c", "zsk-d", "zsk-e", "zsk-f", "zsk-g"}
	for q := 1; q <= 4; q++ {
		qs := start.Add(time.Duration(q) * 90 * 24 * time.Hour)
		file := fmt.Sprintf("ksr-q%d.xml", q)
		mustRun(t, nil, "ksr", "create", "--zsk", zsks[q], "--zsk", zsks[q+1], "--zsk", zsks[q+2], "--start", qs.Format(time.RFC3339), "--out", e.path(file))
		e.quarters = append(e.quarters, drQuarter{file: file, start: qs, words: lastWords(t, e.path(file))})
	}

	// The KSK of the rehearsal: generated backup-able at KMF East, backed
	// up, restored into KMF West.
	e.check(t, keygenBackupPath, "token="+e.token, "west_token="+e.west.Label)
	e.runScript(t, keygenBackupPath, "keygen-backup", e.answers(t, map[string]string{
		"act1.attendance":               "{ssh_keys: " + drWitnesses + "}",
		"act3.present-credentials":      e.creds("credentials/kmf-east-co", "co1", "co2", "co3"),
		"act5.backup":                   "{so_pin_file: secrets/so.pin, passphrase_files: {" + e.passFiles(holderNames("rksh", 7)) + "}, credentials: " + credList("credentials/kmf-east-co", "co4", "co5", "co6") + "}",
		"act6.west-present-credentials": e.creds("west-credentials/kmf-west-co", "wco1", "wco2", "wco3"),
		"act6.restore-west":             e.creds("backup-credentials/kmf-east-rksh", "rksh1", "rksh2", "rksh3", "rksh4", "rksh5"),
		"act8.sign-off":                 "{ssh_keys: " + drWitnesses + "}",
	}), "token="+e.token, "west_token="+e.west.Label)
	m := regexp.MustCompile(`(?m)\tDS\t(\d+) 8 2 ([0-9A-F]{64})$`).FindStringSubmatch(readFileT(t, e.path("media", "ksk-2027.dnskey-ds")))
	if m == nil {
		t.Fatal("no DS in the key generation with backup's output")
	}
	e.kskTag, e.kskDS = m[1], m[2]
	if west := readFileT(t, e.path("media", "ksk-2027-west.dnskey-ds")); west != readFileT(t, e.path("media", "ksk-2027.dnskey-ds")) {
		t.Fatalf("the KSK restored into KMF West has another DNSKEY or DS:\n%s", west)
	}
	writeFileAt(t, e.path("anchors-2027.ds"), ". 172800 IN DS "+e.kskTag+" 8 2 "+e.kskDS+"\n", 0o644)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# The signer configuration of the disaster recovery rehearsal: KSK-2027.\nkeys:\n  ksk_2027:\n    label: ksk-2027\n    algorithm: RSASHA256\n    rsa_size: 2048\n    rsa_exponent: 65537\n    key_tag: %s\n    ds_sha256: %s\n    valid_from: 2020-01-01T00:00:00Z\nschemas:\n  normal:\n", e.kskTag, e.kskDS)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&cfg, "    %d: {publish: ksk_2027, sign: ksk_2027}\n", i)
	}
	writeFileAt(t, e.path("dr-signer.yaml"), cfg.String(), 0o644)

	// KMF West's crypto officers move to possession credentials, each
	// sealed in a numbered bag in their safe deposit box: the re-keying
	// script of 4.1.2A/4, from the passphrase roster (no custody yet).
	// Its log records the bag numbers that the drills compare with.
	var boxes strings.Builder
	boxes.WriteString("id: kmf-west-boxes\nm: 3\nn: 7\nholders:\n")
	for _, h := range holderNames("wco", 7) {
		fmt.Fprintf(&boxes, "  - {name: %s, role: crypto-officer, protection: possession}\n", h)
	}
	writeFileAt(t, e.path("roster-west-boxes.yaml"), boxes.String(), 0o644)
	kv := []string{"token=" + e.west.Label, "custody=false", "current_roster=roster-west-co.yaml", "current_credentials=west-credentials/credentials.json",
		"new_credentials=west-box-credentials", "skr=out/dr-west-boxes-skr.xml", "media=media-dr-west-boxes", "attestation_label=dr-west-attestation-boxes"}
	rekey := filepath.Join(drDir, "4.1.2A-4-followup-rekey-safe-deposit-boxes.yaml")
	e.check(t, rekey, kv...)
	e.runScript(t, rekey, "dr-west-boxes", e.answers(t, witnessAnswers(map[string]string{
		"act2.present-current": e.creds("west-credentials/kmf-west-co", "wco1", "wco2", "wco3"),
		"act3.present-new":     possessionCreds("west-box-credentials/kmf-west-boxes", "wco4", "wco5", "wco6"),
		"act3.seal-bags":       bagValues("A", nil),
		"act4.ksr-hash":        e.ksrHash(0),
	}, "act1.attendance", "act5.sign-off")), kv...)
	return e
}

// possessionCreds is the answer of a step where possession credentials
// PREFIX.HOLDER.pem are presented: files, no passphrase.
func possessionCreds(prefix string, holders ...string) string {
	var parts []string
	for _, h := range holders {
		parts = append(parts, fmt.Sprintf("{file: %s.%s.pem}", prefix, h))
	}
	return "{credentials: [" + strings.Join(parts, ", ") + "]}"
}

// bagValues is the answer of a record or custody step with the bag
// numbers of wco1 to wco7 in series (TEB-SERIES-N), some replaced.
func bagValues(series string, replace map[string]string) string {
	var parts []string
	for i, h := range holderNames("wco", 7) {
		v := fmt.Sprintf("TEB-%s-%04d", series, 100+i)
		if r, ok := replace[h]; ok {
			v = r
		}
		parts = append(parts, fmt.Sprintf("bag-%s: %s", h, v))
	}
	return "{values: {" + strings.Join(parts, ", ") + "}}"
}

// drDeadline is the answer of a "reschedule if there is time" step.
const drDeadline = `{values: {rrsig_expiry: "the SKR in force, ksk dr deadline", decision: "no reschedule is possible before the RRSIGs expire"}}`

// holderNames returns PREFIX1 … PREFIXn.
func holderNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i+1)
	}
	return out
}

// lastWords returns the last four PGP words of a file's SHA-256, which
// the zone maintainer reads out at a ksr-hash step.
func lastWords(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(readFileT(t, path)))
	w := pgpwords.Encode(sum[:])
	return strings.Join(w[len(w)-4:], " ")
}

// writeRoster writes a roster whose holders' passphrases are in
// secrets/HOLDER.pass.
func (e *drEnv) writeRoster(t *testing.T, file, id string, m int, role string, holders []string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nm: %d\nn: %d\nholders:\n", id, m, len(holders))
	for _, h := range holders {
		fmt.Fprintf(&b, "  - {name: %s, role: %s, passphrase_source: \"file:%s\"}\n", h, role, e.path("secrets", h+".pass"))
	}
	writeFileAt(t, e.path(file), b.String(), 0o644)
}

// credList is the YAML list of the credentials PREFIX.HOLDER.age of
// holders, each with its passphrase file.
func credList(prefix string, holders ...string) string {
	var parts []string
	for _, h := range holders {
		parts = append(parts, fmt.Sprintf("{file: %s.%s.age, passphrase_file: secrets/%s.pass}", prefix, h, h))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// creds is the answer of a step where holders present credentials.
func (e *drEnv) creds(prefix string, holders ...string) string {
	return "{credentials: " + credList(prefix, holders...) + "}"
}

// passFiles maps holders to their passphrase files, as YAML flow entries.
func (e *drEnv) passFiles(holders []string) string {
	var parts []string
	for _, h := range holders {
		parts = append(parts, fmt.Sprintf("%s: secrets/%s.pass", h, h))
	}
	return strings.Join(parts, ", ")
}

// answers writes an answers file with these answers by step and returns
// its path.
func (e *drEnv) answers(t *testing.T, steps map[string]string) string {
	t.Helper()
	keys := make([]string, 0, len(steps))
	for k := range steps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("format: ksk-answers-v1\nconfirm_all: true\nsteps:\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", k, steps[k])
	}
	f, err := os.CreateTemp(e.work, "answers-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// paramFlags turns NAME=VALUE pairs into --param flags.
func paramFlags(kv ...string) []string {
	var out []string
	for _, p := range kv {
		out = append(out, "--param", p)
	}
	return out
}

// check runs ksk ceremony check on a script with the staged directory.
func (e *drEnv) check(t *testing.T, script string, kv ...string) {
	t.Helper()
	args := append([]string{"ceremony", "check", script, "--dir", e.work, "--param", "date=" + e.date}, paramFlags(kv...)...)
	code, out, errOut := runKSK(t, "", args...)
	if code != 0 || !strings.Contains(out, "Checked without touching any HSM") {
		t.Fatalf("ceremony check %s: exit %d\n%s%s", filepath.Base(script), code, out, errOut)
	}
	// What the check says resolvers will see; the rehearsal then
	// simulates it (newTrustAnchor, replacement).
	if want := drResolverStatement(filepath.Base(script)); filepath.Dir(script) == drDir && !strings.Contains(out, want) {
		t.Errorf("ceremony check %s: want the resolver statement %q\n%s", filepath.Base(script), want, lastLines(out, 6))
	}
}

// drResolverStatement is what ceremony check must say resolvers will see
// for a DR script: a new KSK's SKR fails for RFC 5011 resolvers on the old
// trust anchor, the follow-up is a planned rollover, the rest keep the
// trust anchors.
func drResolverStatement(script string) string {
	switch {
	case strings.Contains(script, "-followup-new-ksk-rollover"):
		return "A planned RFC 5011 rollover to the KSK made here"
	case strings.Contains(script, "release"):
		return "This ceremony signs no SKR"
	case strings.HasPrefix(script, "4.2.1A"):
		return "signs its own revocation, so RFC 5011 resolvers stop trusting it"
	case strings.Contains(script, "temporary-ksk") || strings.Contains(script, "new-ksk") || strings.HasPrefix(script, "4.2.2A-"):
		return "RFC 5011 resolvers that trust only the KSK in operation cannot validate this SKR"
	case strings.Contains(script, "rksh-credentials"):
		return "This ceremony signs no SKR"
	}
	return "trust anchors do not change, and validators keep validating"
}

// runScript runs a script in rehearsal mode to completion with its log
// at logs/TAG.log, checks that the log verifies and that no secret
// appears anywhere, and returns the run's output.
func (e *drEnv) runScript(t *testing.T, script, tag, answers string, kv ...string) string {
	t.Helper()
	code, out, errOut := e.runScriptCode(t, script, tag, answers, kv...)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s\n%s", filepath.Base(script), code, lastLines(out, 40), errOut)
	}
	log := e.path("logs", tag+".log")
	// A finished log: sealed (or, with no HSM, ended by the witnesses'
	// sign-off) and signed off by every witness after its last step. A
	// script with neither seal nor witnesses never finishes its log.
	if logDetail(t, log, "ceremony.open", "")[attest.OpenAttestation] == attest.AttestationNone {
		logVerifyInProgress(t, log)
	} else if code, rep := logVerify(t, log, "--allowed-signers", e.allowedSigners(t)); code != 0 || rep["valid"] != true || rep["finished"] != true {
		t.Fatalf("%s: log verify: exit %d %v", tag, code, rep)
	}
	e.noSecrets(t, out, errOut, readFileT(t, log))
	return out
}

// allowedSigners writes the allowed_signers file of the witnesses tcr1,
// tcr2 and ew1 and returns its path.
func (e *drEnv) allowedSigners(t *testing.T) string {
	t.Helper()
	var allowed strings.Builder
	for _, w := range []string{"tcr1", "tcr2", "ew1"} {
		fmt.Fprintf(&allowed, "%s %s", w, readFileT(t, e.path("witnesses", w+".pub")))
	}
	p := e.path("allowed_signers")
	writeFileAt(t, p, allowed.String(), 0o644)
	return p
}

// runScriptCode runs a script and returns its exit code and output.
func (e *drEnv) runScriptCode(t *testing.T, script, tag, answers string, kv ...string) (int, string, string) {
	t.Helper()
	if err := os.MkdirAll(e.path("logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"ceremony", "run", script, "--dir", e.work, "--log", e.path("logs", tag+".log"), "--answers", answers,
		"--scrypt-work-factor", "10", "--param", "date=" + e.date}, paramFlags(kv...)...)
	return runKSK(t, "", args...)
}

// skrVerify runs ksk skr verify on an SKR of the rehearsal against its KSR
// and trust anchors, at the KSR's first inception.
func (e *drEnv) skrVerify(t *testing.T, skr, ksrFile, anchors string) {
	t.Helper()
	k, err := ksr.ParseFile(e.path(ksrFile), ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := k.Request.Bundles[0].Inception.Format(time.RFC3339)
	code, out, errOut := runKSK(t, "", "skr", "verify", "--ksr", e.path(ksrFile), "--anchors", e.path(anchors), "--at", at, e.path(skr))
	if code != 0 || !strings.Contains(out, "VALID") {
		t.Fatalf("skr verify %s against %s: exit %d\n%s%s", skr, anchors, code, out, errOut)
	}
}

// logVerifySealed runs ksk log verify with the attestation key pinned and
// the witnesses allowed, and checks that a seal is the last entry.
func (e *drEnv) logVerifySealed(t *testing.T, tag, attestationPEM string) {
	t.Helper()
	args := []string{"log", "verify", "-o", "json", "--allowed-signers", e.allowedSigners(t)}
	if attestationPEM != "" {
		args = append(args, "--attestation-key", e.path(attestationPEM))
	}
	code, out, errOut := runKSK(t, "", append(args, e.path("logs", tag+".log"))...)
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || rep["valid"] != true {
		t.Fatalf("log verify %s: exit %d\n%s%s", tag, code, out, errOut)
	}
	if attestationPEM != "" && (len(rep["seals"].([]any)) != 1 || rep["unsealed_entries"].(float64) != 0) {
		t.Errorf("log %s: want one seal as the last entry: %v", tag, rep)
	}
	if len(rep["witnesses"].([]any)) != 6 {
		t.Errorf("log %s: want 6 witness signatures (attendance and sign-off), got %v", tag, rep["witnesses"])
	}
}

// logDetail returns the details of the last entry of a log for a step
// with a status (done, failed).
func logDetail(t *testing.T, path, step, status string) map[string]string {
	t.Helper()
	var found map[string]string
	for _, line := range strings.Split(strings.TrimSpace(readFileT(t, path)), "\n") {
		var e struct {
			Step    string            `json:"step"`
			Details map[string]string `json:"details"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Step == step && e.Details["status"] == status {
			found = e.Details
		}
	}
	if found == nil {
		t.Fatalf("%s: no %s entry for step %s", path, status, step)
	}
	return found
}

// ksrHash is the answer of a ksr-hash step for quarter q.
func (e *drEnv) ksrHash(q int) string { return `{words: "` + e.quarters[q].words + `"}` }

// The answers every DR script shares: the witnesses' keys for attendance
// and sign-off.
func witnessAnswers(steps map[string]string, ids ...string) map[string]string {
	for _, id := range ids {
		steps[id] = "{ssh_keys: " + drWitnesses + "}"
	}
	return steps
}

// TestDRRehearsals rehearses every disaster recovery procedure of
// scripts/dr/ on SoftHSM tokens that stand for KMF East, KMF West and the
// standby HSM outside the facilities, after the key generation with backup
// (scripts/ceremonies/key-generation-backup.yaml) has made, backed up and
// replicated the KSK. Each script passes ksk ceremony check, runs to
// completion in rehearsal mode, and ends in an SKR that ksk skr verify
// accepts against the trust anchors the scenario publishes (or the KSK's
// own when it publishes none), and a log that ksk log verify accepts with
// its attestation key pinned. Restores are refused, with exit 1 and
// nothing created in the target token, for M-1 shares, a share of another
// backup and a damaged backup; the restored KSK signs byte-identically to
// the original; the temporary KSK's replacement is signed quarter by
// quarter with ksk sign as its rollover schedule says, and an RFC 5011
// resolver that trusts the temporary KSK follows it. A script under
// scripts/dr/ that no rehearsal runs fails the test.
func TestDRRehearsals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every disaster recovery ceremony on SoftHSM")
	}
	// Every script of scripts/dr/ has its rehearsal, and no rehearsal
	// names a script that is not there.
	scripts, err := filepath.Glob(filepath.Join(drDir, "*.yaml"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in %s: %v", drDir, err)
	}
	listed := map[string]bool{}
	for _, sc := range drScenarios {
		listed[sc.script] = true
	}
	for _, s := range scripts {
		if !listed[filepath.Base(s)] {
			t.Errorf("%s is not rehearsed: add it to drScenarios", s)
		}
		delete(listed, filepath.Base(s))
	}
	for s := range listed {
		t.Errorf("drScenarios rehearses %s, which is not in %s", s, drDir)
	}
	if t.Failed() {
		return
	}

	e := stageDR(t)
	t.Run("restore-refused", func(t *testing.T) { e.restoreRefused(t) })
	filtered := false
	for _, sc := range drScenarios {
		started := false
		ok := t.Run(strings.TrimSuffix(sc.script, ".yaml"), func(t *testing.T) {
			started = true
			sc.run(e, t, filepath.Join(drDir, sc.script))
			e.ran[sc.script] = true
		})
		filtered = filtered || !started
		if !ok {
			return // later scenarios build on earlier ones
		}
	}
	// Each ran to completion (unless -run chose some).
	for _, s := range scripts {
		if !e.ran[filepath.Base(s)] && !filtered {
			t.Errorf("%s: its rehearsal did not run to completion", s)
		}
	}
	if filtered || t.Failed() {
		return
	}
	// The directory the rehearsal leaves is a staged DR directory: every
	// script checks against it with its default parameters, as
	// scripts/dr/README.md shows. make dr-stage DIR=... keeps a copy.
	for _, s := range scripts {
		if code, out, errOut := runKSK(t, "", "ceremony", "check", s, "--dir", e.work); code != 0 {
			t.Errorf("ceremony check %s --dir (the staged directory), default parameters: exit %d\n%s%s", filepath.Base(s), code, lastLines(out, 5), errOut)
		}
	}
	if dst := os.Getenv("KSK_DR_STAGE"); dst != "" {
		n, err := stageCopy(e.work, dst)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("staged %d files in %s (without secrets/; the SoftHSM tokens are not kept, so the directory is for ksk ceremony check and ksk dr choose)", n, dst)
	}
}

// stageCopy copies the rehearsal's directory to dst, which must not exist,
// leaving out the secrets (passphrase and PIN files).
func stageCopy(src, dst string) (int, error) {
	if _, err := os.Lstat(dst); err == nil {
		return 0, fmt.Errorf("%s exists: make dr-stage writes a new directory", dst)
	}
	n := 0
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "secrets" {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	return n, err
}

// drScenario rehearses one script of scripts/dr/.
type drScenario struct {
	script string
	run    func(e *drEnv, t *testing.T, script string)
}

// drFollowUp is the follow-up ceremony of every variant that leaves a
// temporary KSK.
const drFollowUp = "4.1.1+4.1.2B+4.2.1B+4.2.2A+4.2.2B+4.3.1C+4.3.2B-followup-new-ksk-rollover.yaml"

// drScenarios in the order they run: later ones build on the outputs of
// earlier ones (the extended signing's SKR is the reference for the
// restores, the follow-up's new bags are drilled in 4.2.2A), and the
// compromises of KSK-2027, which destroy it, come last.
var drScenarios = []drScenario{
	{"4.1.3-prepare-extended-signing.yaml", (*drEnv).extendedSigning},
	{"4.1.3-release-extended-skrs.yaml", (*drEnv).release},
	{"4.1.1-alternative-restore-from-backup.yaml", func(e *drEnv, t *testing.T, script string) {
		e.restoreAndSign(t, script, "dr-facilities", "alt-hsm-"+randomHex(t, 4), "alt-credentials/alt-site-co", holderNames("co", 7), []string{"co2", "co5", "co7"},
			"out/dr-facilities-skr.xml", "out/dr-alt-attestation.pem")
	}},
	{"4.3.1A-lost-ksk-restore-from-backup.yaml", func(e *drEnv, t *testing.T, script string) {
		e.restoreAndSign(t, script, "dr-lost-restored", "east-repl-"+randomHex(t, 4), "east2-credentials/kmf-east-2-co", holderNames("co", 7), []string{"co1", "co4", "co6"},
			"out/dr-lost-restored-skr.xml", "out/dr-east-replacement-attestation.pem")
	}},
	{"4.1.2A-cos-unavailable-kmf-drill.yaml", (*drEnv).drill},
	{"4.1.2A-4-followup-rekey-safe-deposit-boxes.yaml", (*drEnv).rekeyBoxes},
	{"4.1.1-kmfs-unavailable-temporary-ksk.yaml", drTemporary("411")},
	{"4.1.2B-cos-unavailable-no-kmf-temporary-ksk.yaml", drTemporary("412b")},
	{"4.2.1B-compromise-cos-no-kmf-temporary-ksk.yaml", drTemporary("421b")},
	{"4.2.2B-compromise-no-cos-no-kmf-temporary-ksk.yaml", drTemporary("422b")},
	{"4.3.2B-no-rkshs-no-kmf-temporary-ksk.yaml", drTemporary("432b")},
	{"4.3.1C-lost-ksk-no-kmf-temporary-ksk.yaml", drTemporary("431c")},
	{drFollowUp, (*drEnv).replacement},
	{"4.3.1B-lost-ksk-no-backup-new-ksk.yaml", func(e *drEnv, t *testing.T, script string) { e.newHSMKSK(t, script, "431b") }},
	{"4.3.2A-no-rkshs-kmf-temporary-ksk.yaml", func(e *drEnv, t *testing.T, script string) { e.newHSMKSK(t, script, "432a") }},
	{"4.3.2A-6-followup-distribute-rksh-credentials.yaml", (*drEnv).distributeRKSH},
	{"4.2.2A-compromise-no-cos-kmf-drill.yaml", (*drEnv).compromiseDrill},
	{"4.2.1A-compromise-cos-kmf-new-ksk.yaml", (*drEnv).compromiseWithOfficers},
}

// extendedSigning: three quarters signed at KMF East, each continuing the
// one before; the two extra SKRs sealed away.
func (e *drEnv) extendedSigning(t *testing.T, script string) {
	kv := []string{"token=" + e.token, "at_q1=" + e.quarters[1].start.Format(time.RFC3339), "at_q2=" + e.quarters[2].start.Format(time.RFC3339)}
	e.check(t, script, kv...)
	e.runScript(t, script, "dr-extended", e.answers(t, witnessAnswers(map[string]string{
		"act1.assessment":          `{values: {assessed_by: "RKOS with an outside expert", expected_unavailability: "two quarters"}}`,
		"act1.plan-approval":       `{values: {plan: "Q1 and Q2 signed now, sealed in the credential safe", approved_by: "executive management", pma_notified: "today"}}`,
		"act3.present-credentials": e.creds("credentials/kmf-east-co", "co3", "co4", "co7"),
		"act4.ksr-hash":            e.ksrHash(0),
		"act5.ksr-hash-q1":         e.ksrHash(1),
		"act5.ksr-hash-q2":         e.ksrHash(2),
	}, "act1.attendance", "act6.sign-off")), kv...)
	for q, skr := range []string{"out/dr-extended-q0-skr.xml", "out/dr-extended-q1-skr.xml", "out/dr-extended-q2-skr.xml"} {
		e.skrVerify(t, skr, e.quarters[q].file, "anchors-2027.ds")
		e.skrVerify(t, skr, e.quarters[q].file, "out/dr-extended-anchors.xml")
		if q > 0 && readFileT(t, e.path("sealed-dr-extended", filepath.Base(skr))) != readFileT(t, e.path(skr)) {
			t.Errorf("the sealed copy of %s differs", skr)
		}
	}
	e.logVerifySealed(t, "dr-extended", "media/ksk-attestation.pem")
	// Each extended SKR continues the previous one: the KSR checks ran
	// with it (the log records the previous SKR read).
	if d := logDetail(t, e.path("logs", "dr-extended.log"), "act5.load-ksr-q2", "done"); d["ksr_id"] == "" {
		t.Errorf("load-ksr-q2: %v", d)
	}
}

// release: the sealed SKRs go to the zone maintainer's medium unchanged;
// the log, which no HSM seals, verifies with the witnesses' signatures.
func (e *drEnv) release(t *testing.T, script string) {
	e.check(t, script)
	e.runScript(t, script, "dr-release", e.answers(t, witnessAnswers(map[string]string{}, "act1.attendance", "act3.sign-off")))
	for q, name := range []string{"dr-extended-q1-skr.xml", "dr-extended-q2-skr.xml"} {
		if readFileT(t, e.path("media-dr-released", name)) != readFileT(t, e.path("out", name)) {
			t.Errorf("released %s differs from the SKR signed", name)
		}
		e.skrVerify(t, filepath.Join("media-dr-released", name), e.quarters[q+1].file, "anchors-2027.ds")
	}
	e.logVerifySealed(t, "dr-release", "")
	// The release records the SHA-256 the extended signing recorded.
	signed := logDetail(t, e.path("logs", "dr-extended.log"), "act5.sign-q1", "done")["skr_sha256"]
	if !strings.Contains(readFileT(t, e.path("logs", "dr-release.log")), signed) {
		t.Errorf("the release log does not record the signed SKR's SHA-256 %s", signed)
	}
}

// restoreAndSign: a new (or standby) HSM, activation credentials for it,
// the KSK restored from its backup by five recovery key share holders,
// and the KSR signed. The SKR is byte-identical to the one the original
// KSK signed at KMF East (RSA PKCS#1 v1.5 is deterministic), and verifies
// against the KSK's trust anchor.
func (e *drEnv) restoreAndSign(t *testing.T, script, tag, token, credPrefix string, issued, present []string, skr, attestation string) {
	kv := []string{"token=" + token}
	e.check(t, script, kv...)
	steps := map[string]string{
		"act3.present-credentials": e.creds(credPrefix, present...),
		"act4.restore":             e.creds("backup-credentials/kmf-east-rksh", "rksh7", "rksh2", "rksh6", "rksh3", "rksh1"),
		"act5.ksr-hash":            e.ksrHash(0),
	}
	if issued != nil {
		steps["act3.init-token"] = "{so_pin_file: secrets/so.pin}"
		steps["act3.issue-credentials"] = "{passphrase_files: {" + e.passFiles(issued) + "}}"
	}
	out := e.runScript(t, script, tag, e.answers(t, witnessAnswers(steps, "act1.attendance", "act6.sign-off")), kv...)
	if !strings.Contains(out, "Reference signature: byte-identical to the backup's") {
		t.Errorf("the restore does not report an identical reference signature:\n%s", lastLines(out, 40))
	}
	d := logDetail(t, e.path("logs", tag+".log"), "act4.restore", "done")
	if d["reference_signature"] != "identical" || d["key_tag"] != e.kskTag || d["restored_signature_sha256"] != d["reference_signature_sha256"] {
		t.Errorf("restore record %v", d)
	}
	if got, want := readFileT(t, e.path(skr)), readFileT(t, e.path("out", "dr-extended-q0-skr.xml")); got != want {
		t.Errorf("%s: the restored KSK's SKR differs from the original KSK's for the same KSR", skr)
	}
	e.skrVerify(t, skr, "ksr.xml", "anchors-2027.ds")
	e.logVerifySealed(t, tag, attestation)
}

// temporaryKSK: a temporary KSK in the standby HSM, its emergency trust
// anchor, and the KSR signed with it alone; the SKR verifies against that
// trust anchor and not against the lost (or compromised) KSK's.
func (e *drEnv) temporaryKSK(t *testing.T, script, tag, skr, anchors, attestation string) {
	kv := []string{"token=" + e.outside.Label, "valid_from=" + e.date}
	e.check(t, script, kv...)
	e.runScript(t, script, tag, e.answers(t, witnessAnswers(map[string]string{
		"act2.present-credentials": e.creds("outside-credentials/outside-hsm-co", "eco1", "eco2"),
		"act4.ksr-hash":            e.ksrHash(0),
	}, "act1.attendance", "act5.sign-off")), kv...)
	e.newTrustAnchor(t, skr, anchors)
	e.logVerifySealed(t, tag, attestation)
}

// drTemporary rehearses a variant that makes a temporary KSK in the
// standby HSM outside the KMFs, its outputs named by slug.
func drTemporary(slug string) func(e *drEnv, t *testing.T, script string) {
	return func(e *drEnv, t *testing.T, script string) {
		e.temporaryKSK(t, script, "dr-"+slug, "out/dr-"+slug+"-skr.xml", "out/dr-"+slug+"-emergency-anchors.xml", "out/dr-outside-attestation-"+slug+".pem")
	}
}

// newTrustAnchor checks an SKR signed by a new (or temporary) KSK and what
// resolvers make of it: ksk skr verify accepts it against the new trust
// anchor and refuses it against KSK-2027's; an RFC 5011 resolver that
// trusts only KSK-2027 fails from the SKR's first bundle (the new KSK is
// signed by no key it trusts, so the 30-day add hold-down cannot even
// start), and one given the new trust anchor validates throughout.
func (e *drEnv) newTrustAnchor(t *testing.T, skr, anchors string) {
	t.Helper()
	e.skrVerify(t, skr, "ksr.xml", anchors)
	code, out, _ := runKSK(t, "", "skr", "verify", "--ksr", e.path("ksr.xml"), "--anchors", e.path("anchors-2027.ds"), e.path(skr))
	if code != exitRejected || !strings.Contains(out, "SKR-ANCHOR") {
		t.Errorf("the new KSK's SKR against the old trust anchor: exit %d\n%s", code, out)
	}
	doc := mustParseDoc(t, e.path(skr))
	tl, err := rfc5011.FromSKRs(rfc5011.SKR{Name: filepath.Base(skr), Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	old := mustParseDoc(t, e.path("out", "dr-extended-q0-skr.xml"))
	oldKSK := bundleKSK(t, old, 0)
	newKSK := bundleKSK(t, doc, oldKSK.KeyTag())
	tr, err := rfc5011.Simulate(".", tl, rfc5011.Params{}, oldKSK)
	if err != nil {
		t.Fatal(err)
	}
	first := doc.Response.Bundles[0].Inception
	if periods := tr.LossPeriods(); len(periods) == 0 || periods[0].First.Sub(first) > 24*time.Hour {
		t.Errorf("%s: a resolver trusting only KSK-2027 should fail from %s: %s", skr, first, tr.Summary())
	}
	tr, err = rfc5011.Simulate(".", tl, rfc5011.Params{}, newKSK)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Lost() {
		t.Errorf("%s: a resolver given the new trust anchor lost trust:\n%s", skr, tr.Summary())
	}
}

// bundleKSK returns the first KSK (SEP, not revoked) of an SKR's first
// bundle whose key tag is not except.
func bundleKSK(t *testing.T, doc *ksr.Document, except uint16) *dns.DNSKEY {
	t.Helper()
	b := doc.Response.Bundles[0]
	for i := range b.Keys {
		if k := b.Keys[i].DNSKEY(doc.Domain); b.Keys[i].IsKSK() && b.Keys[i].Flags&dns.REVOKE == 0 && k.KeyTag() != except {
			return k
		}
	}
	t.Fatal("no KSK in the first bundle")
	return nil
}

// drill (4.1.2A): KMF West's crypto officers cannot attend; their boxes
// are drilled and each bag compared with its sealing record. A bag that
// is not the one sealed stops that credential: with two of them the
// quorum cannot be met and nothing is signed; with one (wco2), the other
// three credentials activate KMF West's HSM and the KSK in operation signs
// the same SKR, byte for byte, as at KMF East.
func (e *drEnv) drill(t *testing.T, script string) {
	kv := []string{"token=" + e.west.Label}
	e.check(t, script, kv...)
	code, out, errOut := e.runScriptCode(t, script, "dr-412a-refused", e.answers(t, witnessAnswers(map[string]string{
		"act1.deadline":            drDeadline,
		"act2.drill":               bagValues("A", map[string]string{"wco2": "TEB-X-0001", "wco3": "TEB-X-0002"}),
		"act3.present-credentials": possessionCreds("west-box-credentials/kmf-west-boxes", "wco1", "wco2", "wco3"),
	}, "act1.attendance")), kv...)
	if code != exitRejected || !strings.Contains(errOut, "quorum not met") {
		t.Fatalf("two bags not as sealed: exit %d, want 1 and quorum not met\n%s%s", code, lastLines(out, 20), errOut)
	}
	if _, err := os.Stat(e.path("out", "dr-412a-skr.xml")); err == nil {
		t.Fatal("an SKR was written although the quorum was not met")
	}
	log := e.path("logs", "dr-412a-refused.log")
	d := logDetail(t, log, "act3.present-credentials", "failed")
	if !strings.Contains(d["credential.2"], "holder=wco2 not-counted=custody") || !strings.Contains(d["credential.1"], "holder=wco1 counted") {
		t.Errorf("credentials after a broken custody: %v", d)
	}
	logVerifyInProgress(t, log)

	e.runScript(t, script, "dr-412a", e.answers(t, witnessAnswers(map[string]string{
		"act1.deadline":            drDeadline,
		"act2.drill":               bagValues("A", map[string]string{"wco2": "TEB-X-0001"}),
		"act3.present-credentials": possessionCreds("west-box-credentials/kmf-west-boxes", "wco1", "wco2", "wco3", "wco4"),
		"act4.ksr-hash":            e.ksrHash(0),
	}, "act1.attendance", "act5.sign-off")), kv...)
	log = e.path("logs", "dr-412a.log")
	c := logDetail(t, log, "act2.drill", "done")
	if !strings.HasPrefix(c["custody.wco2"], "broken: wco2's credential arrived in bag \"TEB-X-0001\", but it was sealed in bag \"TEB-A-0101\"") || !strings.HasPrefix(c["custody.wco1"], "intact") || c["method"] != "drilled" {
		t.Errorf("custody record: %v", c)
	}
	q := logDetail(t, log, "act3.present-credentials", "done")
	if q["valid"] != "3" || !strings.Contains(q["credential.2"], "not-counted=custody") {
		t.Errorf("quorum record: %v", q)
	}
	if got, want := readFileT(t, e.path("out", "dr-412a-skr.xml")), readFileT(t, e.path("out", "dr-extended-q0-skr.xml")); got != want {
		t.Error("the SKR signed at KMF West differs from KMF East's for the same KSR")
	}
	e.skrVerify(t, "out/dr-412a-skr.xml", "ksr.xml", "anchors-2027.ds")
	e.logVerifySealed(t, "dr-412a", "out/dr-west-attestation-412a.pem")
}

// rekeyBoxes (4.1.2A/4): the boxes' credentials re-issued: KMF West's PIN
// changed, new possession credentials sealed in new bags, a new KSR
// signed. The old box credentials open nothing any more.
func (e *drEnv) rekeyBoxes(t *testing.T, script string) {
	kv := []string{"token=" + e.west.Label}
	e.check(t, script, kv...)
	e.runScript(t, script, "dr-412a4", e.answers(t, witnessAnswers(map[string]string{
		"act2.custody":         bagValues("A", nil),
		"act2.present-current": possessionCreds("west-box-credentials/kmf-west-boxes", "wco1", "wco3", "wco5"),
		"act3.present-new":     possessionCreds("west-box-credentials-2/kmf-west-boxes", "wco2", "wco4", "wco6"),
		"act3.seal-bags":       bagValues("B", nil),
		"act4.ksr-hash":        e.ksrHash(0),
	}, "act1.attendance", "act5.sign-off")), kv...)
	log := e.path("logs", "dr-412a4.log")
	if d := logDetail(t, log, "act3.reissue", "done"); !strings.Contains(d["reissue"], "revoked") {
		t.Errorf("re-issue record: %v", d)
	}
	if d := logDetail(t, log, "act3.seal-bags", "done"); d["value.bag-wco7"] != "TEB-B-0106" {
		t.Errorf("new bags: %v", d)
	}
	e.skrVerify(t, "out/dr-412a4-skr.xml", "ksr.xml", "anchors-2027.ds")
	e.logVerifySealed(t, "dr-412a4", "out/dr-west-attestation-412a4.pem")
	// The old box credentials rebuild the old PIN, which KMF West refuses.
	code, out, errOut := runKSK(t, "", "credentials", "check", "--roster", e.path("roster-west-boxes.yaml"), "--manifest", e.path("west-box-credentials-2", "credentials.json"), "-o", "json",
		e.path("west-box-credentials", "kmf-west-boxes.wco1.pem"))
	if code == 0 || !strings.Contains(out+errOut, "not-pinned") {
		t.Errorf("an old box credential against the new manifest: exit %d\n%s%s", code, out, errOut)
	}
}

// newHSMKSK (4.3.1B, 4.3.2A): a new HSM at KMF East, its crypto officers'
// credentials, a new (or temporary) KSK in it, the KSR signed by it alone
// and its trust anchor published.
func (e *drEnv) newHSMKSK(t *testing.T, script, slug string) {
	token := "dr-new-" + slug + "-" + randomHex(t, 3)
	e.newTokens[slug] = token
	kv := []string{"token=" + token, "valid_from=" + e.date}
	e.check(t, script, kv...)
	e.runScript(t, script, "dr-"+slug, e.answers(t, witnessAnswers(map[string]string{
		"act2.init-token":          "{so_pin_file: secrets/so.pin}",
		"act2.issue-credentials":   "{passphrase_files: {" + e.passFiles(holderNames("co", 7)) + "}}",
		"act2.present-credentials": e.creds("dr-"+slug+"-credentials/kmf-east-2-co", "co1", "co3", "co5"),
		"act4.ksr-hash":            e.ksrHash(0),
	}, "act1.attendance", "act5.sign-off")), kv...)
	e.newTrustAnchor(t, "out/dr-"+slug+"-skr.xml", "out/dr-"+slug+"-anchors.xml")
	e.logVerifySealed(t, "dr-"+slug, "out/dr-attestation-"+slug+".pem")
}

// distributeRKSH (4.3.2A/6): the temporary KSK of 4.3.2A backed up under
// the recovery key share holders' quorum, each with a new credential.
func (e *drEnv) distributeRKSH(t *testing.T, script string) {
	kv := []string{"token=" + e.newTokens["432a"]}
	e.check(t, script, kv...)
	e.runScript(t, script, "dr-432a6", e.answers(t, witnessAnswers(map[string]string{
		"act2.present-credentials": e.creds("dr-432a-credentials/kmf-east-2-co", "co2", "co4", "co6"),
		"act3.backup": "{so_pin_file: secrets/so.pin, passphrase_files: {" + e.passFiles(holderNames("rksh", 7)) + "}, credentials: " +
			credList("dr-432a-credentials/kmf-east-2-co", "co1", "co3", "co5") + "}",
	}, "act1.attendance", "act4.sign-off")), kv...)
	if d := logDetail(t, e.path("logs", "dr-432a6.log"), "act3.backup", "done"); d["key_tag"] == "" {
		t.Errorf("backup record: %v", d)
	}
	if _, err := os.Stat(e.path("backup-credentials-432a", "credentials.json")); err != nil {
		t.Error(err)
	}
	e.logVerifySealed(t, "dr-432a6", "out/dr-attestation-432a.pem")
}

// compromiseDrill (4.2.2A): the boxes re-keyed in 4.1.2A/4 drilled, the
// compromised KSK destroyed at KMF West, a temporary KSK in a new HSM,
// the KSR signed by it alone, its trust anchor published.
func (e *drEnv) compromiseDrill(t *testing.T, script string) {
	kv := []string{"token=" + e.west.Label, "new_token=" + e.outside.Label, "valid_from=" + e.date}
	e.check(t, script, kv...)
	e.runScript(t, script, "dr-422a", e.answers(t, witnessAnswers(map[string]string{
		"act1.deadline":            drDeadline,
		"act2.drill":               bagValues("B", nil),
		"act2.present-credentials": possessionCreds("west-box-credentials-2/kmf-west-boxes", "wco5", "wco6", "wco7"),
		"act4.present-emergency":   e.creds("outside-credentials/outside-hsm-co", "eco1", "eco3"),
		"act5.ksr-hash":            e.ksrHash(0),
	}, "act1.attendance", "act6.sign-off")), kv...)
	e.newTrustAnchor(t, "out/dr-422a-skr.xml", "out/dr-422a-emergency-anchors.xml")
	e.logVerifySealed(t, "dr-422a", "out/dr-outside-attestation-422a.pem")
	if d := logDetail(t, e.path("logs", "dr-422a.log"), "act3.destroy", "done"); d["destroyed"] != "true" || d["key_tag"] != e.kskTag {
		t.Errorf("destroy record: %v", d)
	}
	if hasPublicKey(t, e.west, "ksk-2027") {
		t.Error("the compromised KSK is still in KMF West's HSM")
	}
}

// replacement: the new KSK beside the temporary one, the rollover planned,
// its first quarter signed in the ceremony; then every later quarter of
// the schedule signed with ksk sign as the schedule says, each SKR verified
// against the trust anchors of both KSKs, and an RFC 5011 resolver that
// trusts only the temporary KSK follows the rollover without losing trust.
func (e *drEnv) replacement(t *testing.T, script string) {
	q1 := e.quarters[1]
	kv := []string{"token=" + e.outside.Label, "valid_from=" + e.date, "start=" + q1.start.Format(time.DateOnly), "at=" + q1.start.Format(time.RFC3339)}
	e.check(t, script, kv...)
	e.runScript(t, script, "dr-replacement", e.answers(t, witnessAnswers(map[string]string{
		"act2.present-credentials": e.creds("outside-credentials/outside-hsm-co", "eco1", "eco3"),
		"act3.backup": "{so_pin_file: " + e.outside.SOPINFile + ", passphrase_files: {" + e.passFiles(holderNames("rksh", 7)) + "}, credentials: " +
			credList("outside-credentials/outside-hsm-co", "eco2", "eco3") + "}",
		"act5.ksr-hash": e.ksrHash(1),
	}, "act1.attendance", "act6.sign-off")), kv...)
	e.logVerifySealed(t, "dr-replacement", "out/dr-outside-attestation-431c.pem")
	anchors := "out/dr-rollover-anchors.xml"
	e.skrVerify(t, "out/dr-rollover-q1-skr.xml", q1.file, anchors)

	sched, err := signer.ParseSchedule([]byte(readFileT(t, e.path("out", "dr-rollover.schedule.yaml"))))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range sched.Quarters {
		got = append(got, q.Schema)
	}
	if strings.Join(got, " ") != "pre-publish rollover revoke post-revoke" || !sched.Quarters[0].Start.Equal(q1.start) {
		t.Fatalf("schedule quarters %v from %s", got, sched.Quarters[0].Start)
	}
	if d := sched.Dates; d.HoldDownEnds.Sub(d.Publish) != 30*24*time.Hour || !d.Rollover.After(d.HoldDownEnds) || !d.Revoke.After(d.Rollover) || !d.Remove.After(d.Revoke) {
		t.Errorf("schedule dates %+v", d)
	}
	sum := sha256.Sum256([]byte(readFileT(t, e.path("out", "dr-rollover.yaml"))))
	if sched.ConfigSHA256 != fmt.Sprintf("%x", sum) {
		t.Errorf("the schedule names config SHA-256 %s, the file is %x", sched.ConfigSHA256, sum)
	}

	// The quarters after the ceremony: ksk sign with the planned
	// configuration and the schedule's schema, each with the SKR before.
	skrs := []rfc5011.SKR{{Name: "q0-emergency", Doc: mustParseDoc(t, e.path("out", "dr-431c-skr.xml"))}, {Name: "q1-" + got[0], Doc: mustParseDoc(t, e.path("out", "dr-rollover-q1-skr.xml"))}}
	prev := "out/dr-rollover-q1-skr.xml"
	files := []string{e.path("out", "dr-431c-skr.xml"), e.path(prev)}
	for i, q := range sched.Quarters[1:] {
		kq := e.quarters[i+2]
		if !q.Start.Equal(kq.start) {
			t.Fatalf("quarter %d of the schedule starts %s, its KSR %s", q.Quarter, q.Start, kq.start)
		}
		out := fmt.Sprintf("out/dr-rollover-q%d-skr.xml", i+2)
		mustRun(t, e.outside, "sign", "--config", e.path("out", "dr-rollover.yaml"), "--schema", q.Schema, "--ksr", e.path(kq.file),
			"--previous-skr", e.path(prev), "--at", kq.start.Format(time.RFC3339), "--out", e.path(out), "--yes",
			"--token", e.outside.Label, "--pin-source", "file:"+e.outside.UserPINFile)
		e.skrVerify(t, out, kq.file, anchors)
		skrs = append(skrs, rfc5011.SKR{Name: fmt.Sprintf("q%d-%s", i+2, q.Schema), Doc: mustParseDoc(t, e.path(out))})
		files = append(files, e.path(out))
		prev = out
	}

	// ksk rollover check over the emergency SKR and the rollover, from
	// the temporary KSK that signs the first bundle: safe, the new KSK
	// accepted after its hold-down and the temporary one revoked.
	check := rolloverCheckJSON(t, 0, append([]string{"--offline", "30"}, files...)...)
	for _, id := range []string{rollover.PopOnline, rollover.PopStrict, "rfc5011-offline-30d"} {
		if p := check.Population(id); p == nil || !p.Safe {
			t.Errorf("ksk rollover check of the DR follow-up rollover: %s %+v", id, p)
		}
	}
	if l := findLane(t, check, sched.Next.KeyTag); l.HoldDown == nil || l.HoldDown.Until.Sub(l.HoldDown.From) != rfc5011.DefaultAddHoldDown {
		t.Errorf("the new KSK's hold-down %+v", l.HoldDown)
	}

	// An RFC 5011 resolver that installed the emergency trust anchor.
	tl, err := rfc5011.FromSKRs(skrs...)
	if err != nil {
		t.Fatal(err)
	}
	temp := skrs[0].Doc.Response.Bundles[0]
	var anchor = temp.Keys[0].DNSKEY(skrs[0].Doc.Domain)
	for i := range temp.Keys {
		if temp.Keys[i].IsKSK() {
			anchor = temp.Keys[i].DNSKEY(skrs[0].Doc.Domain)
		}
	}
	r, err := rfc5011.NewResolver(".", rfc5011.Params{}, anchor)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := r.Run(tl, rfc5011.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Lost() {
		t.Errorf("the resolver that trusts the temporary KSK lost trust:\n%s", tr.Summary())
	}
	newTag := sched.Next.KeyTag
	final := map[uint16]rfc5011.State{}
	for _, k := range tr.Final {
		final[k.KeyTag] = k.State
	}
	if final[newTag] != rfc5011.Valid {
		t.Errorf("the new KSK %d is not trusted at the end:\n%s", newTag, tr.Summary())
	}
}

// compromiseWithOfficers: a new KSK at KMF East, backed up; the KSR signed
// with it while the compromised KSK revokes itself; the compromised KSK
// destroyed at both facilities.
func (e *drEnv) compromiseWithOfficers(t *testing.T, script string) {
	// KMF West's copy was destroyed by 4.2.2A's ceremony.
	kv := []string{"token=" + e.token, "west_token=" + e.west.Label, "valid_from=" + e.date, "destroy_west=false"}
	e.check(t, script, kv...)
	e.runScript(t, script, "dr-compromise", e.answers(t, witnessAnswers(map[string]string{
		"act1.decide-algorithm":    `{values: {algorithm: RSASHA256, key_length: "2048", decided_by: "the KSK operator with the PMA"}}`,
		"act2.present-credentials": e.creds("credentials/kmf-east-co", "co1", "co2", "co3"),
		"act3.backup": "{so_pin_file: secrets/so.pin, passphrase_files: {" + e.passFiles(holderNames("rksh", 7)) + "}, credentials: " +
			credList("credentials/kmf-east-co", "co5", "co6", "co7") + "}",
		"act4.ksr-hash": e.ksrHash(0),
	}, "act1.attendance", "act6.sign-off")), kv...)
	skr := "out/dr-compromise-skr.xml"
	e.newTrustAnchor(t, skr, "out/dr-compromise-anchors.xml")
	e.logVerifySealed(t, "dr-compromise", "media/ksk-attestation.pem")
	// The compromised KSK is revoked (flags 385) and signs its revocation
	// in bundles 2 to 8.
	doc := mustParseDoc(t, e.path(skr))
	b := doc.Response.Bundles[1]
	revoked := false
	for _, k := range b.Keys {
		if k.Flags == 385 {
			revoked = true
		}
	}
	if !revoked || len(b.Signatures) != 2 {
		t.Errorf("bundle 2: want the compromised KSK revoked and signing, got %d keys, %d signatures", len(b.Keys), len(b.Signatures))
	}
	// It is gone from KMF East's HSM, and its destruction is recorded; the
	// step for KMF West, already done by 4.2.2A, is skipped.
	if d := logDetail(t, e.path("logs", "dr-compromise.log"), "act5.destroy-west", "done"); d["skipped"] == "" {
		t.Errorf("destroy-west: %v, want skipped", d)
	}
	for _, step := range []string{"act5.destroy-east"} {
		if d := logDetail(t, e.path("logs", "dr-compromise.log"), step, "done"); d["destroyed"] != "true" || d["key_tag"] != e.kskTag {
			t.Errorf("%s: %v", step, d)
		}
	}
}

func mustParseDoc(t *testing.T, path string) *ksr.Document {
	t.Helper()
	d, err := ksr.ParseFile(path, ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// restoreRefused: a restore through a ceremony into a new token with M-1
// shares, with a share of another backup, with another backup's full
// quorum, or from a damaged backup fails with exit 1 and leaves the token
// as it was; with five shares it succeeds.
func (e *drEnv) restoreRefused(t *testing.T) {
	// A second backup of the KSK, under the same roster: another split.
	second := e.path("backup-second.yaml")
	writeFileAt(t, second, `format: ksk-ceremony-v1
ceremony: {name: Second backup (test), mode: rehearsal}
params: {token: x, date: x}
participants:
`+participantLines(append(append([]string{"ca:ceremony-administrator"}, roleList(holderNames("co", 7), "crypto-officer")...), roleList(holderNames("rksh", 7), "recovery-key-share-holder")...))+`hsms: [{id: kmf-east, token: "${token}"}]
quorums:
  - {id: activation, purpose: hsm-activation, roster: roster-co.yaml, credentials: credentials/credentials.json}
  - {id: recovery, purpose: key-backup, roster: roster-rksh.yaml}
acts:
  - id: a
    steps:
      - {id: present, type: quorum, actor: ca, quorum: activation}
      - {id: activate, type: hsm-activate, actor: ca, hsm: kmf-east, quorum: activation}
      - {id: backup, type: key-backup, actor: ca, hsm: kmf-east, quorum: recovery, activation: activation, label: ksk-2027, out: backup/ksk-2027-second.backup, credentials_dir: backup-credentials-second}
`, 0o644)
	e.runScript(t, second, "backup-second", e.answers(t, map[string]string{
		"a.present": e.creds("credentials/kmf-east-co", "co1", "co2", "co3"),
		"a.backup": "{so_pin_file: secrets/so.pin, passphrase_files: {" + e.passFiles(holderNames("rksh", 7)) + "}, credentials: " +
			credList("credentials/kmf-east-co", "co4", "co5", "co6") + "}",
	}), "token="+e.token)

	// A damaged backup: one character of the wrapped key changed.
	orig := readFileT(t, e.path("backup", "ksk-2027.backup"))
	i := strings.Index(orig, `"wrapped_key": "`) + len(`"wrapped_key": "`) + 10
	b := []byte(orig)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	writeFileAt(t, e.path("backup", "ksk-2027-damaged.backup"), string(b), 0o600)

	// The target: a new token, activated by its own credentials.
	target := softhsmtest.NewToken(t)
	e.secrets = append(e.secrets, target.UserPIN, target.SOPIN)
	e.writeRoster(t, "roster-target-co.yaml", "target-co", 2, "crypto-officer", holderNames("eco", 3))
	writeFileAt(t, e.path("target-credentials", "credentials.json"), mustRun(t, nil, "credentials", "issue", "--roster", e.path("roster-target-co.yaml"),
		"--secret-source", "file:"+target.UserPINFile, "--out-dir", e.path("target-credentials"), "--scrypt-work-factor", "10", "-o", "json"), 0o644)
	script := e.path("restore-test.yaml")
	writeFileAt(t, script, `format: ksk-ceremony-v1
ceremony: {name: Restore (test), mode: rehearsal}
params: {token: x, date: x, backup: backup/ksk-2027.backup}
participants:
`+participantLines(append(append([]string{"ca:ceremony-administrator"}, roleList(holderNames("eco", 3), "crypto-officer")...), roleList(holderNames("rksh", 7), "recovery-key-share-holder")...))+`hsms: [{id: target, token: "${token}"}]
quorums:
  - {id: activation, purpose: hsm-activation, roster: roster-target-co.yaml, credentials: target-credentials/credentials.json}
  - {id: recovery, purpose: key-backup, roster: roster-rksh.yaml}
acts:
  - id: a
    steps:
      - {id: present, type: quorum, actor: ca, quorum: activation}
      - {id: activate, type: hsm-activate, actor: ca, hsm: target, quorum: activation}
      - {id: restore, type: key-restore, actor: ca, hsm: target, quorum: recovery, backup: "${backup}"}
`, 0o644)
	before := objectCount(t, target)
	main, other := "backup-credentials/kmf-east-rksh", "backup-credentials-second/kmf-east-rksh"
	cases := []struct {
		name, backup, creds, reason string
	}{
		{"m-minus-1", "backup/ksk-2027.backup", credList(main, "rksh1", "rksh2", "rksh3", "rksh4"), "quorum not met"},
		{"share-of-another-backup", "backup/ksk-2027.backup", "[" + strings.Trim(credList(main, "rksh1", "rksh2", "rksh3", "rksh4"), "[]") + ", " + strings.Trim(credList(other, "rksh5"), "[]") + "]", "not-counted=other-split"},
		{"quorum-of-another-backup", "backup/ksk-2027.backup", credList(other, "rksh1", "rksh2", "rksh3", "rksh4", "rksh5"), "another backup"},
		{"damaged-backup", "backup/ksk-2027-damaged.backup", credList(main, "rksh1", "rksh2", "rksh3", "rksh4", "rksh5"), "nothing restored"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			answers := e.answers(t, map[string]string{"a.present": e.creds("target-credentials/target-co", "eco1", "eco2"), "a.restore": "{credentials: " + c.creds + "}"})
			code, out, errOut := e.runScriptCode(t, script, "restore-"+c.name, answers, "token="+target.Label, "backup="+c.backup)
			log := readFileT(t, e.path("logs", "restore-"+c.name+".log"))
			if code != exitRejected || !strings.Contains(errOut+log, c.reason) {
				t.Fatalf("exit %d, want 1 and %q\n%s\n%s", code, c.reason, lastLines(out, 15), errOut)
			}
			t.Logf("refused: %s", strings.TrimSpace(errOut))
			if n := objectCount(t, target); n != before {
				t.Errorf("the target token holds %d objects after the refused restore, %d before", n, before)
			}
			logVerifyInProgress(t, e.path("logs", "restore-"+c.name+".log"))
			e.noSecrets(t, out, errOut, log)
		})
	}
	// Five good shares restore it, with the backup's reference signature.
	answers := e.answers(t, map[string]string{"a.present": e.creds("target-credentials/target-co", "eco1", "eco3"),
		"a.restore": e.creds(main, "rksh3", "rksh4", "rksh5", "rksh6", "rksh7")})
	out := e.runScript(t, script, "restore-ok", answers, "token="+target.Label)
	if !strings.Contains(out, "Reference signature: byte-identical to the backup's") {
		t.Errorf("restore:\n%s", lastLines(out, 20))
	}
	restored := objectCount(t, target)
	if restored <= before {
		t.Errorf("the restored key is not in the target token (%d objects)", restored)
	}

	// A run interrupted after the HSM made the key and before the log
	// recorded it (the log cut after the restore step's "started" entry):
	// repeated on the operator's explicit decision, the step adopts the
	// key, proves it again and creates nothing.
	lines := strings.SplitAfter(readFileT(t, e.path("logs", "restore-ok.log")), "\n")
	cut := -1
	for i, l := range lines {
		if strings.Contains(l, `"step":"a.restore"`) && strings.Contains(l, `"status":"started"`) {
			cut = i + 1
		}
	}
	if cut < 0 {
		t.Fatal("no started entry for the restore step")
	}
	writeFileAt(t, e.path("logs", "restore-again.log"), strings.Join(lines[:cut], ""), 0o644)
	answers = e.answers(t, map[string]string{"a.present": e.creds("target-credentials/target-co", "eco1", "eco3"),
		"a.restore": "{repeat: true, credentials: " + credList(main, "rksh3", "rksh4", "rksh5", "rksh6", "rksh7") + "}"})
	out = e.runScript(t, script, "restore-again", answers, "token="+target.Label)
	if !strings.Contains(out, "it is adopted, not restored again") || !strings.Contains(out, "Reference signature: byte-identical") {
		t.Errorf("repeated restore:\n%s", lastLines(out, 20))
	}
	if d := logDetail(t, e.path("logs", "restore-again.log"), "a.restore", "done"); d["adopted"] != "true" || d["reference_signature"] != "identical" {
		t.Errorf("repeated restore record %v", d)
	}
	if n := objectCount(t, target); n != restored {
		t.Errorf("the repeated restore changed the token: %d objects, %d before", n, restored)
	}
}

func roleList(ids []string, role string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id + ":" + role
	}
	return out
}

// participantLines lists participants given as ID:ROLE, in YAML.
func participantLines(people []string) string {
	var b strings.Builder
	for _, p := range people {
		id, role, _ := strings.Cut(p, ":")
		fmt.Fprintf(&b, "  - {id: %s, role: %s}\n", id, role)
	}
	return b.String()
}

// hasPublicKey reports whether a token shows a public key labelled label,
// without logging in (KMF West's PIN is in the crypto officers' boxes).
func hasPublicKey(t *testing.T, tk *softhsmtest.Token, label string) bool {
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
	ok, err := tok.HasPublicKey(label)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
