package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"github.com/ksk-dev/ksk/check"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
	"golang.org/x/crypto/ssh"
)

// fixture is a log with steps, two seals and two witnesses:
//
//	seq 0 open, 1-5 steps, 6 seal, 7 step, 8 witness alice,
//	9 witness bob, 10 seal
//
// so it is finished: sealed last, and signed off by both witnesses after
// its last step.
type fixture struct {
	path       string
	attest     *ecdsa.PrivateKey
	alice, bob ssh.Signer
	heads      []Hash // heads[i] = hash of entry i
	allowed    []AllowedSigner
}

func testClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(1500 * time.Millisecond)
		return t
	}
}

func sshKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "ceremony.log"), attest: ecKey(t), alice: sshKey(t), bob: sshKey(t)}
	f.allowed = []AllowedSigner{{Principals: "alice", Key: f.alice.PublicKey()}, {Principals: "bob", Key: f.bob.PublicKey()}}
	w, err := Create(f.path, Entry{Step: "open", Actor: "ksk", Details: map[string]string{"ceremony": "KSK-55", "site": "CUL"}}, WithClock(testClock()))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	add := func(h Hash, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		f.heads = append(f.heads, h)
	}
	f.heads = append(f.heads, w.Head())
	for i, s := range []string{"act1.intro", "act1.roster", "act2.quorum", "act2.load-ksr", "act3.sign"} {
		add(w.Append(Entry{Step: s, Actor: "ca:carol", Details: map[string]string{"result": "confirmed", "n": string(rune('0' + i))},
			Files: []FileRef{{Path: "ksr.xml", Role: Read, SHA256: Hash{byte(i)}}}}))
	}
	add(w.Seal("act3.seal", "ksk", f.attest))
	add(w.Append(Entry{Step: "act4.close", Actor: "ca:carol", Files: []FileRef{{Path: "skr.xml", Role: Written, SHA256: Hash{9}}}}))
	add(w.Witness("act4.sign-off", "alice", f.alice))
	add(w.Witness("act4.sign-off", "bob", f.bob))
	add(w.Seal("act4.seal", "ksk", f.attest))
	return f
}

func (f *fixture) lines(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(b), "\n")[:len(f.heads)]
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	res, err := Verify(bytes.NewReader(b), VerifyOptions{
		Head:            &f.heads[10],
		AttestationKeys: []crypto.PublicKey{f.attest.Public()},
		AllowedSigners:  f.allowed,
		OnEntry: func(e *Entry, h Hash, line int) error {
			if h != f.heads[e.Seq] || line != int(e.Seq)+1 {
				t.Errorf("entry %d: hash %s line %d", e.Seq, h, line)
			}
			seen++
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 11 || seen != 11 || res.Head != f.heads[10] || res.SealCount != 2 || res.WitnessCount != 2 || res.Unsealed != 0 {
		t.Errorf("result %+v", res)
	}
	if !res.Valid() || len(res.Findings) != 0 {
		t.Errorf("findings %v", res.Findings)
	}
	// Both witnesses sign the head of the last step.
	if !res.Finished || res.SignOffSeq != 7 || res.LastMaterialSeq != 7 {
		t.Errorf("finished %v, sign-off seq %d, last material seq %d; want true, 7, 7", res.Finished, res.SignOffSeq, res.LastMaterialSeq)
	}
	for _, w := range res.Witnesses {
		if w.Head != f.heads[7] {
			t.Errorf("witness %s signs %s, want %s", w.Name, w.Head, f.heads[7])
		}
	}
	// The hash of each line is SHA-256 over the domain and the line.
	for i, l := range f.lines(t) {
		if got := lineHash([]byte(l)); got != f.heads[i] {
			t.Errorf("line %d hash %s, want %s", i+1, got, f.heads[i])
		}
	}
}

func TestLinesAreRFC8785(t *testing.T) {
	f := newFixture(t)
	w, err := Open(f.path, WithClock(testClock()))
	if err != nil {
		t.Fatal(err)
	}
	odd := map[string]string{"quote": `"\`, "uni": "é ü 漢 😀 <&>", "z.last": "", "a-first": "x"}
	if _, err := w.Append(Entry{Step: "odd \"step\"", Actor: "ünïcode", Details: odd}); err != nil {
		t.Fatal(err)
	}
	// Control characters are refused by the Writer, but the encoder
	// still escapes them as RFC 8785 says (a line written by hand).
	ctl := map[string]string{"ctl": "\x00\x01\b\t\n\f\r\x1f\x7f\u2028"}
	if _, err := w.Append(Entry{Step: "ctl", Details: ctl}); !errors.Is(err, ErrControl) {
		t.Fatalf("Append with control characters: %v, want ErrControl", err)
	}
	w.Close()
	b, _ := os.ReadFile(f.path)
	ctlLine, err := MarshalLine(&Entry{Type: TypeStep, Seq: 12, Step: "ctl", Details: ctl, Time: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	b = append(append(b, ctlLine...), '\n')
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		c, err := jcs.Transform([]byte(l))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if string(c) != l {
			t.Errorf("line %d is not RFC 8785:\n got %s\nwant %s", i+1, l, c)
		}
		e, err := ParseLine([]byte(l))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i == 11 && e.Details["uni"] != odd["uni"] || i == 12 && e.Details["ctl"] != ctl["ctl"] {
			t.Errorf("details did not round-trip: %q", e.Details)
		}
	}
}

func TestParseRejectsNonCanonical(t *testing.T) {
	good := `{"actor":"a","details":{"k":"v"},"files":[],"prev":"` + zeroHex + `","seq":1,"step":"s","time":"2026-04-01T09:00:00.000Z","type":"step","v":1}`
	if _, err := ParseLine([]byte(good)); err != nil {
		t.Fatalf("good line: %v", err)
	}
	tests := []struct{ name, from, to string }{
		{"space", `"actor":"a"`, `"actor": "a"`},
		{"member order", `"actor":"a","details":{"k":"v"}`, `"details":{"k":"v"},"actor":"a"`},
		{"duplicate detail", `{"k":"v"}`, `{"k":"v","k":"w"}`},
		{"unsorted details", `{"k":"v"}`, `{"k":"v","a":"w"}`},
		{"unknown member", `"v":1}`, `"v":1,"x":1}`},
		{"upper-case hex", `"prev":"0000`, `"prev":"000A`},
		{"escaped letter", `"step":"s"`, `"step":"\u0073"`},
		{"escaped slash", `"step":"s"`, `"step":"\/"`},
		{"leading zero", `"seq":1`, `"seq":01`},
		{"negative", `"seq":1`, `"seq":-1`},
		{"float", `"seq":1`, `"seq":1.0`},
		{"time zone", `00.000Z`, `00.000+00:00`},
		{"time precision", `00.000Z`, `00Z`},
		{"time digits", `00.000Z`, `00.0000Z`},
		{"no such date", `2026-04-01`, `2026-04-31`},
		{"version", `"v":1`, `"v":2`},
		{"unknown type", `"type":"step"`, `"type":"note"`},
		{"bad detail key", `{"k":"v"}`, `{"K":"v"}`},
		{"trailing", `"v":1}`, `"v":1} `},
		{"not json", `{"actor"`, `{actor`},
		{"invalid utf-8", `"step":"s"`, "\"step\":\"\xff\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(good, tt.from, tt.to, 1)
			if bad == good {
				t.Fatal("replacement did nothing")
			}
			if _, err := ParseLine([]byte(bad)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseLine(%s) = %v, want ErrMalformed", bad, err)
			}
			var e Entry
			if _, err := decodeEntry([]byte(bad), &e, nil, false); err == nil {
				t.Errorf("Verify's parser accepted %s", bad)
			}
		})
	}
}

func TestSecretGuard(t *testing.T) {
	f := newFixture(t)
	w, err := Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tests := []struct {
		name   string
		e      Entry
		secret bool
	}{
		{"pin", Entry{Details: map[string]string{"pin": "zq-1234-qz"}}, true},
		{"user pin", Entry{Details: map[string]string{"user_pin": "zq-1234-qz"}}, true},
		{"passphrase", Entry{Details: map[string]string{"co3.passphrase": "x"}}, true},
		{"password", Entry{Details: map[string]string{"hsm-password": "x"}}, true},
		{"secret", Entry{Details: map[string]string{"secret": "x"}}, true},
		{"share", Entry{Details: map[string]string{"share_1": "x"}}, true},
		{"private key value", Entry{Details: map[string]string{"key": "-----BEGIN PRIVATE KEY-----\nMII..."}}, true},
		{"age identity", Entry{Details: map[string]string{"id": "AGE-SECRET-KEY-1QQQ"}}, true},
		{"key in actor", Entry{Actor: "-----BEGIN OPENSSH PRIVATE KEY-----"}, true},
		{"pinned is fine", Entry{Details: map[string]string{"pinned": "yes", "shipping": "ok", "spinner": "x"}}, false},
		{"counts are fine", Entry{Details: map[string]string{"credentials_accepted": "3", "quorum": "3-of-7"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.e.Step, tt.e.Actor = "s", tt.e.Actor+"a"
			before := w.Head()
			_, err := w.Append(tt.e)
			if got := errors.Is(err, ErrSecret); got != tt.secret {
				t.Fatalf("Append: %v, want secret=%v", err, tt.secret)
			}
			if tt.secret && w.Head() != before {
				t.Error("a refused entry changed the head")
			}
		})
	}
	b, _ := os.ReadFile(f.path)
	for _, s := range []string{"zq-1234-qz", "PRIVATE", "AGE-SECRET"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("log contains %q", s)
		}
	}
}

func TestAppendRules(t *testing.T) {
	f := newFixture(t)
	w, err := Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		e    Entry
	}{
		{"seal type", Entry{Type: TypeSeal}},
		{"open type", Entry{Type: TypeOpen}},
		{"seal field", Entry{Seal: &Seal{}}},
		{"bad key", Entry{Details: map[string]string{"Bad Key": "x"}}},
		{"bad role", Entry{Files: []FileRef{{Path: "x", Role: "deleted"}}}},
		{"too long", Entry{Details: map[string]string{"x": strings.Repeat("a", MaxLineBytes)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Append(tt.e); err == nil {
				t.Error("Append accepted it")
			}
		})
	}
	if _, err := w.Witness("w", "has space", f.alice); err == nil {
		t.Error("witness name with a space accepted")
	}
	w.Close()
	if _, err := w.Append(Entry{Step: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	if _, err := Create(f.path, Entry{}); err == nil {
		t.Error("Create overwrote an existing log")
	}
	if _, err := Verify(bytes.NewReader(mustRead(t, f.path)), VerifyOptions{Head: &f.heads[10]}); err != nil {
		t.Errorf("refused appends changed the log: %v", err)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResume(t *testing.T) {
	f := newFixture(t)
	var seen []string
	w, err := Open(f.path, WithVerifyOptions(VerifyOptions{Head: &f.heads[10], OnEntry: func(e *Entry, _ Hash, _ int) error {
		seen = append(seen, e.Step)
		return nil
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if w.Seq() != 10 || w.Head() != f.heads[10] || len(seen) != 11 {
		t.Fatalf("resumed at seq %d head %s after %d entries", w.Seq(), w.Head(), len(seen))
	}
	if _, err := Open(f.path); err == nil {
		t.Error("a second writer got the lock")
	}
	h, err := w.Append(Entry{Step: "act5.resumed", Actor: "ca:carol"})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	res, err := Verify(bytes.NewReader(mustRead(t, f.path)), VerifyOptions{Head: &h, InProgress: true})
	if err != nil || res.Entries != 12 || res.Unsealed != 1 || res.Finished || res.Status() != "NOT FINISHED" || res.AttestedThrough() != 9 {
		t.Fatalf("after resume: %v %+v", err, res)
	}
	// Checked as finished, the same log is refused.
	if _, err := Verify(bytes.NewReader(mustRead(t, f.path)), VerifyOptions{Head: &h}); !errors.Is(err, ErrNotFinished) {
		t.Fatalf("after resume, checked as finished: %v, want ErrNotFinished", err)
	}
	if len(res.Findings) != 2 || res.Findings[0].Check != CheckUnsealed || res.Findings[1].Check != CheckInProgress || res.Findings[1].Severity != check.Warning {
		t.Errorf("findings %v, want %s and %s warnings", res.Findings, CheckUnsealed, CheckInProgress)
	}
}

func TestTornLastLine(t *testing.T) {
	f := newFixture(t)
	full := mustRead(t, f.path)
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(`{"actor":"ca:carol","details":{},"fi`)
	fh.Close()
	_, err = Verify(bytes.NewReader(mustRead(t, f.path)), VerifyOptions{})
	var ee *EntryError
	if !errors.Is(err, ErrTruncated) || !errors.As(err, &ee) || ee.Seq != 11 || ee.Line != 12 {
		t.Fatalf("Verify: %v, want ErrTruncated at seq 11 line 12", err)
	}
	_, err = Open(f.path)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "truncate -s "+strconv.Itoa(len(full))) {
		t.Fatalf("Open: %v", err)
	}
}

func TestEmptyAndGarbage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrTruncated},
		{"blank line", "\n", ErrMalformed},
		{"not json", "hello\n", ErrMalformed},
		{"no newline", "hello", ErrTruncated},
		{"too long", strings.Repeat("a", MaxLineBytes+10) + "\n", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(strings.NewReader(tt.in), VerifyOptions{}); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestConcurrentAppend(t *testing.T) {
	f := newFixture(t)
	w, err := Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := w.Append(Entry{Step: "parallel", Actor: "g" + strconv.Itoa(g) + "." + strconv.Itoa(i)}); err != nil {
					t.Error(err)
				}
			}
			_ = w.Head()
		}()
	}
	wg.Wait()
	w.Close()
	res, err := Verify(bytes.NewReader(mustRead(t, f.path)), VerifyOptions{InProgress: true})
	if err != nil || res.Entries != 51 {
		t.Fatalf("%v, %d entries", err, res.Entries)
	}
}

func TestParseHash(t *testing.T) {
	h := Hash{0xde, 0xad, 0xbe, 0xef}
	for _, s := range []string{h.String(), strings.ToUpper(h.String()), h.Words(), " " + h.String() + "\n"} {
		got, err := ParseHash(s)
		if err != nil || got != h {
			t.Errorf("ParseHash(%q) = %s, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", h.String()[:62] + "zz", "tissue phonetic"} {
		if _, err := ParseHash(s); err == nil {
			t.Errorf("ParseHash(%q) accepted", s)
		}
	}
}
