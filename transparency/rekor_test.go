package transparency

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/internal/testenv"
)

// rekorEnv returns the real Rekor server that scripts/rekor.sh started
// ($KSK_REKOR_URL, $KSK_REKOR_KEY), or skips (fails under CI).
func rekorEnv(t *testing.T) (string, crypto.PublicKey) {
	t.Helper()
	url, keyFile := os.Getenv("KSK_REKOR_URL"), os.Getenv("KSK_REKOR_KEY")
	if url == "" || keyFile == "" {
		testenv.Missing(t, `no Rekor server: run eval "$(scripts/rekor.sh start)" to set KSK_REKOR_URL and KSK_REKOR_KEY`)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := attest.ParsePublicKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return url, k
}

var testClock = struct {
	sync.Mutex
	t time.Time
}{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}

func tick() time.Time {
	testClock.Lock()
	defer testClock.Unlock()
	testClock.t = testClock.t.Add(time.Second)
	return testClock.t
}

// newSealedLog writes a small ceremony log sealed by key.
func newSealedLog(t testing.TB, path string, key crypto.Signer) {
	t.Helper()
	w, err := attest.Create(path, attest.Entry{Step: "open", Actor: "ksk", Details: map[string]string{"ceremony": "KSK-REKOR-TEST"}}, attest.WithClock(tick))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, s := range []string{"act1.roster", "act2.load-ksr", "act3.sign"} {
		if _, err := w.Append(attest.Entry{Step: s, Actor: "ca:carol", Details: map[string]string{"result": "confirmed"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal("act3.seal", "ksk", key); err != nil {
		t.Fatal(err)
	}
}

// appendAndSeal adds a step and a seal to the log.
func appendAndSeal(t testing.TB, path string, key crypto.Signer) {
	t.Helper()
	w, err := attest.Open(path, attest.WithClock(tick))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Append(attest.Entry{Step: "act4.write-skr", Actor: "ca:carol"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Seal("act4.seal", "ksk", key); err != nil {
		t.Fatal(err)
	}
}

// publishAndRecord publishes the log's head, records it and seals the
// record, as ksk log publish does.
func publishAndRecord(t testing.TB, c *Client, path string, key crypto.Signer) *Entry {
	t.Helper()
	w, err := attest.Open(path, attest.WithClock(tick))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e, err := c.Publish(context.Background(), w.Head(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Record(w, DefaultPath(path), e); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Seal(PublishStep+".seal", PublishActor, key); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkLog verifies the log and its entry file as ksk log verify does.
func checkLog(t testing.TB, logPath, entryPath string, opts CheckOptions) ([]check.Finding, *Checker) {
	t.Helper()
	c, err := NewChecker(entryPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, _ := attest.Verify(f, attest.VerifyOptions{AttestationKeys: opts.AttestationKeys, OnEntry: c.OnEntry})
	return append(res.Findings, c.Findings()...), c
}

func errorChecks(fs []check.Finding) []string {
	r := check.Report{Findings: fs}
	return r.ErrorChecks()
}

// fixedSigner returns the same signature for every call, so that the
// same entry can be submitted twice.
type fixedSigner struct {
	crypto.Signer
	mu  sync.Mutex
	sig []byte
}

func (s *fixedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sig == nil {
		var err error
		if s.sig, err = s.Signer.Sign(r, digest, opts); err != nil {
			return nil, err
		}
	}
	return s.sig, nil
}

func TestRealRekor(t *testing.T) {
	url, rk := rekorEnv(t)
	key := newP256(t)
	log := filepath.Join(t.TempDir(), "ceremony.log")
	newSealedLog(t, log, key)
	c := &Client{URL: url, RekorKey: rk}

	e1 := publishAndRecord(t, c, log, key)
	a, err := VerifyEntry(e1, rk)
	if err != nil {
		t.Fatal(err)
	}
	if !a.PublicKey.Equal(key.Public()) || a.Head.String() != e1.PublishedHead || a.Checkpoint.Size != uint64(e1.InclusionProof.TreeSize) {
		t.Errorf("artifact %+v", a)
	}
	appendAndSeal(t, log, key)
	e2 := publishAndRecord(t, c, log, key)
	if e2.LogIndex <= e1.LogIndex {
		t.Errorf("second publication at index %d, first at %d", e2.LogIndex, e1.LogIndex)
	}

	fs, chk := checkLog(t, log, DefaultPath(log), CheckOptions{RekorKey: rk, AttestationKeys: []crypto.PublicKey{key.Public()}})
	if len(fs) != 0 {
		t.Fatalf("findings on a published log: %v", fs)
	}
	if s := chk.Summaries(); len(s) != 2 || !s[0].Verified || s[0].HeadSeq != 4 || s[1].HeadSeq != 8 {
		t.Errorf("summaries %+v", s)
	}

	// The same check against a wrongly pinned key fails.
	if _, err := VerifyEntry(e1, newP256Pub()); !errors.Is(err, ErrLogID) {
		t.Errorf("other pinned key: %v", err)
	}

	// Online: the server holds both entries, and its current checkpoint is
	// consistent with those stored (one proof per stored tree size).
	f, _, err := ReadFile(DefaultPath(log))
	if err != nil {
		t.Fatal(err)
	}
	online, err := c.CheckOnline(context.Background(), f, "ceremony.log.rekor.json")
	if err != nil || len(online) != 0 {
		t.Fatalf("online: %v %v", online, err)
	}
	// A stored entry that differs from the server's copy.
	f.Entries[0].IntegratedTime++
	online, err = c.CheckOnline(context.Background(), f, "x")
	if err != nil || len(online) != 1 || online[0].Check != CheckOnline {
		t.Errorf("online, changed time: %v %v", online, err)
	}
	// A checkpoint that the current one does not extend: the first entry's
	// checkpoint with another root hash (signed by another key, so it is
	// skipped here: the offline checks report it).
}

func TestRealRekorResubmit(t *testing.T) {
	url, rk := rekorEnv(t)
	s := &fixedSigner{Signer: newP256(t)}
	c := &Client{URL: url, RekorKey: rk}
	head := attest.Hash{0xfe, byte(time.Now().UnixNano())}
	e1, err := c.Publish(context.Background(), head, s)
	if err != nil {
		t.Fatal(err)
	}
	// The identical entry again (a retry whose answer was lost): the server
	// answers 409 and the client returns the existing entry.
	e2, err := c.Publish(context.Background(), head, s)
	if err != nil {
		t.Fatal(err)
	}
	if e1.UUID != e2.UUID || e1.LogIndex != e2.LogIndex || e1.Body != e2.Body {
		t.Errorf("resubmission gave another entry: %s/%d vs %s/%d", e1.UUID, e1.LogIndex, e2.UUID, e2.LogIndex)
	}
	if _, err := VerifyEntry(e2, rk); err != nil {
		t.Error(err)
	}
}

// TestCaptureTestdata rewrites testdata/ from the real server when
// KSK_REKOR_CAPTURE=1: a log sealed by a software P-256 key, published
// twice, with its entry file, the server's key and the attestation key.
// The offline tests then need no server.
func TestCaptureTestdata(t *testing.T) {
	if os.Getenv("KSK_REKOR_CAPTURE") != "1" {
		t.Skip("set KSK_REKOR_CAPTURE=1 (with a Rekor from scripts/rekor.sh) to rewrite testdata/")
	}
	url, rk := rekorEnv(t)
	key := newP256(t)
	dir := "testdata"
	os.MkdirAll(dir, 0o755)
	log := filepath.Join(dir, "ceremony.log")
	os.Remove(log)
	os.Remove(DefaultPath(log))
	newSealedLog(t, log, key)
	c := &Client{URL: url, RekorKey: rk}
	publishAndRecord(t, c, log, key)
	appendAndSeal(t, log, key)
	publishAndRecord(t, c, log, key)
	writePub(t, filepath.Join(dir, "attest.pem"), &key.PublicKey)
	writePub(t, filepath.Join(dir, "rekor.pub"), rk)
}

func writePub(t testing.TB, path string, k crypto.PublicKey) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
