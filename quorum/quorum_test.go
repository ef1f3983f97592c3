package quorum

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"filippo.io/age/armor"
)

// testWorkFactor keeps scrypt cheap in tests only.
const testWorkFactor = 4

var testSecret = []byte("PIN-8831-secret")

func testRoster(id string, m, n int, role Role) Roster {
	r := Roster{ID: id, M: m, N: n}
	for i := 1; i <= n; i++ {
		r.Holders = append(r.Holders, Holder{Name: fmt.Sprintf("holder-%d", i), Role: role})
	}
	return r
}

func testPass(name string) []byte { return []byte("pass-phrase-of-" + name) }

func passphrases(r Roster) map[string][]byte {
	m := map[string][]byte{}
	for _, h := range r.Holders {
		m[h.Name] = testPass(h.Name)
	}
	return m
}

func issue(t testing.TB, r Roster) []Credential {
	t.Helper()
	creds, err := Issue(testSecret, r, passphrases(r), &IssueOptions{WorkFactor: testWorkFactor})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func openCred(c Credential, pass []byte) Opened {
	return Open(c.Holder+".age", c.File, pass)
}

// alterPayload flips the last byte of the age payload inside the armor.
func alterPayload(t *testing.T, file []byte) []byte {
	t.Helper()
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(armor.NewReader(bytes.NewReader(file))); err != nil {
		t.Fatal(err)
	}
	b := raw.Bytes()
	b[len(b)-1] ^= 1
	var out bytes.Buffer
	w := armor.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m, n int
		role Role
		pick []int // indices (0-based) of the credentials presented
	}{
		{"3 of 7 first", 3, 7, RoleCryptoOfficer, []int{0, 1, 2}},
		{"3 of 7 last", 3, 7, RoleCryptoOfficer, []int{6, 4, 5}},
		{"3 of 7 all", 3, 7, RoleCryptoOfficer, []int{0, 1, 2, 3, 4, 5, 6}},
		{"5 of 7", 5, 7, RoleRecoveryKeyShareHolder, []int{6, 0, 3, 2, 5}},
		{"2 of 2", 2, 2, RoleCryptoOfficer, []int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRoster("keygen-1", tt.m, tt.n, tt.role)
			creds := issue(t, r)
			if len(creds) != tt.n {
				t.Fatalf("%d credentials, want %d", len(creds), tt.n)
			}
			var opened []Opened
			for _, i := range tt.pick {
				opened = append(opened, openCred(creds[i], testPass(creds[i].Holder)))
			}
			secret, res, err := r.Combine(opened)
			if err != nil {
				t.Fatalf("Combine: %v (%+v)", err, res)
			}
			if !bytes.Equal(secret, testSecret) {
				t.Fatal("wrong secret reconstructed")
			}
			if !res.Met || res.Valid != len(tt.pick) {
				t.Errorf("result %+v", res)
			}
			for _, o := range res.Credentials {
				if !o.Counted || o.Reason != "" {
					t.Errorf("%s not counted: %s", o.Source, o.Reason)
				}
			}
		})
	}
}

// TestRejected presents credentials that must not count, each beside
// exactly M-1 valid ones of a 3-of-7 roster.
func TestRejected(t *testing.T) {
	r := testRoster("keygen-1", 3, 7, RoleCryptoOfficer)
	creds := issue(t, r)
	other := issue(t, r) // a second split of the same roster
	stranger := testRoster("keygen-1", 3, 7, RoleCryptoOfficer)
	stranger.Holders[6].Name = "mallory"
	strangers := issue(t, stranger)
	otherRoster := testRoster("keygen-2", 3, 7, RoleCryptoOfficer)
	otherRosters := issue(t, otherRoster)

	valid := func(i int) Opened { return openCred(creds[i], testPass(creds[i].Holder)) }
	tests := []struct {
		name   string
		bad    Opened
		want   error
		reason string
	}{
		{"duplicate", valid(0), ErrDuplicate, "duplicate"},
		{"duplicate of another split", openCred(other[1], testPass(other[1].Holder)), ErrOtherSplit, "other-split"},
		{"unknown holder", openCred(strangers[6], testPass("mallory")), ErrUnknownHolder, "unknown-holder"},
		{"altered byte", Open("x", alterPayload(t, creds[2].File), testPass(creds[2].Holder)), ErrAltered, "altered"},
		{"truncated", Open("x", creds[2].File[:len(creds[2].File)/2], testPass(creds[2].Holder)), ErrAltered, "altered"},
		{"not age", Open("x", []byte("hello"), testPass(creds[2].Holder)), ErrAltered, "altered"},
		{"wrong passphrase", openCred(creds[2], testPass(creds[3].Holder)), ErrWrongPassphrase, "wrong-passphrase"},
		{"empty passphrase", openCred(creds[2], nil), ErrWrongPassphrase, "wrong-passphrase"},
		{"other split", openCred(other[2], testPass(other[2].Holder)), ErrOtherSplit, "other-split"},
		{"other roster", openCred(otherRosters[2], testPass(otherRosters[2].Holder)), ErrOtherSplit, "other-split"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			presented := []Opened{valid(0), valid(1), tt.bad}
			secret, res, err := r.Combine(presented)
			if !errors.Is(err, ErrQuorumNotMet) {
				t.Fatalf("err %v, want ErrQuorumNotMet", err)
			}
			if secret != nil || res.Met || res.Valid != 2 {
				t.Fatalf("secret returned or result %+v", res)
			}
			o := res.Credentials[2]
			if o.Counted || !errors.Is(o.Err, tt.want) || o.Reason != tt.reason {
				t.Errorf("outcome %+v, want %v (%s)", o, tt.want, tt.reason)
			}
			assertNoSecrets(t, err.Error(), res.String(), fmt.Sprintf("%+v", res), o.Err.Error(), tt.bad.String())

			// With the third valid credential added the quorum is met
			// and the bad one is still not counted.
			secret, res, err = r.Combine(append(presented, valid(3)))
			if err != nil || !bytes.Equal(secret, testSecret) || res.Valid != 3 || res.Credentials[2].Counted {
				t.Errorf("with a third valid credential: err %v, result %+v", err, res)
			}
		})
	}
}

func TestQuorumNotMet(t *testing.T) {
	tests := []struct{ m, n int }{{3, 7}, {5, 7}, {2, 3}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d of %d", tt.m, tt.n), func(t *testing.T) {
			r := testRoster("keygen-1", tt.m, tt.n, RoleCryptoOfficer)
			creds := issue(t, r)
			var opened []Opened
			for _, c := range creds[:tt.m-1] {
				opened = append(opened, openCred(c, testPass(c.Holder)))
			}
			secret, res, err := r.Combine(opened)
			if !errors.Is(err, ErrQuorumNotMet) || secret != nil || res.Valid != tt.m-1 || res.Met {
				t.Fatalf("err %v, result %+v", err, res)
			}
		})
	}
}

// TestForgedShare: a holder who re-encrypts their credential with an
// altered share cannot re-sign it, so it is rejected as altered.
func TestForgedShare(t *testing.T) {
	r := testRoster("keygen-1", 3, 7, RoleCryptoOfficer)
	creds := issue(t, r)
	o := openCred(creds[0], testPass(creds[0].Holder))
	p := *o.p
	p.Share = append([]byte(nil), p.Share...)
	p.Share[0] ^= 1
	file, err := seal(&p, testPass(creds[0].Holder), testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	forged := Open("forged", file, testPass(creds[0].Holder))
	if !errors.Is(forged.Err, ErrAltered) {
		t.Fatalf("forged share: %v", forged.Err)
	}
}

func TestIssueErrors(t *testing.T) {
	good := testRoster("keygen-1", 3, 7, RoleCryptoOfficer)
	mutate := func(f func(*Roster)) Roster {
		r := testRoster("keygen-1", 3, 7, RoleCryptoOfficer)
		f(&r)
		return r
	}
	tests := []struct {
		name   string
		secret []byte
		roster Roster
		pass   map[string][]byte
		want   error
	}{
		{"m of 1", testSecret, mutate(func(r *Roster) { r.M = 1 }), passphrases(good), ErrInvalidRoster},
		{"m above n", testSecret, mutate(func(r *Roster) { r.M = 8 }), passphrases(good), ErrInvalidRoster},
		{"n mismatch", testSecret, mutate(func(r *Roster) { r.N = 6 }), passphrases(good), ErrInvalidRoster},
		{"duplicate name", testSecret, mutate(func(r *Roster) { r.Holders[1].Name = "holder-1" }), passphrases(good), ErrInvalidRoster},
		{"bad name", testSecret, mutate(func(r *Roster) { r.Holders[1].Name = "a b" }), passphrases(good), ErrInvalidRoster},
		{"bad role", testSecret, mutate(func(r *Roster) { r.Holders[1].Role = "witness" }), passphrases(good), ErrInvalidRoster},
		{"no id", testSecret, mutate(func(r *Roster) { r.ID = "" }), passphrases(good), ErrInvalidRoster},
		{"empty secret", nil, good, passphrases(good), ErrInvalidArgument},
		{"missing passphrase", testSecret, good, map[string][]byte{"holder-1": []byte("x")}, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Issue(tt.secret, tt.roster, tt.pass, &IssueOptions{WorkFactor: testWorkFactor})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			assertNoSecrets(t, err.Error())
		})
	}
}

func TestFingerprintAndStrings(t *testing.T) {
	r := testRoster("keygen-1", 2, 3, RoleCryptoOfficer)
	creds := issue(t, r)
	for _, c := range creds {
		if c.Fingerprint != Fingerprint(c.File) || len(c.Fingerprint) != 64 {
			t.Errorf("fingerprint %q", c.Fingerprint)
		}
		if !bytes.HasPrefix(c.File, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
			t.Errorf("not armored: %.40q", c.File)
		}
		o := openCred(c, testPass(c.Holder))
		assertNoSecrets(t, c.String(), o.String(), fmt.Sprint(o), fmt.Sprintf("%+v", c.String()))
		o.Wipe()
		if o.p != nil {
			t.Error("Wipe kept the payload")
		}
	}
}

// assertNoSecrets fails if any text contains the test secret or a test
// passphrase. Shares never reach a formatted type: Opened and Result
// format only names, indices, fingerprints and reasons.
func assertNoSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, string(testSecret)) || strings.Contains(s, "pass-phrase-of-") {
			t.Errorf("secret or passphrase in %q", s)
		}
	}
}

func FuzzOpenCredential(f *testing.F) {
	r := testRoster("keygen-1", 2, 3, RoleCryptoOfficer)
	creds := issue(f, r)
	f.Add(creds[0].File, testPass(creds[0].Holder))
	f.Add([]byte("-----BEGIN AGE ENCRYPTED FILE-----\n-----END AGE ENCRYPTED FILE-----\n"), []byte("x"))
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAA 10\n"), []byte("x"))
	f.Fuzz(func(t *testing.T, file, pass []byte) {
		o := OpenWithOptions("fuzz", file, pass, OpenOptions{MaxWorkFactor: 10})
		if o.Err == nil && o.p == nil {
			t.Fatal("no error and no payload")
		}
		_ = o.String()
		_, _, _ = r.Combine([]Opened{o, o})
	})
}

func FuzzParseCredential(f *testing.F) {
	f.Add([]byte(`{"format":"ksk-quorum-credential-v1"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		if p, err := parse(plain); err == nil && p == nil {
			t.Fatal("no error and no payload")
		}
	})
}

// TestOpenPinned: with OpenOptions.Pinned, a credential whose SHA-256 is
// not pinned is refused with ErrNotPinned and never decrypted (a wrong
// passphrase does not matter); a pinned one opens. A manifest of the
// credentials gives the pins, and one for another roster is refused.
func TestOpenPinned(t *testing.T) {
	r := testRoster("k", 2, 3, RoleCryptoOfficer)
	creds := issue(t, r)
	m := NewManifest(r, creds[:2], []string{"a", "b"})
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseManifest(js, r)
	if err != nil {
		t.Fatal(err)
	}
	opts := OpenOptions{Pinned: parsed.Pins()}
	if o := OpenWithOptions("c", creds[2].File, []byte("wrong"), opts); !errors.Is(o.Err, ErrNotPinned) || o.p != nil {
		t.Errorf("unpinned credential: %v", o.Err)
	}
	if o := OpenWithOptions("a", creds[0].File, testPass(creds[0].Holder), opts); o.Err != nil {
		t.Errorf("pinned credential: %v", o.Err)
	}
	other := testRoster("other", 2, 3, RoleCryptoOfficer)
	if _, err := ParseManifest(js, other); !errors.Is(err, ErrOtherSplit) {
		t.Errorf("manifest of another roster: %v", err)
	}
	if _, err := ParseManifest([]byte(`{"roster_id":"x","extra":1}`), r); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("manifest with an unknown field: %v", err)
	}
}

// TestIssueWorkFactorCapped: Issue writes no credential Open would refuse.
func TestIssueWorkFactorCapped(t *testing.T) {
	r := testRoster("k", 2, 3, RoleCryptoOfficer)
	if _, err := Issue(testSecret, r, passphrases(r), &IssueOptions{WorkFactor: MaxWorkFactor + 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("work factor %d: %v", MaxWorkFactor+1, err)
	}
}

// TestPossession: a roster of mixed holders issues possession credentials
// as PEM blocks that open without a passphrase and combine with passphrase
// ones; a possession credential whose signed protection is edited, or a
// roster whose holder's protection changed, counts nothing.
func TestPossession(t *testing.T) {
	r := testRoster("drill", 2, 3, RoleCryptoOfficer)
	r.Holders[0].Protection = ProtectionPossession
	r.Holders[2].Protection = ProtectionPossession
	pass := passphrases(r)
	delete(pass, "holder-1")
	delete(pass, "holder-3")
	creds, err := Issue(testSecret, r, pass, &IssueOptions{WorkFactor: testWorkFactor})
	if err != nil {
		t.Fatal(err)
	}
	if !IsPossession(creds[0].File) || IsPossession(creds[1].File) || !bytes.Contains(creds[0].File, []byte("tamper-evident bag")) {
		t.Fatalf("possession file:\n%s", creds[0].File)
	}
	p1, p2, p3 := openCred(creds[0], nil), openCred(creds[1], testPass("holder-2")), openCred(creds[2], []byte("ignored"))
	for _, o := range []Opened{p1, p2, p3} {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Source, o.Err)
		}
	}
	if p1.Protection != ProtectionPossession || p2.Protection != ProtectionPassphrase {
		t.Errorf("protections %q %q", p1.Protection, p2.Protection)
	}
	for _, pick := range [][]Opened{{p1, p3}, {p2, p1}} {
		secret, res, err := r.Combine(pick)
		if err != nil || !bytes.Equal(secret, testSecret) {
			t.Fatalf("combine: %v %v", err, res)
		}
	}

	// The same roster with holder-1 back to passphrase: another digest,
	// so the possession credentials were issued for another roster.
	if r2 := testRoster("drill", 2, 3, RoleCryptoOfficer); r2.Digest() == r.Digest() {
		t.Fatal("the protections are not in the roster digest")
	}
	r3 := testRoster("drill", 2, 3, RoleCryptoOfficer)
	r3.Holders[2].Protection = ProtectionPossession
	if _, res, err := r3.Combine([]Opened{openCred(creds[0], nil), openCred(creds[2], nil)}); !errors.Is(err, ErrQuorumNotMet) || res.Credentials[0].Reason != "other-split" {
		t.Errorf("a roster with other protections: %v %+v", err, res)
	}

	// The payload edited to drop its protection: the signature fails; a
	// passphrase credential's payload cannot be re-wrapped as possession.
	edited := bytes.Replace(creds[0].File, []byte("Protection: possession"), []byte("Protection: none"), 1)
	if o := openCred(Credential{Holder: "holder-1", File: edited}, nil); o.Err != nil {
		t.Errorf("a PEM header is not signed and only informs: %v", o.Err)
	}
	blk, _ := pem.Decode(creds[0].File)
	var pl map[string]any
	if err := json.Unmarshal(blk.Bytes, &pl); err != nil {
		t.Fatal(err)
	}
	delete(pl, "protection")
	blk.Bytes, _ = json.Marshal(pl)
	if o := openCred(Credential{Holder: "holder-1", File: pem.EncodeToMemory(blk)}, nil); !errors.Is(o.Err, ErrAltered) {
		t.Errorf("protection dropped: %v, want ErrAltered", o.Err)
	}
	pl["protection"] = "possession"
	blk.Bytes, _ = json.Marshal(pl)
	if o := openCred(Credential{Holder: "holder-1", File: append(pem.EncodeToMemory(blk), "trailing"...)}, nil); !errors.Is(o.Err, ErrAltered) {
		t.Errorf("trailing data: %v, want ErrAltered", o.Err)
	}
}

// TestSplitTie: credentials of two splits, as many holders each: the split
// presented first is counted, the other's credentials are ErrOtherSplit.
func TestSplitTie(t *testing.T) {
	r := testRoster("keygen-1", 3, 7, RoleCryptoOfficer)
	a, b := issue(t, r), issue(t, r)
	op := func(c Credential) Opened { return openCred(c, testPass(c.Holder)) }
	tests := []struct {
		name      string
		presented []Opened
		counted   []int // indexes into presented
	}{
		{"b first", []Opened{op(b[0]), op(b[1]), op(a[2]), op(a[3])}, []int{0, 1}},
		{"a first", []Opened{op(a[2]), op(b[0]), op(a[3]), op(b[1])}, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res, err := r.Combine(tt.presented)
			if !errors.Is(err, ErrQuorumNotMet) || res.Valid != 2 {
				t.Fatalf("err %v, result %+v", err, res)
			}
			for i, o := range res.Credentials {
				want := i == tt.counted[0] || i == tt.counted[1]
				if o.Counted != want || (!want && !errors.Is(o.Err, ErrOtherSplit)) {
					t.Errorf("credential %d: counted %v, err %v; want counted %v", i, o.Counted, o.Err, want)
				}
			}
		})
	}
}
