package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

// docBlock returns the first ```sh block after the heading in a doc.
func docBlock(t *testing.T, doc, heading string) string {
	t.Helper()
	text := readFileT(t, filepath.Join("..", "..", "docs", doc))
	i := strings.Index(text, heading)
	if i < 0 {
		t.Fatalf("%s has no heading %q", doc, heading)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(text[i:])
	if m == nil {
		t.Fatalf("%s: no sh block after %q", doc, heading)
	}
	return m[1]
}

// TestGuideCIQuarterRuns runs the rehearsal of a quarter in
// docs/guide-ci.md as written, with bash, a freshly built ksk on PATH
// and a private SoftHSM store, from a directory that holds the project's
// scripts/: a KSR is created and signed for two quarters and a bundle
// exported, and the SKRs verify.
func TestGuideCIQuarterRuns(t *testing.T) {
	softhsmtest.Require(t)
	snippet := docBlock(t, "guide-ci.md", "## Rehearsing a quarter")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "ksk"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	scripts, err := filepath.Abs(filepath.Join("..", "..", "scripts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(scripts, filepath.Join(dir, "scripts")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", snippet)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "KSK="+filepath.Join(bin, "ksk"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the snippet of docs/guide-ci.md failed: %v\n%s", err, lastLines(string(out), 30))
	}
	for _, f := range []string{"ksr-q1.xml", "skr-q1.xml", "ksr-q2.xml", "skr-q2.xml", "dnskey.zone"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the snippet did not write %s", f)
		}
	}
	if code, out, errOut := runKSK(t, "", "skr", "verify", "--ksr", filepath.Join(dir, "ksr-q2.xml"), filepath.Join(dir, "skr-q2.xml")); code != 0 {
		t.Errorf("skr-q2.xml: exit %d\n%s%s", code, out, errOut)
	}
}
