package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/internal/testenv"
)

// sshKeygenKey makes an unencrypted ed25519 key with ssh-keygen and returns
// the private key file (the public key is FILE.pub).
func sshKeygenKey(t *testing.T, dir, name string) string {
	t.Helper()
	bin := testenv.RequireTool(t, "ssh-keygen", "openssh-client")
	p := filepath.Join(dir, name)
	if out, err := exec.Command(bin, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", p).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return p
}

// logFixture is a finished log made through the attest API: steps, a
// seal, a step, two witnesses signing off (through ksk log witness) and a
// final seal.
type logFixture struct {
	dir, log, attestPEM, otherPEM, allowed string
	head                                   string
}

func writePEM(t *testing.T, p string, k *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	f := &logFixture{dir: t.TempDir()}
	f.log = filepath.Join(f.dir, "ceremony.log")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.attestPEM, f.otherPEM = filepath.Join(f.dir, "attest.pem"), filepath.Join(f.dir, "other.pem")
	writePEM(t, f.attestPEM, key)
	writePEM(t, f.otherPEM, other)
	clock := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Second); return clock }

	w, err := attest.Create(f.log, attest.Entry{Step: "open", Actor: "ksk", Details: map[string]string{"ceremony": "KSK-55"}}, attest.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"act1.roster", "act2.quorum", "act2.load-ksr", "act3.sign"} {
		if _, err := w.Append(attest.Entry{Step: s, Actor: "ca:carol", Details: map[string]string{"result": "confirmed"},
			Files: []attest.FileRef{{Path: "ksr.xml", Role: attest.Read, SHA256: attest.Hash{1, 2, 3}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal("act3.seal", "ksk", key); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(attest.Entry{Step: "act4.write-skr", Actor: "ca:carol", Files: []attest.FileRef{{Path: "skr.xml", Role: attest.Written, SHA256: attest.Hash{4}}}}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	// seq 7, 8: witnesses alice and bob sign off through the CLI.
	var allowed strings.Builder
	for _, name := range []string{"alice", "bob"} {
		k := sshKeygenKey(t, f.dir, name)
		if code, _, errOut := runKSK(t, "", "log", "witness", f.log, "--name", name, "--key", k); code != 0 {
			t.Fatalf("witness %s: exit %d: %s", name, code, errOut)
		}
		pub, _ := os.ReadFile(k + ".pub")
		allowed.WriteString(name + " " + string(pub))
	}
	f.allowed = filepath.Join(f.dir, "allowed_signers")
	os.WriteFile(f.allowed, []byte(allowed.String()), 0o644)

	w, err = attest.Open(f.log, attest.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	h, err := w.Seal("act4.seal", "ksk", key)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.head = h.String()
	return f
}

func (f *logFixture) lines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

type logVerifyJSON struct {
	Valid        bool            `json:"valid"`
	Head         string          `json:"head"`
	HeadPGPWords string          `json:"head_pgp_words"`
	Entries      int64           `json:"entries"`
	Findings     []check.Finding `json:"findings"`
	Seals        []struct {
		KeyFingerprint string `json:"key_fingerprint"`
	} `json:"seals"`
	Witnesses []struct {
		Name string `json:"name"`
	} `json:"witnesses"`
}

func TestLogVerifyValid(t *testing.T) {
	f := newLogFixture(t)
	code, out, errOut := runKSK(t, "", "log", "verify", "-o", "json", f.log, "--head", f.head,
		"--attestation-key", f.attestPEM, "--allowed-signers", f.allowed)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	var r logVerifyJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	h, _ := attest.ParseHash(f.head)
	if !r.Valid || r.Head != f.head || r.Entries != 10 || r.HeadPGPWords != h.Words() || len(r.Seals) != 2 || len(r.Witnesses) != 2 || r.Findings == nil {
		t.Errorf("report %+v", r)
	}
	// Text, and the head as PGP words.
	code, out, _ = runKSK(t, "", "log", "verify", f.log, "--head", h.Words())
	for _, want := range []string{"Entries: 10\n", "Head: " + f.head, "PGP Words: " + h.Words(), "Result: VALID", "not pinned"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestLogVerifyTampering(t *testing.T) {
	f := newLogFixture(t)
	reline := func(line string, edit func(e *attest.Entry)) string {
		e, err := attest.ParseLine([]byte(strings.TrimSuffix(line, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		edit(e)
		b, err := attest.MarshalLine(e)
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	parse := func(line string) *attest.Entry {
		e, err := attest.ParseLine([]byte(strings.TrimSuffix(line, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// Layout: seq 0 open, 1-4 steps, 5 seal, 6 step, 7 alice, 8 bob, 9 seal.
	tests := []struct {
		name   string
		tamper func(l []string) []string
		flags  []string
		check  string
		where  string
	}{
		{"edit one byte", func(l []string) []string {
			l[2] = strings.Replace(l[2], "confirmed", "confirmeD", 1)
			return l
		}, nil, attest.CheckChain, "seq 2, line 3"},
		{"drop an entry", func(l []string) []string { return append(l[:2:2], l[3:]...) }, nil, attest.CheckSequence, "seq 3, line 3"},
		{"insert an entry", func(l []string) []string { return append(l[:3:3], append([]string{l[2]}, l[3:]...)...) }, nil, attest.CheckSequence, "seq 2, line 4"},
		{"swap two entries", func(l []string) []string { l[2], l[3] = l[3], l[2]; return l }, nil, attest.CheckSequence, "seq 3, line 3"},
		{"truncate against the head", func(l []string) []string { return l[:8] }, nil, attest.CheckTruncated, "seq 8, line 9"},
		{"torn last line", func(l []string) []string { l[9] = l[9][:40]; return l }, nil, attest.CheckTruncated, "seq 9, line 10"},
		{"replace a head signature", func(l []string) []string {
			l[5] = reline(l[5], func(e *attest.Entry) { e.Seal.Signature = parse(l[9]).Seal.Signature })
			return l
		}, nil, attest.CheckSeal, "seq 5, line 6"},
		{"replace a witness signature", func(l []string) []string {
			l[7] = reline(l[7], func(e *attest.Entry) { e.Witness.Signature = parse(l[8]).Witness.Signature })
			return l
		}, nil, attest.CheckWitness, "seq 7, line 8"},
		{"wrong attestation key", func(l []string) []string { return l }, []string{"--attestation-key", "OTHER"}, attest.CheckSealKey, "seq 5, line 6"},
		{"witness not in allowed signers", func(l []string) []string { return l }, []string{"--allowed-signers", "ALICEONLY"}, attest.CheckWitnessKey, "seq 8, line 9"},
	}
	aliceOnly := filepath.Join(f.dir, "alice_only")
	allowed, _ := os.ReadFile(f.allowed)
	os.WriteFile(aliceOnly, []byte(strings.SplitAfter(string(allowed), "\n")[0]), 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "tampered.log")
			if err := os.WriteFile(p, []byte(strings.Join(tt.tamper(f.lines(t)), "")), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"log", "verify", "-o", "json", p, "--head", f.head}
			for _, fl := range tt.flags {
				fl = strings.NewReplacer("OTHER", f.otherPEM, "ALICEONLY", aliceOnly).Replace(fl)
				args = append(args, fl)
			}
			code, out, errOut := runKSK(t, "", args...)
			if code != exitRejected {
				t.Fatalf("exit %d, want 1: %s%s", code, out, errOut)
			}
			var r logVerifyJSON
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var first *check.Finding
			for i := range r.Findings {
				if r.Findings[i].Severity == check.Error {
					first = &r.Findings[i]
					break
				}
			}
			if r.Valid || first == nil || first.Check != tt.check || first.Where != tt.where {
				t.Errorf("first error finding %+v, want %s at %q", first, tt.check, tt.where)
			}
			// The text form names the entry too, and the exit stays 1.
			code, out, _ = runKSK(t, "", append(args[:2], args[4:]...)...)
			if code != exitRejected || !strings.Contains(out, "["+tt.where+"]") || !strings.Contains(out, "Result: INVALID") {
				t.Errorf("text: exit %d:\n%s", code, out)
			}
		})
	}
}

func TestLogVerifyUsage(t *testing.T) {
	f := newLogFixture(t)
	bad := filepath.Join(f.dir, "bad")
	os.WriteFile(bad, []byte("not a key"), 0o644)
	tests := []struct {
		name string
		args []string
	}{
		{"missing file", []string{"log", "verify", "/no/such/log"}},
		{"no argument", []string{"log", "verify"}},
		{"bad head", []string{"log", "verify", f.log, "--head", "xyz"}},
		{"unreadable attestation key", []string{"log", "verify", f.log, "--attestation-key", "/no/such.pem"}},
		{"bad attestation key", []string{"log", "verify", f.log, "--attestation-key", bad}},
		{"bad allowed signers", []string{"log", "verify", f.log, "--allowed-signers", bad}},
		{"unknown flag", []string{"log", "verify", f.log, "--nope"}},
		{"show missing file", []string{"log", "show", "/no/such/log"}},
		{"witness without key", []string{"log", "witness", f.log, "--name", "x"}},
		{"witness without name", []string{"log", "witness", f.log, "--key", bad}},
		{"witness bad key", []string{"log", "witness", f.log, "--name", "x", "--key", bad}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runKSK(t, "", tt.args...)
			if code != exitUsage || !strings.HasPrefix(errOut, "ksk: ") {
				t.Errorf("exit %d, stderr %q; want 2 with a reason", code, errOut)
			}
		})
	}
}

func TestLogShow(t *testing.T) {
	f := newLogFixture(t)
	code, out, errOut := runKSK(t, "", "log", "show", f.log, "--attestation-key", f.attestPEM)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	h, _ := attest.ParseHash(f.head)
	for _, want := range []string{
		"#0  2026-04-01T09:00:01.000Z  open open  by ksk", "ceremony: KSK-55",
		"#3  ", "act2.load-ksr  by ca:carol", "result: confirmed", "read    ksr.xml  sha256 " + (attest.Hash{1, 2, 3}).String(),
		"written skr.xml", "SEAL: head ", "WITNESS: alice signed head", "WITNESS: bob signed head",
		"Head: " + f.head, "PGP Words: " + h.Words(), "Verification: VALID", "Initials: ______",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runKSK(t, "", "log", "show", "-o", "json", f.log)
	var r struct {
		Valid   bool `json:"valid"`
		Entries []struct {
			Seq     int64             `json:"seq"`
			Details map[string]string `json:"details"`
		} `json:"entries"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || !r.Valid || len(r.Entries) != 10 || r.Entries[1].Details["result"] != "confirmed" {
		t.Errorf("json: exit %d %s", code, out)
	}
	// A broken log: printed up to the bad entry, exit 1.
	l := f.lines(t)
	p := filepath.Join(f.dir, "broken.log")
	os.WriteFile(p, []byte(strings.Join(append(l[:3:3], l[4:]...), "")), 0o644)
	code, out, _ = runKSK(t, "", "log", "show", p)
	if code != exitRejected || !strings.Contains(out, "#2 ") || strings.Contains(out, "#4 ") || !strings.Contains(out, "INVALID") {
		t.Errorf("broken log: exit %d:\n%s", code, out)
	}
}

// TestLogWitnessSSHKeygen checks both directions with OpenSSH: a signature
// ksk makes verifies with ssh-keygen -Y verify, and one ssh-keygen -Y sign
// makes is accepted by ksk log witness and ksk log verify.
func TestLogWitnessSSHKeygen(t *testing.T) {
	bin := testenv.RequireTool(t, "ssh-keygen", "openssh-client")
	f := newLogFixture(t)

	// ksk -> ssh-keygen: alice's entry (seq 7), made by ksk log witness.
	alice := parseLine(t, f.lines(t)[7])
	sig := filepath.Join(f.dir, "alice.sig")
	os.WriteFile(sig, []byte(alice.Witness.Signature), 0o644)
	cmd := exec.Command(bin, "-Y", "verify", "-f", f.allowed, "-I", "alice", "-n", attest.WitnessNamespace, "-s", sig)
	cmd.Stdin = strings.NewReader(alice.Witness.Head.String() + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y verify rejected ksk's signature: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, "-Y", "verify", "-f", f.allowed, "-I", "alice", "-n", attest.WitnessNamespace, "-s", sig)
	cmd.Stdin = strings.NewReader(f.head + "\n")
	if err := cmd.Run(); err == nil {
		t.Fatal("ssh-keygen -Y verify accepted a signature over another head")
	}

	// ssh-keygen -> ksk: carol signs the witness head with ssh-keygen.
	carol := sshKeygenKey(t, f.dir, "carol")
	code, head, _ := runKSK(t, "", "log", "head", "--for-witness", f.log)
	if code != 0 || strings.TrimSpace(head) != f.head {
		t.Fatalf("log head --for-witness: exit %d %q, want %s", code, head, f.head)
	}
	cmd = exec.Command(bin, "-Y", "sign", "-n", attest.WitnessNamespace, "-f", carol)
	cmd.Stdin = strings.NewReader(head)
	armored, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v", err)
	}
	carolSig := filepath.Join(f.dir, "carol.sig")
	os.WriteFile(carolSig, armored, 0o644)

	// A signature by carol presented as dave's key is refused.
	dave := sshKeygenKey(t, f.dir, "dave")
	if code, _, errOut := runKSK(t, "", "log", "witness", f.log, "--name", "carol", "--signature", carolSig, "--public-key", dave+".pub"); code != exitRejected {
		t.Fatalf("mismatched key: exit %d %s", code, errOut)
	}
	code, out, errOut := runKSK(t, "", "log", "witness", f.log, "--name", "carol", "--signature", carolSig, "--public-key", carol+".pub")
	if code != 0 || !strings.Contains(out, "signed head "+f.head) {
		t.Fatalf("witness --signature: exit %d %s %s", code, out, errOut)
	}
	// Verify with carol allowed, then without her. Her signature came
	// after the seal: pinned in --allowed-signers it keeps the log
	// finished (only her key could have made it); without the pins it
	// is an entry no seal covers.
	pub, _ := os.ReadFile(carol + ".pub")
	allowed, _ := os.ReadFile(f.allowed)
	all := filepath.Join(f.dir, "all_signers")
	os.WriteFile(all, append(allowed, []byte("carol "+string(pub))...), 0o644)
	if code, out, _ := runKSK(t, "", "log", "verify", f.log, "--attestation-key", f.attestPEM, "--allowed-signers", all); code != 0 || !strings.Contains(out, "Result: VALID") {
		t.Fatalf("verify with carol allowed: exit %d\n%s", code, out)
	}
	if code, out, _ := runKSK(t, "", "log", "verify", f.log, "--attestation-key", f.attestPEM); code != exitRejected || !strings.Contains(out, attest.CheckUnsealed) {
		t.Fatalf("verify of a witness after the seal without pinned signers: exit %d\n%s", code, out)
	}
	if code, out, _ := runKSK(t, "", "log", "verify", f.log, "--allowed-signers", f.allowed); code != exitRejected || !strings.Contains(out, attest.CheckWitnessKey) {
		t.Fatalf("verify without carol allowed: exit %d\n%s", code, out)
	}

	// An encrypted key is a usage error that points to ssh-keygen.
	enc := filepath.Join(f.dir, "enc")
	if out, err := exec.Command(bin, "-q", "-t", "ed25519", "-N", "correct horse", "-f", enc).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if code, _, errOut := runKSK(t, "", "log", "witness", f.log, "--name", "erin", "--key", enc); code != exitUsage || !strings.Contains(errOut, "ssh-keygen -Y sign") {
		t.Errorf("encrypted key: exit %d %s", code, errOut)
	}
}

func parseLine(t *testing.T, line string) *attest.Entry {
	t.Helper()
	e, err := attest.ParseLine([]byte(strings.TrimSuffix(line, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLogWitnessBrokenLog(t *testing.T) {
	f := newLogFixture(t)
	l := f.lines(t)
	os.WriteFile(f.log, []byte(strings.Join(append(l[:3:3], l[4:]...), "")), 0o644)
	k := sshKeygenKey(t, f.dir, "frank")
	if code, _, errOut := runKSK(t, "", "log", "witness", f.log, "--name", "frank", "--key", k); code != exitRejected {
		t.Errorf("witness on a broken log: exit %d %s", code, errOut)
	}
}

func TestLogHelp(t *testing.T) {
	for _, sub := range []string{"", "verify", "show", "witness", "head"} {
		args := []string{"log"}
		if sub != "" {
			args = append(args, sub)
		}
		code, out, _ := runKSK(t, "", append(args, "--help")...)
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("ksk %s --help: exit %d, no example:\n%s", strings.Join(args, " "), code, out)
		}
	}
}
