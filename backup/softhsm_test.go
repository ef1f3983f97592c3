package backup

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/quorum"
)

func TestMain(m *testing.M) { os.Exit(softhsmtest.Main(m)) }

// capturingSource records the KEK a real token's RNG gave, so that a test
// can craft a file only a KEK holder could.
type capturingSource struct {
	Source
	kek []byte
}

func (c *capturingSource) Random(n int) ([]byte, error) {
	b, err := c.Source.Random(n)
	c.kek = bytes.Clone(b)
	return b, err
}

// hsmBackup generates a key on a fresh SoftHSM token and backs it up.
// The returned source token is logged in when Create got that far.
func hsmBackup(t *testing.T, alg hsm.Algorithm, backupable bool, roster quorum.Roster, pass map[string][]byte) (*hsm.Token, *capturingSource, *Created, error) {
	t.Helper()
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: "ksk", Algorithm: alg, Backupable: backupable}); err != nil {
		t.Fatal(err)
	}
	if err := tok.Logout(); err != nil {
		t.Fatal(err)
	}
	so := hsm.LoginOptions{PIN: tk.SOPINSource(), Counter: tk.Counter()}
	src := &capturingSource{Source: NewHSMSource(tok, tk.LoginOptions(), so)}
	res, err := Create(src, CreateOptions{Label: "ksk", Roster: roster, Passphrases: pass, WorkFactor: testWorkFactor})
	if res == nil && err == nil {
		t.Fatal("no result and no error")
	}
	return tok, src, res, err
}

func count(t *testing.T, tok *hsm.Token) int {
	t.Helper()
	n, err := tok.CountObjects()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHSMBackupRestore backs up a key of each algorithm from one SoftHSM
// token and restores it into a new one. SoftHSM 2.6 cannot wrap Ed25519
// keys: that backup must fail with ErrMechanism before anything is made.
func TestHSMBackupRestore(t *testing.T) {
	for _, tt := range []struct {
		alg  hsm.Algorithm
		want SignatureCheck
	}{
		{hsm.RSASHA256, SignatureIdentical},
		{hsm.RSASHA512, SignatureIdentical},
		{hsm.ECDSAP256SHA256, SignatureVerified},
		{hsm.ECDSAP384SHA384, SignatureVerified},
		{hsm.ED25519, SignatureIdentical},
	} {
		t.Run(tt.alg.String(), func(t *testing.T) {
			t.Parallel()
			roster, pass := testRoster("dr-2026", DefaultM, DefaultN)
			stok, src, res, err := hsmBackup(t, tt.alg, true, roster, pass)
			if tt.alg == hsm.ED25519 && errors.Is(err, hsm.ErrMechanism) {
				t.Logf("as expected on SoftHSM 2.6: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			noSecrets(t, string(res.Data), src.kek)
			for _, c := range res.Credentials {
				if bytes.Contains(c.File, src.kek) {
					t.Fatal("KEK in a credential file")
				}
			}

			dtk := softhsmtest.NewToken(t)
			dst := dtk.Open(t)
			before := count(t, dst)
			f, err := Parse(res.Data)
			if err != nil {
				t.Fatal(err)
			}
			creds := openCreds(res.Credentials[2:], pass)
			rep, err := Restore(f, NewHSMTarget(dst), RestoreOptions{Roster: roster, Credentials: creds})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Signature != tt.want {
				t.Errorf("signature check %s, want %s", rep.Signature, tt.want)
			}
			if n := count(t, dst); n != before+3 {
				t.Errorf("%d objects after restore, want %d", n, before+3)
			}
			got, err := dst.FindKey("ksk")
			if err != nil {
				t.Fatal(err)
			}
			at := got.Attributes()
			if !at.Sensitive || at.Extractable || !at.Sign || at.Decrypt || at.Unwrap || at.Derive || !at.Private || at.Local {
				t.Errorf("restored attributes %+v", at)
			}
			dk, err := got.DNSKEY(hsm.DNSKEYOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rrLine(dk) != f.Key.DNSKEY || dk.KeyTag() != f.Key.KeyTag || got.Algorithm() != tt.alg {
				t.Errorf("restored DNSKEY %s, want %s", rrLine(dk), f.Key.DNSKEY)
			}

			// The original and the restored key sign alike.
			orig, err := stok.FindKey("ksk")
			if err != nil {
				t.Fatal(err)
			}
			in, opts := signingInput(tt.alg, []byte("zone data"))
			s1, err1 := orig.Sign(nil, in, opts)
			s2, err2 := got.Sign(nil, in, opts)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if tt.want == SignatureIdentical && !bytes.Equal(s1, s2) {
				t.Error("restored key signs differently")
			}
		})
	}
}

func TestHSMRefusals(t *testing.T) {
	roster, pass := testRoster("dr-2026", 3, 5)
	if _, _, _, err := hsmBackup(t, hsm.RSASHA256, false, roster, pass); !errors.Is(err, ErrNotBackupable) {
		t.Fatalf("backup of a non-backup-able key: %v", err)
	}
	_, src, res, err := hsmBackup(t, hsm.RSASHA256, true, roster, pass)
	if err != nil {
		t.Fatal(err)
	}
	_, _, other, err := hsmBackup(t, hsm.RSASHA256, true, roster, pass)
	if err != nil {
		t.Fatal(err)
	}
	f := res.File
	swapped := reencode(t, f, func(g *File) {
		g.Key, g.Reference = other.File.Key, other.File.Reference
		if err := g.seal(src.kek); err != nil {
			t.Fatal(err)
		}
	})
	dtk := softhsmtest.NewToken(t)
	dtk.ImportTestKey(t, "rsa-2048-2", "taken")
	dst := dtk.Open(t)
	taken := reencode(t, f, func(g *File) { g.Key.Label = "taken"; g.seal(src.kek) })
	creds := res.Credentials
	for _, tt := range []struct {
		name  string
		file  *File
		creds []quorum.Opened
		want  error
	}{
		{"M-1 credentials", f, openCreds(creds[:2], pass), quorum.ErrQuorumNotMet},
		{"wrong passphrase", f, openCreds(creds[:3], pass, "rksh2"), quorum.ErrQuorumNotMet},
		{"a share of another backup", f, append(openCreds(creds[:2], pass), openCreds(other.Credentials[3:4], pass)...), quorum.ErrQuorumNotMet},
		{"the shares of another backup", f, openCreds(other.Credentials[:3], pass), ErrOtherBackup},
		{"altered blob", reencode(t, f, func(g *File) { g.Wrap.Key[9] ^= 0x40 }), openCreds(creds[:3], pass), ErrAltered},
		{"good MAC, public key of another key", swapped, openCreds(creds[:3], pass), ErrMismatch},
		{"label in use", taken, openCreds(creds[:3], pass), hsm.ErrLabelExists},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := count(t, dst)
			_, err := Restore(tt.file, NewHSMTarget(dst), RestoreOptions{Roster: roster, Credentials: tt.creds})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if n := count(t, dst); n != before {
				t.Errorf("%d objects after a refused restore, want %d", n, before)
			}
			noSecrets(t, err.Error(), src.kek)
		})
	}
}
