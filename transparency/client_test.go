package transparency

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore/pkg/signature"
)

// These tests use a mock server for the error paths only; the real
// exchanges are tested against a real Rekor in rekor_test.go.

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mockRekor answers POST /api/v1/log/entries with the statuses given, one
// per request (the last one repeated), and counts the requests.
func mockRekor(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/log/entries" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		code := statuses[min(i, len(statuses)-1)]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		switch {
		case code == http.StatusCreated:
			// Well-formed JSON, but no entry a client could accept.
			w.Write([]byte(`{"24296fb24b8ad77a":{"body":"e30=","integratedTime":1,"logID":"00","logIndex":0}}`))
		default:
			w.Write([]byte(`{"code":` + strconv.Itoa(code) + `,"message":"mock says no (` + http.StatusText(code) + `)"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func fastClient(url string) *Client {
	return &Client{URL: url, RekorKey: newP256Pub(), RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond, Timeout: 10 * time.Second}
}

func newP256Pub() *ecdsa.PublicKey {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &k.PublicKey
}

func TestPublishErrors(t *testing.T) {
	head := attest.Hash{1, 2, 3}
	tests := []struct {
		name     string
		statuses []int
		want     error
		tries    int32
		mention  string
	}{
		{"server errors through every retry", []int{503}, ErrUnreachable, 4, "503"},
		{"server errors then refusal", []int{502, 500, 400}, ErrRefused, 3, "mock says no (Bad Request)"},
		{"refusal is not retried", []int{400}, ErrRefused, 1, "HTTP 400"},
		{"unprocessable", []int{422}, ErrRefused, 1, "Unprocessable"},
		{"server error then an answer that does not verify", []int{500, 201}, ErrInvalid, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := mockRekor(t, tt.statuses...)
			_, err := fastClient(srv.URL).Publish(context.Background(), head, newP256(t))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if n.Load() != tt.tries {
				t.Errorf("%d requests, want %d", n.Load(), tt.tries)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestPublishBackoff(t *testing.T) {
	srv, n := mockRekor(t, 503)
	c := fastClient(srv.URL)
	c.RetryWaitMin, c.RetryWaitMax = 40*time.Millisecond, time.Second
	start := time.Now()
	_, err := c.Publish(context.Background(), attest.Hash{}, newP256(t))
	elapsed := time.Since(start)
	if !errors.Is(err, ErrUnreachable) || n.Load() != 4 {
		t.Fatalf("err %v after %d tries", err, n.Load())
	}
	// Exponential: 40 + 80 + 160 ms between the four tries.
	if elapsed < 280*time.Millisecond {
		t.Errorf("4 tries took %v: no exponential backoff", elapsed)
	}

	// The cap bounds each wait: 40 + 50 + 50 ms.
	n.Store(0)
	c.RetryWaitMax = 50 * time.Millisecond
	start = time.Now()
	c.Publish(context.Background(), attest.Hash{}, newP256(t))
	if elapsed := time.Since(start); elapsed < 140*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("capped backoff took %v", elapsed)
	}

	// --retries 0: one try.
	n.Store(0)
	c.Retries = -1
	c.Publish(context.Background(), attest.Hash{}, newP256(t))
	if n.Load() != 1 {
		t.Errorf("%d tries with retries off", n.Load())
	}
}

func TestPublishUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	_, err = fastClient(url).Publish(context.Background(), attest.Hash{}, newP256(t))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want ErrUnreachable naming the refused connection", err)
	}

	// A server that never answers: the timeout ends it.
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	c := fastClient(hang.URL)
	c.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err = c.Publish(context.Background(), attest.Hash{}, newP256(t))
	if !errors.Is(err, ErrUnreachable) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestPublishKeyAndURL(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	c := fastClient("http://127.0.0.1:1")
	if _, err := c.Publish(context.Background(), attest.Hash{}, edKey); !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), "ed25519") {
		t.Errorf("Ed25519: %v", err)
	}
	if _, err := c.Publish(context.Background(), attest.Hash{}, p384); !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), "P-384") {
		t.Errorf("P-384: %v", err)
	}
	c.URL = "ftp://example.org"
	if _, err := c.Publish(context.Background(), attest.Hash{}, newP256(t)); err == nil || errors.Is(err, ErrUnreachable) {
		t.Errorf("ftp URL: %v", err)
	}
	c.RekorKey = nil
	if _, err := c.Publish(context.Background(), attest.Hash{}, newP256(t)); err == nil {
		t.Error("no pinned key accepted")
	}
}

func TestProposedEntry(t *testing.T) {
	k := newP256(t)
	head := attest.Hash{9}
	e, err := ProposedEntry(head, k)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind() != "hashedrekord" || *e.APIVersion != "0.0.1" {
		t.Fatalf("kind %s version %s", e.Kind(), *e.APIVersion)
	}
}

// TestCheckOnlineMismatch: a server (a mock signing with a key of the
// test's) whose copy of an entry differs, that lacks one, and whose
// current checkpoint is not consistent with the stored one.
func TestCheckOnlineMismatch(t *testing.T) {
	key := newP256(t)
	sv, err := signature.LoadECDSASignerVerifier(key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	root := func(b byte) []byte { r := make([]byte, 32); r[0] = b; return r }
	oldCP, err := util.CreateAndSignCheckpoint(ctx, "mock", 1, 4, root(1), sv)
	if err != nil {
		t.Fatal(err)
	}
	newCP, _ := util.CreateAndSignCheckpoint(ctx, "mock", 1, 9, root(2), sv)
	stored := sampleEntry()
	stored.InclusionProof.Checkpoint = string(oldCP)
	missing := sampleEntry()
	missing.UUID = strings.Repeat("1", 80)
	f := &File{Format: FileFormat, Entries: []Entry{stored, missing}}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/log/entries/"+stored.UUID:
			json.NewEncoder(w).Encode(map[string]any{stored.UUID: map[string]any{
				"body": stored.Body, "integratedTime": stored.IntegratedTime + 1, "logID": stored.LogID, "logIndex": stored.LogIndex}})
		case strings.HasPrefix(r.URL.Path, "/api/v1/log/entries/"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":404,"message":"no such entry"}`))
		case r.URL.Path == "/api/v1/log":
			json.NewEncoder(w).Encode(map[string]any{"rootHash": hex.EncodeToString(root(2)), "signedTreeHead": string(newCP), "treeID": "1", "treeSize": 9})
		case r.URL.Path == "/api/v1/log/proof":
			json.NewEncoder(w).Encode(map[string]any{"rootHash": hex.EncodeToString(root(2)), "hashes": []string{strings.Repeat("00", 32), strings.Repeat("11", 32)}})
		default:
			t.Errorf("unexpected %s", r.URL)
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := &Client{URL: srv.URL, RekorKey: &key.PublicKey, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}
	fs, err := c.CheckOnline(ctx, f, "x.rekor.json")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, fd := range fs {
		got[fd.Check]++
	}
	if got[CheckOnline] != 2 || got[CheckConsistency] != 1 || len(fs) != 3 {
		t.Fatalf("findings %v", fs)
	}

	// The same against another pinned key: the current checkpoint is not
	// the pinned key's.
	c.RekorKey = newP256Pub()
	fs, err = c.CheckOnline(ctx, &File{Format: FileFormat}, "x")
	if err != nil || len(fs) != 1 || fs[0].Check != CheckConsistency || !strings.Contains(fs[0].Message, "not signed by the pinned") {
		t.Fatalf("other key: %v %v", fs, err)
	}

	// A server that cannot be reached is an error, not a finding.
	srv.Close()
	if _, err := c.CheckOnline(ctx, f, "x"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("closed server: %v", err)
	}
}
