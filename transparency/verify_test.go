package transparency

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
)

// The tests here verify entries captured once from a real Rekor
// (TestCaptureTestdata): testdata/ceremony.log, published twice, its
// entry file, the server's key and the attestation key. No server needed.

func readKey(t testing.TB, name string) crypto.PublicKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := attest.ParsePublicKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testdataFile(t testing.TB) *File {
	t.Helper()
	f, _, err := ReadFile(filepath.Join("testdata", "ceremony.log.rekor.json"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTestdataVerifies(t *testing.T) {
	rk, ak := readKey(t, "rekor.pub"), readKey(t, "attest.pem")
	f := testdataFile(t)
	if len(f.Entries) != 2 {
		t.Fatalf("%d entries", len(f.Entries))
	}
	for i := range f.Entries {
		a, err := VerifyEntry(&f.Entries[i], rk)
		if err != nil {
			t.Fatalf("entry %d: %v", i+1, err)
		}
		fp, _, _ := attest.KeyFingerprint(ak)
		if a.KeyFingerprint != fp || a.Head.String() != f.Entries[i].PublishedHead {
			t.Errorf("entry %d: artifact %+v", i+1, a)
		}
	}
	fs, c := checkLog(t, filepath.Join("testdata", "ceremony.log"), filepath.Join("testdata", "ceremony.log.rekor.json"),
		CheckOptions{RekorKey: rk, AttestationKeys: []crypto.PublicKey{ak}})
	if errs := errorChecks(fs); len(errs) != 0 {
		t.Fatalf("findings: %v", fs)
	}
	s := c.Summaries()
	if len(s) != 2 || s[0].HeadSeq != 4 || s[1].HeadSeq != 8 || !s[0].Verified || !s[1].Verified || s[0].KeyFingerprint == "" {
		t.Errorf("summaries %+v", s)
	}
}

// reencodeBody decodes the entry's body, lets edit change it, and encodes
// it again.
func reencodeBody(t *testing.T, e *Entry, edit func(m map[string]any)) {
	t.Helper()
	b, _ := base64.StdEncoding.DecodeString(e.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	e.Body = base64.StdEncoding.EncodeToString(b)
}

func spec(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func flipB64(s string, i int) string {
	b, _ := base64.StdEncoding.DecodeString(s)
	b[i%len(b)] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

func TestVerifyEntryTampering(t *testing.T) {
	rk := readKey(t, "rekor.pub")
	other := newP256(t)
	otherPEM := func() string {
		der, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}()
	f := testdataFile(t)
	second := f.Entries[1]
	tests := []struct {
		name     string
		edit     func(e *Entry)
		check    string
		sentinel error
	}{
		{"signed entry timestamp", func(e *Entry) { e.SignedEntryTimestamp = flipB64(e.SignedEntryTimestamp, 20) }, CheckSET, ErrSET},
		{"integrated time", func(e *Entry) { e.IntegratedTime++ }, CheckSET, ErrSET},
		{"log index", func(e *Entry) { e.LogIndex++ }, CheckSET, ErrSET},
		{"proof hash", func(e *Entry) { e.InclusionProof.Hashes[0] = strings.Repeat("0", 64) }, CheckInclusion, ErrInclusion},
		{"proof root", func(e *Entry) { e.InclusionProof.RootHash = second.InclusionProof.RootHash }, CheckInclusion, ErrInclusion},
		{"proof leaf index", func(e *Entry) { e.InclusionProof.LogIndex-- }, CheckInclusion, ErrInclusion},
		{"checkpoint signature", func(e *Entry) {
			i := strings.LastIndex(e.InclusionProof.Checkpoint, " ")
			sig := strings.TrimSuffix(e.InclusionProof.Checkpoint[i+1:], "\n")
			e.InclusionProof.Checkpoint = e.InclusionProof.Checkpoint[:i+1] + flipB64(sig, 30) + "\n"
		}, CheckCheckpoint, ErrCheckpoint},
		{"checkpoint of another tree", func(e *Entry) { e.InclusionProof.Checkpoint = second.InclusionProof.Checkpoint }, CheckCheckpoint, ErrCheckpoint},
		{"log ID", func(e *Entry) { e.LogID = strings.Repeat("ab", 32) }, CheckLogID, ErrLogID},
		{"digest in the body", func(e *Entry) {
			reencodeBody(t, e, func(m map[string]any) { spec(m, "spec", "data", "hash")["value"] = strings.Repeat("00", 32) })
		}, CheckSignature, ErrSignature},
		{"key in the body", func(e *Entry) {
			reencodeBody(t, e, func(m map[string]any) { spec(m, "spec", "signature", "publicKey")["content"] = otherPEM })
		}, CheckSignature, ErrSignature},
		{"kind", func(e *Entry) {
			reencodeBody(t, e, func(m map[string]any) { m["kind"] = "rekord" })
		}, CheckBody, ErrBody},
		{"SHA-512 digest", func(e *Entry) {
			reencodeBody(t, e, func(m map[string]any) { spec(m, "spec", "data", "hash")["algorithm"] = "sha512" })
		}, CheckBody, ErrBody},
		{"body of the other publication", func(e *Entry) { e.Body = second.Body }, CheckHead, ErrHead},
		{"published head", func(e *Entry) { e.PublishedHead = second.PublishedHead }, CheckHead, ErrHead},
		{"uuid", func(e *Entry) { e.UUID = e.UUID[:79] + string("01"[1-int(e.UUID[79]-'0')&1]) }, CheckBody, ErrBody},
		{"not well-formed", func(e *Entry) { e.LogID = "xyz" }, CheckMalformed, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testdataFile(t).Entries[0]
			tt.edit(&e)
			_, err := VerifyEntry(&e, rk)
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Check != tt.check || !errors.Is(err, tt.sentinel) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want %s (%v)", err, tt.check, tt.sentinel)
			}
		})
	}
	// The right entry against another pinned key.
	e := testdataFile(t).Entries[0]
	if _, err := VerifyEntry(&e, &other.PublicKey); !errors.Is(err, ErrLogID) {
		t.Errorf("another pinned key: %v", err)
	}
}

// copyTestdata copies the log and its entry file to a temporary directory,
// with the log edited by editLog and the file by editFile.
func copyTestdata(t *testing.T, editLog func([]string) []string, editFile func(*File)) (log, entry string) {
	t.Helper()
	dir := t.TempDir()
	log, entry = filepath.Join(dir, "ceremony.log"), filepath.Join(dir, "ceremony.log.rekor.json")
	b, err := os.ReadFile(filepath.Join("testdata", "ceremony.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	lines = lines[:len(lines)-1] // after the last newline
	if editLog != nil {
		lines = editLog(lines)
	}
	os.WriteFile(log, []byte(strings.Join(lines, "")), 0o644)
	f := testdataFile(t)
	if editFile != nil {
		editFile(f)
	}
	data, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(entry, data, 0o644)
	return log, entry
}

func TestCheckerTampering(t *testing.T) {
	rk, ak := readKey(t, "rekor.pub"), readKey(t, "attest.pem")
	opts := CheckOptions{RekorKey: rk}
	// Layout: seq 0 open, 1-3 steps, 4 seal, 5 rekor-publish, 6 its seal,
	// 7 step, 8 seal, 9 rekor-publish, 10 its seal.
	tests := []struct {
		name     string
		editLog  func([]string) []string
		editFile func(*File)
		opts     *CheckOptions
		want     []string // error check IDs, sorted
		warn     string
	}{
		{"one byte of the log", func(l []string) []string {
			l[2] = strings.Replace(l[2], "confirmed", "confirmeD", 1)
			return l
		}, nil, nil, []string{attest.CheckChain, CheckHead}, ""},
		{"log cut before the second publication's head", func(l []string) []string { return l[:8] }, nil, nil, []string{CheckHead, attest.CheckUnsealed}, ""},
		{"log without its last rekor-publish entry", func(l []string) []string { return l[:9] }, nil, nil, nil, CheckUnrecorded},
		{"rekor URL changed in the file", nil, func(f *File) { f.Entries[0].RekorURL = "https://rekor.example.org" }, nil, []string{CheckRecord}, ""},
		{"second entry removed from the file", nil, func(f *File) { f.Entries = f.Entries[:1] }, nil, []string{CheckMissing}, ""},
		{"entries swapped", nil, func(f *File) { f.Entries[0], f.Entries[1] = f.Entries[1], f.Entries[0] }, nil, []string{CheckRecord}, ""},
		{"no entries", nil, func(f *File) { f.Entries = nil }, nil, []string{CheckMissing}, ""},
		{"another attestation key pinned", nil, nil, &CheckOptions{RekorKey: rk, AttestationKeys: []crypto.PublicKey{newP256Pub()}}, []string{CheckHead, CheckKey, attest.CheckSealKey}, ""},
		{"the pinned attestation key", nil, nil, &CheckOptions{RekorKey: rk, AttestationKeys: []crypto.PublicKey{ak}}, nil, ""},
		{"SET of the first entry", nil, func(f *File) { f.Entries[0].SignedEntryTimestamp = flipB64(f.Entries[0].SignedEntryTimestamp, 9) }, nil, []string{CheckRecord, CheckSET}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, entry := copyTestdata(t, tt.editLog, tt.editFile)
			o := opts
			if tt.opts != nil {
				o = *tt.opts
			}
			fs, _ := checkLog(t, log, entry, o)
			if got := errorChecks(fs); !slices.Equal(got, tt.want) {
				t.Errorf("error checks %v, want %v\n%v", got, tt.want, fs)
			}
			if tt.warn != "" && !slices.ContainsFunc(fs, func(f check.Finding) bool { return f.Check == tt.warn }) {
				t.Errorf("no %s warning: %v", tt.warn, fs)
			}
		})
	}

	// A missing or malformed entry file.
	log, entry := copyTestdata(t, nil, nil)
	os.Remove(entry)
	if fs, _ := checkLog(t, log, entry, opts); !slices.Equal(errorChecks(fs), []string{CheckMissing}) {
		t.Errorf("missing file: %v", fs)
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "ceremony.log.rekor.json"))
	os.WriteFile(entry, bytes.Replace(b, []byte(`"log_index": `), []byte(`"log_index":`), 1), 0o644)
	if fs, _ := checkLog(t, log, entry, opts); !slices.Equal(errorChecks(fs), []string{CheckMalformed}) {
		t.Errorf("malformed file: %v", fs)
	}
	if _, err := NewChecker(entry, CheckOptions{}); err == nil {
		t.Error("NewChecker without a Rekor key")
	}
}
