package ceremony

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testSigner returns a fixed SSH key for a witness, and its public key in
// authorized_keys form.
func testSigner(t testing.TB, seed byte) (ssh.Signer, string) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

// baseScript is a valid script that uses most step types; the tests break
// it one edit at a time. @KEY1@ stands for tcr1's SSH public key.
const baseScript = `# a test ceremony
format: ksk-ceremony-v1
ceremony:
  name: Test ceremony ${number}
  number: 7
  site: Lab
  date: ${date}
  mode: rehearsal
params:
  number: "7"
  date: "2026-01-02"
  ksr: ksr.xml
  bits: "2048"
participants:
  - id: ca
    name: Carol
    role: ceremony-administrator
  - id: sa
    role: system-administrator
  - id: co1
    role: crypto-officer
  - id: co2
    role: crypto-officer
  - id: co3
    role: crypto-officer
  - id: tcr1
    role: tcr
    ssh_key: "@KEY1@"
  - id: iw
    role: internal-witness
hsms:
  - id: kmf
    token: ksk
quorums:
  - id: activation
    purpose: hsm-activation
    roster: roster-co.yaml
  - id: recovery
    purpose: key-backup
    roster: roster-rksh.yaml
acts:
  - id: open
    title: Open
    steps:
      - id: welcome
        type: narrative
        actor: ca
        text: Welcome.
      - id: attendance
        type: witness
        actor: ca
        witnesses: [tcr1]
  - id: hsm
    title: Activate
    steps:
      - id: present
        type: quorum
        actor: ca
        quorum: activation
      - id: activate
        type: hsm-activate
        actor: sa
        hsm: kmf
        quorum: activation
  - id: sign
    title: Sign
    steps:
      - id: load
        type: ksr-load
        actor: ca
        ksr: ${ksr}
      - id: hash
        type: ksr-hash
        actor: ca
        words: 4
      - id: sign
        type: sign
        actor: ca
        hsm: kmf
        config: signer.yaml
        schema: normal
        out: out/skr.xml
      - id: keygen
        type: keygen
        actor: ca
        hsm: kmf
        label: new-ksk
        algorithm: RSASHA256
        bits: ${bits}
      - id: seal
        type: seal
        actor: ca
        hsm: kmf
        key: attest
`

func baseDoc(t testing.TB) string {
	_, pub := testSigner(t, 1)
	return strings.ReplaceAll(baseScript, "@KEY1@", pub)
}

// edit replaces the first occurrence of old in doc, which must be there.
func edit(t testing.TB, doc, old, new string) string {
	t.Helper()
	if !strings.Contains(doc, old) {
		t.Fatalf("edit: %q is not in the script", old)
	}
	return strings.Replace(doc, old, new, 1)
}

// lineOfText returns the 1-based line of the first occurrence of s.
func lineOfText(t testing.TB, doc, s string) int {
	t.Helper()
	i := strings.Index(doc, s)
	if i < 0 {
		t.Fatalf("%q is not in the script", s)
	}
	return strings.Count(doc[:i], "\n") + 1
}

func TestParseBase(t *testing.T) {
	doc := baseDoc(t)
	s, err := Parse([]byte(doc), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s.Ceremony.Name != "Test ceremony 7" || s.Ceremony.Date != "2026-01-02" || s.Ceremony.Number != 7 {
		t.Errorf("ceremony = %+v", s.Ceremony)
	}
	if len(s.Acts) != 3 || len(s.Acts[2].Steps) != 5 {
		t.Fatalf("acts = %+v", s.Acts)
	}
	load := s.Acts[2].Steps[0]
	if load.KSR != "ksr.xml" {
		t.Errorf("load.ksr = %q, want the param's value", load.KSR)
	}
	// "2048" substituted into an integer field is the integer 2048.
	if kg := s.Acts[2].Steps[3]; kg.Bits != 2048 {
		t.Errorf("keygen bits = %d", kg.Bits)
	}
	if got, want := load.Line(), lineOfText(t, doc, "- id: load"); got != want {
		t.Errorf("load.Line() = %d, want %d", got, want)
	}
	if s.Params["ksr"] != "ksr.xml" || len(s.Params) != 4 {
		t.Errorf("params = %v", s.Params)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate of a parsed script: %v", err)
	}
}

func TestParseProductionSigning(t *testing.T) {
	doc := baseDoc(t)
	noHash := edit(t, doc, "        type: ksr-hash\n        actor: ca\n        words: 4\n", "        type: confirm\n        actor: ca\n")
	if _, err := Parse([]byte(noHash), nil); err != nil {
		t.Errorf("a rehearsal may sign without ksr-hash: %v", err)
	}
	if _, err := Parse([]byte(edit(t, doc, "mode: rehearsal", "mode: production")), nil); err != nil {
		t.Errorf("production with ksr-hash: %v", err)
	}
}

func TestParseParamOverrides(t *testing.T) {
	doc := baseDoc(t)
	s, err := Parse([]byte(doc), map[string]string{"ksr": "other.xml", "date": "2027-03-04", "bits": "4096"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Acts[2].Steps[0].KSR != "other.xml" || s.Ceremony.Date != "2027-03-04" || s.Acts[2].Steps[3].Bits != 4096 {
		t.Errorf("overrides not applied: %+v %+v", s.Ceremony, s.Acts[2].Steps)
	}
	if s.Params["ksr"] != "other.xml" {
		t.Errorf("Params[ksr] = %q", s.Params["ksr"])
	}

	// Substitution keeps YAML 1.2 types: "true" is a bool, "yes" is not.
	withLegacy := edit(t, doc, "        ksr: ${ksr}\n", "        ksr: ${ksr}\n        legacy: ${legacy}\n")
	withLegacy = edit(t, withLegacy, "  bits: \"2048\"\n", "  bits: \"2048\"\n  legacy: \"true\"\n")
	s, err = Parse([]byte(withLegacy), nil)
	if err != nil || !s.Acts[2].Steps[0].Legacy {
		t.Fatalf("legacy: ${legacy} = true: %v", err)
	}
	_, err = Parse([]byte(withLegacy), map[string]string{"legacy": "yes"})
	wantErr(t, err, ErrInvalid, "acts[2].steps[0].legacy", lineOfText(t, withLegacy, "legacy: ${legacy}"), "true or false")

	// A quoted reference stays a string, so it does not fit bits.
	quoted := edit(t, doc, "bits: ${bits}", `bits: "${bits}"`)
	_, err = Parse([]byte(quoted), nil)
	wantErr(t, err, ErrInvalid, "acts[2].steps[3].bits", lineOfText(t, quoted, `bits: "${bits}"`), "integer")

	// Dates and times written unquoted are the strings they look like.
	plain := edit(t, doc, "date: ${date}", "date: 2026-03-04")
	plain = edit(t, plain, "ksr: ${ksr}", "ksr: ${ksr}\n        at: 2026-03-04T10:00:00Z")
	s, err = Parse([]byte(plain), nil)
	if err != nil || s.Ceremony.Date != "2026-03-04" || s.Acts[2].Steps[0].At != "2026-03-04T10:00:00Z" {
		t.Fatalf("unquoted date and time: %v", err)
	}

	// A substituted date stays the string it is written as.
	s, err = Parse([]byte(edit(t, doc, "site: Lab", "site: ${date}")), nil)
	if err != nil || s.Ceremony.Site != "2026-01-02" {
		t.Fatalf("site: ${date}: %+v, %v", s, err)
	}
}

// wantErr checks that err wraps sentinel and names path, line and text.
func wantErr(t testing.TB, err, sentinel error, path string, line int, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v naming %s", sentinel, path)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error does not wrap %v: %v", sentinel, err)
	}
	msg := err.Error()
	if path != "" {
		want := path
		if line > 0 {
			want = fmt.Sprintf("%s (line %d)", path, line)
		}
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q:\n%v", want, msg)
		}
	}
	if text != "" && !strings.Contains(msg, text) {
		t.Errorf("error does not say %q:\n%v", text, msg)
	}
}

func TestParseRejects(t *testing.T) {
	type change struct{ old, new string }
	tests := []struct {
		name     string
		changes  []change
		params   map[string]string
		sentinel error
		path     string
		// lineAt is text whose line the error must name; "" for none.
		lineAt string
		text   string
	}{
		// Form: keys, types, nulls, duplicates.
		{name: "unknown top-level key", changes: []change{{"format: ksk", "formats: ksk"}},
			sentinel: ErrUnknownKey, path: "formats", lineAt: "formats:", text: "did you mean format?"},
		{name: "unknown ceremony key", changes: []change{{"mode: rehearsal", "mood: rehearsal"}},
			sentinel: ErrUnknownKey, path: "ceremony.mood", lineAt: "mood:", text: "did you mean ceremony.mode?"},
		{name: "unknown step key", changes: []change{{"ksr: ${ksr}", "ksrr: ${ksr}"}},
			sentinel: ErrUnknownKey, path: "acts[2].steps[0].ksrr", lineAt: "ksrr:", text: "did you mean acts[2].steps[0].ksr?"},
		{name: "unknown key without suggestion", changes: []change{{"    token: ksk", "    token: ksk\n    colour: blue"}},
			sentinel: ErrUnknownKey, path: "hsms[0].colour", lineAt: "colour:"},
		{name: "yes is not a bool", changes: []change{{"ksr: ${ksr}", "ksr: ${ksr}\n        legacy: yes"}},
			sentinel: ErrInvalid, path: "acts[2].steps[0].legacy", lineAt: "legacy: yes", text: `want true or false, got "yes"`},
		{name: "8 is not a string", changes: []change{{"token: ksk", "token: 8"}},
			sentinel: ErrInvalid, path: "hsms[0].token", lineAt: "token: 8", text: `want a string, got "8"`},
		{name: "a word is not an integer", changes: []change{{"number: 7", "number: seven"}},
			sentinel: ErrInvalid, path: "ceremony.number", lineAt: "number: seven", text: "integer"},
		{name: "a scalar is not a list", changes: []change{{"witnesses: [tcr1]", "witnesses: tcr1"}},
			sentinel: ErrInvalid, path: "acts[0].steps[1].witnesses", lineAt: "witnesses: tcr1", text: "list of strings"},
		{name: "a list is not a string", changes: []change{{"label: new-ksk", "label: [new-ksk]"}},
			sentinel: ErrInvalid, path: "acts[2].steps[3].label", lineAt: "label: [new-ksk]", text: "a list"},
		{name: "null", changes: []change{{"site: Lab", "site:"}},
			sentinel: ErrInvalid, path: "ceremony.site", lineAt: "site:", text: "no value given"},
		{name: "null with ~", changes: []change{{"title: Open", "title: ~"}},
			sentinel: ErrInvalid, path: "acts[0].title", lineAt: "title: ~", text: "no value given"},
		{name: "null list", changes: []change{{"participants:\n", "participants:\nx_participants:\n"}},
			sentinel: ErrInvalid, path: "participants", lineAt: "participants:", text: "no value given"},
		{name: "duplicate key", changes: []change{{"text: Welcome.", "text: Welcome.\n        text: Again."}},
			sentinel: ErrSyntax, path: "acts[0].steps[0].text", lineAt: "text: Again.", text: "key given twice"},
		{name: "duplicate top-level key", changes: []change{{"format: ksk-ceremony-v1", "format: ksk-ceremony-v1\nformat: ksk-ceremony-v1"}},
			sentinel: ErrSyntax, path: "format", text: "key given twice"},
		{name: "a key that is not a scalar", changes: []change{{"    token: ksk", "    token: ksk\n    [a]: b"}},
			sentinel: ErrSyntax, path: "hsms[0]", text: "plain scalars"},
		{name: "merge keys are not taken", changes: []change{{"    token: ksk", "    token: ksk\n    <<: {description: x}"}},
			sentinel: ErrUnknownKey, path: "hsms[0].<<"},

		// Identifiers.
		{name: "duplicate participant", changes: []change{{"- id: iw", "- id: sa"}},
			sentinel: ErrInvalid, path: "participants[6].id", lineAt: "- id: sa\n    role: internal", text: `participant "sa" is defined twice`},
		{name: "duplicate step in an act", changes: []change{{"- id: hash", "- id: load"}},
			sentinel: ErrInvalid, path: "acts[2].steps[1].id", lineAt: "- id: load\n        type: ksr-hash", text: `step "sign.load" is defined twice`},
		{name: "duplicate act", changes: []change{{"- id: hsm\n", "- id: open\n"}},
			sentinel: ErrInvalid, path: "acts[1].id", lineAt: "- id: open\n    title: Activate", text: `act "open" is defined twice`},
		{name: "duplicate hsm", changes: []change{{"    token: ksk\n", "    token: ksk\n  - id: kmf\n    token: other\n"}},
			sentinel: ErrInvalid, path: "hsms[1].id", lineAt: "- id: kmf\n    token: other", text: "defined twice"},
		{name: "duplicate quorum", changes: []change{{"- id: recovery", "- id: activation"}},
			sentinel: ErrInvalid, path: "quorums[1].id", lineAt: "- id: activation\n    purpose: key-backup", text: "defined twice"},
		{name: "upper-case id", changes: []change{{"- id: welcome", "- id: Welcome"}},
			sentinel: ErrInvalid, path: "acts[0].steps[0].id", lineAt: "- id: Welcome", text: "lower-case"},
		{name: "missing id", changes: []change{{"  - id: iw\n    role", "  - role"}},
			sentinel: ErrInvalid, path: "participants[6].id", text: "lower-case"},

		// Step types and their fields.
		{name: "unknown step type", changes: []change{{"type: ksr-hash", "type: ksr-hsh"}},
			sentinel: ErrInvalid, path: "acts[2].steps[1].type", lineAt: "type: ksr-hsh", text: `unknown step type "ksr-hsh"; want one of confirm,`},
		{name: "missing step type", changes: []change{{"        type: narrative\n", ""}},
			sentinel: ErrInvalid, path: "acts[0].steps[0].type", lineAt: "- id: welcome", text: `unknown step type ""`},
		{name: "a field the type does not take", changes: []change{{"text: Welcome.", "text: Welcome.\n        hsm: kmf"}},
			sentinel: ErrInvalid, path: "acts[0].steps[0].hsm", lineAt: "hsm: kmf\n      - id: attendance", text: "a narrative step does not take hsm"},
		{name: "legacy on a sign step", changes: []change{{"schema: normal", "schema: normal\n        legacy: true"}},
			sentinel: ErrInvalid, path: "acts[2].steps[2].legacy", lineAt: "legacy: true", text: "a sign step does not take legacy"},
		{name: "missing required field", changes: []change{{"        config: signer.yaml\n", ""}},
			sentinel: ErrInvalid, path: "acts[2].steps[2].config", lineAt: "- id: sign\n        type: sign", text: "a sign step needs config"},
		{name: "missing key of a seal", changes: []change{{"        key: attest\n", ""}},
			sentinel: ErrInvalid, path: "acts[2].steps[4].key", lineAt: "- id: seal", text: "a seal step needs key"},
		{name: "empty witness list", changes: []change{{"witnesses: [tcr1]", "witnesses: []"}},
			sentinel: ErrInvalid, path: "acts[0].steps[1].witnesses", lineAt: "witnesses: []", text: "a witness step needs witnesses"},
		{name: "missing actor", changes: []change{{"        actor: ca\n        text: Welcome.", "        text: Welcome."}},
			sentinel: ErrInvalid, path: "acts[0].steps[0].actor", lineAt: "- id: welcome", text: "every step names the participant"},
		{name: "ref not SECTION/N", changes: []change{{"actor: sa", "actor: sa\n        ref: 4.1.2A-3"}},
			sentinel: ErrInvalid, path: "acts[1].steps[1].ref", lineAt: "ref: 4.1.2A-3", text: `want SECTION/N`},
		{name: "actor not a participant", changes: []change{{"actor: sa", "actor: bob"}},
			sentinel: ErrInvalid, path: "acts[1].steps[1].actor", lineAt: "actor: bob", text: `"bob" is not a participant`},
		{name: "unknown hsm", changes: []change{{"hsm: kmf\n        key: attest", "hsm: kmf2\n        key: attest"}},
			sentinel: ErrInvalid, path: "acts[2].steps[4].hsm", lineAt: "hsm: kmf2", text: `"kmf2" is not an HSM of the script`},
		{name: "unknown quorum", changes: []change{{"quorum: activation\n  - id: sign", "quorum: activatoin\n  - id: sign"}},
			sentinel: ErrInvalid, path: "acts[1].steps[1].quorum", lineAt: "quorum: activatoin", text: `"activatoin" is not a quorum of the script`},
		{name: "witness not a participant", changes: []change{{"witnesses: [tcr1]", "witnesses: [tcr1, tcr9]"}},
			sentinel: ErrInvalid, path: "acts[0].steps[1].witnesses[1]", lineAt: "witnesses: [tcr1, tcr9]", text: `"tcr9" is not a participant`},
		{name: "witness without SSH key", changes: []change{{"witnesses: [tcr1]", "witnesses: [tcr1, iw]"}},
			sentinel: ErrInvalid, path: "acts[0].steps[1].witnesses[1]", lineAt: "witnesses: [tcr1, iw]", text: `participant "iw" has no ssh_key or ssh_key_file`},
		{name: "witness twice", changes: []change{{"witnesses: [tcr1]", "witnesses: [tcr1, tcr1]"}},
			sentinel: ErrInvalid, path: "acts[0].steps[1].witnesses[1]", text: "listed twice"},

		// Order rules.
		{name: "hsm-activate before any quorum step", changes: []change{{"        type: quorum\n        actor: ca\n        quorum: activation\n", "        type: narrative\n        actor: ca\n"}},
			sentinel: ErrInvalid, path: "acts[1].steps[1].quorum", lineAt: "quorum: activation\n  - id: sign", text: `no earlier quorum step presents quorum "activation"`},
		{name: "a second activation with a used-up secret", changes: []change{{"  - id: sign\n    title: Sign", "      - id: again\n        type: hsm-activate\n        actor: sa\n        hsm: kmf\n        quorum: activation\n  - id: sign\n    title: Sign"}},
			sentinel: ErrInvalid, path: "acts[1].steps[2].quorum", lineAt: "quorum: activation\n  - id: sign", text: "since acts[1].steps[1] used its secret"},
		{name: "sign before ksr-load", changes: []change{{"        type: ksr-load\n        actor: ca\n        ksr: ${ksr}\n", "        type: confirm\n        actor: ca\n"}},
			sentinel: ErrInvalid, path: "acts[2].steps[2]", lineAt: "- id: sign\n        type: sign", text: "no earlier ksr-load step loads the KSR"},
		{name: "ksr-hash before ksr-load", changes: []change{{"        type: ksr-load\n        actor: ca\n        ksr: ${ksr}\n", "        type: confirm\n        actor: ca\n"}},
			sentinel: ErrInvalid, path: "acts[2].steps[1]", lineAt: "- id: hash", text: "no earlier ksr-load step"},
		{name: "production signing without ksr-hash", changes: []change{{"mode: rehearsal", "mode: production"}, {"        type: ksr-hash\n        actor: ca\n        words: 4\n", "        type: confirm\n        actor: ca\n"}},
			sentinel: ErrInvalid, path: "acts[2].steps[2]", lineAt: "- id: sign\n        type: sign", text: "a production ceremony compares the KSR's hash"},
		{name: "HSM used before hsm-activate", changes: []change{
			{"    token: ksk\n", "    token: ksk\n  - id: kmf2\n    token: other\n"},
			{"hsm: kmf\n        config:", "hsm: kmf2\n        config:"}},
			sentinel: ErrInvalid, path: "acts[2].steps[2].hsm", lineAt: "hsm: kmf2\n        config", text: `no earlier hsm-activate step activates HSM "kmf2"`},
		{name: "seal before hsm-activate", changes: []change{{"        type: hsm-activate\n        actor: sa\n        hsm: kmf\n        quorum: activation\n", "        type: narrative\n        actor: sa\n"}},
			sentinel: ErrInvalid, path: "acts[2].steps[4].hsm", lineAt: "hsm: kmf\n        key: attest", text: "no earlier hsm-activate"},
		{name: "activation by a key-backup quorum", changes: []change{{"hsm: kmf\n        quorum: activation", "hsm: kmf\n        quorum: recovery"}},
			sentinel: ErrInvalid, path: "acts[1].steps[1].quorum", lineAt: "quorum: recovery", text: `quorum "recovery" is for key-backup, not hsm-activation`},
		{name: "token-init with a key-backup quorum", changes: []change{{"        type: hsm-activate\n        actor: sa\n        hsm: kmf\n        quorum: activation", "        type: token-init\n        actor: sa\n        hsm: kmf\n        quorum: recovery"}},
			sentinel: ErrInvalid, path: "acts[1].steps[1].quorum", text: "token-init makes a new HSM activation secret"},
		{name: "credentials-issue without a secret", changes: []change{{"        type: narrative\n        actor: ca\n        text: Welcome.", "        type: credentials-issue\n        actor: ca\n        quorum: activation\n        out: creds"}},
			sentinel: ErrInvalid, path: "acts[0].steps[0].quorum", text: "no earlier token-init or quorum step holds the secret"},
		{name: "re-issue before the HSM is activated", changes: []change{{"        type: narrative\n        actor: ca\n        text: Welcome.", "        type: credentials-issue\n        actor: ca\n        quorum: activation\n        hsm: kmf\n        out: creds"}},
			sentinel: ErrInvalid, path: "acts[0].steps[0].hsm", text: `no earlier hsm-activate step activates HSM "kmf" with it`},
		{name: "HSM used after a re-issue without activating it again", changes: []change{{"  - id: sign\n    title: Sign", "      - id: reissue\n        type: credentials-issue\n        actor: ca\n        quorum: activation\n        hsm: kmf\n        out: creds\n  - id: sign\n    title: Sign"}},
			sentinel: ErrInvalid, path: "acts[2].steps[2].hsm", text: `no earlier hsm-activate step activates HSM "kmf"`},

		// Metadata and values.
		{name: "bad format", changes: []change{{"format: ksk-ceremony-v1", "format: ksk-ceremony-v2"}},
			sentinel: ErrInvalid, path: "format", lineAt: "format:", text: `want "ksk-ceremony-v1", got "ksk-ceremony-v2"`},
		{name: "missing format", changes: []change{{"format: ksk-ceremony-v1\n", ""}},
			sentinel: ErrInvalid, path: "format", text: `got ""`},
		{name: "bad mode", changes: []change{{"mode: rehearsal", "mode: live"}},
			sentinel: ErrInvalid, path: "ceremony.mode", lineAt: "mode: live", text: `want "rehearsal" or "production", got "live"`},
		{name: "bad date", params: map[string]string{"date": "2026-13-40"},
			sentinel: ErrInvalid, path: "ceremony.date", lineAt: "date: ${date}", text: `want YYYY-MM-DD, got "2026-13-40"`},
		{name: "date with a time", params: map[string]string{"date": "2026-01-02T10:00:00Z"},
			sentinel: ErrInvalid, path: "ceremony.date", text: "want YYYY-MM-DD"},
		{name: "missing name", changes: []change{{"  name: Test ceremony ${number}\n", ""}},
			sentinel: ErrInvalid, path: "ceremony.name", text: "needs a name"},
		{name: "negative number", changes: []change{{"number: 7", "number: -7"}},
			sentinel: ErrInvalid, path: "ceremony.number", lineAt: "number: -7", text: "negative"},
		{name: "bad role", changes: []change{{"role: internal-witness", "role: witness"}},
			sentinel: ErrInvalid, path: "participants[6].role", lineAt: "role: witness", text: "want one of ceremony-administrator"},
		{name: "no ceremony administrator", changes: []change{{"role: ceremony-administrator", "role: auditor"}},
			sentinel: ErrInvalid, path: "participants", lineAt: "participants:", text: "needs a ceremony-administrator"},
		{name: "bad credential pin", changes: []change{{"  - id: co1\n    role: crypto-officer", "  - id: co1\n    role: crypto-officer\n    credential: abc"}},
			sentinel: ErrInvalid, path: "participants[2].credential", lineAt: "credential: abc", text: "64 hex digits"},
		{name: "holder of a non-holder role", changes: []change{{"role: internal-witness", "role: internal-witness\n    holder: iw"}},
			sentinel: ErrInvalid, path: "participants[6].holder", lineAt: "holder: iw", text: "only crypto officers"},
		{name: "ssh_key and ssh_key_file", changes: []change{{"    role: tcr\n", "    role: tcr\n    ssh_key_file: tcr1.pub\n"}},
			sentinel: ErrInvalid, path: "participants[5]", lineAt: "- id: tcr1", text: "not both"},
		{name: "bad ssh key", changes: []change{{"  - id: iw\n    role: internal-witness", "  - id: iw\n    role: internal-witness\n    ssh_key: ssh-ed25519 AAAAnotakey"}},
			sentinel: ErrInvalid, path: "participants[6].ssh_key", lineAt: "ssh_key: ssh-ed25519 AAAAnotakey", text: "authorized_keys"},
		{name: "hsm without token", changes: []change{{"    token: ksk\n", "    description: no token\n"}},
			sentinel: ErrInvalid, path: "hsms[0]", lineAt: "- id: kmf", text: "never selects a token by slot"},
		{name: "bad quorum purpose", changes: []change{{"purpose: key-backup", "purpose: backup"}},
			sentinel: ErrInvalid, path: "quorums[1].purpose", lineAt: "purpose: backup", text: "want hsm-activation or key-backup"},
		{name: "quorum without roster", changes: []change{{"    roster: roster-rksh.yaml\n", ""}},
			sentinel: ErrInvalid, path: "quorums[1].roster", lineAt: "- id: recovery", text: "needs its roster"},
		{name: "no acts", changes: []change{{"acts:\n", "x_acts:\n"}},
			sentinel: ErrUnknownKey, path: "x_acts"},
		{name: "act without steps", changes: []change{{"    title: Open\n    steps:\n", "    title: Open\n    x_steps:\n"}},
			sentinel: ErrUnknownKey, path: "acts[0].x_steps", text: "did you mean acts[0].steps?"},
		{name: "bad at", changes: []change{{"ksr: ${ksr}", "ksr: ${ksr}\n        at: tomorrow"}},
			sentinel: ErrInvalid, path: "acts[2].steps[0].at", lineAt: "at: tomorrow", text: "RFC 3339"},
		{name: "bad words", changes: []change{{"words: 4", "words: 40"}},
			sentinel: ErrInvalid, path: "acts[2].steps[1].words", lineAt: "words: 40", text: "want 1 to 32"},
		{name: "bad algorithm", changes: []change{{"algorithm: RSASHA256", "algorithm: RSA"}},
			sentinel: ErrInvalid, path: "acts[2].steps[3].algorithm", lineAt: "algorithm: RSA"},
		{name: "bad bits", params: map[string]string{"bits": "1000"},
			sentinel: ErrInvalid, path: "acts[2].steps[3].bits", lineAt: "bits: ${bits}", text: "RSA keys only"},
		{name: "bits on an EC key", changes: []change{{"algorithm: RSASHA256", "algorithm: ECDSAP256SHA256"}},
			sentinel: ErrInvalid, path: "acts[2].steps[3].bits", text: "RSA keys only"},
		{name: "bits that are not a number", params: map[string]string{"bits": "big"},
			sentinel: ErrInvalid, path: "acts[2].steps[3].bits", lineAt: "bits: ${bits}", text: `got "big"`},

		// Parameters.
		{name: "unknown --param", params: map[string]string{"ksrr": "x.xml"},
			sentinel: ErrInvalid, text: `--param ksrr: the script has no parameter "ksrr" (did you mean "ksr"?); it has: bits, date, ksr, number`},
		{name: "unknown reference", changes: []change{{"ksr: ${ksr}", "ksr: ${ksr_file}"}},
			sentinel: ErrInvalid, path: "acts[2].steps[0].ksr", lineAt: "ksr: ${ksr_file}", text: "${ksr_file} is not a parameter of the script"},
		{name: "reference in a list", changes: []change{{"witnesses: [tcr1]", "witnesses: [\"${who}\"]"}},
			sentinel: ErrInvalid, path: "acts[0].steps[1].witnesses[0]", text: "${who} is not a parameter"},
		{name: "bad parameter name", changes: []change{{"  ksr: ksr.xml", "  KSR: ksr.xml"}},
			sentinel: ErrInvalid, path: "params.KSR", lineAt: "KSR: ksr.xml", text: "lower-case letters"},
		{name: "parameter that is not a string", changes: []change{{"  ksr: ksr.xml", "  ksr: [ksr.xml]"}},
			sentinel: ErrInvalid, path: "params.ksr", lineAt: "ksr: [ksr.xml]", text: "want a string"},
		{name: "null parameter", changes: []change{{"  ksr: ksr.xml", "  ksr:"}},
			sentinel: ErrInvalid, path: "params.ksr", text: "want a string"},
		{name: "parameter referring to another", changes: []change{{"  ksr: ksr.xml", "  ksr: ${date}.xml"}},
			sentinel: ErrInvalid, path: "params.ksr", lineAt: "ksr: ${date}.xml", text: "cannot refer to another"},
		{name: "params not a mapping", changes: []change{{"params:\n", "params: [a]\nx_params:\n"}},
			sentinel: ErrInvalid, path: "params", lineAt: "params: [a]", text: "want a mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := baseDoc(t)
			for _, c := range tc.changes {
				doc = edit(t, doc, c.old, c.new)
			}
			s, err := Parse([]byte(doc), tc.params)
			if err == nil {
				t.Fatalf("Parse accepted the script: %+v", s)
			}
			line := 0
			if tc.lineAt != "" {
				line = lineOfText(t, doc, tc.lineAt)
			}
			wantErr(t, err, tc.sentinel, tc.path, line, tc.text)
		})
	}
}

func TestParseDocuments(t *testing.T) {
	doc := baseDoc(t)
	tests := []struct {
		name     string
		data     string
		sentinel error
		text     string
	}{
		{"two documents", doc + "---\nformat: ksk-ceremony-v1\n", ErrSyntax, "more than one YAML document"},
		{"two documents, the second empty", doc + "---\n# nothing\n---\n", ErrSyntax, "more than one YAML document"},
		{"not YAML", "format: [ksk\n", ErrSyntax, "line"},
		{"tab indentation", "format: x\n\tceremony: y\n", ErrSyntax, "line 2"},
		{"empty", "", ErrInvalid, "the script is empty"},
		{"only a comment", "# nothing\n", ErrInvalid, "the script is empty"},
		{"null document", "~\n", ErrInvalid, "the script is empty"},
		{"a list", "- a\n- b\n", ErrInvalid, "(document) (line 1)"},
		{"a scalar", "ksk\n", ErrInvalid, "want a mapping"},
		{"undefined alias", "format: *x\n", ErrSyntax, "unknown anchor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data), nil)
			wantErr(t, err, tc.sentinel, "", 0, tc.text)
		})
	}
}

// TestParseAliasBomb: aliases that expand a short script into millions of
// nodes are refused quickly.
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x_w: &w [")
	for i := range 100 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("tcr1")
	}
	b.WriteString("]\nx_s: &s [")
	for i := range 100 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{id: s, type: witness, actor: ca, witnesses: *w}")
	}
	b.WriteString("]\nx_a: &a {id: a, title: A, steps: *s}\nacts: [")
	for i := range 100 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*a")
	}
	b.WriteString("]\n")
	data := b.String()
	if len(data) > 1<<16 {
		t.Fatalf("the bomb is %d bytes", len(data))
	}
	// Without the unknown anchor keys the walker would expand 10^6 nodes.
	data = strings.NewReplacer("x_w:", "params: {}\nx_w:").Replace(data)
	start := time.Now()
	_, err := Parse([]byte(data), nil)
	if err == nil {
		t.Fatal("alias bomb accepted")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Parse took %v", d)
	}
	if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrInvalid) {
		t.Errorf("error wraps no sentinel: %v", err)
	}
	if len(err.Error()) > 64<<10 {
		t.Errorf("the error is %d bytes long", len(err.Error()))
	}

	// The same expansion under keys the script has: bounded by the node
	// limit of the strict decoder.
	bomb := strings.NewReplacer("x_w: &w", "participants: &w", "x_s: &s", "hsms: &s", "x_a: &a", "quorums: &a").Replace(b.String())
	start = time.Now()
	_, err = Parse([]byte(bomb), nil)
	if err == nil {
		t.Fatal("alias bomb accepted")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Parse took %v", d)
	}
	if !strings.Contains(err.Error(), "too many YAML nodes") && !strings.Contains(err.Error(), "more than 50 problems") {
		t.Errorf("error: %.500s", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte(baseDoc(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, nil); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(edit(t, baseDoc(t), "mode: rehearsal", "mode: live")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad, nil)
	wantErr(t, err, ErrInvalid, "ceremony.mode", 0, "script "+bad+":")
	_, err = Load(filepath.Join(dir, "missing.yaml"), nil)
	wantErr(t, err, ErrRead, "", 0, "missing.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing script: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#\n"), MaxScriptSize), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(big, nil)
	wantErr(t, err, ErrRead, "", 0, "larger than")
}

// TestValidateErrorsAll: Validate reports every problem at once, each on
// its own path.
func TestValidateErrorsAll(t *testing.T) {
	doc := baseDoc(t)
	doc = edit(t, doc, "mode: rehearsal", "mode: live")
	doc = edit(t, doc, "actor: sa", "actor: bob")
	doc = edit(t, doc, "words: 4", "words: 40")
	_, err := Parse([]byte(doc), nil)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, p := range []string{"ceremony.mode", "acts[1].steps[1].actor", "acts[2].steps[1].words"} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error does not name %s:\n%v", p, err)
		}
	}
	// Every line of the message is a problem that names a path and line.
	re := regexp.MustCompile(`^[a-z][a-z_.\[\]0-9]* \(line \d+\): invalid ceremony script: `)
	for _, l := range strings.Split(err.Error(), "\n") {
		if !re.MatchString(l) {
			t.Errorf("problem without path and line: %q", l)
		}
	}
}

// TestValidateByHand: a Script built in Go (not parsed) validates, and its
// problems name paths without lines.
func TestValidateByHand(t *testing.T) {
	s := &Script{Format: Format, Ceremony: Meta{Name: "x", Mode: ModeProduction},
		Participants: []Participant{{ID: "ca", Role: RoleCeremonyAdministrator}},
		Acts:         []Act{{ID: "a", Steps: []Step{{ID: "s", Type: TypeNarrative, Actor: "ca"}}}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Acts[0].Steps[0].Type = TypeSign
	err := s.Validate()
	wantErr(t, err, ErrInvalid, "acts[0].steps[0].hsm: invalid", 0, "a sign step needs hsm")
	if strings.Contains(err.Error(), "(line") {
		t.Errorf("a script not parsed has no lines: %v", err)
	}
}

func TestStepTypes(t *testing.T) {
	got := StepTypes()
	if !sort.StringsAreSorted(got) || len(got) != len(kinds) {
		t.Errorf("StepTypes = %v", got)
	}
	for _, want := range []string{"confirm", "credentials-issue", "hsm-activate", "keygen", "ksr-hash", "ksr-load", "narrative", "quorum",
		"seal", "sign", "token-init", "trust-anchor", "witness", "write-outputs"} {
		if !slices.Contains(got, want) {
			t.Errorf("no step type %s", want)
		}
	}
	// Every field a kind names is a yaml field of Step: set them all.
	var st Step
	v := reflect.ValueOf(&st).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Int:
			f.SetInt(1)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		default:
			t.Fatalf("Step field %s of kind %s", v.Type().Field(i).Name, f.Kind())
		}
	}
	all := map[string]bool{}
	for _, f := range setFields(&st) {
		all[f] = true
	}
	for name, k := range kinds {
		for _, f := range append(append([]string{}, k.fields...), commonFields...) {
			if !all[f] {
				t.Errorf("kind %s names field %q, which Step does not have", name, f)
			}
		}
		for _, f := range k.required {
			if !slices.Contains(k.fields, f) {
				t.Errorf("kind %s requires %q but does not take it", name, f)
			}
		}
		if k.run == nil || k.summary == "" {
			t.Errorf("kind %s has no run or summary", name)
		}
	}
}
