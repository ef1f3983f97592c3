package hsm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
)

func TestParsePINSource(t *testing.T) {
	good := map[string]hsm.PINSource{
		"env:KSK_PIN":      {Kind: hsm.PINFromEnv, Name: "KSK_PIN"},
		"env:_x9":          {Kind: hsm.PINFromEnv, Name: "_x9"},
		"file:/run/pin":    {Kind: hsm.PINFromFile, Name: "/run/pin"},
		"file:rel/pin:odd": {Kind: hsm.PINFromFile, Name: "rel/pin:odd"},
		"prompt":           {Kind: hsm.PINFromPrompt},
	}
	for in, want := range good {
		got, err := hsm.ParsePINSource(in)
		if err != nil || got != want {
			t.Errorf("ParsePINSource(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("String() = %q, want %q", got.String(), in)
		}
	}
	for _, in := range []string{"", "1234", "secret-pin", "env:", "env:1A", "env:A-B", "file:", "file:a\x00b", "Prompt", "prompt:", "pin:1234", "ENV:X"} {
		_, err := hsm.ParsePINSource(in)
		if !errors.Is(err, hsm.ErrInvalidArgument) {
			t.Errorf("ParsePINSource(%q): %v, want ErrInvalidArgument", in, err)
		}
		if !isFixedSyntaxError(err) {
			t.Errorf("error depends on the rejected source: %v", err)
		}
	}
}

func TestPINSourceRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := func(p string) hsm.PINSource { return hsm.PINSource{Kind: hsm.PINFromFile, Name: p} }
	// A FIFO no one writes to: reading one that is not refused would block.
	fifo := func(name string, mode uint32) string {
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, os.FileMode(mode)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("KSK_T_PIN", "s3cret\n")
	t.Setenv("KSK_T_EMPTY", "")

	ok := []struct {
		name string
		src  hsm.PINSource
		want string
	}{
		{"env trims one newline", hsm.PINSource{Kind: hsm.PINFromEnv, Name: "KSK_T_PIN"}, "s3cret"},
		{"file first line", file(write("a", "1234\r\nignored\n", 0o600)), "1234"},
		{"file no newline", file(write("b", "abc", 0o400)), "abc"},
		{"file keeps spaces", file(write("c", " p w \n", 0o600)), " p w "},
	}
	for _, c := range ok {
		got, err := c.src.Read(nil, "test")
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	bad := []struct {
		name string
		src  hsm.PINSource
	}{
		{"unset env", hsm.PINSource{Kind: hsm.PINFromEnv, Name: "KSK_T_UNSET_XYZ"}},
		{"empty env", hsm.PINSource{Kind: hsm.PINFromEnv, Name: "KSK_T_EMPTY"}},
		{"missing file", file(filepath.Join(dir, "nope"))},
		{"empty file", file(write("d", "\n", 0o600))},
		{"group-readable file", file(write("e", "leaky-pin\n", 0o640))},
		{"world-readable file", file(write("f", "leaky-pin\n", 0o644))},
		{"too long", file(write("g", strings.Repeat("x", hsm.MaxPINFileSize+1), 0o600))},
		{"directory", file(dir)},
		{"FIFO with mode 0644", file(fifo("fifo-644", 0o644))},
		{"FIFO with mode 0660", file(fifo("fifo-660", 0o660))},
		{"device", file("/dev/zero")},
		{"prompt without terminal", hsm.PINSource{Kind: hsm.PINFromPrompt}},
		{"zero value", hsm.PINSource{}},
	}
	for _, c := range bad {
		_, err := c.src.Read(nil, "test")
		if !errors.Is(err, hsm.ErrPINSource) {
			t.Errorf("%s: %v, want ErrPINSource", c.name, err)
			continue
		}
		assertNoSecret(t, err.Error(), "leaky-pin", "s3cret")
	}
	// A prompter's answer is used, and its failure reported.
	p := func(string) ([]byte, error) { return []byte("typed\n"), nil }
	if got, err := (hsm.PINSource{Kind: hsm.PINFromPrompt}).Read(p, "t"); err != nil || string(got) != "typed" {
		t.Errorf("prompt: %q, %v", got, err)
	}
	// The caller's own pipe with mode 0600, as a shell's <(...) is, is read.
	pipe := fifo("fifo-600", 0o600)
	go func() {
		if w, err := os.OpenFile(pipe, os.O_WRONLY, 0); err == nil {
			w.WriteString("piped\n")
			w.Close()
		}
	}()
	if got, err := file(pipe).Read(nil, "t"); err != nil || string(got) != "piped" {
		t.Errorf("own FIFO with mode 0600: %q, %v", got, err)
	}
	fail := func(string) ([]byte, error) { return nil, errors.New("no tty") }
	if _, err := (hsm.PINSource{Kind: hsm.PINFromPrompt}).Read(fail, "t"); !errors.Is(err, hsm.ErrPINSource) {
		t.Errorf("failing prompter: %v", err)
	}
}

// isFixedSyntaxError reports whether err is one of the few fixed messages
// ParsePINSource gives, which therefore cannot repeat what it rejected.
func isFixedSyntaxError(err error) bool {
	for _, ref := range []string{"", "env:", "file:"} {
		if _, want := hsm.ParsePINSource(ref); want != nil && err.Error() == want.Error() {
			return true
		}
	}
	return false
}

// FuzzParsePINSource checks that any string either parses to a source
// whose String() gives it back, or fails with ErrInvalidArgument and a
// message that does not depend on it (an operator may have typed a PIN
// there).
func FuzzParsePINSource(f *testing.F) {
	for _, s := range []string{"env:KSK_PIN", "file:/tmp/pin", "prompt", "", "1234", "env:", "file:", "env:A=B", "file:\x00", "prompt\n", "env:é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := hsm.ParsePINSource(s)
		if err != nil {
			if !errors.Is(err, hsm.ErrInvalidArgument) {
				t.Fatalf("ParsePINSource(%q): %v does not wrap ErrInvalidArgument", s, err)
			}
			if !isFixedSyntaxError(err) {
				t.Fatalf("ParsePINSource(%q): error depends on the input: %v", s, err)
			}
			return
		}
		if src.String() != s {
			t.Fatalf("ParsePINSource(%q).String() = %q", s, src.String())
		}
		again, err := hsm.ParsePINSource(src.String())
		if err != nil || again != src {
			t.Fatalf("round trip of %q: %+v, %v", s, again, err)
		}
		switch src.Kind {
		case hsm.PINFromEnv, hsm.PINFromFile:
			if src.Name == "" {
				t.Fatalf("%q parsed with an empty name", s)
			}
		case hsm.PINFromPrompt:
		default:
			t.Fatalf("%q parsed to kind %d", s, src.Kind)
		}
	})
}
