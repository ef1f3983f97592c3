package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/rollover"
	"github.com/miekg/dns"
)

// named is BIND 9's named with the root as an RFC 5011 managed key
// ("trust-anchors { . initial-key ... }"), forwarding to the
// authoritative server, its key states read with rndc managed-keys status.
type named struct {
	bin, rndc string
	clock     clock
}

func (n named) Name() string { return "named" }

// Model: named trusts a pending key only from a validated RRset.
func (n named) Model() string { return rollover.PopStrict }

// Init writes the trust anchor clause; named keeps its RFC 5011 state in
// managed-keys.bind in the same directory.
func (n named) Init(t *testing.T, dir string, anchor *dns.DNSKEY) {
	t.Helper()
	clause := fmt.Sprintf("trust-anchors {\n  . initial-key %d %d %d \"%s\";\n};\n",
		anchor.Flags, anchor.Protocol, anchor.Algorithm, anchor.PublicKey)
	writeRehearsalFile(t, filepath.Join(dir, "anchors.conf"), clause)
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("key \"rndc-key\" {\n  algorithm hmac-sha256;\n  secret \"%s\";\n};\n", base64.StdEncoding.EncodeToString(secret))
	writeRehearsalFile(t, filepath.Join(dir, "rndc.key"), key)
}

// At starts named at "at", asks for kskcheck. TXT, waits until named has
// refreshed the root's managed keys (RFC 5011 §2.3's active refresh, done
// at start-up when the scheduled refresh has passed) and reads their
// states.
func (n named) At(t *testing.T, dir string, upstream int, at time.Time) (answer, map[uint16]rfc5011.State) {
	t.Helper()
	port, ctl := freePort(t), freePort(t)
	conf := fmt.Sprintf(`include "%[1]s/rndc.key";
include "%[1]s/anchors.conf";
options {
  directory "%[1]s";
  pid-file "%[1]s/named.pid";
  session-keyfile "%[1]s/session.key";
  managed-keys-directory "%[1]s";
  listen-on port %[2]d { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion yes;
  allow-query { 127.0.0.1; };
  allow-recursion { 127.0.0.1; };
  dnssec-validation yes;
  qname-minimization off;
  forward only;
  forwarders { 127.0.0.1 port %[3]d; };
  notify no;
  trust-anchor-telemetry no;
  root-key-sentinel no;
  max-cache-size 16m;
};
controls { inet 127.0.0.1 port %[4]d allow { 127.0.0.1; } keys { "rndc-key"; }; };
`, dir, port, upstream, ctl)
	writeRehearsalFile(t, filepath.Join(dir, "named.conf"), conf)
	rndcConf := fmt.Sprintf("include \"%s/rndc.key\";\noptions { default-key \"rndc-key\"; default-server 127.0.0.1; default-port %d; };\n", dir, ctl)
	writeRehearsalFile(t, filepath.Join(dir, "rndc.conf"), rndcConf)
	d := startDaemon(t, "named", filepath.Join(dir, "named.out"), n.clock.env(at), n.bin, "-g", "-n", "1", "-c", filepath.Join(dir, "named.conf"))
	waitDNS(t, d, port, ".")
	a := queryAD(t, port, "kskcheck.", dns.TypeTXT)
	// The refresh is asynchronous: wait until named schedules the next
	// one after "at" (it has then processed the fetched DNSKEY RRset).
	var status string
	deadline := time.Now().Add(20 * time.Second)
	for {
		status = n.status(t, dir, at)
		if refreshed(status, at) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("named at %s did not refresh its managed keys:\n%s\n%s", at.Format(time.RFC3339), status, d.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop()
	if os.Getenv("KSK_RESOLVER_DEBUG") != "" {
		t.Logf("named at %s: %s\n%s\n%s", at.Format(time.RFC3339), a, status, d.tail())
	}
	return a, parseNamedStatus(t, status)
}

// status runs rndc managed-keys status, at the same simulated time (rndc
// signs its messages with a timestamp that named checks).
func (n named) status(t *testing.T, dir string, at time.Time) string {
	t.Helper()
	cmd := exec.Command(n.rndc, "-c", filepath.Join(dir, "rndc.conf"), "managed-keys", "status")
	cmd.Env = append(os.Environ(), n.clock.env(at)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("rndc: %v: %s", err, out)
	}
	return string(out)
}

var namedNextRefresh = regexp.MustCompile(`next refresh: (.+)`)

// refreshed reports whether status shows the root's keys refreshed: its
// next refresh scheduled after at.
func refreshed(status string, at time.Time) bool {
	m := namedNextRefresh.FindStringSubmatch(status)
	if m == nil {
		return false
	}
	next, err := time.Parse("Mon, 02 Jan 2006 15:04:05 MST", strings.TrimSpace(m[1]))
	return err == nil && next.After(at)
}

// parseNamedStatus reads each key's RFC 5011 state from rndc
// managed-keys status. named prints, per key: "trusted since" (Valid),
// "trust pending" (AddPend), "key has been revoked" with "remove at"
// (Revoked); a key it no longer knows is gone (Removed or Start).
func parseNamedStatus(t *testing.T, status string) map[uint16]rfc5011.State {
	t.Helper()
	out := map[uint16]rfc5011.State{}
	blocks := strings.Split(status, "keyid: ")
	for _, b := range blocks[1:] {
		line, _, _ := strings.Cut(b, "\n")
		tag, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("rndc managed-keys status: key id %q", line)
		}
		switch {
		case strings.Contains(b, "revoked"):
			out[uint16(tag)] = rfc5011.Revoked
		case strings.Contains(b, "trust pending"), strings.Contains(b, "not yet trusted"):
			out[uint16(tag)] = rfc5011.AddPend
		case strings.Contains(b, "trusted"):
			out[uint16(tag)] = rfc5011.Valid
		default:
			t.Fatalf("rndc managed-keys status: key %d in no known state:\n%s", tag, b)
		}
	}
	return out
}
