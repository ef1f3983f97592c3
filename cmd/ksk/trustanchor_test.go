package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/internal/testenv"
	"github.com/ksk-dev/ksk/signer"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

const taID = "0E1D1C2B-3A49-4F58-8776-655443322110"

func taArgs(config, out string, extra ...string) []string {
	return append([]string{"trust-anchor", "--config", config, "--out", out, "--id", taID}, extra...)
}

// readDNSKEYs reads the DNSKEY records of a zone file.
func readDNSKEYs(t *testing.T, path string) []*dns.DNSKEY {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys []*dns.DNSKEY
	zp := dns.NewZoneParser(bytes.NewReader(data), ".", path)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		k, isKey := rr.(*dns.DNSKEY)
		if !isKey {
			t.Fatalf("%s: %s record", path, rr)
		}
		keys = append(keys, k)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// readDS reads DS records in presentation format as "tag alg type DIGEST"
// strings.
func readDS(t *testing.T, text string) []string {
	t.Helper()
	var out []string
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		ds, isDS := rr.(*dns.DS)
		if !isDS {
			t.Fatalf("%s: not a DS record", rr)
		}
		out = append(out, strings.Join([]string{dns.CanonicalName(ds.Hdr.Name), itoa(ds.KeyTag), itoa(ds.Algorithm), itoa(ds.DigestType), strings.ToUpper(ds.Digest)}, " "))
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return out
}

func itoa[T uint8 | uint16](v T) string { return strconv.Itoa(int(v)) }

// TestTrustAnchorCLI writes the trust anchors of the golden
// configuration's keys on SoftHSM and checks them: they parse, match the
// DNSKEYs written beside them, agree with the DS that ldns-key2ds and
// dnssec-dsfromkey compute from those DNSKEYs, and ksk skr verify accepts
// them for an SKR signed by those keys.
func TestTrustAnchorCLI(t *testing.T) {
	signToken(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "root-anchors.xml")
	code, stdout, stderr := runKSK(t, "", taArgs(signGoldenConfig, out)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"Wrote trust anchors " + out, "id " + taID, "2 keys", "SHA-256: ", "PGP Words: ",
		filepath.Join(dir, "root-anchors.ds"), filepath.Join(dir, "root-anchors.dnskey")} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}

	ta, err := trustanchor.ParseFile(out, trustanchor.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ta.ID != taID || ta.Source != "root-anchors.xml" || ta.Zone != "." || len(ta.Anchors) != 2 {
		t.Fatalf("got %+v", ta)
	}
	want := []struct {
		id   string
		tag  uint16
		from string
	}{{"ksk-test-1", 25486, "2010-07-15"}, {"ksk-test-2", 33946, "2017-02-02"}}
	keys := readDNSKEYs(t, filepath.Join(dir, "root-anchors.dnskey"))
	if len(keys) != 2 {
		t.Fatalf("%d DNSKEYs", len(keys))
	}
	for i, w := range want {
		a := ta.Anchors[i]
		if a.ID != w.id || a.KeyTag != w.tag || a.Algorithm != 8 || a.DigestType != 2 || a.Flags != 257 || a.PublicKey == nil ||
			a.ValidFrom.Format("2006-01-02") != w.from || !a.ValidUntil.IsZero() {
			t.Errorf("anchor %d: %+v", i, a)
		}
		if !a.Matches(keys[i]) || keys[i].Flags != 257 || keys[i].Hdr.Ttl != 172800 {
			t.Errorf("anchor %s does not match DNSKEY %v", a.ID, keys[i])
		}
	}
	// The DS file: what ParseDS and Load read, and what the tests of ksk
	// sign expect of the test keys.
	dsData, err := os.ReadFile(filepath.Join(dir, "root-anchors.ds"))
	if err != nil {
		t.Fatal(err)
	}
	gotDS := readDS(t, string(dsData)) // in key tag order, like the XML
	if wantDS := readDS(t, signTestDS); strings.Join(gotDS, "\n") != strings.Join(wantDS, "\n") {
		t.Errorf("DS file:\n%s\nwant\n%s", dsData, signTestDS)
	}
	for _, p := range []string{out, filepath.Join(dir, "root-anchors.ds")} {
		if l, err := trustanchor.Load(p, trustanchor.ParseOptions{}); err != nil || len(l.Anchors) != 2 {
			t.Errorf("Load %s: %v", p, err)
		}
	}

	t.Run("validators", func(t *testing.T) {
		for _, tool := range []struct {
			name, pkg string
			run       func(t *testing.T, dnskeyFile string) string
		}{
			{"ldns-key2ds", "ldnsutils", func(t *testing.T, dnskeyFile string) string {
				// ldns-key2ds reads one key a file.
				var all strings.Builder
				for i, k := range readDNSKEYs(t, dnskeyFile) {
					f := filepath.Join(t.TempDir(), "k"+itoa(uint16(i)))
					if err := os.WriteFile(f, []byte(k.String()+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
					all.WriteString(runTool(t, "ldns-key2ds", "-n", "-2", f))
				}
				return all.String()
			}},
			{"dnssec-dsfromkey", "bind9-utils", func(t *testing.T, dnskeyFile string) string {
				return runTool(t, "dnssec-dsfromkey", "-2", "-f", dnskeyFile, ".")
			}},
		} {
			t.Run(tool.name, func(t *testing.T) {
				testenv.RequireTool(t, tool.name, tool.pkg)
				got := readDS(t, tool.run(t, filepath.Join(dir, "root-anchors.dnskey")))
				slices.Sort(got) // dnssec-dsfromkey prints in its own order
				if strings.Join(got, "\n") != strings.Join(gotDS, "\n") {
					t.Errorf("%s computes\n%s\nthe DS file has\n%s", tool.name, strings.Join(got, "\n"), strings.Join(gotDS, "\n"))
				}
			})
		}
	})

	t.Run("skr verify", func(t *testing.T) {
		skrPath := filepath.Join(dir, "skr.xml")
		if code, stdout, stderr := runKSK(t, "", signArgs(signGoldenConfig, skrPath, "--yes")...); code != 0 {
			t.Fatalf("sign: exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, anchors := range []string{out, filepath.Join(dir, "root-anchors.ds")} {
			code, stdout, _ := runKSK(t, "", "skr", "verify", "--anchors", anchors, "--ksr", signKSR, skrPath)
			if code != 0 || !strings.Contains(stdout, "VALID") {
				t.Errorf("skr verify --anchors %s: exit %d\n%s", anchors, code, stdout)
			}
		}
		// Only the new key as anchor: bundle 1, signed by the old one, fails.
		only := filepath.Join(dir, "next.xml")
		if code, stdout, stderr := runKSK(t, "", taArgs(signGoldenConfig, only, "--keys", "ksk_next")...); code != 0 {
			t.Fatalf("--keys ksk_next: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if code, stdout, _ := runKSK(t, "", "skr", "verify", "--anchors", only, skrPath); code != exitRejected {
			t.Errorf("skr verify with ksk_next only: exit %d\n%s", code, stdout)
		}
	})
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, e.String())
	}
	return o.String()
}

// TestTrustAnchorMismatch: a key that does not match its configuration
// exits 1, names the key and the mismatch, and writes nothing.
func TestTrustAnchorMismatch(t *testing.T) {
	signToken(t)
	golden, err := os.ReadFile(signGoldenConfig)
	if err != nil {
		t.Fatal(err)
	}
	g := string(golden)
	dir, cfgDir := t.TempDir(), t.TempDir()
	tests := []struct {
		name, config, key, message string
	}{
		{"key tag", strings.Replace(g, "key_tag: 33946", "key_tag: 33947", 1), "ksk_next", "key tag 33946, the configuration says 33947"},
		{"DS", strings.Replace(g, "ds_sha256: 6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C20",
			"ds_sha256: 6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C21", 1), "ksk_current", "SHA-256 DS is 6E7DF8A5"},
		{"size", strings.Replace(g, "key_tag: 25486\n    algorithm: RSASHA256\n    rsa_size: 2048", "key_tag: 25486\n    algorithm: RSASHA256\n    rsa_size: 4096", 1), "ksk_current", "has 2048 bits, the configuration says 4096"},
		{"exponent", strings.Replace(g, "rsa_size: 2048\n    rsa_exponent: 65537\n    valid_from: 2017", "rsa_size: 2048\n    rsa_exponent: 3\n    valid_from: 2017", 1), "ksk_next", "exponent is 65537, the configuration says 3"},
		{"algorithm", strings.Replace(g, "key_tag: 33946\n    algorithm: RSASHA256", "key_tag: 33946\n    algorithm: RSASHA512", 1), "ksk_next", "configuration says 33946"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.config == g {
				t.Fatal("the configuration was not changed")
			}
			cfg := filepath.Join(cfgDir, tt.name+".yaml")
			if err := os.WriteFile(cfg, []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, tt.name+".xml")
			code, stdout, stderr := runKSK(t, "", taArgs(cfg, out)...)
			if code != exitRejected {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			for _, w := range []string{"error " + signer.CheckKSKMatch + " ", "key " + tt.key + " ", tt.message, "REJECTED", "nothing written"} {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if ents, _ := filepath.Glob(filepath.Join(dir, tt.name+".*")); len(ents) != 0 {
				t.Errorf("written: %v", ents)
			}
			code, stdout, _ = runKSK(t, "", taArgs(cfg, out, "-o", "json")...)
			var res trustAnchorResult
			if code != exitRejected || json.Unmarshal([]byte(stdout), &res) != nil || res.Valid || res.Written || len(res.Findings) == 0 {
				t.Errorf("json: exit %d\n%s", code, stdout)
			}
		})
	}
}

// TestTrustAnchorOutputs: no file is written or changed when any of the
// three exists without --force; --force replaces them; bad flags exit 2.
func TestTrustAnchorOutputs(t *testing.T) {
	signToken(t)
	for _, existing := range []string{"a.xml", "a.ds", "a.dnskey"} {
		t.Run("existing "+existing, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, existing)
			if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runKSK(t, "", taArgs(signGoldenConfig, filepath.Join(dir, "a.xml"))...)
			if code != exitUsage || !strings.Contains(stderr, "--force") || !strings.Contains(stderr, existing) {
				t.Errorf("exit %d: %s", code, stderr)
			}
			ents, _ := os.ReadDir(dir)
			if b, _ := os.ReadFile(p); len(ents) != 1 || string(b) != "old\n" {
				t.Errorf("files changed: %d entries, %q", len(ents), b)
			}
			code, _, stderr = runKSK(t, "", taArgs(signGoldenConfig, filepath.Join(dir, "a.xml"), "--force")...)
			if code != 0 {
				t.Fatalf("--force: exit %d: %s", code, stderr)
			}
			for _, n := range []string{"a.xml", "a.ds"} {
				if _, err := trustanchor.Load(filepath.Join(dir, n), trustanchor.ParseOptions{}); err != nil {
					t.Errorf("%s: %v", n, err)
				}
			}
			if keys := readDNSKEYs(t, filepath.Join(dir, "a.dnskey")); len(keys) != 2 {
				t.Errorf("a.dnskey: %d keys", len(keys))
			}
		})
	}

	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no config", []string{"trust-anchor", "--out", filepath.Join(dir, "x.xml")}, exitUsage},
		{"no out", []string{"trust-anchor", "--config", signGoldenConfig}, exitUsage},
		{"unknown key", taArgs(signGoldenConfig, filepath.Join(dir, "x.xml"), "--keys", "ksk_nope"), exitUsage},
		{"missing config", taArgs(filepath.Join(dir, "none.yaml"), filepath.Join(dir, "x.xml")), exitUsage},
		{"missing directory", taArgs(signGoldenConfig, filepath.Join(dir, "no", "x.xml")), exitUsage},
		{"key not in HSM", taArgs(writeTemp(t, dir, "nokey.yaml", strings.Replace(mustRead(t, signGoldenConfig), "label: ksk-test-2", "label: ksk-test-9", 1)),
			filepath.Join(dir, "x.xml")), exitEnvironment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, stdout, stderr := runKSK(t, "", tt.args...); code != tt.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tt.code, stdout, stderr)
			}
			if ents, _ := filepath.Glob(filepath.Join(dir, "x.*")); len(ents) != 0 {
				t.Errorf("written: %v", ents)
			}
		})
	}
}

// TestTrustAnchorJSON: -o json with --keys, --source and a fresh id.
func TestTrustAnchorJSON(t *testing.T) {
	signToken(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "anchors")
	code, stdout, stderr := runKSK(t, "", "trust-anchor", "--config", signGoldenConfig, "--out", out, "--keys", "ksk_next",
		"--source", "https://example.net/root-anchors.xml", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res trustAnchorResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if !res.Valid || !res.Written || res.Source != "https://example.net/root-anchors.xml" || len(res.ID) != 36 ||
		len(res.Keys) != 1 || res.Keys[0].KeyTag != 33946 || res.Keys[0].ID != "ksk-test-2" ||
		res.DSFile != out+".ds" || res.DNSKEY != out+".dnskey" || len(res.SHA256) != 64 {
		t.Errorf("got %+v", res)
	}
	ta, err := trustanchor.Load(out, trustanchor.ParseOptions{})
	if err != nil || ta.ID != res.ID || len(ta.Anchors) != 1 {
		t.Errorf("Load: %v %+v", err, ta)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeTemp(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
