package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/ksr"
)

const ksrTestdata = "../../testdata/iana-root/"

// ksrVerify runs ksk ksr verify in-process.
func ksrVerify(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runKSK(t, "", append([]string{"ksr", "verify"}, args...)...)
}

func TestKSRVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := write("garbage.xml", "<KSR><Nonsense/></KSR>")
	badPolicy := write("bad.yaml", "request:\n  num_bundle: 9\n")
	monthPolicy := write("month.yaml", "request:\n  max_cycle_inception_length: P3M\n")
	legacyPolicy := write("legacy.yaml", "base: legacy\n")
	q2 := ksrTestdata + "ksr-root-2017-q2-0.xml"
	at2017 := "--at=2017-04-01T00:00:00Z"
	tests := []struct {
		name  string
		args  []string
		code  int
		check string // a check ID the output must name
	}{
		{"valid", []string{at2017, q2}, 0, ""},
		{"valid chain", []string{at2017, "--previous-skr", ksrTestdata + "skr-root-2017-q1-0.xml", q2}, 0, ""},
		{"valid 2018", []string{"--at=2018-01-01T00:00:00Z", ksrTestdata + "ksr-root-2018-q1-0-d_to_e.xml"}, 0, ""},
		{"legacy 2009", []string{"--legacy", "--at=2009-11-03T00:00:00Z", ksrTestdata + "ksr-root-2009-q4-2.xml"}, 0, "KSR-KEY-ZSK-POLICY"},
		{"legacy 2010-q1", []string{"--legacy", "--at=2010-01-01T00:00:00Z", ksrTestdata + "ksr-root-2010-q1-0.xml"}, 0, ""},
		{"legacy 2010-q2", []string{"--legacy", "--at=2010-04-01T00:00:00Z", ksrTestdata + "ksr-root-2010-q2-0.xml"}, 0, "KSR-KEY-ZSK-POLICY"},
		{"legacy 2016 by policy file", []string{"--policy", legacyPolicy, "--at=2016-07-01T00:00:00Z", ksrTestdata + "ksr-root-2016-q3-0.xml"}, 0, ""},
		{"2010 needs legacy", []string{"--at=2010-04-01T00:00:00Z", ksrTestdata + "ksr-root-2010-q2-0.xml"}, 1, "KSR-POLICY-PARAMS"},
		{"expired now", []string{q2}, 1, "KSR-POLICY-SIG-HORIZON"},
		{"broken chain", []string{"--at=2018-01-01T00:00:00Z", "--previous-skr", ksrTestdata + "skr-root-2017-q3-0-c_to_d.xml", ksrTestdata + "ksr-root-2018-q1-0-d_to_e.xml"}, 1, "KSR-CHAIN-KEYS"},
		{"SKR given as KSR", []string{at2017, ksrTestdata + "skr-root-2017-q2-0.xml"}, 1, "KSR-PARSE"},
		{"not XML", []string{ksrTestdata + "README.md"}, 1, "KSR-PARSE"},
		{"malformed KSR", []string{garbage}, 1, "KSR-PARSE"},
		{"oversized KSR", []string{"--max-size=1000", at2017, q2}, 1, "KSR-PARSE"},
		{"malformed previous SKR", []string{at2017, "--previous-skr", garbage, q2}, 1, "KSR-PARSE"},
		{"missing KSR", []string{filepath.Join(dir, "missing.xml")}, 2, ""},
		{"directory as KSR", []string{dir}, 2, ""},
		{"missing previous SKR", []string{"--previous-skr", filepath.Join(dir, "missing.xml"), q2}, 2, ""},
		{"unknown policy key", []string{"--policy", badPolicy, q2}, 2, ""},
		{"month in policy", []string{"--policy", monthPolicy, q2}, 2, ""},
		{"missing policy", []string{"--policy", filepath.Join(dir, "none.yaml"), q2}, 2, ""},
		{"bad --at", []string{"--at", "2017-04-01", q2}, 2, ""},
		{"bad --max-size", []string{"--max-size", "0", q2}, 2, ""},
		{"unknown flag", []string{"--frobnicate", q2}, 2, ""},
		{"no argument", nil, 2, ""},
		{"two arguments", []string{q2, q2}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := ksrVerify(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if tt.check != "" && !strings.Contains(out, tt.check) {
				t.Errorf("output does not name %s:\n%s", tt.check, out)
			}
			switch tt.code {
			case 0, 1:
				if errOut != "" {
					t.Errorf("a verify command printed on stderr: %s", errOut)
				}
				if !strings.Contains(out, "VALID") {
					t.Errorf("no summary:\n%s", out)
				}
			case 2:
				if !strings.HasPrefix(errOut, "ksk: ") {
					t.Errorf("stderr = %q", errOut)
				}
			}
		})
	}
}

func TestKSRVerifyJSON(t *testing.T) {
	type result struct {
		Valid    *bool `json:"valid"`
		Findings []struct {
			Check    string `json:"check"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Where    string `json:"where"`
		} `json:"findings"`
		File    string `json:"file"`
		SHA256  string `json:"sha256"`
		Bundles int    `json:"bundles"`
	}
	q2 := ksrTestdata + "ksr-root-2017-q2-0.xml"
	tests := []struct {
		args   []string
		code   int
		valid  bool
		checks []string
	}{
		{[]string{"-o", "json", "--at", "2017-04-01T00:00:00Z", q2}, 0, true, nil},
		{[]string{"-o", "json", "--at", "2017-04-01T00:00:00Z", "--previous-skr", ksrTestdata + "skr-root-2017-q2-0.xml", q2}, 1, false,
			[]string{ksr.CheckBundleUnique, ksr.CheckChainKeys, ksr.CheckChainOverlap, ksr.CheckID, ksr.CheckSafety}},
		{[]string{"--output=json", ksrTestdata + "README.md"}, 1, false, []string{ksr.CheckParse}},
	}
	for _, tt := range tests {
		code, out, errOut := ksrVerify(t, tt.args...)
		if code != tt.code || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", tt.args, code, errOut)
		}
		var got result
		var raw map[string]any
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatalf("%v: output is not JSON: %v\n%s", tt.args, err, out)
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || got.Valid == nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, out)
		}
		if *got.Valid != tt.valid || got.File != tt.args[len(tt.args)-1] || len(got.SHA256) != 64 || got.Findings == nil {
			t.Errorf("%v: %+v", tt.args, got)
		}
		var ids []string
		for _, f := range got.Findings {
			if f.Severity != "error" && f.Severity != "warning" || f.Message == "" {
				t.Errorf("bad finding %+v", f)
			}
			if f.Severity == "error" && !slices.Contains(ids, f.Check) {
				ids = append(ids, f.Check)
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tt.checks) {
			t.Errorf("%v: failed checks %v, want %v", tt.args, ids, tt.checks)
		}
	}
	// A valid KSR's findings are an empty list, not null.
	_, out, _ := ksrVerify(t, "-o", "json", "--at", "2017-04-01T00:00:00Z", q2)
	if !strings.Contains(out, `"findings": []`) {
		t.Errorf("findings of a valid KSR:\n%s", out)
	}
}

func TestKSRHelp(t *testing.T) {
	code, out, _ := ksrVerify(t, "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--previous-skr") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var o, e bytes.Buffer
	if code := run([]string{"ksr"}, strings.NewReader(""), &o, &e); code != 2 {
		t.Errorf("ksk ksr without a subcommand: exit %d", code)
	}
}
