package signer_test

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/signer"
	"github.com/miekg/dns"
)

// TestGoldenSoftHSM imports the test keys into SoftHSM under the golden
// configuration's labels, signs the 2018-q1 KSR twice and compares both
// SKRs with the golden file byte for byte; the SKR verifies against trust
// anchors for the test keys and answers the KSR.
func TestGoldenSoftHSM(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	tk.ImportTestKey(t, "rsa-2048-1", "ksk-test-1")
	tk.ImportTestKey(t, "rsa-2048-2", "ksk-test-2")
	cfg := mustConfig(t, goldenConfig)
	req := loadDoc(t, ksr2018q1)
	for run := 1; run <= 2; run++ {
		doc, rep, err := signer.Sign(context.Background(), cfg, signer.TokenKeys(tok), signer.Options{Schema: "rollover", KSR: req, At: at2018q1}, signer.SignOptions{})
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, findings(rep))
		}
		compareGolden(t, marshal(t, doc))
		verifySKR(t, doc, req, anchorsOf(t, goldenKeys(t), cfg))
	}
}

// keyYAML is the keys entry of a fixed test key.
func keyYAML(t testing.TB, name, label string) string {
	t.Helper()
	tkey, _ := softhsmtest.LookupTestKey(name)
	dk, err := hsm.NewDNSKEY(softhsmtest.LoadTestKey(t, name).Public(), tkey.Algorithm, hsm.DNSKEYOptions{})
	if err != nil {
		t.Fatal(err)
	}
	size := ""
	if tkey.Algorithm.IsRSA() {
		size = "\n    rsa_size: 2048"
	}
	return fmt.Sprintf("  %s:\n    label: %s\n    algorithm: %s%s\n    key_tag: %d\n    ds_sha256: %s\n    valid_from: 2020-01-01T00:00:00Z\n",
		strings.ReplaceAll(name, "-", "_"), label, tkey.Algorithm, size, dk.KeyTag(), dk.ToDS(dns.SHA256).Digest)
}

// normalSchema is a schema of n slots with one key publishing and signing.
func normalSchema(key string, n int) string {
	s := "schemas:\n  normal:\n"
	for i := 1; i <= n; i++ {
		s += fmt.Sprintf("    %d: {publish: %s, sign: %s}\n", i, key, key)
	}
	return s
}

// TestOtherAlgorithmsSoftHSM signs with an ECDSA P-256, ECDSA P-384 and
// Ed25519 KSK on SoftHSM, over ZSKs of the same algorithm, and verifies
// the SKR, whose ResponsePolicy names the KSK's algorithm and size.
func TestOtherAlgorithmsSoftHSM(t *testing.T) {
	cases := []struct {
		key, zsk, policyElem string
	}{
		{"ec-prime256v1-1", "ec-prime256v1-2", `<ECDSA size="256"/>`},
		{"ec-secp384r1-1", "p384-1", `<ECDSA size="384"/>`},
		{"ed25519-1", "ed25519-gen-1", `<EdDSA size="256"/>`},
	}
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			tkey := tk.ImportTestKey(t, c.key, "ksk-"+c.key)
			cfg := mustParse(t, "keys:\n"+keyYAML(t, c.key, "ksk-"+c.key)+
				"request_policy:\n  approved_algorithms: ["+tkey.Algorithm.String()+"]\n  enable_unsupported_ecdsa: true\n  num_keys_per_bundle: []\n  num_different_keys_in_all_bundles: []\n"+
				normalSchema(strings.ReplaceAll(c.key, "-", "_"), 9))
			req := makeKSR(t, rootQuarterAlg(1, quarterStart(0), c.zsk, tkey.Algorithm))
			doc, rep, err := signer.Sign(context.Background(), cfg, signer.TokenKeys(tok), signer.Options{Schema: "normal", KSR: req, At: quarterStart(0)}, signer.SignOptions{})
			if err != nil {
				t.Fatalf("%v\n%s", err, findings(rep))
			}
			src := softKeys{"ksk-" + c.key: softhsmtest.LoadTestKey(t, c.key)}
			verifySKR(t, doc, req, anchorsOf(t, src, cfg))
			if xml := string(marshal(t, doc)); !strings.Contains(xml, c.policyElem) {
				t.Errorf("ResponsePolicy lacks %s", c.policyElem)
			}
			for _, b := range doc.Response.Bundles {
				if len(b.Signatures) != 1 || b.Signatures[0].Algorithm != uint8(tkey.Algorithm) || b.Signatures[0].KeyTag != tkey.KeyTag {
					t.Errorf("bundle %s: signatures %+v", b.ID, b.Signatures)
				}
			}
		})
	}
}

// rootQuarterAlg is rootQuarter with one ZSK of another algorithm in
// every bundle.
func rootQuarterAlg(q int, start time.Time, zskName string, alg hsm.Algorithm) quarterSpec {
	s := rootQuarter(q, start)
	s.id = fmt.Sprintf("ksr-%s-q%d", strings.ToLower(alg.String()), q)
	s.zsks = func(int) []zskRef { return []zskRef{{zskName, alg}} }
	return s
}

// TestSignatureFailureStops: a signer whose signatures do not verify stops
// the run with hsm.ErrSignatureInvalid and no document.
func TestSignatureFailureStops(t *testing.T) {
	cfg := mustConfig(t, goldenConfig)
	src := goldenKeys(t)
	src["ksk-test-2"] = badSigner{src["ksk-test-2"]}
	_, _, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: "rollover", KSR: loadDoc(t, ksr2018q1), At: at2018q1}, signer.SignOptions{})
	if err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("err %v", err)
	}
	if !errorsIs(err, hsm.ErrSignatureInvalid) {
		t.Errorf("%v does not wrap hsm.ErrSignatureInvalid", err)
	}
}

// badSigner flips a bit of every signature.
type badSigner struct{ crypto.Signer }

func (b badSigner) Sign(r ioReader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	s, err := b.Signer.Sign(r, d, o)
	if err == nil {
		s[len(s)/2] ^= 1
	}
	return s, err
}

// TestProgressAndCancel: progress is reported once per bundle; a canceled
// context stops the run.
func TestProgressAndCancel(t *testing.T) {
	cfg := mustConfig(t, goldenConfig)
	req := loadDoc(t, ksr2018q1)
	p, _, err := signer.Prepare(cfg, signer.Options{Schema: "rollover", KSR: req, At: at2018q1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.BindKeys(goldenKeys(t)); err != nil {
		t.Fatal(err)
	}
	var seen []int
	doc1, _, err := p.Sign(context.Background(), signer.SignOptions{Workers: 3, Progress: func(done, total int) {
		if total != 9 {
			t.Errorf("total %d", total)
		}
		seen = append(seen, done)
	}})
	if err != nil || len(seen) != 9 || seen[8] != 9 {
		t.Fatalf("err %v, progress %v", err, seen)
	}
	doc2, _, err := p.Sign(context.Background(), signer.SignOptions{Workers: 1})
	if err != nil || !bytes.Equal(marshal(t, doc1), marshal(t, doc2)) {
		t.Errorf("workers change the output (err %v)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := p.Sign(ctx, signer.SignOptions{}); err == nil {
		t.Error("a canceled context did not stop the run")
	}
}

// BenchmarkSignBundles signs a synthetic KSR of many bundles
// ($KSK_BENCH_BUNDLES, default 1000) with one RSA-2048 KSK on SoftHSM and
// reports bundles per second: the whole of Plan.Sign, software
// re-verification and skr.Verify of the result included, with
// $KSK_BENCH_WORKERS workers (default signer.DefaultWorkers()).
func BenchmarkSignBundles(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("KSK_BENCH_BUNDLES")); err == nil && v > 0 {
		n = v
	}
	tk := softhsmtest.NewToken(b)
	tok := tk.Open(b)
	tk.ImportTestKey(b, "rsa-2048-1", "ksk-bench")
	cfg := mustParse(b, "keys:\n"+keyYAML(b, "rsa-2048-1", "ksk-bench")+fmt.Sprintf(`request_policy:
  num_bundles: %d
  validate_signatures: false
  check_cycle_length: false
  num_keys_per_bundle: []
  num_different_keys_in_all_bundles: []
  signature_check_expire_horizon: false
response_policy:
  num_bundles: %d
`, n, n)+normalSchema("rsa_2048_1", n))
	spec := rootQuarter(1, quarterStart(0))
	spec.bundles, spec.pop = n, false
	spec.zsks = func(int) []zskRef { return []zskRef{{"rsa-900", hsm.RSASHA256}} }
	req := makeKSR(b, spec)
	p, rep, err := signer.Prepare(cfg, signer.Options{Schema: "normal", KSR: req, At: quarterStart(0)})
	if err != nil || !rep.Valid() {
		b.Fatalf("%v\n%s", err, findings(rep))
	}
	if rep, err := p.BindKeys(signer.TokenKeys(tok)); err != nil || !rep.Valid() {
		b.Fatalf("%v\n%s", err, findings(rep))
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, rep, err := p.Sign(context.Background(), signer.SignOptions{Workers: benchWorkers()}); err != nil {
			b.Fatalf("%v\n%s", err, findings(rep))
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "bundles/s")
}

// TestKSKMatchRecordedAlgorithm: a key ksk recorded as RSASHA512 does not
// pass for the RSASHA256 key the configuration names, though its DNSKEY
// material is the same RSA key.
func TestKSKMatchRecordedAlgorithm(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	tk.ImportTestKey(t, "rsa-2048-1", "ksk-test-1")
	tk.Import(t, "ksk-test-2", hsm.RSASHA512, softhsmtest.LoadTestKey(t, "rsa-2048-2"))
	cfg := mustConfig(t, goldenConfig)
	_, rep, err := signer.Sign(context.Background(), cfg, signer.TokenKeys(tok), signer.Options{Schema: "rollover", KSR: loadDoc(t, ksr2018q1), At: at2018q1}, signer.SignOptions{})
	if !errorsIs(err, signer.ErrChecksFailed) || !rep.Has(signer.CheckKSKMatch) || !strings.Contains(findings(rep), "recorded it in the HSM as a RSASHA512 key") {
		t.Errorf("%v\n%s", err, findings(rep))
	}
}

// benchWorkers is $KSK_BENCH_WORKERS, else signer.DefaultWorkers().
func benchWorkers() int {
	if v, err := strconv.Atoi(os.Getenv("KSK_BENCH_WORKERS")); err == nil && v > 0 {
		return v
	}
	return signer.DefaultWorkers()
}
