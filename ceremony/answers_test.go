package ceremony

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"golang.org/x/crypto/ssh"
)

// testPlan is a plan with the given step IDs, enough for the operators.
func testPlan(mode string, ids ...string) *Plan {
	p := &Plan{Script: &Script{Ceremony: Meta{Name: "t", Mode: mode}}}
	for _, id := range ids {
		p.Steps = append(p.Steps, &PlannedStep{ID: id})
	}
	return p
}

func info(id string) StepInfo {
	return StepInfo{ID: id, Number: "1.1", Type: TypeQuorum, Actor: "ca", Role: RoleCeremonyAdministrator}
}

func TestParseAnswers(t *testing.T) {
	a, err := ParseAnswers([]byte(`format: ksk-answers-v1
confirm_all: true
steps:
  a.hash: {words: "one two three four"}
  a.sign: {confirm: false, repeat: true}
`), "/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CheckSteps(testPlan(ModeRehearsal, "a.hash", "a.sign", "a.other")); err != nil {
		t.Errorf("CheckSteps: %v", err)
	}
	if w, err := a.Words(info("a.hash"), ""); err != nil || w != "one two three four" {
		t.Errorf("Words = %q, %v", w, err)
	}
	if err := a.Confirm(info("a.other"), ""); err != nil {
		t.Errorf("confirm_all: %v", err)
	}
	if err := a.Confirm(info("a.sign"), ""); !errors.Is(err, ErrNotConfirmed) {
		t.Errorf("confirm: false: %v", err)
	}
	if ok, err := a.Repeat(info("a.sign"), ""); !ok || err != nil {
		t.Errorf("repeat: true = %v, %v", ok, err)
	}
	if ok, _ := a.Repeat(info("a.hash"), ""); ok {
		t.Error("a step without repeat: true is repeated")
	}
	if !strings.Contains(a.Describe(), "sha256 ") {
		t.Errorf("Describe = %q", a.Describe())
	}

	// Without confirm_all, every confirmation is given per step.
	a, err = ParseAnswers([]byte("format: ksk-answers-v1\nsteps:\n  a.x: {confirm: true}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Confirm(info("a.x"), ""); err != nil {
		t.Error(err)
	}
	if err := a.Confirm(info("a.y"), ""); !errors.Is(err, ErrNotConfirmed) || !strings.Contains(err.Error(), "a.y") {
		t.Errorf("unconfirmed step: %v", err)
	}
	_, err = a.Words(info("a.x"), "")
	wantErr(t, err, ErrAnswers, "steps.a.x.words", 0, "no answer for step 1.1")
}

func TestParseAnswersRejects(t *testing.T) {
	tests := []struct {
		name, data string
		sentinel   error
		path       string
		line       int
		text       string
	}{
		{"wrong format", "format: ksk-answers-v2\n", ErrInvalid, "format", 0, `want "ksk-answers-v1"`},
		{"no format", "confirm_all: true\n", ErrInvalid, "format", 0, `got ""`},
		{"empty", "", ErrInvalid, "format", 0, ""},
		{"unknown key", "format: ksk-answers-v1\nconfirmall: true\n", ErrUnknownKey, "confirmall", 2, "did you mean confirm_all?"},
		{"unknown step key", "format: ksk-answers-v1\nsteps:\n  a.q:\n    credential: []\n", ErrUnknownKey, "steps.a.q.credential", 4, "did you mean steps.a.q.credentials?"},
		{"inline passphrase", "format: ksk-answers-v1\nsteps:\n  a.q:\n    credentials:\n      - {file: c.age, passphrase: hunter2}\n", ErrUnknownKey, "steps.a.q.credentials[0].passphrase", 5, ""},
		{"inline SO PIN", "format: ksk-answers-v1\nsteps:\n  a.t: {so_pin: 1234}\n", ErrUnknownKey, "steps.a.t.so_pin", 3, ""},
		{"yes for a bool", "format: ksk-answers-v1\nconfirm_all: yes\n", ErrInvalid, "confirm_all", 2, "want true or false"},
		{"string for a bool", "format: ksk-answers-v1\nsteps:\n  a.x: {confirm: \"true\"}\n", ErrInvalid, "steps.a.x.confirm", 3, "true or false"},
		{"number for words", "format: ksk-answers-v1\nsteps:\n  a.x: {words: 42}\n", ErrInvalid, "steps.a.x.words", 3, "want a string"},
		{"null", "format: ksk-answers-v1\nsteps:\n  a.x:\n", ErrInvalid, "steps.a.x", 3, "no value given"},
		{"null confirm", "format: ksk-answers-v1\nsteps:\n  a.x: {confirm: null}\n", ErrInvalid, "steps.a.x.confirm", 3, "no value given"},
		{"duplicate step", "format: ksk-answers-v1\nsteps:\n  a.x: {}\n  a.x: {}\n", ErrSyntax, "steps.a.x", 4, "key given twice"},
		{"steps a list", "format: ksk-answers-v1\nsteps: [a.x]\n", ErrInvalid, "steps", 2, "want a mapping"},
		{"two documents", "format: ksk-answers-v1\n---\nformat: ksk-answers-v1\n", ErrSyntax, "", 0, "more than one YAML document"},
		{"not YAML", "format: [\n", ErrSyntax, "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAnswers([]byte(tc.data), "")
			wantErr(t, err, tc.sentinel, tc.path, tc.line, tc.text)
		})
	}
}

func TestLoadAnswers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "answers.yaml")
	writeFile(t, p, "format: ksk-answers-v1\nsteps:\n  a.x: {words: w}\n", 0o644)
	a, err := LoadAnswers(p)
	if err != nil {
		t.Fatal(err)
	}
	if a.dir != dir || !strings.HasPrefix(a.Describe(), "answers answers.yaml (sha256 ") {
		t.Errorf("dir %q, Describe %q", a.dir, a.Describe())
	}
	_, err = a.Words(info("a.y"), "")
	wantErr(t, err, ErrAnswers, "", 0, p+": steps.a.y.words")

	writeFile(t, p, "format: ksk-answers-v1\nsteps:\n  a.x: {wrods: w}\n", 0o644)
	_, err = LoadAnswers(p)
	wantErr(t, err, ErrUnknownKey, "steps.a.x.wrods", 3, "answers "+p+": ")

	_, err = LoadAnswers(filepath.Join(dir, "none.yaml"))
	wantErr(t, err, ErrRead, "", 0, "none.yaml")

	writeFile(t, p, "format: ksk-answers-v1\n"+strings.Repeat("#\n", MaxAnswersSize), 0o644)
	_, err = LoadAnswers(p)
	wantErr(t, err, ErrRead, "", 0, "larger than")
}

func TestAnswersCheckSteps(t *testing.T) {
	a, err := ParseAnswers([]byte("format: ksk-answers-v1\nsteps:\n  act1.atendance: {}\n  act9.nothing-like-it: {}\n  act4.sign: {}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	err = a.CheckSteps(testPlan(ModeRehearsal, "act1.attendance", "act4.sign"))
	wantErr(t, err, ErrAnswers, "", 0, "no such step in the script: act1.atendance (did you mean act1.attendance?), act9.nothing-like-it")
	if strings.Contains(err.Error(), "act4.sign,") {
		t.Errorf("a known step is reported: %v", err)
	}
}

// TestAnswersSecretsByFile: passphrases and PINs come from files that only
// their owner can read, like PIN files.
func TestAnswersSecretsByFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "creds", "co1.age"), "credential one", 0o600)
	writeFile(t, filepath.Join(dir, "creds", "co2.age"), "credential two", 0o600)
	writeFile(t, filepath.Join(dir, "secrets", "co1.pass"), "passphrase one\n", 0o600)
	writeFile(t, filepath.Join(dir, "secrets", "co2.pass"), "passphrase two\n", 0o644)
	writeFile(t, filepath.Join(dir, "secrets", "so.pin"), "1234\n", 0o600)
	writeFile(t, filepath.Join(dir, "secrets", "empty.pass"), "", 0o600)
	a, err := ParseAnswers([]byte(`format: ksk-answers-v1
steps:
  a.q:
    credentials:
      - {file: creds/co1.age, passphrase_file: secrets/co1.pass}
  a.open:
    credentials:
      - {file: creds/co2.age, passphrase_file: secrets/co2.pass}
  a.half:
    credentials:
      - {file: creds/co1.age}
  a.gone:
    credentials:
      - {file: creds/co9.age, passphrase_file: secrets/co1.pass}
  a.init: {so_pin_file: secrets/so.pin}
  a.issue:
    passphrase_files: {co1: secrets/co1.pass, co2: secrets/co2.pass, co3: secrets/empty.pass}
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := a.Credentials(info("a.q"), nil)
	if err != nil || len(creds) != 1 || string(creds[0].File) != "credential one" || string(creds[0].Passphrase) != "passphrase one" || creds[0].Source != "creds/co1.age" {
		t.Fatalf("Credentials = %+v, %v", creds, err)
	}
	_, err = a.Credentials(info("a.open"), nil)
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.open.credentials[0].passphrase_file")
	if !errors.Is(err, hsm.ErrPINSource) || !strings.Contains(err.Error(), "other users") {
		t.Errorf("a passphrase file readable by others: %v", err)
	}
	if strings.Contains(err.Error(), "passphrase two") {
		t.Errorf("the error shows the passphrase: %v", err)
	}
	_, err = a.Credentials(info("a.half"), nil)
	wantErr(t, err, ErrAnswers, "", 0, "give file and passphrase_file")
	_, err = a.Credentials(info("a.gone"), nil)
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.gone.credentials[0].file")
	_, err = a.Credentials(info("a.none"), nil)
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.none.credentials")

	if pin, err := a.Secret(info("a.init"), "SO PIN"); err != nil || string(pin) != "1234" {
		t.Errorf("Secret = %q, %v", pin, err)
	}
	_, err = a.Secret(info("a.issue"), "SO PIN")
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.issue.so_pin_file")

	if p, err := a.NewPassphrase(info("a.issue"), "co1"); err != nil || string(p) != "passphrase one" {
		t.Errorf("NewPassphrase co1 = %q, %v", p, err)
	}
	_, err = a.NewPassphrase(info("a.issue"), "co2")
	if !errors.Is(err, ErrAnswers) || !errors.Is(err, hsm.ErrPINSource) {
		t.Errorf("co2's open file: %v", err)
	}
	_, err = a.NewPassphrase(info("a.issue"), "co3")
	wantErr(t, err, ErrAnswers, "", 0, "empty")
	_, err = a.NewPassphrase(info("a.issue"), "co4")
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.issue.passphrase_files.co4")
}

func TestAnswersWitness(t *testing.T) {
	dir := t.TempDir()
	signer, _ := testSigner(t, 3)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))
	block, err := ssh.MarshalPrivateKey(priv, "tcr1")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "w", "tcr1"), string(pem.EncodeToMemory(block)), 0o600)
	enc, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "tcr2", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "w", "tcr2"), string(pem.EncodeToMemory(enc)), 0o600)
	writeFile(t, filepath.Join(dir, "w", "ew1.sig"), "-----BEGIN SSH SIGNATURE-----\n", 0o644)
	a, err := ParseAnswers([]byte(`format: ksk-answers-v1
steps:
  a.w:
    ssh_keys: {tcr1: w/tcr1, tcr2: w/tcr2, tcr3: w/none}
    signatures: {ew1: w/ew1.sig, ew2: w/none.sig}
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	in, err := a.Witness(info("a.w"), "tcr1", []byte("head\n"))
	if err != nil || in.Signer == nil || !bytes.Equal(in.Signer.PublicKey().Marshal(), signer.PublicKey().Marshal()) {
		t.Fatalf("Witness tcr1 = %+v, %v", in, err)
	}
	in, err = a.Witness(info("a.w"), "ew1", []byte("head\n"))
	if err != nil || in.Signer != nil || !strings.HasPrefix(string(in.Armored), "-----BEGIN SSH SIGNATURE") {
		t.Fatalf("Witness ew1 = %+v, %v", in, err)
	}
	_, err = a.Witness(info("a.w"), "tcr2", nil)
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.w.ssh_keys.tcr2: not an unencrypted SSH private key")
	_, err = a.Witness(info("a.w"), "tcr3", nil)
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.w.ssh_keys.tcr3")
	_, err = a.Witness(info("a.w"), "ew2", nil)
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.w.signatures.ew2")
	_, err = a.Witness(info("a.w"), "nobody", nil)
	wantErr(t, err, ErrAnswers, "", 0, "steps.a.w.ssh_keys.nobody")
}

// TestRunRefusesAnswers: an answers file stands in for people only in a
// rehearsal, and must not answer for steps the script lacks; both are
// refused before the log is created.
func TestRunRefusesAnswers(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "ceremony.log")
	a, err := ParseAnswers([]byte("format: ksk-answers-v1\nconfirm_all: true\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), testPlan(ModeProduction, "a.x"), RunOptions{Log: log, Operator: a})
	wantErr(t, err, ErrAnswers, "", 0, "ceremony.mode is production")

	a, err = ParseAnswers([]byte("format: ksk-answers-v1\nsteps:\n  a.y: {}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), testPlan(ModeRehearsal, "a.x"), RunOptions{Log: log, Operator: a})
	wantErr(t, err, ErrAnswers, "", 0, "a.y (did you mean a.x?)")

	_, err = Run(context.Background(), testPlan(ModeRehearsal, "a.x"), RunOptions{Log: log})
	wantErr(t, err, ErrAnswers, "", 0, "no operator")
	if _, err := os.Stat(log); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused run created the log: %v", err)
	}
}

func terminal(input string) (*Terminal, *strings.Builder) {
	var out strings.Builder
	return NewTerminal(strings.NewReader(input), &out), &out
}

func TestTerminalConfirm(t *testing.T) {
	for _, tc := range []struct {
		input string
		ok    bool
		text  string
	}{
		{"yes\n", true, ""},
		{"  yes \r\n", true, ""},
		{"yes", true, ""}, // the last line without its newline
		{"Yes\n", true, ""},
		{"YES\n", true, ""},
		{"y\nyes\n", true, ""},  // a slip, asked again
		{"\n\nyes\n", true, ""}, // empty lines never end it
		{"!note the camera is off\nyes\n", true, ""},
		{"yes please\nno\n", false, `answered "no"`},
		{"no\n", false, `answered "no"`},
		{"NO\nyes\n", false, `answered "NO"`},
		{"", false, "end of input"},
		{"y\n", false, "end of input"},
	} {
		term, out := terminal(tc.input)
		err := term.Confirm(StepInfo{ID: "a.x", Number: "2.3", Actor: "co1"}, "Proceed?")
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrNotConfirmed) {
			t.Errorf("input %q: %v", tc.input, err)
		}
		if err != nil && !strings.Contains(err.Error(), tc.text) {
			t.Errorf("input %q: error %q does not say %q", tc.input, err, tc.text)
		}
		if !strings.Contains(out.String(), "Proceed?\n[2.3] co1: type yes to confirm, or no to record an exception: ") {
			t.Errorf("prompt: %q", out.String())
		}
		// Every slip is a note; a remark is a note naming the actor.
		notes := term.takeNotes()
		slips := strings.Count(tc.input, "\n") - 1
		if tc.input == "yes" || tc.input == "" || tc.input == "y\n" || !tc.ok && strings.HasPrefix(tc.input, "no") {
			slips = max(0, slips)
		}
		if strings.Contains(tc.input, "!note") {
			if len(notes) != 1 || !strings.Contains(notes[0], "co1") || !strings.Contains(notes[0], "the camera is off") {
				t.Errorf("input %q: notes %q", tc.input, notes)
			}
		} else if tc.ok && len(notes) != slips {
			t.Errorf("input %q: %d notes %q, want %d", tc.input, len(notes), notes, slips)
		}
	}
	// A slip that could be a secret typed at the wrong prompt is not
	// recorded, only its length.
	term, _ := terminal("correct-horse-battery\nyes\n")
	if err := term.Confirm(StepInfo{ID: "a.x", Actor: "co1"}, "?"); err != nil {
		t.Fatal(err)
	}
	if notes := term.takeNotes(); len(notes) != 1 || strings.Contains(notes[0], "horse") || !strings.Contains(notes[0], "21 characters") {
		t.Errorf("a secret-looking slip: %q", notes)
	}
	// A Terminal made without NewTerminal works too.
	term = &Terminal{In: strings.NewReader("yes\n"), Out: &strings.Builder{}}
	if err := term.Confirm(StepInfo{ID: "a.x"}, "?"); err != nil {
		t.Error(err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("device gone") }

func TestTerminalReadError(t *testing.T) {
	term := NewTerminal(errReader{}, &strings.Builder{})
	err := term.Confirm(StepInfo{ID: "a.x"}, "?")
	if !errors.Is(err, ErrEnvironment) || errors.Is(err, ErrNotConfirmed) {
		t.Errorf("read error: %v", err)
	}
}

func TestTerminalCredentials(t *testing.T) {
	dir := t.TempDir()
	c1, c2 := filepath.Join(dir, "co1.age"), filepath.Join(dir, "co2.age")
	writeFile(t, c1, "one", 0o600)
	writeFile(t, c2, "two", 0o600)
	missing := filepath.Join(dir, "none.age")
	term, out := terminal(c1 + "\npass one\n" + missing + "\n" + c2 + "\npass two\n\nyes\n")
	creds, err := term.Credentials(StepInfo{ID: "a.q", Number: "3.1"}, []string{"co1", "co2", "co3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 2 || string(creds[0].File) != "one" || string(creds[0].Passphrase) != "pass one" || creds[0].Source != c1 ||
		string(creds[1].File) != "two" || string(creds[1].Passphrase) != "pass two" {
		t.Errorf("credentials = %+v", creds)
	}
	if !strings.Contains(out.String(), "cannot read "+missing) || !strings.Contains(out.String(), "(co1, co2, co3)") {
		t.Errorf("output:\n%s", out.String())
	}
	if strings.Contains(out.String(), "pass one") {
		t.Error("the passphrase is echoed")
	}
	// The line after the empty one is left for the next question.
	if err := term.Confirm(StepInfo{ID: "a.q"}, "?"); err != nil {
		t.Errorf("next question: %v", err)
	}

	// End of input before the empty line: what was read, and an error.
	term, _ = terminal(c1 + "\npass one\n")
	creds, err = term.Credentials(StepInfo{ID: "a.q"}, nil)
	if !errors.Is(err, ErrNotConfirmed) || len(creds) != 1 {
		t.Errorf("end of input: %d credentials, %v", len(creds), err)
	}
	term, _ = terminal(c1 + "\n")
	if _, err := term.Credentials(StepInfo{ID: "a.q"}, nil); !errors.Is(err, ErrNotConfirmed) {
		t.Errorf("end of input at the passphrase: %v", err)
	}
}

func TestTerminalRepeat(t *testing.T) {
	for input, want := range map[string]bool{
		"act3.activate\n":   true,
		" act3.activate \n": true,
		"yes\n":             false,
		"act3.activat\n":    false,
		"ACT3.ACTIVATE\n":   false,
		"3.2\n":             false,
		"\n":                false,
	} {
		term, out := terminal(input)
		got, err := term.Repeat(StepInfo{ID: "act3.activate", Number: "3.2"}, "It was started.")
		if err != nil || got != want {
			t.Errorf("input %q: %v, %v", input, got, err)
		}
		if !strings.Contains(out.String(), "It was started.\nType the step's name (act3.activate)") {
			t.Errorf("prompt %q", out.String())
		}
	}
	term, _ := terminal("")
	if ok, err := term.Repeat(StepInfo{ID: "a.x"}, ""); ok || !errors.Is(err, ErrNotConfirmed) {
		t.Errorf("end of input: %v, %v", ok, err)
	}
}

func TestTerminalOtherQuestions(t *testing.T) {
	x := StepInfo{ID: "a.x", Number: "4.2", Actor: "ca"}
	term, out := terminal("Adam baboon\n")
	if w, err := term.Words(x, "type the words"); err != nil || w != "Adam baboon" {
		t.Errorf("Words = %q, %v", w, err)
	}
	if !strings.Contains(out.String(), "[4.2] ca: type the words: ") {
		t.Errorf("prompt %q", out.String())
	}

	term, _ = terminal("1234\n")
	if s, err := term.Secret(x, "SO PIN"); err != nil || string(s) != "1234" {
		t.Errorf("Secret = %q, %v", s, err)
	}

	// Typed twice: different, then too short, then right.
	term, out = terminal("long enough\nlong enougH\nshort\nshort\nlong enough\nlong enough\n")
	p, err := term.NewPassphrase(x, "co1")
	if err != nil || string(p) != "long enough" {
		t.Errorf("NewPassphrase = %q, %v", p, err)
	}
	if strings.Count(out.String(), "The two differ, or are shorter than 8 characters") != 2 {
		t.Errorf("output:\n%s", out.String())
	}
	term, _ = terminal("long enough\n")
	if _, err := term.NewPassphrase(x, "co1"); !errors.Is(err, ErrNotConfirmed) {
		t.Errorf("end of input: %v", err)
	}

	dir := t.TempDir()
	sig := filepath.Join(dir, "tcr1.sig")
	writeFile(t, sig, "-----BEGIN SSH SIGNATURE-----\n", 0o644)
	term, out = terminal(sig + "\n")
	in, err := term.Witness(x, "tcr1", []byte("abcd\n"))
	if err != nil || string(in.Armored) != "-----BEGIN SSH SIGNATURE-----\n" {
		t.Errorf("Witness = %+v, %v", in, err)
	}
	if !strings.Contains(out.String(), "echo abcd | ssh-keygen -Y sign -n ksk-attestation") {
		t.Errorf("witness instructions:\n%s", out.String())
	}
	// A wrong path is asked again, and noted.
	term, out = terminal(filepath.Join(dir, "none.sig") + "\n" + sig + "\n")
	if in, err := term.Witness(x, "tcr1", nil); err != nil || len(in.Armored) == 0 {
		t.Errorf("a wrong signature path, then the right one: %+v, %v", in, err)
	}
	if notes := term.takeNotes(); len(notes) != 1 || !strings.Contains(notes[0], "none.sig") || !strings.Contains(out.String(), "Give the signature file again") {
		t.Errorf("notes %q\n%s", notes, out.String())
	}
	if term.Describe() != "terminal" {
		t.Error(term.Describe())
	}
}
