package ceremony

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/quorum"
)

// realKSR is a real KSR: Check parses every KSR a script names.
const realKSR = "../testdata/iana-root/ksr-root-2017-q2-0.xml"

// testSignerConfig is a signer configuration with one KSK and the schema
// "normal" (the HSM comes from the ceremony script).
const testSignerConfig = `keys:
  ksk:
    label: ksk-2026
    algorithm: RSASHA256
    rsa_size: 2048
    rsa_exponent: 65537
    key_tag: 7846
    ds_sha256: FEDEC89DC727D512B0D872FCAED5F9F0E671485CD8332D417EED04CB94C09C5A
    valid_from: 2020-01-01T00:00:00Z
schemas:
  normal:
    1: {publish: ksk, sign: ksk}
    2: {publish: ksk, sign: ksk}
    3: {publish: ksk, sign: ksk}
    4: {publish: ksk, sign: ksk}
    5: {publish: ksk, sign: ksk}
    6: {publish: ksk, sign: ksk}
    7: {publish: ksk, sign: ksk}
    8: {publish: ksk, sign: ksk}
    9: {publish: ksk, sign: ksk}
`

func writeFile(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
}

// rosterYAML is a roster file of holders PREFIX1..PREFIXn.
func rosterYAML(id string, m, n int, prefix string, role quorum.Role) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nm: %d\nn: %d\nholders:\n", id, m, n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - {name: %s%d, role: %s, passphrase_source: prompt}\n", prefix, i, role)
	}
	return b.String()
}

// manifestJSON is what ksk credentials issue -o json prints for the
// roster file data, with the credential SHA-256 of holder h from sha(h).
func manifestJSON(t testing.TB, rosterData string, sha func(holder string) string) string {
	t.Helper()
	rf, err := quorum.ParseRosterFile([]byte(rosterData))
	if err != nil {
		t.Fatal(err)
	}
	r := rf.Roster()
	d := r.Digest()
	m := quorum.Manifest{RosterID: r.ID, M: r.M, N: r.N, RosterDigest: hex.EncodeToString(d[:])}
	for i, h := range r.Holders {
		m.Credentials = append(m.Credentials, quorum.ManifestEntry{Holder: h.Name, Role: h.Role, Index: i + 1,
			File: quorum.CredentialFileName(r.ID, h.Name), SHA256: sha(h.Name)})
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

func fakeSHA(holder string) string {
	return fmt.Sprintf("%064x", []byte(holder))
}

// checkScript reads everything it can from files of a staged directory.
const checkScript = `format: ksk-ceremony-v1
ceremony:
  name: Check test
  mode: rehearsal
participants:
  - {id: ca, role: ceremony-administrator}
  - {id: co1, role: crypto-officer}
  - {id: co2, role: crypto-officer}
  - {id: co3, role: crypto-officer}
  - {id: tcr1, role: tcr, ssh_key_file: witnesses/tcr1.pub}
hsms:
  - {id: kmf, token: ksk}
quorums:
  - id: activation
    purpose: hsm-activation
    roster: roster-co.yaml
    credentials: credentials/credentials.json
acts:
  - id: a
    title: All
    steps:
      - {id: attendance, type: witness, actor: ca, witnesses: [tcr1]}
      - {id: present, type: quorum, actor: ca, quorum: activation}
      - {id: activate, type: hsm-activate, actor: ca, hsm: kmf, quorum: activation}
      - {id: load, type: ksr-load, actor: ca, ksr: ksr.xml}
      - {id: sign, type: sign, actor: ca, hsm: kmf, config: signer.yaml, schema: normal, out: out/skr.xml}
      - {id: copy, type: write-outputs, actor: ca, files: [out/skr.xml], to: media}
      - {id: seal, type: seal, actor: ca, hsm: kmf, key: att}
`

// stageCheck writes the script and the files it reads into a new
// directory and returns the script's path.
func stageCheck(t testing.TB, script string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	_, pub := testSigner(t, 1)
	writeFile(t, filepath.Join(dir, "witnesses", "tcr1.pub"), pub+"\n", 0o644)
	roster := rosterYAML("lab-co", 2, 3, "co", quorum.RoleCryptoOfficer)
	writeFile(t, filepath.Join(dir, "roster-co.yaml"), roster, 0o644)
	writeFile(t, filepath.Join(dir, "credentials", "credentials.json"), manifestJSON(t, roster, fakeSHA), 0o644)
	ksrData, err := os.ReadFile(realKSR)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ksr.xml"), string(ksrData), 0o644)
	writeFile(t, filepath.Join(dir, "signer.yaml"), testSignerConfig, 0o644)
	path = filepath.Join(dir, "ceremony.yaml")
	writeFile(t, path, script, 0o644)
	return dir, path
}

func TestCheckStaged(t *testing.T) {
	dir, path := stageCheck(t, checkScript)
	p, err := Check(path, CheckOptions{})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if p.Dir != dir || p.Path != path || len(p.SHA256) != 64 {
		t.Errorf("plan: dir %q path %q sha %q", p.Dir, p.Path, p.SHA256)
	}
	if len(p.Steps) != 7 {
		t.Fatalf("%d steps", len(p.Steps))
	}
	sign := p.Steps[4]
	if sign.ID != "a.sign" || sign.Number != "1.5" || !sign.TouchesHSM {
		t.Errorf("sign step = %+v", sign)
	}
	if got := strings.Join(sign.Inputs, " "); got != filepath.Join(dir, "signer.yaml") {
		t.Errorf("sign inputs = %v", sign.Inputs)
	}
	if got := strings.Join(sign.Outputs, " "); got != filepath.Join(dir, "out", "skr.xml") {
		t.Errorf("sign outputs = %v", sign.Outputs)
	}
	// write-outputs reads what sign writes: it need not exist now.
	copyStep := p.Steps[5]
	if copyStep.Inputs[0] != filepath.Join(dir, "out", "skr.xml") || copyStep.Outputs[0] != filepath.Join(dir, "media", "skr.xml") {
		t.Errorf("copy step = %+v", copyStep)
	}
	if p.Steps[0].TouchesHSM || !p.Steps[6].TouchesHSM {
		t.Error("TouchesHSM wrong for witness or seal")
	}

	s := p.Summary()
	if !s.Valid || len(s.Quorums) != 1 || s.Quorums[0].M != 2 || s.Quorums[0].N != 3 || s.Quorums[0].Pinned != 3 || s.Quorums[0].RosterID != "lab-co" {
		t.Errorf("summary quorums = %+v", s.Quorums)
	}
	for _, pp := range s.Participants {
		switch {
		case pp.ID == "tcr1" && !strings.HasPrefix(pp.SSHKey, "SHA256:"):
			t.Errorf("tcr1 has no SSH fingerprint: %+v", pp)
		case pp.ID == "co2" && pp.Credential != fakeSHA("co2"):
			t.Errorf("co2's pin from the manifest = %q", pp.Credential)
		}
	}
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Ceremony: Check test, rehearsal", "Quorum activation (hsm-activation): 2 of 3", "[HSM kmf]",
		"writes " + filepath.Join(dir, "media", "skr.xml"), "7 steps in 1 acts; 3 touch an HSM. Checked without touching any HSM."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan text lacks %q:\n%s", want, b.String())
		}
	}
	js, err := json.Marshal(s)
	if err != nil || !strings.Contains(string(js), `"touches_hsm":true`) {
		t.Errorf("summary JSON: %s, %v", js, err)
	}
}

func TestCheckDir(t *testing.T) {
	dir, path := stageCheck(t, checkScript)
	// The script elsewhere, its files in --dir.
	other := filepath.Join(t.TempDir(), "script.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, other, string(data), 0o644)
	if _, err := Check(other, CheckOptions{}); err == nil {
		t.Fatal("Check resolved files next to the script, where there are none")
	}
	p, err := Check(other, CheckOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if p.File("ksr.xml") != filepath.Join(dir, "ksr.xml") || p.File("/abs/x") != "/abs/x" || p.File("") != "" {
		t.Errorf("File: %q", p.File("ksr.xml"))
	}
}

func TestCheckRejects(t *testing.T) {
	otherRoster := rosterYAML("lab-co", 2, 3, "co", quorum.RoleCryptoOfficer)
	tests := []struct {
		name string
		// script edits the script; stage changes the staged files.
		script   func(string) string
		stage    func(t *testing.T, dir string)
		sentinel error
		path     string
		lineAt   string
		text     string
	}{
		{name: "missing KSR",
			stage:    func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ksr.xml")) },
			sentinel: ErrInvalid, path: "acts[0].steps[3]", lineAt: "{id: load", text: "step a.load: input "},
		{name: "KSR that does not parse",
			stage:    func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "ksr.xml"), "<KSR>", 0o644) },
			sentinel: ErrInvalid, path: "acts[0].steps[3].ksr", lineAt: "{id: load", text: "ksr.xml"},
		{name: "missing previous SKR",
			script: func(s string) string {
				return strings.Replace(s, "ksr: ksr.xml}", "ksr: ksr.xml, previous_skr: skr-prev.xml}", 1)
			},
			sentinel: ErrInvalid, path: "acts[0].steps[3]", text: "skr-prev.xml"},
		{name: "missing policy",
			script: func(s string) string {
				return strings.Replace(s, "ksr: ksr.xml}", "ksr: ksr.xml, policy: pol.yaml}", 1)
			},
			sentinel: ErrInvalid, path: "acts[0].steps[3]", text: "pol.yaml"},
		{name: "an input an earlier step does not write",
			script:   func(s string) string { return strings.Replace(s, "files: [out/skr.xml]", "files: [out/other.xml]", 1) },
			sentinel: ErrInvalid, path: "acts[0].steps[5]", lineAt: "{id: copy", text: "other.xml"},
		{name: "an input a later step writes",
			script: func(s string) string {
				return strings.Replace(s, "      - {id: sign,", "      - {id: copy0, type: write-outputs, actor: ca, files: [out/skr.xml], to: early}\n      - {id: sign,", 1)
			},
			sentinel: ErrInvalid, path: "acts[0].steps[4]", lineAt: "{id: copy0", text: "out/skr.xml"},
		{name: "an output outside the ceremony directory",
			script: func(s string) string {
				return strings.Replace(s, "files: [out/skr.xml], to: media}", "files: [out/skr.xml], to: ../elsewhere}", 1)
			},
			sentinel: ErrInvalid, path: "acts[0].steps[5]", lineAt: "{id: copy", text: "outside the ceremony directory"},
		{name: "two steps write one file",
			script: func(s string) string {
				return strings.Replace(s, "      - {id: seal,", "      - {id: copy2, type: write-outputs, actor: ca, files: [out/skr.xml], to: media}\n      - {id: seal,", 1)
			},
			sentinel: ErrInvalid, path: "acts[0].steps[6]", lineAt: "{id: copy2", text: "is also written by step a.copy"},
		{name: "missing roster",
			stage:    func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "roster-co.yaml")) },
			sentinel: ErrInvalid, path: "quorums[0]", lineAt: "- id: activation", text: "roster-co.yaml"},
		{name: "malformed roster",
			stage: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "roster-co.yaml"), "id: x\nm: 5\nn: 1\n", 0o644)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "roster roster-co.yaml"},
		{name: "roster holder not a participant",
			stage: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "roster-co.yaml"), rosterYAML("lab-co", 2, 4, "co", quorum.RoleCryptoOfficer), 0o644)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "roster holder co4 is not a participant with role crypto-officer"},
		{name: "roster holder under another name",
			script: func(s string) string {
				return strings.Replace(s, "{id: co3, role: crypto-officer}", "{id: co3, role: crypto-officer, holder: carol}", 1)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "roster holder co3 is not a participant"},
		{name: "roster of recovery key share holders for activation",
			stage: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "roster-co.yaml"), rosterYAML("lab-co", 2, 3, "co", quorum.RoleRecoveryKeyShareHolder), 0o644)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "a hsm-activation quorum is held by crypto-officers"},
		{name: "credentials for another roster",
			stage: func(t *testing.T, dir string) {
				other := strings.Replace(otherRoster, "id: lab-co", "id: lab-co-2025", 1)
				writeFile(t, filepath.Join(dir, "credentials", "credentials.json"), manifestJSON(t, other, fakeSHA), 0o644)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "were issued for roster lab-co-2025"},
		{name: "credentials for a roster with the same id and other holders",
			stage: func(t *testing.T, dir string) {
				other := strings.Replace(otherRoster, "m: 2", "m: 3", 1)
				writeFile(t, filepath.Join(dir, "credentials", "credentials.json"), manifestJSON(t, other, fakeSHA), 0o644)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "not this roster lab-co"},
		{name: "pinned credential mismatch",
			script: func(s string) string {
				return strings.Replace(s, "{id: co2, role: crypto-officer}", "{id: co2, role: crypto-officer, credential: "+strings.Repeat("ab", 32)+"}", 1)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "holder co2's credential " + fakeSHA("co2") + " differs from the participant's credential " + strings.Repeat("ab", 32)},
		{name: "credentials manifest not JSON",
			stage: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "credentials", "credentials.json"), "{", 0o644)
			},
			sentinel: ErrInvalid, path: "quorums[0]", text: "credentials.json"},
		{name: "missing credentials manifest",
			stage:    func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "credentials", "credentials.json")) },
			sentinel: ErrInvalid, path: "quorums[0]", text: "credentials.json"},
		{name: "unknown schema",
			script:   func(s string) string { return strings.Replace(s, "schema: normal", "schema: rollover", 1) },
			sentinel: ErrInvalid, path: "acts[0].steps[4].schema", lineAt: "{id: sign", text: `unknown schema "rollover": the configuration has normal`},
		{name: "signer config with an unknown key",
			stage: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "signer.yaml"), strings.Replace(testSignerConfig, "schemas:", "schemes:", 1), 0o644)
			},
			sentinel: ErrInvalid, path: "acts[0].steps[4].config", lineAt: "{id: sign", text: "schemes"},
		{name: "missing signer config",
			stage:    func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "signer.yaml")) },
			sentinel: ErrInvalid, path: "acts[0].steps[4].config", text: "signer.yaml"},
		{name: "trust anchor key the config lacks",
			script: func(s string) string {
				return strings.Replace(s, "      - {id: seal,", "      - {id: ta, type: trust-anchor, actor: ca, hsm: kmf, config: signer.yaml, keys: [ksk, ksk_next], out: out/anchors.xml}\n      - {id: seal,", 1)
			},
			sentinel: ErrInvalid, path: "acts[0].steps[6].keys", lineAt: "{id: ta", text: `signer.yaml has no key "ksk_next"`},
		{name: "missing witness key file",
			stage:    func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "witnesses", "tcr1.pub")) },
			sentinel: ErrInvalid, path: "participants[4].ssh_key_file", lineAt: "{id: tcr1", text: "tcr1.pub"},
		{name: "witness key file that is not a key",
			stage: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "witnesses", "tcr1.pub"), "not a key\n", 0o644)
			},
			sentinel: ErrInvalid, path: "participants[4]", lineAt: "{id: tcr1", text: "ssh key of tcr1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			script := checkScript
			if tc.script != nil {
				script = tc.script(script)
			}
			dir, path := stageCheck(t, script)
			if tc.stage != nil {
				tc.stage(t, dir)
			}
			p, err := Check(path, CheckOptions{})
			if err == nil {
				t.Fatalf("Check accepted: %+v", p.Summary())
			}
			line := 0
			if tc.lineAt != "" {
				line = lineOfText(t, script, tc.lineAt)
			}
			wantErr(t, err, tc.sentinel, tc.path, line, tc.text)
			if !strings.HasPrefix(err.Error(), "script "+path+": ") {
				t.Errorf("error does not name the script: %v", err)
			}
		})
	}
}

// TestCheckAllowOutsideDir: with ceremony.allow_outside_dir the same
// output outside --dir is accepted.
func TestCheckAllowOutsideDir(t *testing.T) {
	script := strings.Replace(checkScript, "files: [out/skr.xml], to: media}", "files: [out/skr.xml], to: ../elsewhere}", 1)
	script = strings.Replace(script, "mode: rehearsal", "mode: rehearsal\n  allow_outside_dir: true", 1)
	_, path := stageCheck(t, script)
	if _, err := Check(path, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestCheckScriptErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Check(filepath.Join(dir, "none.yaml"), CheckOptions{})
	wantErr(t, err, ErrRead, "", 0, "none.yaml")

	_, path := stageCheck(t, strings.Replace(checkScript, "mode: rehearsal", "mode: rehearsal\n  modes: x", 1))
	_, err = Check(path, CheckOptions{})
	wantErr(t, err, ErrUnknownKey, "ceremony.modes", 5, "did you mean ceremony.mode?")

	_, path = stageCheck(t, checkScript)
	_, err = Check(path, CheckOptions{Params: map[string]string{"x": "y"}})
	wantErr(t, err, ErrInvalid, "", 0, "--param x")
}

// stageShipped stages a directory as scripts/demo.sh does before each
// ceremony: rosters, witness keys, the credentials manifest, the signer
// configuration and a KSR.
func stageShipped(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for i, w := range []string{"tcr1", "tcr2", "ew1"} {
		_, pub := testSigner(t, byte(10+i))
		writeFile(t, filepath.Join(dir, "witnesses", w+".pub"), pub+" "+w+"\n", 0o644)
	}
	co := rosterYAML("kmf-east-co", 3, 7, "co", quorum.RoleCryptoOfficer)
	writeFile(t, filepath.Join(dir, "roster-co.yaml"), co, 0o644)
	writeFile(t, filepath.Join(dir, "roster-rksh.yaml"), rosterYAML("kmf-east-rksh", 5, 7, "rksh", quorum.RoleRecoveryKeyShareHolder), 0o644)
	writeFile(t, filepath.Join(dir, "credentials", "credentials.json"), manifestJSON(t, co, fakeSHA), 0o644)
	writeFile(t, filepath.Join(dir, "signer.yaml"), testSignerConfig, 0o644)
	ksrData, err := os.ReadFile(realKSR)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ksr.xml"), string(ksrData), 0o644)
	return dir
}

func TestCheckShippedScripts(t *testing.T) {
	dir := stageShipped(t)
	for _, tc := range []struct {
		file         string
		minSteps     int
		quorums      int
		wantRead     string
		wantWritten  string
		wantActivate string
	}{
		{"quarterly-signing.yaml", 12, 1, "ksr.xml", "out/skr.xml", "act3.activate"},
		{"key-generation.yaml", 12, 2, "", "credentials/credentials.json", "act4.activate"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("..", "scripts", "ceremonies", tc.file)
			p, err := Check(path, CheckOptions{Dir: dir})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			s := p.Summary()
			if len(s.Steps) < tc.minSteps || countHSM(s.Steps) < 3 || len(s.Quorums) != tc.quorums {
				t.Errorf("%d steps, %d touch the HSM, %d quorums", len(s.Steps), countHSM(s.Steps), len(s.Quorums))
			}
			for _, st := range s.Steps {
				if st.TouchesHSM && st.HSM == "" {
					t.Errorf("step %s touches an HSM it does not name", st.ID)
				}
			}
			var reads, writes []string
			ids := map[string]bool{}
			for _, st := range s.Steps {
				reads = append(reads, st.Reads...)
				writes = append(writes, st.Writes...)
				ids[st.ID] = true
			}
			if tc.wantRead != "" && !strings.Contains(strings.Join(reads, " "), filepath.Join(dir, tc.wantRead)) {
				t.Errorf("reads %v", reads)
			}
			if !strings.Contains(strings.Join(writes, " "), filepath.Join(dir, tc.wantWritten)) {
				t.Errorf("writes %v", writes)
			}
			if !ids[tc.wantActivate] {
				t.Errorf("no step %s", tc.wantActivate)
			}
			for _, q := range s.Quorums {
				want := map[string][2]int{"activation": {3, 7}, "recovery": {5, 7}}[q.ID]
				if q.M != want[0] || q.N != want[1] {
					t.Errorf("quorum %s: %d of %d", q.ID, q.M, q.N)
				}
			}
			// A production run of the same script checks too.
			if _, err := Check(path, CheckOptions{Dir: dir, Params: map[string]string{"mode": ModeProduction, "date": "2027-01-01"}}); err != nil {
				t.Errorf("production: %v", err)
			}
			if err := p.WriteText(&strings.Builder{}); err != nil {
				t.Error(err)
			}
		})
	}

	// A quarterly ceremony without its KSR does not check: the missing
	// file is named.
	if err := os.Remove(filepath.Join(dir, "ksr.xml")); err != nil {
		t.Fatal(err)
	}
	_, err := Check(filepath.Join("..", "scripts", "ceremonies", "quarterly-signing.yaml"), CheckOptions{Dir: dir})
	wantErr(t, err, ErrInvalid, "acts[3].steps[0]", 0, filepath.Join(dir, "ksr.xml"))
	// The key generation ceremony reads no KSR.
	if _, err := Check(filepath.Join("..", "scripts", "ceremonies", "key-generation.yaml"), CheckOptions{Dir: dir}); err != nil {
		t.Errorf("key generation without a KSR: %v", err)
	}
	// Without the credentials manifest, the quarterly ceremony names it.
	if err := os.Remove(filepath.Join(dir, "credentials", "credentials.json")); err != nil {
		t.Fatal(err)
	}
	_, err = Check(filepath.Join("..", "scripts", "ceremonies", "quarterly-signing.yaml"), CheckOptions{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "credentials.json") {
		t.Errorf("missing manifest: %v", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("not ErrInvalid: %v", err)
	}
}

// TestCheckRef: a step's ref is in the plan's text and JSON.
func TestCheckRef(t *testing.T) {
	_, path := stageCheck(t, strings.Replace(checkScript, "{id: sign, type: sign,", "{id: sign, ref: 4.1.2A/7, type: sign,", 1))
	p, err := Check(path, CheckOptions{})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "[ref 4.1.2A/7]") {
		t.Errorf("plan text lacks the ref:\n%s", b.String())
	}
	if s := p.Summary(); s.Steps[4].Ref != "4.1.2A/7" || s.Steps[3].Ref != "" {
		t.Errorf("summary refs: %q %q", s.Steps[4].Ref, s.Steps[3].Ref)
	}
}
