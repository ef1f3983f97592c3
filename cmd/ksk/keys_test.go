package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/testenv"
	"github.com/miekg/dns"
	"github.com/miekg/pkcs11"
)

// keyJSON mirrors keyView for decoding.
type keyJSON struct {
	Label           string `json:"label"`
	ID              string `json:"id"`
	Algorithm       string `json:"algorithm"`
	AlgorithmNumber uint8  `json:"algorithm_number"`
	Bits            int    `json:"bits"`
	KeyTag          uint16 `json:"key_tag"`
	DNSKEY          string `json:"dnskey"`
	DS              []struct {
		DigestType uint8  `json:"digest_type"`
		Digest     string `json:"digest"`
		RR         string `json:"rr"`
	} `json:"ds"`
	Attributes map[string]bool `json:"attributes"`
	Created    string          `json:"created"`
	Error      string          `json:"error"`
}

type tokenJSON = map[string]any

// TestKeysLifecycle generates a key of each algorithm through the CLI,
// checks that list and ds agree with generate and with ldns-key2ds and
// dnssec-dsfromkey run on the printed DNSKEY, then deletes them.
func TestKeysLifecycle(t *testing.T) {
	ldns := testenv.RequireTool(t, "ldns-key2ds", "ldnsutils")
	bind := testenv.RequireTool(t, "dnssec-dsfromkey", "bind9-utils")
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	cases := []struct{ alg, bits string }{
		{"RSASHA256", "2048"}, {"RSASHA512", "2048"}, {"ECDSAP256SHA256", ""}, {"ECDSAP384SHA384", ""}, {"ED25519", ""},
	}
	generated := map[string]keyJSON{}
	for _, c := range cases {
		label := "ksk-" + strings.ToLower(c.alg)
		args := []string{"keys", "generate", "--label", label, "--algorithm", c.alg}
		if c.bits != "" {
			args = append(args, "--bits", c.bits)
		}
		var g struct {
			Token tokenJSON `json:"token"`
			Key   keyJSON   `json:"key"`
		}
		mustJSON(t, tk, &g, args...)
		k := g.Key
		if k.Label != label || k.Algorithm != c.alg || k.KeyTag == 0 || len(k.DS) != 2 {
			t.Fatalf("generate %s: %+v", c.alg, k)
		}
		for _, a := range []string{"local", "always_sensitive", "never_extractable", "sensitive", "sign"} {
			if !k.Attributes[a] {
				t.Errorf("%s: %s is false", label, a)
			}
		}
		for _, a := range []string{"extractable", "decrypt", "unwrap", "derive"} {
			if k.Attributes[a] {
				t.Errorf("%s: %s is true", label, a)
			}
		}
		checkAgainstTools(t, ldns, bind, k)
		generated[label] = k
	}

	var list struct {
		Token tokenJSON `json:"token"`
		Keys  []keyJSON `json:"keys"`
	}
	mustJSON(t, tk, &list, "keys", "list")
	if len(list.Keys) != len(cases) {
		t.Fatalf("list: %d keys, want %d", len(list.Keys), len(cases))
	}
	for _, k := range list.Keys {
		g := generated[k.Label]
		if k.KeyTag != g.KeyTag || k.DNSKEY != g.DNSKEY || k.DS[0].RR != g.DS[0].RR || k.DS[1].RR != g.DS[1].RR {
			t.Errorf("list disagrees with generate for %s:\n%+v\n%+v", k.Label, k, g)
		}
		var ds struct {
			Label  string   `json:"label"`
			KeyTag uint16   `json:"key_tag"`
			DNSKEY string   `json:"dnskey"`
			DS     []dsView `json:"ds"`
			Out    string   `json:"out"`
		}
		mustJSON(t, tk, &ds, "keys", "ds", "--label", k.Label)
		if ds.KeyTag != g.KeyTag || len(ds.DS) != 2 || ds.DS[0].RR != g.DS[0].RR || ds.DS[1].RR != g.DS[1].RR {
			t.Errorf("ds disagrees with generate for %s: %+v", k.Label, ds)
		}
	}

	// Text output carries the same facts.
	text := mustRun(t, tk, "keys", "list")
	for label, g := range generated {
		if !strings.Contains(text, label) || !strings.Contains(text, fmt.Sprint(g.KeyTag)) {
			t.Errorf("keys list text lacks %s / %d:\n%s", label, g.KeyTag, text)
		}
	}
	text = mustRun(t, tk, "keys", "ds", "--label", "ksk-ed25519", "--digest", "sha256")
	if strings.TrimSpace(text) != generated["ksk-ed25519"].DS[0].RR {
		t.Errorf("keys ds text: %q", text)
	}
	out := filepath.Join(t.TempDir(), "ds")
	mustRun(t, tk, "keys", "ds", "--label", "ksk-ed25519", "--out", out)
	if b, err := os.ReadFile(out); err != nil || strings.Count(string(b), "\n") != 2 {
		t.Errorf("--out: %q %v", b, err)
	}
	code, _, errOut := kskRun(t, tk, "", "keys", "ds", "--label", "ksk-ed25519", "--out", out)
	wantFailure(t, code, errOut, exitUsage, "exists")

	// Deletion: refused without confirmation, done with it or --force.
	code, _, errOut = kskRun(t, tk, "no\n", "keys", "delete", "--label", "ksk-rsasha256")
	if code != exitRejected || !strings.Contains(errOut, "not confirmed") {
		t.Fatalf("unconfirmed delete: exit %d %s", code, errOut)
	}
	code, stdout, errOut := kskRun(t, tk, "ksk-rsasha256\n", "keys", "delete", "--label", "ksk-rsasha256")
	if code != 0 || !strings.Contains(errOut, "Type the key label") || !strings.Contains(stdout, "Deleted") {
		t.Fatalf("confirmed delete: exit %d\n%s%s", code, stdout, errOut)
	}
	var del struct {
		Deleted bool      `json:"deleted"`
		Label   string    `json:"label"`
		KeyTag  uint16    `json:"key_tag"`
		Token   tokenJSON `json:"token"`
	}
	mustJSON(t, tk, &del, "keys", "delete", "--label", "ksk-ed25519", "--force")
	if !del.Deleted || del.KeyTag != generated["ksk-ed25519"].KeyTag {
		t.Errorf("delete --force: %+v", del)
	}
	mustJSON(t, tk, &list, "keys", "list")
	if len(list.Keys) != len(cases)-2 {
		t.Fatalf("after deleting two: %d keys", len(list.Keys))
	}
	code, _, errOut = kskRun(t, tk, "", "keys", "delete", "--label", "ksk-ed25519", "--force")
	wantFailure(t, code, errOut, exitEnvironment, `"ksk-ed25519"`, "not found")
}

func TestKeysGenerateText(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	out := mustRun(t, tk, "keys", "generate", "--label", "bk", "--algorithm", "ecdsap256sha256", "--backupable")
	for _, want := range []string{"DNSKEY:", "Key tag:", "DS (SHA-256):", "DS (SHA-384):",
		"CKA_LOCAL:             true", "CKA_ALWAYS_SENSITIVE:  true", "CKA_NEVER_EXTRACTABLE: false",
		"CKA_EXTRACTABLE:       true", "CKA_WRAP_WITH_TRUSTED: true"} {
		if !strings.Contains(out, want) {
			t.Errorf("generate output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut := kskRun(t, tk, "", "keys", "generate", "--label", "bk", "--algorithm", "ED25519")
	wantFailure(t, code, errOut, exitEnvironment, `"bk"`, "already exists")
}

// checkAgainstTools compares the DS records ksk printed with those
// ldns-key2ds and dnssec-dsfromkey compute from the printed DNSKEY.
func checkAgainstTools(t *testing.T, ldns, bind string, k keyJSON) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "dnskey")
	if err := os.WriteFile(file, []byte(k.DNSKEY+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rr, err := dns.NewRR(k.DNSKEY)
	if err != nil {
		t.Fatalf("printed DNSKEY %q: %v", k.DNSKEY, err)
	}
	if tag := rr.(*dns.DNSKEY).KeyTag(); tag != k.KeyTag {
		t.Errorf("%s: printed key tag %d, DNSKEY's is %d", k.Label, k.KeyTag, tag)
	}
	outputs := []string{
		tool(t, ldns, "-n", "-2", file), tool(t, ldns, "-n", "-4", file),
		tool(t, bind, "-a", "SHA-256", "-f", file, "."), tool(t, bind, "-a", "SHA-384", "-f", file, "."),
	}
	for i, out := range outputs {
		theirs, err := dns.NewRR(strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("tool output %q: %v", out, err)
		}
		ds := theirs.(*dns.DS)
		want := k.DS[i%2]
		if ds.KeyTag != k.KeyTag || ds.DigestType != want.DigestType || !strings.EqualFold(ds.Digest, want.Digest) {
			t.Errorf("%s: ksk DS %s, tool %s", k.Label, want.RR, out)
		}
	}
}

func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestKeysChangedAttributesRefused: a KSK whose private key had
// CKA_DECRYPT turned on with a raw PKCS#11 tool (possible on keys made
// before issue 17, which were modifiable) makes keys list, keys ds and
// sign fail with exit 3 naming CKA_DECRYPT, and sign writes no SKR.
func TestKeysChangedAttributesRefused(t *testing.T) {
	tk := signToken(t)
	if err := tk.SetPrivateKeyAttribute("ksk-test-2", pkcs11.CKA_DECRYPT, true); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "skr.xml")
	for _, args := range [][]string{
		{"keys", "list"},
		{"keys", "list", "-o", "json"},
		{"keys", "ds", "--label", "ksk-test-2"},
		signArgs(signGoldenConfig, out, "--yes"),
	} {
		code, stdout, stderr := kskRun(t, tk, "", args...)
		if code != exitEnvironment || !strings.Contains(stderr, "CKA_DECRYPT") || !strings.Contains(stderr, "ksk-test-2") {
			t.Errorf("ksk %v: exit %d, want %d naming ksk-test-2 and CKA_DECRYPT\n%s%s", args, code, exitEnvironment, stdout, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("sign wrote an SKR with a key that decrypts")
	}
	// ksk keys restrict turns the extra use off; then the key signs.
	if code, stdout, stderr := kskRun(t, tk, "", "keys", "restrict", "--label", "ksk-test-2"); code != 0 || !strings.Contains(stdout, "now sign-only") {
		t.Fatalf("keys restrict: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := kskRun(t, tk, "", signArgs(signGoldenConfig, out, "--yes")...); code != 0 {
		t.Errorf("sign after keys restrict: exit %d\n%s%s", code, stdout, stderr)
	}
	// The other key is untouched and still listed as usable.
	_, stdout, _ := kskRun(t, tk, "", "keys", "list")
	if !strings.Contains(stdout, "ksk-test-1") || !strings.Contains(stdout, "25486") {
		t.Errorf("keys list no longer shows the untouched key:\n%s", stdout)
	}
}
