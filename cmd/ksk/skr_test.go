package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/check"
)

const (
	skrTestdata = "../../testdata/iana-root/"
	skrAnchors  = "../../testdata/root-anchors/root-anchors.xml"
)

// skrVerify runs ksk skr verify in-process.
func skrVerify(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runKSK(t, "", append([]string{"skr", "verify"}, args...)...)
}

func TestSKRVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(name string) string {
		b, err := os.ReadFile(skrTestdata + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	q2 := skrTestdata + "skr-root-2017-q2-0.xml"
	q2ksr := skrTestdata + "ksr-root-2017-q2-0.xml"
	orig := read("skr-root-2017-q2-0.xml")
	i := strings.Index(orig, "<SignatureData>") + len("<SignatureData>") + 10
	c := byte('A')
	if orig[i] == 'A' {
		c = 'B'
	}
	flipped := write("flipped.xml", orig[:i]+string(c)+orig[i+1:])
	wrongLabels := write("labels.xml", strings.Replace(read("skr-root-2017-q2-0.xml"), "<Labels>0</Labels>", "<Labels>1</Labels>", 1))
	monthDuration := write("month.xml", strings.Replace(read("skr-root-2017-q2-0.xml"), "P21D", "P1M", 1))
	otherKSR := write("ksr.xml", strings.Replace(read("ksr-root-2017-q2-0.xml"), "<Inception>2017-04-11T00:00:00", "<Inception>2017-04-12T00:00:00", 1))
	dsAnchors := write("root.ds", ". IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5\n")
	otherDS := write("other.ds", ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n")
	badAnchors := write("bad-anchors.xml", "<TrustAnchor/>")
	policyFile := write("policy.yaml", "response:\n  num_bundles: [8]\n")
	badPolicy := write("bad.yaml", "response:\n  num_bundle: 9\n")
	garbage := write("garbage.xml", "<KSR><Nonsense/></KSR>")
	tests := []struct {
		name  string
		args  []string
		code  int
		check string // a check ID the output must name
	}{
		{"valid", []string{q2}, 0, ""},
		{"valid with anchors and KSR", []string{"--anchors", skrAnchors, "--ksr", q2ksr, q2}, 0, ""},
		{"valid 2018 with DS anchors", []string{"--anchors", write("both.ds", ". IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5\n. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"), skrTestdata + "skr-root-2018-q1-0-d_to_e.xml"}, 0, ""},
		{"valid c_to_d with one DS", []string{"--anchors", dsAnchors, skrTestdata + "skr-root-2017-q3-0-c_to_d.xml"}, 0, ""},
		{"valid with root policy", []string{"--policy", write("root.yaml", "base: root\n"), q2}, 0, ""},
		{"expired is a warning", []string{"--at", "2030-01-01T00:00:00Z", q2}, 0, "SKR-EXPIRED"},
		{"flipped signature", []string{flipped}, 1, "SKR-SIG-VALID"},
		{"wrong labels", []string{wrongLabels}, 1, "SKR-SIG-LABELS"},
		{"anchor mismatch", []string{"--anchors", otherDS, q2}, 1, "SKR-ANCHOR-CHAIN"},
		{"KSR mismatch", []string{"--ksr", otherKSR, q2}, 1, "SKR-ANSWERS-KSR-TIMES"},
		{"wrong KSR", []string{"--ksr", skrTestdata + "ksr-root-2018-q1-0-d_to_e.xml", q2}, 1, "SKR-ANSWERS-KSR-ID"},
		{"policy bundle count", []string{"--policy", policyFile, q2}, 1, "SKR-BUNDLE-COUNT"},
		{"KSR given as SKR", []string{q2ksr}, 1, "SKR-RESPONSE"},
		{"month duration", []string{monthDuration}, 1, "SKR-PARSE"},
		{"malformed SKR", []string{garbage}, 1, "SKR-PARSE"},
		{"not XML", []string{skrTestdata + "README.md"}, 1, "SKR-PARSE"},
		{"oversized SKR", []string{"--max-size=1000", q2}, 1, "SKR-PARSE"},
		{"malformed KSR", []string{"--ksr", garbage, q2}, 1, "SKR-PARSE"},
		{"missing SKR", []string{filepath.Join(dir, "missing.xml")}, 2, ""},
		{"missing KSR", []string{"--ksr", filepath.Join(dir, "missing.xml"), q2}, 2, ""},
		{"missing anchors", []string{"--anchors", filepath.Join(dir, "missing.xml"), q2}, 2, ""},
		{"malformed anchors", []string{"--anchors", badAnchors, q2}, 2, ""},
		{"malformed policy", []string{"--policy", badPolicy, q2}, 2, ""},
		{"bad --at", []string{"--at", "yesterday", q2}, 2, ""},
		{"bad --max-size", []string{"--max-size=0", q2}, 2, ""},
		{"unknown flag", []string{"--frobnicate", q2}, 2, ""},
		{"no argument", []string{}, 2, ""},
		{"two arguments", []string{q2, q2}, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := skrVerify(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			if tc.check != "" && !strings.Contains(out, tc.check) {
				t.Errorf("output does not name %s:\n%s", tc.check, out)
			}
			if tc.code == 2 && errOut == "" {
				t.Error("no error message on stderr")
			}
			if tc.code == 1 && errOut != "" {
				t.Errorf("stderr on rejection: %s", errOut)
			}
		})
	}
}

func TestSKRVerifyJSON(t *testing.T) {
	type result struct {
		Valid    *bool           `json:"valid"`
		Findings []check.Finding `json:"findings"`
		File     string          `json:"file"`
		SHA256   string          `json:"sha256"`
		Bundles  int             `json:"bundles"`
	}
	q2 := skrTestdata + "skr-root-2017-q2-0.xml"
	code, out, _ := skrVerify(t, "-o", "json", "--anchors", skrAnchors, "--at", "2017-04-01T00:00:00Z", q2)
	var r result
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if r.Valid == nil || !*r.Valid || r.Findings == nil || len(r.Findings) != 0 || r.File != q2 || len(r.SHA256) != 64 || r.Bundles != 9 {
		t.Errorf("got %+v", r)
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "bad.xml")
	if err := os.WriteFile(p, []byte("<KSR id=\"x\" domain=\".\" serial=\"1\">\n<Bogus/>\n</KSR>"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = skrVerify(t, "-o", "json", p)
	r = result{}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if *r.Valid || len(r.Findings) != 1 || r.Findings[0].Check != "SKR-PARSE" || r.Findings[0].Severity != check.Error ||
		!strings.Contains(r.Findings[0].Message, p+":2: <Bogus>") {
		t.Errorf("got %+v", r)
	}
}

func TestSKRHelp(t *testing.T) {
	code, out, errOut := runKSK(t, "", "skr", "verify", "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Examples:", "--anchors", "--ksr", "--policy", "--at", "--max-size"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if code, _, _ := runKSK(t, "", "skr"); code != 2 {
		t.Errorf("ksk skr without subcommand: exit %d", code)
	}
}
