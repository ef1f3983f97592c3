package backup

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/quorum"
)

// fakeHSM stands for the source and target tokens in unit tests: wrapping
// stores the key under a random blob (no cryptography is needed to test
// the flow), and it counts live KEKs and restored objects, so tests can
// check that every path destroys what it made.
type fakeHSM struct {
	mu       sync.Mutex
	wrapped  map[string]crypto.Signer
	liveKEKs int
	objects  int

	failRandom, failImport, failKey, failWrap, failDestroy, failUnwrap error
	// unwrapAs replaces the key an unwrap yields (a token that unwraps
	// another key than the one wrapped).
	unwrapAs crypto.Signer
	// attrs, when set, are the restored keys' attributes.
	attrs *hsm.KeyAttributes
	// checkRSA makes Unwrap compare an RSA key with the public key, as
	// hsm does.
	checkRSA bool
}

func newFakeHSM() *fakeHSM { return &fakeHSM{wrapped: map[string]crypto.Signer{}, checkRSA: true} }

func (h *fakeHSM) counts() (kek, objects int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.liveKEKs, h.objects
}

type fakeKey struct {
	crypto.Signer
	label   string
	id      []byte
	alg     hsm.Algorithm
	bits    int
	attrs   hsm.KeyAttributes
	created time.Time
}

func (k *fakeKey) Label() string                 { return k.label }
func (k *fakeKey) ID() []byte                    { return k.id }
func (k *fakeKey) Algorithm() hsm.Algorithm      { return k.alg }
func (k *fakeKey) Bits() int                     { return k.bits }
func (k *fakeKey) Attributes() hsm.KeyAttributes { return k.attrs }
func (k *fakeKey) Created() time.Time            { return k.created }

var backupable = hsm.KeyAttributes{Sensitive: true, Extractable: true, WrapWithTrusted: true, Sign: true, Private: true, Local: true}

// testKey loads a fixed test key as a fake key.
func testKey(t testing.TB, name, label string, attrs hsm.KeyAttributes) *fakeKey {
	t.Helper()
	tk, ok := softhsmtest.LookupTestKey(name)
	if !ok {
		t.Fatalf("no test key %s", name)
	}
	s := softhsmtest.LoadTestKey(t, name)
	bits := 256
	switch p := s.Public().(type) {
	case *rsa.PublicKey:
		bits = p.N.BitLen()
	case *ecdsa.PublicKey:
		bits = p.Curve.Params().BitSize
	}
	return &fakeKey{Signer: s, label: label, id: []byte("id-" + label), alg: tk.Algorithm, bits: bits, attrs: attrs,
		created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

type fakeSource struct {
	h    *fakeHSM
	keys map[string]*fakeKey
	kek  []byte // the last KEK drawn, for tests that craft files
}

func (s *fakeSource) Info() hsm.TokenInfo {
	return hsm.TokenInfo{Label: "source", Serial: "0001", Manufacturer: "fake", Model: "fake"}
}

func (s *fakeSource) Random(n int) ([]byte, error) {
	if s.h.failRandom != nil {
		return nil, s.h.failRandom
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return nil, err
	}
	s.kek = bytes.Clone(b)
	return b, nil
}

func (s *fakeSource) ImportKEK(kek []byte) (WrapKEK, error) {
	if s.h.failImport != nil {
		return nil, s.h.failImport
	}
	s.h.mu.Lock()
	s.h.liveKEKs++
	s.h.mu.Unlock()
	return &fakeKEK{h: s.h, kek: bytes.Clone(kek)}, nil
}

func (s *fakeSource) Key(label string) (Key, error) {
	if s.h.failKey != nil {
		return nil, s.h.failKey
	}
	k, ok := s.keys[label]
	if !ok {
		return nil, fmt.Errorf("key %q: %w", label, hsm.ErrKeyNotFound)
	}
	return k, nil
}

type fakeKEK struct {
	h         *fakeHSM
	kek       []byte
	destroyed bool
}

func (w *fakeKEK) Wrap(k Key) ([]byte, error) {
	if w.h.failWrap != nil {
		return nil, w.h.failWrap
	}
	if !k.Attributes().Extractable {
		return nil, fmt.Errorf("wrap: %w", hsm.ErrNotExtractable)
	}
	blob := make([]byte, 40)
	rand.Read(blob)
	w.h.mu.Lock()
	w.h.wrapped[hex.EncodeToString(w.kek)+"/"+hex.EncodeToString(blob)] = k.(*fakeKey).Signer
	w.h.mu.Unlock()
	return blob, nil
}

func (w *fakeKEK) Destroy() error {
	if w.destroyed {
		return nil
	}
	w.destroyed = true
	w.h.mu.Lock()
	w.h.liveKEKs--
	w.h.mu.Unlock()
	return w.h.failDestroy
}

func (w *fakeKEK) Unwrap(blob []byte, spec hsm.UnwrapSpec) (RestoredKey, error) {
	h := w.h
	if h.failUnwrap != nil {
		return nil, h.failUnwrap
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.wrapped[hex.EncodeToString(w.kek)+"/"+hex.EncodeToString(blob)]
	if !ok {
		return nil, fmt.Errorf("unwrap: %w", hsm.ErrWrappedKeyInvalid)
	}
	if h.unwrapAs != nil {
		s = h.unwrapAs
	}
	if pub, isRSA := s.Public().(*rsa.PublicKey); isRSA && h.checkRSA && !pub.Equal(spec.Public) {
		return nil, fmt.Errorf("unwrap: %w", hsm.ErrPublicKeyMismatch)
	}
	attrs := hsm.KeyAttributes{Sensitive: true, Sign: true, Private: true}
	if h.attrs != nil {
		attrs = *h.attrs
	}
	h.objects += 3
	return &fakeRestored{h: h, Signer: s, pub: spec.Public, attrs: attrs}, nil
}

type fakeTarget struct {
	h    *fakeHSM
	used map[string]bool
}

func (t *fakeTarget) Info() hsm.TokenInfo { return hsm.TokenInfo{Label: "target", Serial: "0002"} }

func (t *fakeTarget) CheckFree(label string, id []byte) error {
	if t.used[label] {
		return fmt.Errorf("key %q: %w", label, hsm.ErrLabelExists)
	}
	return nil
}

func (t *fakeTarget) ImportKEK(kek []byte) (UnwrapKEK, error) {
	if t.h.failImport != nil {
		return nil, t.h.failImport
	}
	t.h.mu.Lock()
	t.h.liveKEKs++
	t.h.mu.Unlock()
	return &fakeKEK{h: t.h, kek: bytes.Clone(kek)}, nil
}

// fakeRestored is a restored key whose public key is the one the public
// object was created from, as on a token.
type fakeRestored struct {
	crypto.Signer
	h         *fakeHSM
	pub       crypto.PublicKey
	attrs     hsm.KeyAttributes
	destroyed bool
}

func (k *fakeRestored) Public() crypto.PublicKey      { return k.pub }
func (k *fakeRestored) Attributes() hsm.KeyAttributes { return k.attrs }
func (k *fakeRestored) Destroy() error {
	if !k.destroyed {
		k.destroyed = true
		k.h.mu.Lock()
		k.h.objects -= 3
		k.h.mu.Unlock()
	}
	return nil
}

// testRoster is an m-of-n roster of recovery key share holders and their
// passphrases.
func testRoster(id string, m, n int) (quorum.Roster, map[string][]byte) {
	r := quorum.Roster{ID: id, M: m, N: n}
	pass := map[string][]byte{}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("rksh%d", i)
		r.Holders = append(r.Holders, quorum.Holder{Name: name, Role: quorum.RoleRecoveryKeyShareHolder})
		pass[name] = []byte(fmt.Sprintf("%s%d", testPassPrefix, i))
	}
	return r, pass
}

const testPassPrefix = "recovery-passphrase-"

// openCreds opens credentials with the holders' passphrases; wrong lists
// holders given a wrong one.
func openCreds(creds []quorum.Credential, pass map[string][]byte, wrong ...string) []quorum.Opened {
	var out []quorum.Opened
	for _, c := range creds {
		p := pass[c.Holder]
		for _, w := range wrong {
			if w == c.Holder {
				p = []byte("not the passphrase")
			}
		}
		out = append(out, quorum.Open(c.Holder, c.File, p))
	}
	return out
}

// noSecrets fails when a text holds a passphrase or the KEK.
func noSecrets(t testing.TB, text string, kek []byte) {
	t.Helper()
	if bytes.Contains([]byte(text), []byte(testPassPrefix)) {
		t.Errorf("a passphrase leaked: %s", text)
	}
	if len(kek) > 0 && (bytes.Contains([]byte(text), kek) || bytes.Contains([]byte(text), []byte(hex.EncodeToString(kek)))) {
		t.Errorf("the KEK leaked: %s", text)
	}
}
