package hsm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

func TestOpenModuleErrors(t *testing.T) {
	notLib := filepath.Join(t.TempDir(), "not-a-module.so")
	if err := os.WriteFile(notLib, []byte("not ELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", "/nonexistent/libpkcs11.so", notLib} {
		_, err := hsm.OpenModule(path)
		if !errors.Is(err, hsm.ErrModule) {
			t.Errorf("OpenModule(%q): %v, want ErrModule", path, err)
		}
		if path != "" && !strings.Contains(err.Error(), path) {
			t.Errorf("error does not name the module: %v", err)
		}
	}
}

func TestOpenToken(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	other := softhsmtest.NewToken(t)
	m, err := hsm.OpenModule(tk.Module)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	for _, sel := range []hsm.TokenSelector{
		{Label: tk.Label}, {Serial: tk.Serial}, {Label: tk.Label, Serial: tk.Serial},
	} {
		tok, err := m.OpenToken(sel)
		if err != nil {
			t.Fatalf("OpenToken(%+v): %v", sel, err)
		}
		if ti := tok.Info(); ti.Label != tk.Label || ti.Serial != tk.Serial || !ti.Initialized || !ti.LoginRequired {
			t.Errorf("OpenToken(%+v) = %+v", sel, ti)
		}
		tok.Close()
	}
	for _, sel := range []hsm.TokenSelector{
		{Label: "no-such-token"}, {Serial: "0000"}, {Label: tk.Label, Serial: other.Serial}, {},
	} {
		_, err := m.OpenToken(sel)
		if !errors.Is(err, hsm.ErrTokenNotFound) {
			t.Errorf("OpenToken(%+v): %v, want ErrTokenNotFound", sel, err)
		}
		if sel.Label != "" && !strings.Contains(err.Error(), sel.Label) {
			t.Errorf("error does not name the token: %v", err)
		}
	}
	toks, err := m.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, ti := range toks {
		if ti.Serial == tk.Serial || ti.Serial == other.Serial {
			seen++
		}
	}
	if seen != 2 {
		t.Errorf("Tokens() = %+v, missing the test tokens", toks)
	}
}

func TestMechanisms(t *testing.T) {
	tok := softhsmtest.NewToken(t).OpenNoLogin(t)
	mechs, err := tok.Mechanisms()
	if err != nil {
		t.Fatal(err)
	}
	need := map[string]bool{"CKM_RSA_PKCS": false, "CKM_ECDSA": false, "CKM_EDDSA": false, "CKM_EC_EDWARDS_KEY_PAIR_GEN": false}
	for _, m := range mechs {
		if _, ok := need[m.Name]; ok {
			need[m.Name] = m.Supported
		}
	}
	for n, ok := range need {
		if !ok {
			t.Errorf("SoftHSM reports no %s", n)
		}
	}
}

func TestModuleSharedAcrossOpens(t *testing.T) {
	tk := softhsmtest.NewToken(t)
	a := tk.Open(t)
	// A second, independent Module of the same library in the process
	// must not re-initialise it or finalise it under the first.
	m2, err := hsm.OpenModule(tk.Module)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Info(); err != nil {
		t.Fatal(err)
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GenerateKey(hsm.GenerateOptions{Label: "still-works", Algorithm: hsm.ED25519}); err != nil {
		t.Fatalf("first module broken by closing the second: %v", err)
	}
}
