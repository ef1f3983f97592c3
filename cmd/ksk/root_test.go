package main

import (
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasHelpAndExample walks the whole command tree: every
// command a user can run has a short description and an Example, and
// --help on it exits 0.
func TestEveryCommandHasHelpAndExample(t *testing.T) {
	root := newRootCmd(&app{in: strings.NewReader(""), out: io.Discard, errOut: io.Discard, output: "text"})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || !c.Runnable() || strings.HasPrefix(c.CommandPath(), "ksk completion") || c.Name() == "help" {
			return
		}
		if c.Short == "" {
			t.Errorf("%s has no short description", c.CommandPath())
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no example in its help", c.CommandPath())
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		if code, _, errOut := runKSK(t, "", args...); code != 0 {
			t.Errorf("%s --help: exit %d: %s", c.CommandPath(), code, errOut)
		}
	}
	walk(root)
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	for _, args := range [][]string{{"nope"}, {"ksr", "nope"}, {"--nope"}, {"ksr"}, {"skr"}, {"keys"}, {"hsm"}, {"log"}} {
		if code, _, errOut := runKSK(t, "", args...); code != exitUsage || !strings.HasPrefix(errOut, "ksk: ") {
			t.Errorf("ksk %v: exit %d, stderr %q; want exit 2 and a reason", args, code, errOut)
		}
	}
}

// TestUnknownSubcommandSuggests: an unknown subcommand of a group is a
// usage error naming the closest ones.
func TestUnknownSubcommandSuggests(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ceremony", "chek"}, "did you mean check?"},
		{[]string{"log", "verfy", "x"}, "did you mean verify?"},
		{[]string{"keys", "lst"}, "did you mean ds or list?"},
		{[]string{"ceremony", "zzz"}, `unknown command "zzz" for "ksk ceremony"`},
	} {
		code, _, errOut := runKSK(t, "", tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("ksk %v: exit %d %q, want %d with %q", tt.args, code, errOut, exitUsage, tt.want)
		}
	}
}

// TestJSONErrors: with -o json an error is also a JSON object on stdout,
// {"error", "exit_code"}, unless the command already printed its result;
// the keys of ceremony check -o json are snake_case.
func TestJSONErrors(t *testing.T) {
	code, out, errOut := runKSK(t, "", "ksr", "verify", "-o", "json", filepath.Join(t.TempDir(), "none.xml"))
	var e struct {
		Error    string `json:"error"`
		ExitCode int    `json:"exit_code"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || code != exitUsage || e.ExitCode != exitUsage || !strings.Contains(e.Error, "none.xml") || !strings.Contains(errOut, "none.xml") {
		t.Errorf("exit %d, stdout %q (%v), stderr %q", code, out, err, errOut)
	}
	ce := stageCeremony(t)
	code, out, errOut = runKSK(t, "", append([]string{"ceremony", "check", "-o", "json", quarterlyScript, "--dir", ce.work}, ce.params...)...)
	if code != 0 || strings.Contains(out, `"exit_code"`) {
		t.Errorf("ceremony check: exit %d\n%s%s", code, out, errOut)
	}
	if regexp.MustCompile(`"[A-Z][A-Za-z]*":`).MatchString(out) {
		t.Errorf("a JSON key is not snake_case:\n%s", out)
	}
}

// TestCompletion: shell completion (cobra's __complete, which the
// generated scripts call) offers flag values: the output formats, the
// schemas of the --config given, YAML files for ceremony scripts.
func TestCompletion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "keys", "list", "-o", ""}, []string{"text\t", "json\t"}},
		{[]string{"__complete", "sign", "--config", signGoldenConfig, "--schema", ""}, []string{"rollover\n"}},
		{[]string{"__complete", "ceremony", "run", ""}, []string{"yaml\n", ":8"}}, // :8 = filter by extension
	} {
		code, out, errOut := runKSK(t, "", tt.args...)
		for _, w := range tt.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("ksk %v: exit %d, lacks %q:\n%s%s", tt.args, code, w, out, errOut)
			}
		}
	}
}
