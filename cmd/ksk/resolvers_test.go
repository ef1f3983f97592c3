package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/internal/testenv"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/rollover"
	"github.com/ksk-dev/ksk/zsk"
	"github.com/miekg/dns"
)

// resolverRollover is a ksk-signed five-quarter rollover whose ZSKs are
// software keys, so the test can sign the rest of the zone with them.
type resolverRollover struct {
	dir            string
	start          time.Time
	skrs           []string // q1..q5: normal, pre-publish, rollover, revoke, post-revoke
	wrongQ2        string   // q2 signed with "rollover": the new KSK signs without hold-down
	zsks           map[uint16]crypto.Signer
	oldKSK, newKSK *dns.DNSKEY
	anchors        string
}

func (r *resolverRollover) day(n float64) time.Time {
	return r.start.Add(time.Duration(n * float64(24*time.Hour)))
}

// newResolverRollover signs the rollover on SoftHSM: the KSRs are made by
// package zsk from seven software RSA-2048 ZSKs, each continuing the SKR
// before, and signed by ksk sign with the quarter's standard schema.
func newResolverRollover(t *testing.T) *resolverRollover {
	t.Helper()
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	oldKey := tk.ImportTestKey(t, "rsa-2048-1", rehearsalOldLabel)
	newKey := tk.ImportTestKey(t, "rsa-2048-2", rehearsalNewLabel)
	r := &resolverRollover{dir: t.TempDir(), start: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), zsks: map[uint16]crypto.Signer{}}
	config := filepath.Join(r.dir, "signer.yaml")
	r.anchors = filepath.Join(r.dir, "anchors.ds")
	writeRehearsalFile(t, config, rehearsalConfig(oldKey.KeyTag, newKey.KeyTag))
	writeRehearsalFile(t, r.anchors, fmt.Sprintf(". IN DS %d 8 2 %s\n. IN DS %d 8 2 %s\n",
		oldKey.KeyTag, rehearsalOldDS, newKey.KeyTag, rehearsalNewDS))
	keys := make([]zsk.Key, 7)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = zsk.Key{Signer: k, Identifier: fmt.Sprintf("zsk-%d", i+1)}
	}
	var prev *ksr.Document
	var prevFile string
	for q, schema := range []string{"normal", "pre-publish", "rollover", "revoke", "post-revoke"} {
		opts := zsk.Options{Keys: keys[q : q+3], PreviousSKR: prev}
		if prev == nil {
			opts.Start = r.start
		}
		k, err := zsk.CreateKSR(opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range k.Request.Bundles {
			for j := range k.Request.Bundles[i].Keys {
				kk := &k.Request.Bundles[i].Keys[j]
				for _, zk := range keys {
					if kk.Identifier == zk.Identifier {
						r.zsks[kk.KeyTag] = zk.Signer
					}
				}
			}
		}
		data, err := ksr.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		ksrFile := filepath.Join(r.dir, fmt.Sprintf("ksr-q%d.xml", q+1))
		writeRehearsalFile(t, ksrFile, string(data))
		out := filepath.Join(r.dir, fmt.Sprintf("skr-q%d-%s.xml", q+1, schema))
		at := k.Request.Bundles[0].Inception.Format(time.RFC3339)
		sign := []string{"sign", "--config", config, "--schema", schema, "--ksr", ksrFile, "--at", at, "--out", out, "--yes"}
		if prevFile != "" {
			sign = append(sign, "--previous-skr", prevFile)
		}
		mustRun(t, tk, sign...)
		if q == 1 {
			r.wrongQ2 = filepath.Join(r.dir, "skr-q2-wrong-rollover.xml")
			mustRun(t, tk, "sign", "--config", config, "--schema", "rollover", "--ksr", ksrFile, "--at", at, "--out", r.wrongQ2, "--yes")
		}
		if prev, err = ksr.ParseFile(out, ksr.ParseOptions{}); err != nil {
			t.Fatal(err)
		}
		r.skrs, prevFile = append(r.skrs, out), out
	}
	first := mustParseDoc(t, r.skrs[0])
	r.oldKSK = rehearsalKSK(t, first, oldKey.KeyTag)
	last := mustParseDoc(t, r.skrs[4])
	r.newKSK = rehearsalKSK(t, last, newKey.KeyTag)
	return r
}

// timeline is the served DNSKEY RRsets of a sequence of SKR files.
func resolverTimeline(t *testing.T, files ...string) rfc5011.Timeline {
	t.Helper()
	var in []rfc5011.SKR
	for _, f := range files {
		in = append(in, rfc5011.SKR{Name: filepath.Base(f), Doc: mustParseDoc(t, f)})
	}
	tl, err := rfc5011.FromSKRs(in...)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// rootZone is the root zone served at one time: the DNSKEY RRset and its
// KSK RRSIGs as the SKR bundle has them, and a few records signed by
// every ZSK of the bundle, valid for the bundle's validity.
func (r *resolverRollover) rootZone(t *testing.T, s *rfc5011.Served, serial uint32) string {
	t.Helper()
	var b strings.Builder
	rrs := []dns.RR{}
	for _, txt := range []string{
		fmt.Sprintf(". 86400 IN SOA ns. hostmaster.ns. %d 1800 900 604800 86400", serial),
		". 86400 IN NS ns.",
		"ns. 86400 IN A 127.0.0.1",
		`kskcheck. 86400 IN TXT "ksk resolver test"`,
	} {
		rr, err := dns.NewRR(txt)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	for _, rr := range rrs {
		fmt.Fprintln(&b, rr.String())
	}
	for _, k := range s.Keys {
		fmt.Fprintln(&b, k.String())
	}
	for _, sig := range s.Sigs {
		fmt.Fprintln(&b, sig.String())
	}
	inception := uint32(s.Sigs[0].Inception)
	expiration := uint32(s.Sigs[0].Expiration)
	signed := 0
	for _, k := range s.Keys {
		signer, ok := r.zsks[k.KeyTag()]
		if !ok || k.Flags != 256 {
			continue
		}
		for _, rr := range rrs {
			sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rr.Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: rr.Header().Ttl},
				Algorithm: k.Algorithm, SignerName: ".", KeyTag: k.KeyTag(), Inception: inception, Expiration: expiration}
			if err := sig.Sign(signer, []dns.RR{rr}); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, sig.String())
		}
		signed++
	}
	if signed == 0 {
		t.Fatalf("%s: no ZSK of the bundle is ours", s.Source)
	}
	return b.String()
}

// freePort returns a loopback UDP and TCP port free at the time.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free loopback port")
	return 0
}

// daemon is a server process started by the test.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string
}

func startDaemon(t *testing.T, name, logFile string, env []string, argv ...string) *daemon {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{name, cmd, logFile}
	t.Cleanup(d.stop)
	return d
}

// stop ends the daemon and waits for it (it writes its state on the way).
func (d *daemon) stop() {
	if d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func (d *daemon) tail() string { return lastLines(readFileIfAny(d.log), 15) }

func readFileIfAny(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// waitDNS waits until a DNS server answers on 127.0.0.1:port.
func waitDNS(t *testing.T, d *daemon, port int, name string) {
	t.Helper()
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeSOA)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, err := c.Exchange(m, fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			return
		}
		if d.cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s does not answer on port %d:\n%s", d.name, port, d.tail())
}

// nsdServer serves the root zone from a zone file, restarted for each
// zone change.
type nsdServer struct {
	bin, dir string
	port     int
	d        *daemon
	serial   uint32
}

func newNSD(t *testing.T, bin, dir string) *nsdServer {
	t.Helper()
	n := &nsdServer{bin: bin, dir: dir, port: freePort(t)}
	conf := fmt.Sprintf(`server:
  ip-address: 127.0.0.1
  port: %d
  username: ""
  chroot: ""
  zonesdir: "%s"
  database: ""
  zonelistfile: "%s/zone.list"
  pidfile: "%s/nsd.pid"
  xfrdfile: "%s/xfrd.state"
  xfrdir: "%s"
  logfile: "%s/nsd.log"
  verbosity: 1
  server-count: 1
  do-ip6: no
remote-control:
  control-enable: no
zone:
  name: "."
  zonefile: "root.zone"
`, n.port, dir, dir, dir, dir, dir, dir)
	writeRehearsalFile(t, filepath.Join(dir, "nsd.conf"), conf)
	return n
}

func (n *nsdServer) serve(t *testing.T, zone string) {
	t.Helper()
	if n.d != nil {
		n.d.stop()
	}
	writeRehearsalFile(t, filepath.Join(n.dir, "root.zone"), zone)
	n.d = startDaemon(t, "nsd", filepath.Join(n.dir, "nsd.out"), nil, n.bin, "-d", "-c", filepath.Join(n.dir, "nsd.conf"))
	waitDNS(t, n.d, n.port, ".")
}

// unboundState is an Unbound trust anchor file's keys: key tag to RFC
// 5011 state, as Unbound names them.
var unboundKey = regexp.MustCompile(`(?m)^\.\s.*DNSKEY.*id = (\d+) .*;;state=(\d+) `)

// unboundStates maps Unbound's state numbers (autotrust.h) to ours.
var unboundStates = map[int]rfc5011.State{0: rfc5011.Start, 1: rfc5011.AddPend, 2: rfc5011.Valid, 3: rfc5011.Missing,
	4: rfc5011.Revoked, 5: rfc5011.Removed}

func parseUnboundAnchors(t *testing.T, file string) map[uint16]rfc5011.State {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint16]rfc5011.State{}
	for _, m := range unboundKey.FindAllStringSubmatch(string(data), -1) {
		tag, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		out[uint16(tag)] = unboundStates[n]
	}
	return out
}

// answer is what a resolver said to a validated query.
type answer struct {
	rcode int
	ad    bool
}

func (a answer) String() string {
	return fmt.Sprintf("%s AD=%v", dns.RcodeToString[a.rcode], a.ad)
}

func queryAD(t *testing.T, port int, name string, qtype uint16) answer {
	t.Helper()
	c := &dns.Client{Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	m.RecursionDesired = true
	r, _, err := c.Exchange(m, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	return answer{r.Rcode, r.AuthenticatedData}
}

// validator is a real validating resolver the test drives: started at a
// time from the trust anchor state it kept in its directory, asked one
// question, and stopped.
type validator interface {
	// Name is the resolver's name in test output.
	Name() string
	// Model is the ksk rollover check population whose rule for
	// accepting a new KSK this resolver has.
	Model() string
	// Init writes the initial trust anchor (the old KSK) into dir.
	Init(t *testing.T, dir string, anchor *dns.DNSKEY)
	// At starts the resolver with its clock at "at" (testdata/timeshift), asks
	// for kskcheck. TXT through the authoritative server on upstream,
	// and returns the answer and each key's RFC 5011 state as the
	// resolver keeps it.
	At(t *testing.T, dir string, upstream int, at time.Time) (answer, map[uint16]rfc5011.State)
}

// clock is testdata/timeshift built for this test: an LD_PRELOAD
// library that shifts a process's wall clock (see timeshift.c for why not
// libfaketime).
type clock string

// buildClock compiles the library into a temporary directory.
func buildClock(t *testing.T) clock {
	t.Helper()
	cc := testenv.RequireTool(t, "cc", "gcc")
	lib := filepath.Join(t.TempDir(), "timeshift.so")
	out, err := exec.Command(cc, "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", lib, filepath.Join("testdata", "timeshift", "timeshift.c")).CombinedOutput()
	if err != nil {
		t.Fatalf("build testdata/timeshift: %v\n%s", err, out)
	}
	return clock(lib)
}

// env is the environment that starts a process with its wall clock at
// "at" (and running on from there).
func (c clock) env(at time.Time) []string {
	return []string{"LD_PRELOAD=" + string(c), fmt.Sprintf("KSK_TIMESHIFT=%d", int64(math.Ceil(time.Until(at).Seconds())))}
}

// unbound is Unbound with an RFC 5011 auto-trust-anchor-file.
type unbound struct {
	bin   string
	clock clock
}

func (u unbound) Name() string { return "unbound" }

// Model: Unbound trusts a pending key once its hold-down has passed.
func (u unbound) Model() string { return rollover.PopOnline }

func (u unbound) Init(t *testing.T, dir string, anchor *dns.DNSKEY) {
	writeRehearsalFile(t, filepath.Join(dir, "root.key"), anchor.String()+"\n")
}

// At asks for kskcheck. TXT, which primes the root trust anchor: Unbound
// runs RFC 5011 over the DNSKEY RRset before it answers, and writes its
// trust anchor file when it stops.
func (u unbound) At(t *testing.T, dir string, upstream int, at time.Time) (answer, map[uint16]rfc5011.State) {
	t.Helper()
	port := freePort(t)
	conf := fmt.Sprintf(`server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: "%s/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  val-log-level: 2
  do-not-query-localhost: no
  qname-minimisation: no
  harden-dnssec-stripped: yes
  trust-anchor-signaling: no
  root-key-sentinel: no
  auto-trust-anchor-file: "%s/root.key"
  num-threads: 1
stub-zone:
  name: "."
  stub-addr: 127.0.0.1@%d
  stub-prime: no
remote-control:
  control-enable: no
`, port, dir, dir, dir, upstream)
	writeRehearsalFile(t, filepath.Join(dir, "unbound.conf"), conf)
	d := startDaemon(t, "unbound", filepath.Join(dir, "unbound.out"), u.clock.env(at), u.bin, "-d", "-c", filepath.Join(dir, "unbound.conf"))
	waitDNS(t, d, port, ".")
	a := queryAD(t, port, "kskcheck.", dns.TypeTXT)
	d.stop()
	if os.Getenv("KSK_RESOLVER_DEBUG") != "" {
		t.Logf("unbound at %s: %s\n%s\n%s", at.Format(time.RFC3339), a, d.tail(), readFileIfAny(filepath.Join(dir, "root.key")))
	}
	return a, parseUnboundAnchors(t, filepath.Join(dir, "root.key"))
}

// predicted replays a lane's transitions up to at: the state ksk rollover
// check predicts for the key then.
func predicted(l *rollover.Lane, at time.Time) rfc5011.State {
	s := rfc5011.Start
	if l.Anchor {
		s = rfc5011.Valid // a configured trust anchor
	}
	for _, tr := range l.States {
		if tr.At.After(at) {
			break
		}
		for i := rfc5011.Start; i <= rfc5011.Removed; i++ {
			if i.String() == tr.To {
				s = i
			}
		}
	}
	return s
}

// TestResolversFollowRollover serves a ksk-signed five-quarter RFC 5011
// rollover with NSD and has a real Unbound and a real BIND named, their
// clocks driven through the quarters by testdata/timeshift and started
// from the old KSK alone, follow it: after every phase, each key's state
// in the resolver is the state ksk rollover check predicted, and a query
// under the root validates (AD). Then the wrong sequence (the new KSK
// signing without hold-down) makes each fail exactly where ksk rollover
// check's population for its acceptance rule says: Unbound until the
// hold-down is over (rfc5011-online), named for good (rfc5011-strict).
func TestResolversFollowRollover(t *testing.T) {
	if testing.Short() {
		t.Skip("real resolvers over a signed rollover")
	}
	nsdBin := testenv.RequireTool(t, "nsd", "nsd")
	c := buildClock(t)
	validators := []validator{
		unbound{testenv.RequireTool(t, "unbound", "unbound"), c},
		named{testenv.RequireTool(t, "named", "bind9"), testenv.RequireTool(t, "rndc", "bind9"), c},
	}
	began := time.Now()
	r := newResolverRollover(t)
	signed := time.Since(began)

	check := rolloverCheckJSON(t, 0, append([]string{"--anchors", r.anchors}, r.skrs...)...)
	oldLane, newLane := findLane(t, check, r.oldKSK.KeyTag()), findLane(t, check, r.newKSK.KeyTag())

	nsdDir := t.TempDir()
	n := newNSD(t, nsdBin, nsdDir)

	// follow drives Unbound over a timeline: at every query time, the
	// zone of the bundle served then, and Unbound started at that time.
	type probe struct {
		at     time.Time
		answer answer
		states map[uint16]rfc5011.State
	}
	follow := func(t *testing.T, v validator, tl rfc5011.Timeline, times []time.Time) []probe {
		vDir := t.TempDir()
		v.Init(t, vDir, r.oldKSK)
		var out []probe
		var served *rfc5011.Served
		for _, at := range times {
			s := tl.At(at)
			if s == nil {
				t.Fatalf("nothing served at %s", at)
			}
			if s != served {
				n.serial++
				n.serve(t, r.rootZone(t, s, n.serial))
				served = s
			}
			a, st := v.At(t, vDir, n.port, at)
			out = append(out, probe{at, a, st})
		}
		return out
	}
	// Query times: an hour into every bundle and five days later, as a
	// resolver refreshing the DNSKEY RRset would (RFC 5011 §2.3 wants at
	// least one refresh per 15 days; Unbound's is half the TTL).
	times := func(tl rfc5011.Timeline, extra ...time.Time) []time.Time {
		var ts []time.Time
		for _, s := range tl {
			ts = append(ts, s.From.Add(time.Hour), s.From.Add(5*24*time.Hour))
		}
		ts = append(ts, extra...)
		sortTimes(ts)
		return ts
	}

	for _, v := range validators {
		t.Run(v.Name()+" follows the rollover", func(t *testing.T) {
			tl := resolverTimeline(t, r.skrs...)
			// The phases: old alone, new pre-published (hold-down), new
			// accepted, new signing, old revoked, old removed, new alone.
			phases := []struct {
				name string
				at   time.Time
			}{
				{"normal", r.day(60)},
				{"pre-published, in hold-down", r.day(115.5)},
				{"new KSK accepted", r.day(135.5)},
				{"rollover: new KSK signs", r.day(200.5)},
				{"old KSK revoked", r.day(290.5)},
				{"old KSK removed", r.day(315.5)},
				{"post-revoke", r.day(450)},
			}
			var extra []time.Time
			for _, p := range phases {
				extra = append(extra, p.at)
			}
			probes := follow(t, v, tl, times(tl, extra...))
			byTime := map[time.Time]probe{}
			for _, p := range probes {
				byTime[p.at] = p
				if p.answer.rcode != dns.RcodeSuccess || !p.answer.ad {
					t.Errorf("%s: kskcheck. TXT: %s", p.at.Format(time.RFC3339), p.answer)
				}
			}
			for _, ph := range phases {
				p := byTime[ph.at]
				for _, l := range []*rollover.Lane{oldLane, newLane} {
					want := predicted(l, ph.at)
					got, ok := p.states[l.KeyTag]
					if !ok {
						// Both resolvers list a revoked key with its
						// REVOKE flag, under its revoked key tag.
						got, ok = p.states[l.RevokedTag]
					}
					if !ok {
						got = rfc5011.Start
					}
					if want == rfc5011.Removed && !ok {
						got = rfc5011.Removed // a resolver may forget a removed key
					}
					if got != want {
						t.Errorf("%s (%s): KSK %d is %s in %s, ksk rollover check predicted %s", ph.name,
							ph.at.Format(time.RFC3339), l.KeyTag, got, v.Name(), want)
					}
				}
				t.Logf("%-28s %s  %s  %s's key states: %v", ph.name, ph.at.Format("2006-01-02"), p.answer, v.Name(), p.states)
			}
		})

		t.Run(v.Name()+" fails where predicted", func(t *testing.T) {
			files := []string{r.skrs[0], r.wrongQ2}
			wrong := rolloverCheckJSON(t, 1, append([]string{"--anchors", r.anchors}, files...)...)
			outs := wrong.Population(v.Model()).Outages
			if len(outs) != 1 || outs[0].Cause != rfc5011.CauseNotYetTrusted {
				t.Fatalf("predicted %s outages %+v", v.Model(), outs)
			}
			o := outs[0]
			tl := resolverTimeline(t, files...)
			// Around each edge of the predicted outage. The simulated
			// resolver's queries fall on the hour of each bundle's
			// inception, the real one's probes an hour later, so its
			// hold-down ends up to an hour after the predicted edge:
			// probes within two hours after an edge are not judged. An
			// open outage lasts to the end of the SKRs.
			edges := []time.Time{o.From.Add(-2 * time.Hour), o.From.Add(3 * time.Hour), o.From.Add(24 * time.Hour)}
			if !o.Open {
				edges = append(edges, o.Until.Add(-12*time.Hour), o.Until.Add(3*time.Hour))
			}
			probes := follow(t, v, tl, times(tl, edges...))
			judged, failed := 0, 0
			for _, p := range probes {
				if d := p.at.Sub(o.From); d >= 0 && d < 2*time.Hour {
					continue
				}
				if d := p.at.Sub(o.Until); d >= 0 && d < 2*time.Hour {
					continue
				}
				judged++
				inside := !p.at.Before(o.From) && p.at.Before(o.Until)
				if inside {
					failed++
					if p.answer.rcode != dns.RcodeServerFailure {
						t.Errorf("%s: %s %s, want SERVFAIL", p.at.Format(time.RFC3339), v.Name(), p.answer)
					}
				}
				ok := p.answer.rcode == dns.RcodeSuccess && p.answer.ad
				if inside == ok {
					t.Errorf("%s: %s %s; ksk predicted failure %s .. %s", p.at.Format(time.RFC3339), v.Name(), p.answer,
						o.From.Format(time.RFC3339), o.Until.Format(time.RFC3339))
				}
			}
			if failed < 3 || judged < 10 {
				t.Errorf("%d probes judged, %d inside the predicted outage", judged, failed)
			}
			t.Logf("%s, wrong sequence: %d probes judged, %d of them SERVFAIL inside the predicted outage %s .. %s", v.Name(), judged, failed,
				o.From.Format(time.RFC3339), o.Until.Format(time.RFC3339))
		})
	}
	t.Logf("resolver test: %s in all, of which %s signing the SKRs on SoftHSM", time.Since(began).Round(time.Second), signed.Round(time.Second))
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
