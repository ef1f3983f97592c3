package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/testenv"
	"github.com/ksk-dev/ksk/transparency"
)

// publishFixture is a SoftHSM token holding the ceremony attestation key
// (ECDSA P-256, made by ksk keys generate) and a log sealed by it.
type publishFixture struct {
	tk        *softhsmtest.Token
	dir, log  string
	attestPEM string
}

func newPublishFixture(t *testing.T) *publishFixture {
	t.Helper()
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	f := &publishFixture{tk: tk, dir: t.TempDir()}
	f.log = filepath.Join(f.dir, "ceremony.log")
	mustRun(t, tk, "keys", "generate", "--label", "ksk-attestation", "--algorithm", "ECDSAP256SHA256")

	// Seal with the HSM key; the handle is closed before ksk runs again.
	m, err := hsm.OpenModule(tk.Module)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.OpenToken(tk.Selector())
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Login(tk.LoginOptions()); err != nil {
		t.Fatal(err)
	}
	key, err := tok.FindKey("ksk-attestation")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	w, err := attest.Create(f.log, attest.Entry{Step: "open", Actor: "ksk", Details: map[string]string{"ceremony": "KSK-REKOR"}}, attest.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"act1.roster", "act2.load-ksr", "act3.sign"} {
		if _, err := w.Append(attest.Entry{Step: s, Actor: "ca:carol", Details: map[string]string{"result": "confirmed"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal("act3.seal", "ksk", key); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.attestPEM = filepath.Join(f.dir, "attest.pem")
	_, der, _ := attest.KeyFingerprint(key.Public())
	writeBytes(t, f.attestPEM, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	tok.Close()
	m.Close()
	return f
}

func writeBytes(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rekorServer returns the real Rekor of scripts/rekor.sh, or skips (fails
// under CI).
func rekorServer(t *testing.T) (url, keyFile string) {
	t.Helper()
	url, keyFile = os.Getenv("KSK_REKOR_URL"), os.Getenv("KSK_REKOR_KEY")
	if url == "" || keyFile == "" {
		testenv.Missing(t, `no Rekor server: run eval "$(scripts/rekor.sh start)" to set KSK_REKOR_URL and KSK_REKOR_KEY`)
	}
	return url, keyFile
}

func verifyJSON(t *testing.T, args ...string) (int, logVerifyRekorJSON, string) {
	t.Helper()
	code, out, errOut := runKSK(t, "", append([]string{"log", "verify", "-o", "json"}, args...)...)
	var r logVerifyRekorJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ksk log verify %v: exit %d, not JSON: %v\n%s%s", args, code, err, out, errOut)
	}
	return code, r, out
}

type logVerifyRekorJSON struct {
	Valid    bool            `json:"valid"`
	Head     string          `json:"head"`
	Findings []check.Finding `json:"findings"`
	Rekor    *struct {
		EntryFile string                 `json:"entry_file"`
		Entries   []transparency.Summary `json:"entries"`
	} `json:"rekor"`
}

func firstError(fs []check.Finding) *check.Finding {
	for i := range fs {
		if fs[i].Severity == check.Error {
			return &fs[i]
		}
	}
	return nil
}

// TestLogPublishRekor is the end-to-end test against a real Rekor:
// publish through the CLI, verify offline, tamper, verify online.
func TestLogPublishRekor(t *testing.T) {
	url, rekorKey := rekorServer(t)
	f := newPublishFixture(t)
	before := readBytes(t, f.log)
	var pub publishResult
	mustJSON(t, f.tk, &pub, "log", "publish", f.log, "--rekor-url", url, "--rekor-key", rekorKey)
	entryFile := f.log + ".rekor.json"
	if pub.EntryFile != entryFile || pub.UUID == "" || pub.RekorURL != url {
		t.Fatalf("publish: %+v", pub)
	}
	// The published head was the head before; the log now ends with the
	// rekor-publish entry whose prev it is.
	h, _ := attest.ParseHash(pub.PublishedHead)
	if !bytes.Equal(readBytes(t, f.log)[:len(before)], before) || attest.LineHash(bytes.Split(before, []byte("\n"))[4]) != h {
		t.Errorf("published head %s is not the head before publishing", pub.PublishedHead)
	}
	// ... and then its seal by the attestation key.
	lines := strings.Split(strings.TrimSpace(string(readBytes(t, f.log))), "\n")
	seal, err := attest.ParseLine([]byte(lines[len(lines)-1]))
	if err != nil || seal.Type != attest.TypeSeal || seal.Step != "rekor-publish.seal" || seal.Seal.Head != attest.LineHash([]byte(lines[len(lines)-2])) ||
		pub.Head != attest.LineHash([]byte(lines[len(lines)-1])).String() {
		t.Fatalf("the record is not sealed: %+v (%v)", seal, err)
	}
	last, err := attest.ParseLine([]byte(lines[len(lines)-2]))
	if err != nil || last.Step != "rekor-publish" || last.Actor != "ksk" || last.Prev != h || last.Details["uuid"] != pub.UUID ||
		len(last.Files) != 1 || last.Files[0].Path != entryFile || last.Files[0].Role != attest.Written {
		t.Fatalf("last entry %+v (%v)", last, err)
	}
	for _, k := range []string{"rekor_url", "uuid", "log_index", "integrated_time", "published_head"} {
		if last.Details[k] == "" {
			t.Errorf("details lack %s: %v", k, last.Details)
		}
	}

	// Offline: only the log, the entry file and the pinned key.
	code, r, out := verifyJSON(t, f.log, "--rekor-key", rekorKey, "--attestation-key", f.attestPEM)
	if code != 0 || !r.Valid || r.Rekor == nil || len(r.Rekor.Entries) != 1 || !r.Rekor.Entries[0].Verified || r.Rekor.Entries[0].HeadSeq != 4 {
		t.Fatalf("offline verify: exit %d\n%s", code, out)
	}
	code, text, _ := runKSK(t, "", "log", "verify", f.log, "--rekor-key", rekorKey)
	if code != 0 || !strings.Contains(text, "Rekor: entry "+pub.UUID) || !strings.Contains(text, "the head after seq 4") {
		t.Errorf("text verify: exit %d\n%s", code, text)
	}

	// Online: fetch the entry and prove consistency with the current tree.
	code, r, out = verifyJSON(t, f.log, "--rekor-key", rekorKey, "--rekor-url", url)
	if code != 0 || !r.Valid {
		t.Fatalf("online verify: exit %d\n%s", code, out)
	}

	// Tampering: one byte of the log, one byte of the stored entry.
	logBytes, entryBytes := readBytes(t, f.log), readBytes(t, entryFile)
	t.Run("log byte", func(t *testing.T) {
		d := t.TempDir()
		l, e := filepath.Join(d, "ceremony.log"), filepath.Join(d, "ceremony.log.rekor.json")
		writeBytes(t, l, bytes.Replace(logBytes, []byte("confirmed"), []byte("confirmeD"), 1))
		writeBytes(t, e, entryBytes)
		code, r, out := verifyJSON(t, l, "--rekor-key", rekorKey)
		if code != exitRejected || r.Valid || !hasCheck(r.Findings, attest.CheckChain) || !hasCheck(r.Findings, transparency.CheckHead) {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("entry byte", func(t *testing.T) {
		d := t.TempDir()
		l, e := filepath.Join(d, "ceremony.log"), filepath.Join(d, "ceremony.log.rekor.json")
		writeBytes(t, l, logBytes)
		var ef transparency.File
		json.Unmarshal(entryBytes, &ef)
		i := strings.Index(string(entryBytes), ef.Entries[0].SignedEntryTimestamp) + 10
		b := append([]byte{}, entryBytes...)
		b[i] ^= 0x01 // still base64
		writeBytes(t, e, b)
		code, r, out := verifyJSON(t, l, "--rekor-key", rekorKey)
		if code != exitRejected || r.Valid || firstError(r.Findings) == nil || !strings.HasPrefix(firstError(r.Findings).Check, "LOG-REKOR-") {
			t.Errorf("exit %d\n%s", code, out)
		}
		code, text, _ := runKSK(t, "", "log", "verify", l, "--rekor-key", rekorKey)
		if code != exitRejected || !strings.Contains(text, "LOG-REKOR-") || !strings.Contains(text, "Result: INVALID") {
			t.Errorf("text: exit %d\n%s", code, text)
		}
	})
	t.Run("entry file missing", func(t *testing.T) {
		l := filepath.Join(t.TempDir(), "ceremony.log")
		writeBytes(t, l, logBytes)
		code, r, out := verifyJSON(t, l, "--rekor-key", rekorKey)
		if code != exitRejected || !hasCheck(r.Findings, transparency.CheckMissing) {
			t.Errorf("exit %d\n%s", code, out)
		}
	})

	// A second publication adds a second entry to the file.
	mustJSON(t, f.tk, &pub, "log", "publish", f.log, "--rekor-url", url, "--rekor-key", rekorKey)
	code, r, out = verifyJSON(t, f.log, "--rekor-key", rekorKey, "--rekor-url", url)
	if code != 0 || len(r.Rekor.Entries) != 2 || r.Rekor.Entries[1].HeadSeq != 6 || firstError(r.Findings) != nil || len(r.Findings) != 0 {
		t.Fatalf("after a second publication: exit %d\n%s", code, out)
	}
}

// TestLogPublishNothingRecorded: a server that cannot be reached, refuses,
// or answers with what does not verify leaves the log byte-identical and
// writes no entry file.
func TestLogPublishNothingRecorded(t *testing.T) {
	f := newPublishFixture(t)
	rekorKey := filepath.Join(f.dir, "rekor.pub")
	writeBytes(t, rekorKey, readBytes(t, f.attestPEM)) // any P-256 key: nothing verifies against it
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	var posts atomic.Int32
	mock := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			posts.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	tests := []struct {
		name  string
		url   string
		code  int
		tries int32
		say   []string
	}{
		{"unreachable", closed, exitEnvironment, 0, []string{"rekor server unreachable", "connection refused", "nothing recorded"}},
		{"server error", mock(503, `{"code":503,"message":"overloaded"}`), exitEnvironment, 2, []string{"unreachable", "503", "nothing recorded"}},
		{"refused", mock(400, `{"code":400,"message":"entry rejected by mock"}`), exitEnvironment, 1, []string{"refused", "entry rejected by mock", "nothing recorded"}},
		{"answer does not verify", mock(201, `{"ab":{"body":"e30=","integratedTime":1,"logID":"00","logIndex":0}}`), exitRejected, 1, []string{"does not verify", "nothing recorded"}},
	}
	before := readBytes(t, f.log)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts.Store(0)
			code, _, errOut := kskRun(t, f.tk, "", "log", "publish", f.log, "--rekor-url", tt.url, "--rekor-key", rekorKey, "--retries", "1")
			wantFailure(t, code, errOut, tt.code, tt.say...)
			if posts.Load() != tt.tries {
				t.Errorf("%d requests, want %d", posts.Load(), tt.tries)
			}
			if !bytes.Equal(readBytes(t, f.log), before) {
				t.Error("the log changed")
			}
			if _, err := os.Stat(f.log + ".rekor.json"); !os.IsNotExist(err) {
				t.Errorf("an entry file was written: %v", err)
			}
		})
	}
}

func TestLogPublishRefusesKeys(t *testing.T) {
	f := newPublishFixture(t)
	rekorKey := filepath.Join(f.dir, "rekor.pub")
	writeBytes(t, rekorKey, readBytes(t, f.attestPEM))
	before := readBytes(t, f.log)
	// An Ed25519 attestation key: Rekor rejects pure Ed25519.
	mustRun(t, f.tk, "keys", "generate", "--label", "ed", "--algorithm", "ED25519")
	code, _, errOut := kskRun(t, f.tk, "", "log", "publish", f.log, "--rekor-url", "http://127.0.0.1:1", "--rekor-key", rekorKey, "--key-label", "ed")
	wantFailure(t, code, errOut, exitEnvironment, "not ECDSA P-256", `"ed"`)
	// Another P-256 key than the seals'.
	mustRun(t, f.tk, "keys", "generate", "--label", "other", "--algorithm", "ECDSAP256SHA256")
	code, _, errOut = kskRun(t, f.tk, "", "log", "publish", f.log, "--rekor-url", "http://127.0.0.1:1", "--rekor-key", rekorKey, "--key-label", "other")
	wantFailure(t, code, errOut, exitRejected, "sealed by key", "nothing published")
	// A key that does not exist.
	code, _, errOut = kskRun(t, f.tk, "", "log", "publish", f.log, "--rekor-url", "http://127.0.0.1:1", "--rekor-key", rekorKey, "--key-label", "none")
	wantFailure(t, code, errOut, exitEnvironment, "none")
	if !bytes.Equal(readBytes(t, f.log), before) {
		t.Error("the log changed")
	}
}

func TestLogPublishUsage(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "x.log")
	tests := []struct {
		name string
		args []string
		want int
		say  string
	}{
		{"no url", []string{log, "--rekor-key", "k"}, exitUsage, "--rekor-url is required"},
		{"no key", []string{log, "--rekor-url", "http://x"}, exitUsage, "--rekor-key is required"},
		{"unreadable key", []string{log, "--rekor-url", "http://x", "--rekor-key", filepath.Join(dir, "none")}, exitUsage, "--rekor-key"},
		{"negative retries", []string{log, "--rekor-url", "http://x", "--rekor-key", "k", "--retries", "-1"}, exitUsage, "--retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runKSK(t, "", append([]string{"log", "publish"}, tt.args...)...)
			wantFailure(t, code, errOut, tt.want, tt.say)
		})
	}
	for _, args := range [][]string{{"--rekor-url", "http://x"}, {"--rekor-entry", "e"}} {
		code, _, errOut := runKSK(t, "", append([]string{"log", "verify", log}, args...)...)
		wantFailure(t, code, errOut, exitUsage, "need --rekor-key")
	}
}

// testdataDir is the entry file and log captured once from a real Rekor
// (transparency/testdata, see TestCaptureTestdata there).
func testdataDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "transparency", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLogVerifyRekorOffline verifies the stored entries captured from a
// real Rekor: no server is needed.
func TestLogVerifyRekorOffline(t *testing.T) {
	td := testdataDir(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "ceremony.log")
	entry := log + ".rekor.json"
	logBytes, entryBytes := readBytes(t, filepath.Join(td, "ceremony.log")), readBytes(t, filepath.Join(td, "ceremony.log.rekor.json"))
	writeBytes(t, log, logBytes)
	writeBytes(t, entry, entryBytes)
	rekorKey, attestKey := filepath.Join(td, "rekor.pub"), filepath.Join(td, "attest.pem")

	code, r, out := verifyJSON(t, log, "--rekor-key", rekorKey, "--attestation-key", attestKey)
	if code != 0 || !r.Valid || len(r.Findings) != 0 || len(r.Rekor.Entries) != 2 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// --rekor-entry names the file elsewhere.
	other := filepath.Join(t.TempDir(), "anchors.json")
	writeBytes(t, other, entryBytes)
	os.Remove(entry)
	if code, r, out := verifyJSON(t, log, "--rekor-key", rekorKey, "--rekor-entry", other); code != 0 || !r.Valid {
		t.Fatalf("--rekor-entry: exit %d\n%s", code, out)
	}
	if code, _, errOut := runKSK(t, "", "log", "verify", log, "--rekor-key", rekorKey, "--rekor-entry", entry); code != exitUsage {
		t.Errorf("missing --rekor-entry: exit %d %s", code, errOut)
	}
	writeBytes(t, entry, entryBytes)

	// A change of any one byte of the entry file is caught (every third
	// byte is tried: each field is many bytes long).
	step := 3
	if testing.Short() {
		step = 97
	}
	for i := 0; i < len(entryBytes); i += step {
		b := append([]byte{}, entryBytes...)
		b[i] ^= 0x01
		writeBytes(t, entry, b)
		code, _, errOut := runKSK(t, "", "log", "verify", "-o", "json", log, "--rekor-key", rekorKey)
		if code != exitRejected {
			t.Fatalf("byte %d (%q) changed: exit %d %s", i, entryBytes[i], code, errOut)
		}
	}
	writeBytes(t, entry, entryBytes)

	// Another pinned Rekor key: nothing verifies.
	code, r, _ = verifyJSON(t, log, "--rekor-key", attestKey)
	if code != exitRejected || firstError(r.Findings).Check != transparency.CheckLogID {
		t.Errorf("wrong Rekor key: exit %d %+v", code, firstError(r.Findings))
	}
	// Another attestation key pinned.
	_, otherKey := newKeyPEM(t)
	code, r, _ = verifyJSON(t, log, "--rekor-key", rekorKey, "--attestation-key", otherKey)
	if code != exitRejected || !hasCheck(r.Findings, attest.CheckSealKey) || !hasCheck(r.Findings, transparency.CheckKey) {
		t.Errorf("other attestation key: exit %d %+v", code, r.Findings)
	}
}

func newKeyPEM(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "k.pem")
	writePEM(t, p, k)
	return k, p
}
