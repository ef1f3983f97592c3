package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/signer"
	"github.com/ksk-dev/ksk/zsk"
	"github.com/miekg/pkcs11"
)

// Issue 4 §8: the benchmark of extended signing.
const (
	benchInterval = 24 * time.Hour     // one bundle a day: 10,000 bundles span 27 years
	benchValidity = 2 * 24 * time.Hour // each valid two days, overlapping one
	benchRawSigns = 2000               // raw C_Sign calls per rate measurement
	benchKSKLabel = "ksk-test-1"       // the golden configuration's labels
	benchKSK2     = "ksk-test-2"
	benchSignRuns = 5 // subprocess runs of ksk sign on the 9-bundle KSR
)

var benchStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// benchBundles is the size of the synthetic KSR: 10,000, or
// $KSK_BENCH_BUNDLES for a quick trial of the benchmark itself.
var benchBundles = func() int {
	if n, err := strconv.Atoi(os.Getenv("KSK_BENCH_BUNDLES")); err == nil && n > 1 {
		return n
	}
	return 10000
}()

// benchConfig is the signer configuration of extended signing: the root
// zone's policy except for the cadence and the number of bundles (one
// RSA-2048 ZSK in every bundle, a bundle a day, each valid two days), and
// a schema of benchBundles slots, each published and signed by the KSK.
func benchConfig() string {
	var b strings.Builder
	fmt.Fprintf(&b, `keys:
  ksk:
    label: %s
    algorithm: RSASHA256
    rsa_size: 2048
    rsa_exponent: 65537
    key_tag: 25486
    ds_sha256: 6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C20
    valid_from: 2020-01-01T00:00:00Z
request_policy:
  num_bundles: [%[2]d]
  check_cycle_length: false
  min_bundle_interval: P1D
  max_bundle_interval: P1D
  num_keys_per_bundle: []
  num_different_keys_in_all_bundles: [1]
  signature_check_expire_horizon: false
response_policy:
  num_bundles: [%[2]d]
ksk_policy:
  max_signature_validity: P2D
  min_signature_validity: P2D
  max_validity_overlap: P1D
  min_validity_overlap: P1D
schemas:
  extended:
`, benchKSKLabel, benchBundles)
	for i := 1; i <= benchBundles; i++ {
		fmt.Fprintf(&b, "    %d: {publish: ksk, sign: ksk}\n", i)
	}
	return b.String()
}

// BenchmarkExtendedSigning is issue 4 §8, run by make bench. In one run
// it:
//
//   - makes a synthetic KSR of 10,000 bundles with zsk.CreateKSR (one
//     software RSA-2048 ZSK, a bundle a day) and writes it;
//   - signs it with one RSA-2048 KSK on SoftHSM as ksk sign does (parse,
//     signer.Prepare, BindKeys, Sign, ksr.Marshal, atomic write), once with
//     one worker and once with signer.DefaultWorkers;
//   - measures, just before and just after, the raw C_SignInit + C_Sign
//     rate of the same key on bare PKCS#11 sessions: one session, and as
//     many sessions in parallel as the signer has workers;
//   - reports both rates and their ratio (goal: at least 0.9), the peak
//     memory of the signing (VmHWM, reset before each run, and the Go
//     heap's peak), and the wall time of ksk sign on the real 9-bundle
//     ksr-root-2018-q1-0-d_to_e.xml as a subprocess, process start
//     included (goal: under 0.1 s; kskm takes 0.55-0.8 s).
//
// It runs once whatever -benchtime says (a run takes about a minute).
func BenchmarkExtendedSigning(b *testing.B) {
	tk := softhsmtest.NewToken(b)
	tok := tk.Open(b)
	tk.ImportTestKey(b, "rsa-2048-1", benchKSKLabel)
	tk.ImportTestKey(b, "rsa-2048-2", benchKSK2)
	dir := b.TempDir()

	t0 := time.Now()
	ksrFile := filepath.Join(dir, "ksr-extended.xml")
	size := writeExtendedKSR(b, ksrFile)
	b.Logf("synthetic KSR: %d bundles, %.1f MB, made in %s", benchBundles, float64(size)/1e6, time.Since(t0).Round(time.Millisecond))
	cfg, err := signer.ParseConfig([]byte(benchConfig()))
	if err != nil {
		b.Fatal(err)
	}
	raw := newRawSigner(b, tk, benchKSKLabel)
	workers := signer.DefaultWorkers()

	var last benchResult
	for b.Loop() {
		var r benchResult
		r.raw1 = append(r.raw1, raw.rate(b, benchRawSigns, 1))
		r.rawN = append(r.rawN, raw.rate(b, benchRawSigns, workers))
		r.sign1 = signExtended(b, cfg, tok, ksrFile, filepath.Join(dir, "skr-1.xml"), 1)
		r.signN = signExtended(b, cfg, tok, ksrFile, filepath.Join(dir, "skr-n.xml"), workers)
		r.raw1 = append(r.raw1, raw.rate(b, benchRawSigns, 1))
		r.rawN = append(r.rawN, raw.rate(b, benchRawSigns, workers))
		last = r
	}
	b.StopTimer()
	r := last
	raw1, rawN := mean(r.raw1), mean(r.rawN)
	b.Logf("raw C_Sign, 1 session:           %7.0f sig/s (before %.0f, after %.0f)", raw1, r.raw1[0], r.raw1[1])
	b.Logf("raw C_Sign, %d sessions:          %7.0f sig/s (before %.0f, after %.0f)", workers, rawN, r.rawN[0], r.rawN[1])
	for _, s := range []struct {
		run signRun
		raw float64
	}{{r.sign1, raw1}, {r.signN, rawN}} {
		b.Logf("ksk sign, %d worker(s): %s", s.run.workers, s.run)
		b.Logf("  signing rate %.0f sig/s = %.3f of raw; end to end %.0f bundles/s = %.3f of raw",
			s.run.signRate(), s.run.signRate()/s.raw, s.run.e2eRate(), s.run.e2eRate()/s.raw)
	}
	b.ReportMetric(raw1, "raw_sig/s")
	b.ReportMetric(r.sign1.signRate(), "sign_sig/s")
	b.ReportMetric(r.sign1.signRate()/raw1, "rate_ratio")
	b.ReportMetric(r.sign1.e2eRate()/raw1, "e2e_ratio")
	b.ReportMetric(r.signN.signRate()/rawN, "rate_ratio_parallel")
	b.ReportMetric(float64(max(r.sign1.vmHWM, r.signN.vmHWM))/(1<<20), "peak_RSS_MB")

	// One ksk sign of a real 9-bundle KSR, as a subprocess.
	if ms, err := timeSign9(tk, dir); err != nil {
		b.Logf("ksk sign of the 9-bundle KSR: not measured: %v", err)
	} else {
		b.Logf("ksk sign of ksr-root-2018-q1-0-d_to_e.xml (9 bundles), subprocess, %d runs: min %.1f ms, median %.1f ms",
			len(ms), ms[0], ms[len(ms)/2])
		b.ReportMetric(ms[len(ms)/2], "sign9_ms")
	}
}

type benchResult struct {
	raw1, rawN   []float64
	sign1, signN signRun
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// writeExtendedKSR makes the synthetic KSR with zsk.CreateKSR and writes
// it to path; it returns its size.
func writeExtendedKSR(b *testing.B, path string) int {
	zskKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	doc, err := zsk.CreateKSR(zsk.Options{
		Keys:     []zsk.Key{{Signer: zskKey, Identifier: "zsk-extended"}},
		Start:    benchStart,
		Bundles:  benchBundles,
		Interval: benchInterval,
		Validity: benchValidity,
		IDSeed:   "benchmark",
	})
	if err != nil {
		b.Fatal(err)
	}
	data, err := ksr.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return len(data)
}

// signRun is one signing of the synthetic KSR, phase by phase.
type signRun struct {
	workers                                int
	parse, prepare, bind, sign, write, all time.Duration
	signatures                             int
	vmHWM                                  int64  // peak RSS in bytes since the run started
	heapPeak                               uint64 // largest HeapInuse sampled
}

func (s signRun) signRate() float64 { return float64(s.signatures) / s.sign.Seconds() }
func (s signRun) e2eRate() float64  { return float64(s.signatures) / s.all.Seconds() }

func (s signRun) String() string {
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("%d signatures in %s (parse %s, prepare %s, bind keys %s, sign %s, marshal+write %s); peak RSS %.1f MB, peak Go heap %.1f MB",
		s.signatures, r(s.all), r(s.parse), r(s.prepare), r(s.bind), r(s.sign), r(s.write),
		float64(s.vmHWM)/(1<<20), float64(s.heapPeak)/(1<<20))
}

// signExtended does what ksk sign does with the synthetic KSR: parse it,
// run every check, bind the KSK, sign with the given number of workers,
// marshal and write the SKR atomically.
func signExtended(b *testing.B, cfg *signer.Config, tok *hsm.Token, ksrFile, out string, workers int) signRun {
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)
	stop := sampleHeap()
	run := signRun{workers: workers}

	t0 := time.Now()
	doc, err := ksr.ParseFile(ksrFile, ksr.ParseOptions{MaxSize: DefaultSignMaxSize})
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	plan, rep, err := signer.Prepare(cfg, signer.Options{Schema: "extended", KSR: doc, At: benchStart})
	if err != nil || !rep.Valid() {
		b.Fatalf("prepare: %v\n%s", err, reportText(rep))
	}
	t2 := time.Now()
	if rep, err = plan.BindKeys(signer.TokenKeys(tok)); err != nil || !rep.Valid() {
		b.Fatalf("bind keys: %v\n%s", err, reportText(rep))
	}
	t3 := time.Now()
	skrDoc, rep, err := plan.Sign(context.Background(), signer.SignOptions{Workers: workers})
	if err != nil {
		b.Fatalf("sign: %v\n%s", err, reportText(rep))
	}
	t4 := time.Now()
	data, err := ksr.Marshal(skrDoc)
	if err != nil {
		b.Fatal(err)
	}
	if err := atomicfile.Write(out, data, 0o644, true); err != nil {
		b.Fatal(err)
	}
	t5 := time.Now()

	run.parse, run.prepare, run.bind, run.sign, run.write, run.all = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t5.Sub(t0)
	for _, bd := range skrDoc.Response.Bundles {
		run.signatures += len(bd.Signatures)
	}
	if run.signatures != benchBundles {
		b.Fatalf("%d signatures, want %d", run.signatures, benchBundles)
	}
	run.heapPeak = stop()
	run.vmHWM = peakRSS(b)
	return run
}

func reportText(rep *check.Report) string {
	if rep == nil {
		return ""
	}
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// sampleHeap samples runtime.MemStats.HeapInuse every 20 ms until the
// returned function is called, which returns the largest value seen.
func sampleHeap() func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// resetPeakRSS resets the kernel's VmHWM of this process (Linux 4.0+:
// writing 5 to /proc/self/clear_refs).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v): the peak reported includes the set-up", err)
	}
}

// peakRSS returns VmHWM from /proc/self/status, in bytes.
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Logf("no /proc/self/status: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// rawSigner signs with bare C_SignInit + C_Sign, as
// hsm/bench_test.go's BenchmarkRawCSign does, on sessions of its own. The
// hsm package keeps its PKCS#11 context internal, so this loads the same
// module through miekg/pkcs11: dlopen returns the library already loaded
// and C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED. It never
// calls C_Finalize, which would end the hsm package's sessions too; the
// token's login (by softhsmtest.Token.Open) covers these sessions.
type rawSigner struct {
	ctx  *pkcs11.Ctx
	slot uint
	priv pkcs11.ObjectHandle
	data []byte // DigestInfo || SHA-256 digest, what hsm.Key.Sign passes
}

func newRawSigner(b *testing.B, tk *softhsmtest.Token, label string) *rawSigner {
	ctx := pkcs11.New(tk.Module)
	if ctx == nil {
		b.Fatalf("cannot load %s", tk.Module)
	}
	b.Cleanup(ctx.Destroy)
	if err := ctx.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		b.Fatal(err)
	}
	r := &rawSigner{ctx: ctx, slot: benchSlot(b, ctx, tk.Serial)}
	sh := r.session(b)
	defer ctx.CloseSession(sh)
	if err := ctx.FindObjectsInit(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}); err != nil {
		b.Fatal(err)
	}
	hs, _, err := ctx.FindObjects(sh, 2)
	ctx.FindObjectsFinal(sh)
	if err != nil || len(hs) != 1 {
		b.Fatalf("private key %q: %d found, %v", label, len(hs), err)
	}
	r.priv = hs[0]
	digest := sha256.Sum256([]byte(strings.Repeat("DNSKEY RRset to sign ", 60)))
	prefix := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	r.data = append(prefix, digest[:]...)
	return r
}

func (r *rawSigner) session(b *testing.B) pkcs11.SessionHandle {
	sh, err := r.ctx.OpenSession(r.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		b.Fatal(err)
	}
	return sh
}

// rate signs n times over the given number of sessions in parallel and
// returns the signatures per second.
func (r *rawSigner) rate(b *testing.B, n, sessions int) float64 {
	shs := make([]pkcs11.SessionHandle, sessions)
	for i := range shs {
		shs[i] = r.session(b)
	}
	defer func() {
		for _, sh := range shs {
			r.ctx.CloseSession(sh)
		}
	}()
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}
	var (
		wg   sync.WaitGroup
		errs = make([]error, sessions)
	)
	t0 := time.Now()
	for i, sh := range shs {
		count := n / sessions
		if i < n%sessions {
			count++
		}
		wg.Go(func() {
			for range count {
				if err := r.ctx.SignInit(sh, mech, r.priv); err != nil {
					errs[i] = err
					return
				}
				if _, err := r.ctx.Sign(sh, r.data); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	return float64(n) / el.Seconds()
}

func benchSlot(b *testing.B, ctx *pkcs11.Ctx, serial string) uint {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range slots {
		if ti, err := ctx.GetTokenInfo(s); err == nil && strings.TrimRight(ti.SerialNumber, " \x00") == serial {
			return s
		}
	}
	b.Fatalf("no slot with serial %s", serial)
	return 0
}

// timeSign9 builds ksk into dir and times ksk sign of the real 9-bundle
// ksr-root-2018-q1-0-d_to_e.xml with the golden configuration, as a
// subprocess, benchSignRuns times. It returns the wall times in
// milliseconds, sorted. (No peak RSS: Go starts children with vfork, so
// a child's ru_maxrss includes this process's.)
func timeSign9(tk *softhsmtest.Token, dir string) ([]float64, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("no go tool to build ksk: %w", err)
	}
	bin := filepath.Join(dir, "ksk")
	build := exec.Command(goTool, "build", "-trimpath", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	env := append(os.Environ(),
		"KSK_PKCS11_MODULE="+tk.Module,
		"KSK_TOKEN="+tk.Label,
		"KSK_PIN_SOURCE="+tk.PINSource().String(),
		hsm.EnvStateDir+"="+tk.StateDir,
	)
	var ms []float64
	for i := range benchSignRuns {
		out := filepath.Join(dir, fmt.Sprintf("skr9-%d.xml", i))
		cmd := exec.Command(bin, "sign", "--config", signGoldenConfigPath, "--schema", "rollover",
			"--ksr", signKSRPath, "--at", "2018-01-01T00:00:00Z", "--out", out, "--yes")
		cmd.Env = env
		t0 := time.Now()
		combined, err := cmd.CombinedOutput()
		el := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("ksk sign: %w\n%s", err, combined)
		}
		ms = append(ms, float64(el.Microseconds())/1000)
	}
	slices.Sort(ms)
	return ms, nil
}

// The real 9-bundle KSR and the golden configuration that signs it with
// the test keys (labels ksk-test-1 and ksk-test-2).
const (
	signGoldenConfigPath = "../../testdata/golden/signer-2018-q1-d_to_e.yaml"
	signKSRPath          = "../../testdata/iana-root/ksr-root-2018-q1-0-d_to_e.xml"
)
