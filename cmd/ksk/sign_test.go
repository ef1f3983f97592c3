package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/signer"
)

const (
	signGoldenConfig = "../../testdata/golden/signer-2018-q1-d_to_e.yaml"
	signGoldenSKR    = "../../testdata/golden/skr-2018-q1-0-d_to_e-testkeys.xml"
	signKSR          = "../../testdata/iana-root/ksr-root-2018-q1-0-d_to_e.xml"
	signAt           = "2018-01-01T00:00:00Z"
	// DS records of the test keys rsa-2048-1 and rsa-2048-2.
	signTestDS = ". IN DS 25486 8 2 6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C20\n" +
		". IN DS 33946 8 2 26E0FCF345CC3268FB4EF4FD3A8571EBD5ED55022371A86D01E4D7A94A81F4AB\n"
)

// signToken is a SoftHSM token holding the golden configuration's keys,
// with ksk's environment pointing at it.
func signToken(t *testing.T) *softhsmtest.Token {
	t.Helper()
	tk := softhsmtest.NewToken(t)
	tk.ImportTestKey(t, "rsa-2048-1", "ksk-test-1")
	tk.ImportTestKey(t, "rsa-2048-2", "ksk-test-2")
	tk.Setenv(t)
	return tk
}

func signArgs(config, out string, extra ...string) []string {
	return append([]string{"sign", "--config", config, "--schema", "rollover", "--ksr", signKSR, "--at", signAt, "--out", out}, extra...)
}

// TestSignGoldenCLI signs the 2018-q1 KSR twice with the test keys on
// SoftHSM and compares both SKRs with the golden file, then verifies the
// SKR with ksk skr verify against the test keys' DS records and the KSR.
func TestSignGoldenCLI(t *testing.T) {
	tk := signToken(t)
	dir := t.TempDir()
	want, err := os.ReadFile(signGoldenSKR)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.xml", "b.xml"} {
		out := filepath.Join(dir, name)
		code, stdout, stderr := runKSK(t, "", signArgs(signGoldenConfig, out, "--yes")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from %s", name, signGoldenSKR)
		}
		for _, w := range []string{"Wrote SKR " + out, "9 bundles, 9 signatures", "SHA-256: ", "PGP Words: "} {
			if !strings.Contains(stdout, w) {
				t.Errorf("output lacks %q:\n%s", w, stdout)
			}
		}
		if strings.Contains(stdout+stderr, tk.UserPIN) {
			t.Error("the PIN leaked")
		}
	}
	ds := filepath.Join(dir, "test.ds")
	if err := os.WriteFile(ds, []byte(signTestDS), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runKSK(t, "", "skr", "verify", "--anchors", ds, "--ksr", signKSR, filepath.Join(dir, "a.xml"))
	if code != 0 || !strings.Contains(stdout, "VALID") {
		t.Errorf("skr verify: exit %d\n%s", code, stdout)
	}
	// Existing output without --force.
	code, _, stderr := runKSK(t, "", signArgs(signGoldenConfig, filepath.Join(dir, "a.xml"), "--yes")...)
	if code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Errorf("existing output: exit %d, %s", code, stderr)
	}
	code, _, _ = runKSK(t, "", signArgs(signGoldenConfig, filepath.Join(dir, "a.xml"), "--yes", "--force")...)
	if code != 0 {
		t.Errorf("--force: exit %d", code)
	}
}

// TestSignConfirm: without --yes the operator sees the KSR, its hash and
// PGP words and the bundle table, and only "Yes" signs.
func TestSignConfirm(t *testing.T) {
	signToken(t)
	dir := t.TempDir()
	for _, answer := range []string{"", "no\n", "yes\n", "YES\n", "Yes please\n"} {
		out := filepath.Join(dir, "no.xml")
		code, stdout, stderr := runKSK(t, answer, signArgs(signGoldenConfig, out)...)
		if code != exitRejected {
			t.Errorf("answer %q: exit %d, %s", answer, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("answer %q: %s written", answer, out)
		}
		if !strings.Contains(stdout, "Type Yes to sign") || !strings.Contains(stderr, "not confirmed") {
			t.Errorf("answer %q: stdout %q stderr %q", answer, stdout, stderr)
		}
	}
	out := filepath.Join(dir, "yes.xml")
	code, stdout, stderr := runKSK(t, "Yes\n", signArgs(signGoldenConfig, out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{
		"KSR:        " + signKSR,
		"SHA-256:    ",
		"PGP Words:  ",
		"4fe9bb10-6f6b-4503-8575-7824e2d66925",
		"#  INCEPTION             EXPIRATION            ZSK TAGS     PUBLISHED    REVOKED  SIGNING",
		"1  2018-01-01T00:00:00Z  2018-01-22T00:00:00Z  41824 46809  25486 33946  -        25486",
		"2  2018-01-11T00:00:00Z  2018-02-01T00:00:00Z  41824        25486 33946  -        33946",
		"Wrote SKR " + out,
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
}

// TestSignChecksCLI breaks each check before signing once: exit 1, the
// check named on stdout, nothing written.
func TestSignChecksCLI(t *testing.T) {
	signToken(t)
	golden, err := os.ReadFile(signGoldenConfig)
	if err != nil {
		t.Fatal(err)
	}
	g := string(golden)
	schemaStart := strings.Index(g, "schemas:")
	slots := func(first, rest string) string {
		s := g[:schemaStart] + "schemas:\n  rollover:\n    1: " + first + "\n"
		for i := 2; i <= 9; i++ {
			s += "    " + string(rune('0'+i)) + ": " + rest + "\n"
		}
		return s
	}
	dir := t.TempDir()
	tests := []struct {
		name, config string
		extra        []string
		check        string
	}{
		{"KSR check", strings.Replace(g, "ksk_policy:\n", "request_policy:\n  num_bundles: 8\nksk_policy:\n", 1), nil, "KSR-BUNDLE-COUNT"},
		{"KSR horizon", g, []string{"--at", "2019-01-01T00:00:00Z"}, "KSR-POLICY-SIG-HORIZON"},
		{"schema", strings.Replace(g, "    9: {publish: [ksk_current, ksk_next], sign: ksk_next}\n", "", 1), nil, signer.CheckSchema},
		{"validity", strings.Replace(g, "valid_from: 2017-02-02T00:00:00+00:00", "valid_from: 2018-01-05T00:00:00+00:00", 1), nil, signer.CheckKSKValidity},
		{"algorithm coverage", strings.Replace(g, "key_tag: 33946\n    algorithm: RSASHA256", "key_tag: 33946\n    algorithm: RSASHA512", 1), nil, signer.CheckAlgCoverage},
		{"signature validity", strings.Replace(strings.Replace(g, "max_signature_validity: P21D", "max_signature_validity: P20D", 1), "min_signature_validity: P21D", "min_signature_validity: P20D", 1), nil, signer.CheckSigValidity},
		{"rrset", strings.Replace(g, `signers_name: "."`, `signers_name: "example."`, 1), nil, signer.CheckRRset},
		{"publish safety", strings.Replace(slots("{publish: ksk_current, sign: ksk_current}", "{publish: [ksk_current, ksk_next], sign: ksk_next}"), "publish_safety: PT0S", "publish_safety: P15D", 1), nil, signer.CheckPublishSafety},
		{"retire safety", slots("{publish: [ksk_current, ksk_next], sign: ksk_current}", "{publish: ksk_next, sign: ksk_next}"), nil, signer.CheckRetireSafety},
		{"key match", strings.Replace(g, "key_tag: 33946", "key_tag: 33947", 1), nil, signer.CheckKSKMatch},
		// The real 2017-q2 KSR continues the real 2017-q1 SKR, signed by
		// KSK-2010; the configuration names KSK-2010 by its real DS, but the
		// HSM holds a test key under its label.
		{"previous KSK", prevKSKConfig, []string{"--ksr", "../../testdata/iana-root/ksr-root-2017-q2-0.xml", "--schema", "normal",
			"--previous-skr", "../../testdata/iana-root/skr-root-2017-q1-0.xml", "--at", "2017-04-01T00:00:00Z"}, signer.CheckPreviousKSK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if err := os.WriteFile(cfg, []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.xml")
			code, stdout, stderr := runKSK(t, "Yes\n", signArgs(cfg, out, tt.extra...)...)
			if code != exitRejected {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "error "+tt.check+" ") || !strings.Contains(stdout, "REJECTED") {
				t.Errorf("stdout does not name %s:\n%s", tt.check, stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("%s written", out)
			}
			// The same as JSON.
			code, stdout, _ = runKSK(t, "", signArgs(cfg, out, append(tt.extra, "-o", "json")...)...)
			var res struct {
				Valid    bool `json:"valid"`
				Written  bool `json:"written"`
				Findings []struct {
					Check string `json:"check"`
				} `json:"findings"`
			}
			if code != exitRejected || json.Unmarshal([]byte(stdout), &res) != nil || res.Valid || res.Written {
				t.Fatalf("json: exit %d, %s", code, stdout)
			}
			found := false
			for _, f := range res.Findings {
				found = found || f.Check == tt.check
			}
			if !found {
				t.Errorf("json findings lack %s", tt.check)
			}
		})
	}
}

// prevKSKConfig names KSK-2010 under the label of a test key.
const prevKSKConfig = `keys:
  ksk_2010:
    label: ksk-test-1
    key_tag: 19036
    algorithm: RSASHA256
    rsa_size: 2048
    valid_from: 2010-07-15T00:00:00Z
    ds_sha256: 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5
schemas:
  normal:
    1: &n {publish: ksk_2010, sign: ksk_2010}
    2: *n
    3: *n
    4: *n
    5: *n
    6: *n
    7: *n
    8: *n
    9: *n
`

// TestSignExitCodes: usage and configuration errors exit 2 naming the
// problem; HSM problems exit 3.
func TestSignExitCodes(t *testing.T) {
	tk := signToken(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.xml")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	golden, _ := os.ReadFile(signGoldenConfig)
	badYAML := write("bad.yaml", strings.Replace(string(golden), "rsa_exponent: 65537", "rsa_exponent: 65537\n    rsa_exponnt: 3", 1))
	missingKey := write("missing.yaml", strings.Replace(string(golden), "label: ksk-test-2", "label: ksk-absent", 1))
	withHSM := write("hsm.yaml", "hsm:\n  module: "+tk.Module+"\n  token: "+tk.Label+"\n  pin_source: file:"+tk.UserPINFile+"\n"+string(golden))
	wrongPIN := write("wrong.pin", "0000\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no config", []string{"sign", "--schema", "x", "--ksr", signKSR, "--out", out}, nil, exitUsage, "--config is required"},
		{"no out", []string{"sign", "--config", signGoldenConfig, "--schema", "x", "--ksr", signKSR}, nil, exitUsage, "--out is required"},
		{"no output directory", signArgs(signGoldenConfig, filepath.Join(dir, "none", "out.xml")), nil, exitUsage, "does not exist"},
		{"bad at", signArgs(signGoldenConfig, out, "--at", "yesterday"), nil, exitUsage, "--at"},
		{"config unknown key", signArgs(badYAML, out), nil, exitUsage, "keys.ksk_current.rsa_exponnt (line"},
		{"missing config", signArgs(filepath.Join(dir, "none.yaml"), out), nil, exitUsage, "none.yaml"},
		{"unknown schema", []string{"sign", "--config", signGoldenConfig, "--schema", "nope", "--ksr", signKSR, "--out", out}, nil, exitUsage, "unknown schema"},
		{"unreadable KSR", []string{"sign", "--config", signGoldenConfig, "--schema", "rollover", "--ksr", filepath.Join(dir, "none.xml"), "--out", out}, nil, exitUsage, "none.xml"},
		{"KSR does not parse", []string{"sign", "--config", signGoldenConfig, "--schema", "rollover", "--ksr", badYAML, "--out", out}, nil, exitRejected, ""},
		{"key missing from HSM", signArgs(missingKey, out, "--yes"), nil, exitEnvironment, "ksk-absent"},
		{"wrong PIN", signArgs(signGoldenConfig, out, "--yes", "--pin-source", "file:"+wrongPIN), nil, exitEnvironment, "PIN"},
		{"no module", signArgs(signGoldenConfig, out, "--yes"), map[string]string{"KSK_PKCS11_MODULE": filepath.Join(dir, "none.so")}, exitEnvironment, ""},
		{"hsm from the configuration", signArgs(withHSM, out, "--yes"), map[string]string{"KSK_PKCS11_MODULE": "", "KSK_TOKEN": "", "KSK_PIN_SOURCE": ""}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			os.Remove(out)
			code, stdout, stderr := runKSK(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.code, stdout, stderr)
			}
			if tt.want != "" && !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, stderr)
			}
			if _, err := os.Stat(out); (err == nil) != (tt.code == 0) {
				t.Errorf("output written: %v, exit %d", err == nil, tt.code)
			}
			if strings.Contains(stdout+stderr, tk.UserPIN) {
				t.Error("the PIN leaked")
			}
		})
	}
}

// TestSignJSON: -o json prints one object with the bundles, findings and
// the SKR's hash; the review goes to stderr.
func TestSignJSON(t *testing.T) {
	signToken(t)
	out := filepath.Join(t.TempDir(), "skr.xml")
	code, stdout, stderr := runKSK(t, "Yes\n", signArgs(signGoldenConfig, out, "-o", "json", "--progress", "3")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Valid      bool   `json:"valid"`
		Written    bool   `json:"written"`
		SKRSHA256  string `json:"skr_sha256"`
		KSRSHA256  string `json:"ksr_sha256"`
		Signatures int    `json:"signatures"`
		Bundles    []struct {
			Index   int      `json:"index"`
			ZSKTags []uint16 `json:"zsk_tags"`
			KSKs    []struct {
				KeyTag uint16 `json:"key_tag"`
				Signs  bool   `json:"signs"`
			} `json:"ksks"`
		} `json:"bundles"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if !res.Valid || !res.Written || len(res.SKRSHA256) != 64 || len(res.KSRSHA256) != 64 || res.Signatures != 9 || len(res.Bundles) != 9 || len(res.Bundles[0].KSKs) != 2 {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(stderr, "Type Yes to sign") {
		t.Errorf("review not on stderr: %s", stderr)
	}
	for _, w := range []string{"signed 3/9 bundles\n", "signed 6/9 bundles\n", "signed 9/9 bundles\n"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("progress lacks %q: %s", w, stderr)
		}
	}
}

func TestSignHelp(t *testing.T) {
	code, out, _ := runKSK(t, "", "sign", "--help")
	for _, w := range []string{"Examples:", "--config", "--schema", "--ksr", "--previous-skr", "--out", "--yes", "--force", "--at", "--workers", "--progress", "--pin-source"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("help lacks %q", w)
		}
	}
}
