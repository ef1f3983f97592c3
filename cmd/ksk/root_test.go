package main

import (
	"io"
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
