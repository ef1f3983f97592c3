package ceremony

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// shippedScripts are the seed scripts of the fuzz targets.
func shippedScripts(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "scripts", "ceremonies", "*.yaml"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no shipped scripts: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func wrapsSentinel(err error, sentinels ...error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParseScript: Parse never panics, every error wraps one of its
// sentinels, and a script it accepts validates again and parses the same
// way twice.
func FuzzParseScript(f *testing.F) {
	for _, s := range shippedScripts(f) {
		f.Add(s)
	}
	f.Add([]byte(baseDoc(f)))
	f.Add([]byte(checkScript))
	f.Add([]byte("format: ksk-ceremony-v1\nacts: [{id: a, steps: [{id: s, type: narrative, actor: ca}]}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("params: {x: \"${x}\"}\nformat: ${x}\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, nil)
		if err != nil {
			if !wrapsSentinel(err, ErrSyntax, ErrUnknownKey, ErrInvalid) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("a parsed script does not validate: %v", err)
		}
		again, err := Parse(data, nil)
		if err != nil {
			t.Fatalf("second Parse: %v", err)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("two Parses differ:\n%+v\n%+v", s, again)
		}
		// Every step has its line, and the plan's step IDs are unique.
		ids := map[string]bool{}
		for _, a := range s.Acts {
			for _, st := range a.Steps {
				if st.Line() <= 0 {
					t.Errorf("step %s.%s has no line", a.ID, st.ID)
				}
				id := a.ID + "." + st.ID
				if ids[id] {
					t.Errorf("step %s twice", id)
				}
				ids[id] = true
				if kinds[st.Type] == nil {
					t.Errorf("step %s of unknown type %q", id, st.Type)
				}
			}
		}
	})
}

// FuzzLoadAnswers: ParseAnswers never panics, every error wraps one of its
// sentinels, and the answers of a file it accepts can be asked for (no
// question here reads a file).
func FuzzLoadAnswers(f *testing.F) {
	f.Add([]byte(`format: ksk-answers-v1
confirm_all: true
steps:
  act1.attendance: {ssh_keys: {tcr1: witnesses/tcr1, tcr2: witnesses/tcr2, ew1: witnesses/ew1}}
  act3.present-credentials:
    credentials:
      - {file: credentials/kmf-east-co.co1.age, passphrase_file: secrets/co1.pass}
      - {file: credentials/kmf-east-co.co3.age, passphrase_file: secrets/co3.pass}
  act4.ksr-hash: {words: "breadline guitarist uproot bookseller"}
  act4.sign: {confirm: false, repeat: true}
`))
	f.Add([]byte(`format: ksk-answers-v1
steps:
  act3.init-token: {so_pin_file: secrets/so.pin}
  act3.issue-credentials:
    passphrase_files: {co1: secrets/co1.pass, co2: secrets/co2.pass}
  act6.sign-off: {signatures: {tcr1: tcr1.sig}}
`))
	f.Add([]byte("format: ksk-answers-v1\nsteps: {a.x: ~}\n"))
	f.Add([]byte("format: ksk-answers-v1\nconfirm_all: yes\n"))
	f.Add([]byte("steps: &s {a: *s}\n"))
	plan := testPlan(ModeRehearsal, "act1.attendance", "act3.present-credentials", "act4.ksr-hash", "act4.sign")
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswers(data, "/nonexistent")
		if err != nil {
			if !wrapsSentinel(err, ErrSyntax, ErrUnknownKey, ErrInvalid) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if err := a.CheckSteps(plan); err != nil && !errors.Is(err, ErrAnswers) {
			t.Fatalf("CheckSteps: %v", err)
		}
		ids := append([]string{"no.such-step"}, sortedKeys(a.f.Steps)...)
		for _, id := range ids {
			x := StepInfo{ID: id, Number: "1.1"}
			if err := a.Confirm(x, ""); err != nil && !errors.Is(err, ErrNotConfirmed) {
				t.Fatalf("Confirm: %v", err)
			}
			if w, err := a.Words(x, ""); err != nil && !errors.Is(err, ErrAnswers) || err == nil && w == "" {
				t.Fatalf("Words = %q, %v", w, err)
			}
			if _, err := a.Repeat(x, ""); err != nil {
				t.Fatalf("Repeat: %v", err)
			}
		}
		if !strings.HasPrefix(a.Describe(), "answers ") {
			t.Fatalf("Describe = %q", a.Describe())
		}
	})
}
