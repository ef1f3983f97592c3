package backup

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/quorum"
)

const testWorkFactor = 10

// fixture is a backup made on a fake source.
type fixture struct {
	h      *fakeHSM
	src    *fakeSource
	roster quorum.Roster
	pass   map[string][]byte
	res    *Created
	kek    []byte
}

func newFixture(t testing.TB, keyName string) *fixture {
	t.Helper()
	h := newFakeHSM()
	src := &fakeSource{h: h, keys: map[string]*fakeKey{"ksk": testKey(t, keyName, "ksk", backupable)}}
	roster, pass := testRoster("dr-2026", 3, 5)
	res, err := Create(src, CreateOptions{Label: "ksk", Roster: roster, Passphrases: pass, WorkFactor: testWorkFactor})
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := h.counts(); k != 0 {
		t.Fatalf("%d KEKs left on the source", k)
	}
	return &fixture{h: h, src: src, roster: roster, pass: pass, res: res, kek: src.kek}
}

func TestCreateRestore(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want SignatureCheck
	}{
		{"rsa-2048-1", SignatureIdentical},
		{"ec-prime256v1-1", SignatureVerified},
		{"ec-secp384r1-1", SignatureVerified},
		{"ed25519-1", SignatureIdentical},
	} {
		t.Run(tt.key, func(t *testing.T) {
			fx := newFixture(t, tt.key)
			tk, _ := softhsmtest.LookupTestKey(tt.key)
			f := fx.res.File
			if f.Key.KeyTag != tk.KeyTag || f.Algorithm() != tk.Algorithm {
				t.Errorf("key tag %d %s, want %d %s", f.Key.KeyTag, f.Algorithm(), tk.KeyTag, tk.Algorithm)
			}
			if len(fx.res.Credentials) != 5 || f.Quorum.M != 3 || f.Quorum.N != 5 {
				t.Fatalf("%d credentials, quorum %d of %d", len(fx.res.Credentials), f.Quorum.M, f.Quorum.N)
			}
			noSecrets(t, string(fx.res.Data), fx.kek)
			if bytes.Contains(fx.res.Data, []byte(base64.StdEncoding.EncodeToString(fx.kek))) {
				t.Error("the KEK is in the backup file")
			}
			parsed, err := Parse(fx.res.Data)
			if err != nil {
				t.Fatal(err)
			}
			tgt := &fakeTarget{h: newFakeHSM()}
			tgt.h.wrapped = fx.h.wrapped
			creds := openCreds(fx.res.Credentials[1:4], fx.pass)
			rep, err := Restore(parsed, tgt, RestoreOptions{Roster: fx.roster, Credentials: creds})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Signature != tt.want || rep.Key == nil || !rep.Quorum.Met || rep.Quorum.Valid != 3 {
				t.Errorf("report %+v", rep)
			}
			if k, o := tgt.h.counts(); k != 0 || o != 3 {
				t.Errorf("target: %d KEKs, %d objects; want 0, 3", k, o)
			}
		})
	}
}

func TestCreateRefusals(t *testing.T) {
	errBoom := errors.New("token on fire")
	roster, pass := testRoster("dr-2026", 3, 5)
	officers := roster
	officers.Holders = append([]quorum.Holder{}, roster.Holders...)
	officers.Holders[2].Role = quorum.RoleCryptoOfficer
	missing := map[string][]byte{"rksh1": pass["rksh1"]}
	tests := []struct {
		name   string
		keys   map[string]hsm.KeyAttributes
		setup  func(*fakeHSM)
		opts   func(*CreateOptions)
		want   error
		wantIs []error
	}{
		{name: "not backup-able", keys: map[string]hsm.KeyAttributes{"ksk": {Sensitive: true, Sign: true}}, want: ErrNotBackupable},
		{name: "key missing", keys: map[string]hsm.KeyAttributes{"other": backupable}, want: hsm.ErrKeyNotFound},
		{name: "token cannot wrap", setup: func(h *fakeHSM) { h.failWrap = hsm.ErrMechanism }, want: hsm.ErrMechanism},
		{name: "wrap says not extractable", setup: func(h *fakeHSM) { h.failWrap = hsm.ErrNotExtractable }, want: ErrNotBackupable},
		{name: "KEK not destroyed", setup: func(h *fakeHSM) { h.failDestroy = errBoom }, want: errBoom},
		{name: "no random", setup: func(h *fakeHSM) { h.failRandom = errBoom }, want: errBoom},
		{name: "no trusted KEK", setup: func(h *fakeHSM) { h.failImport = hsm.ErrPINIncorrect }, want: hsm.ErrPINIncorrect},
		{name: "user login fails", setup: func(h *fakeHSM) { h.failKey = hsm.ErrPINLocked }, want: hsm.ErrPINLocked},
		{name: "crypto officer in roster", opts: func(o *CreateOptions) { o.Roster = officers }, want: quorum.ErrInvalidRoster},
		{name: "missing passphrase", opts: func(o *CreateOptions) { o.Passphrases = missing }, want: ErrInvalidArgument},
		{name: "work factor too high", opts: func(o *CreateOptions) { o.WorkFactor = MaxWorkFactor + 1 }, want: ErrInvalidArgument},
		{name: "empty label", opts: func(o *CreateOptions) { o.Label = "" }, want: ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHSM()
			src := &fakeSource{h: h, keys: map[string]*fakeKey{}}
			keys := tt.keys
			if keys == nil {
				keys = map[string]hsm.KeyAttributes{"ksk": backupable}
			}
			for label, at := range keys {
				src.keys[label] = testKey(t, "rsa-2048-1", label, at)
			}
			if tt.setup != nil {
				tt.setup(h)
			}
			opts := CreateOptions{Label: "ksk", Roster: roster, Passphrases: pass, WorkFactor: testWorkFactor}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			res, err := Create(src, opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if res != nil {
				t.Error("a result with an error")
			}
			if k, _ := h.counts(); k != 0 {
				t.Errorf("%d KEKs left on the token", k)
			}
			noSecrets(t, err.Error(), src.kek)
		})
	}
}

// reencode changes a parsed file and encodes it again (the MAC is kept,
// so it no longer verifies).
func reencode(t *testing.T, f *File, change func(*File)) *File {
	t.Helper()
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	change(g)
	data, err = g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err = Parse(data)
	if err != nil {
		t.Fatalf("changed file does not parse: %v", err)
	}
	return g
}

func TestRestoreRefusals(t *testing.T) {
	fx := newFixture(t, "ec-prime256v1-1")
	other := newFixture(t, "ec-prime256v1-1") // same roster, another split
	rsaFx := newFixture(t, "rsa-2048-1")
	f := fx.res.File
	creds := fx.res.Credentials
	otherRoster, _ := testRoster("dr-2027", 3, 5)

	// A file whose MAC is good but whose key is another: made with the
	// KEK, as only someone holding it could.
	swapped := reencode(t, rsaFx.res.File, func(g *File) {
		k2 := testKey(t, "rsa-2048-2", "ksk", backupable)
		info, err := keyInfo(k2, hsm.DNSKEYOptions{})
		if err != nil {
			t.Fatal(err)
		}
		in, opts := referenceInput(hsm.RSASHA256)
		sig, err := k2.Sign(nil, in, opts)
		if err != nil {
			t.Fatal(err)
		}
		g.Key, g.Reference.Signature = info, sig
		if err := g.seal(rsaFx.kek); err != nil {
			t.Fatal(err)
		}
	})
	errBoom := errors.New("token on fire")
	extractable := hsm.KeyAttributes{Sensitive: true, Extractable: true, Sign: true, Private: true}

	tests := []struct {
		name   string
		fx     *fixture
		file   *File
		roster quorum.Roster
		creds  []quorum.Opened
		used   bool
		setup  func(*fakeHSM)
		want   error
		reason string // outcome of the last credential
	}{
		{name: "M-1 credentials", creds: openCreds(creds[:2], fx.pass), want: quorum.ErrQuorumNotMet},
		{name: "wrong passphrase", creds: openCreds(creds[:3], fx.pass, "rksh3"), want: quorum.ErrQuorumNotMet, reason: "wrong-passphrase"},
		{name: "one share of another backup", creds: append(openCreds(creds[:2], fx.pass), openCreds(other.res.Credentials[2:3], fx.pass)...),
			want: quorum.ErrQuorumNotMet, reason: "other-split"},
		{name: "every share of another backup", creds: openCreds(other.res.Credentials[:3], fx.pass), want: ErrOtherBackup},
		{name: "another roster", roster: otherRoster, creds: openCreds(creds[:3], fx.pass), want: ErrOtherBackup},
		{name: "altered wrapped key", file: reencode(t, f, func(g *File) { g.Wrap.Key[3] ^= 1 }), creds: openCreds(creds[:3], fx.pass), want: ErrAltered},
		{name: "altered label", file: reencode(t, f, func(g *File) { g.Key.Label = "ksk-x" }), creds: openCreds(creds[:3], fx.pass), want: ErrAltered},
		{name: "altered commitment", file: reencode(t, f, func(g *File) { g.Quorum.KEKCommitment = other.res.File.Quorum.KEKCommitment }),
			creds: openCreds(creds[:3], fx.pass), want: ErrAltered},
		{name: "label in use", used: true, creds: openCreds(creds[:3], fx.pass), want: hsm.ErrLabelExists},
		{name: "token refuses the blob", setup: func(h *fakeHSM) { h.failUnwrap = hsm.ErrWrappedKeyInvalid }, creds: openCreds(creds[:3], fx.pass), want: ErrAltered},
		{name: "unwrap fails", setup: func(h *fakeHSM) { h.failUnwrap = errBoom }, creds: openCreds(creds[:3], fx.pass), want: errBoom},
		{name: "no KEK import", setup: func(h *fakeHSM) { h.failImport = hsm.ErrMechanism }, creds: openCreds(creds[:3], fx.pass), want: hsm.ErrMechanism},
		{name: "another EC key unwrapped", setup: func(h *fakeHSM) { h.unwrapAs = testKey(t, "ec-prime256v1-2", "x", backupable).Signer },
			creds: openCreds(creds[:3], fx.pass), want: ErrMismatch},
		{name: "another RSA key unwrapped", fx: rsaFx, setup: func(h *fakeHSM) { h.unwrapAs = testKey(t, "rsa-2048-2", "x", backupable).Signer },
			creds: openCreds(rsaFx.res.Credentials[:3], fx.pass), want: ErrMismatch},
		{name: "another RSA key, token does not compare", fx: rsaFx, setup: func(h *fakeHSM) {
			h.unwrapAs, h.checkRSA = testKey(t, "rsa-2048-2", "x", backupable).Signer, false
		}, creds: openCreds(rsaFx.res.Credentials[:3], fx.pass), want: ErrMismatch},
		{name: "good MAC, other public key", fx: rsaFx, file: swapped, creds: openCreds(rsaFx.res.Credentials[:3], fx.pass), want: ErrMismatch},
		{name: "extractable after restore", setup: func(h *fakeHSM) { h.attrs = &extractable }, creds: openCreds(creds[:3], fx.pass), want: ErrUnsafeAttributes},
		{name: "KEK not destroyed", setup: func(h *fakeHSM) { h.failDestroy = errBoom }, creds: openCreds(creds[:3], fx.pass), want: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := fx
			if tt.fx != nil {
				x = tt.fx
			}
			file := x.res.File
			if tt.file != nil {
				file = tt.file
			}
			roster := x.roster
			if tt.roster.ID != "" {
				roster = tt.roster
			}
			h := newFakeHSM()
			h.wrapped = x.h.wrapped
			if tt.setup != nil {
				tt.setup(h)
			}
			tgt := &fakeTarget{h: h, used: map[string]bool{"ksk": tt.used}}
			rep, err := Restore(file, tgt, RestoreOptions{Roster: roster, Credentials: tt.creds})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if rep == nil || rep.Key != nil {
				t.Fatalf("report %+v", rep)
			}
			if k, o := h.counts(); k != 0 || o != 0 {
				t.Errorf("target left with %d KEKs and %d objects", k, o)
			}
			if tt.reason != "" {
				if rep.Quorum == nil {
					t.Fatal("no quorum result")
				}
				got := rep.Quorum.Credentials[len(rep.Quorum.Credentials)-1].Reason
				if got != tt.reason {
					t.Errorf("last credential %q, want %q", got, tt.reason)
				}
			}
			noSecrets(t, err.Error(), x.kek)
		})
	}
	if _, err := Restore(&File{}, &fakeTarget{h: newFakeHSM()}, RestoreOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unparsed file: %v", err)
	}
}

func TestVerifyKEK(t *testing.T) {
	fx := newFixture(t, "rsa-2048-1")
	f := fx.res.File
	if err := f.VerifyKEK(fx.kek); err != nil {
		t.Fatal(err)
	}
	wrong := append([]byte{}, fx.kek...)
	wrong[0] ^= 1
	if err := f.VerifyKEK(wrong); !errors.Is(err, ErrAltered) {
		t.Errorf("wrong KEK: %v", err)
	}
	noSecrets(t, string(fx.res.Data), fx.kek)
	c, _ := kekCommitment(fx.kek, f.Quorum.SplitID)
	if c == hex.EncodeToString(fx.kek) || c != f.Quorum.KEKCommitment {
		t.Errorf("commitment %s", c)
	}
}
