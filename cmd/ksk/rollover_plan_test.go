package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/signer"
)

// TestRolloverPlanCLI: ksk rollover plan writes a configuration that
// loads and the schedule beside it, never overwrites without --force, and
// refuses bad flags and keys the configuration lacks with exit 2.
func TestRolloverPlanCLI(t *testing.T) {
	config := filepath.Join("..", "..", "scripts", "signer", "softhsm-rehearsal.yaml")
	dir := t.TempDir()
	out := filepath.Join(dir, "rollover.yaml")
	base := []string{"rollover", "plan", "--config", config, "--current", "ksk_current", "--next", "ksk_next", "--start", "2031-01-01", "--out", out}

	code, stdout, stderr := runKSK(t, "", base...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"1        2031-01-01  pre-publish", "2        2031-04-01  rollover", "Trusted:  2031-02-10T00:00:00Z", "Wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := signer.LoadConfig(out); err != nil {
		t.Errorf("the planned configuration does not load: %v", err)
	}
	sched, err := signer.ParseSchedule([]byte(readFileT(t, signer.SchedulePath(out))))
	if err != nil || sched.Config != "rollover.yaml" || len(sched.Quarters) != 4 {
		t.Errorf("schedule %+v: %v", sched, err)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"exists", base, exitUsage, "file exists"},
		{"force", append(base, "--force"), 0, "Wrote"},
		{"json", append(base, "--force", "-o", "json"), 0, `"schedule_sha256"`},
		{"publish quarters", append(base, "--force", "--publish-quarters", "2"), 0, "publish+"},
		{"unknown key", []string{"rollover", "plan", "--config", config, "--current", "ksk_current", "--next", "ksk_x", "--start", "2031-01-01", "--out", filepath.Join(dir, "x.yaml")}, exitUsage, `no key "ksk_x"`},
		{"missing start", []string{"rollover", "plan", "--config", config, "--current", "ksk_current", "--next", "ksk_next", "--out", filepath.Join(dir, "x.yaml")}, exitUsage, "--start is required"},
		{"bad start", append(base[:10:10], "--start", "soon", "--out", filepath.Join(dir, "x.yaml")), exitUsage, "--start"},
		{"bad interval", append(base, "--force", "--interval", "P1M"), exitUsage, "--interval"},
		{"few slots", append(base, "--force", "--slots", "2"), exitUsage, "at least 3"},
		{"missing config", []string{"rollover", "plan", "--config", filepath.Join(dir, "none.yaml"), "--current", "a", "--next", "b", "--start", "2031-01-01", "--out", filepath.Join(dir, "x.yaml")}, exitUsage, "no such file"},
		{"no subcommand", []string{"rollover"}, exitUsage, "needs a subcommand: check, plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runKSK(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, want %d and %q\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
			if tc.name == "json" {
				var v struct {
					Plan signer.Schedule `json:"plan"`
				}
				if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.Plan.Next.Name != "ksk_next" {
					t.Errorf("JSON %v: %s", err, stdout)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.yaml")); err == nil {
		t.Error("a refused plan wrote its output")
	}
}
