package main

// The attack pass of issue 17, replayed against the files of a rehearsal
// room: a quarterly signing ceremony run on SoftHSM, its log, the
// attestation key's public half and the witnesses' allowed_signers. Each
// case says what the attack did before the fix and asserts the fixed
// behaviour through the CLI, as a TCR checking a published log would run
// it.

import (
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
)

// attackRoom is a finished quarterly signing: its log, the attestation key
// and the allowed signers a TCR pins.
type attackRoom struct {
	e                           *ceremonyEnv
	log, attestPEM, allowed     string
	lines                       []string
	signSeq, signOffSeq, seqEnd int
}

func newAttackRoom(t *testing.T) *attackRoom {
	t.Helper()
	e := stageCeremony(t)
	code, out, errOut := runKSK(t, "", e.quarterlyArgs("a", e.path("quarterly-answers.yaml"))...)
	if code != 0 {
		t.Fatalf("quarterly ceremony: exit %d\n%s\n%s", code, lastLines(out, 30), errOut)
	}
	r := &attackRoom{e: e, log: e.path("ceremony-a.log"), attestPEM: e.path("media", "ksk-attestation.pem"), allowed: e.path("allowed_signers")}
	var allowed strings.Builder
	for _, w := range []string{"tcr1", "tcr2", "ew1"} {
		fmt.Fprintf(&allowed, "%s %s", w, readFileT(t, e.path("witnesses", w+".pub")))
	}
	writeFileAt(t, r.allowed, allowed.String(), 0o644)
	r.lines = strings.SplitAfter(readFileT(t, r.log), "\n")
	r.lines = r.lines[:len(r.lines)-1] // after the last newline
	r.signSeq, r.signOffSeq = -1, -1
	for i, l := range r.lines {
		en := parseLine(t, l)
		if en.Step == "act4.sign" && en.Details["status"] == "done" {
			r.signSeq = i
		}
		if en.Step == "act5.sign-off" && r.signOffSeq < 0 {
			r.signOffSeq = i
		}
	}
	r.seqEnd = len(r.lines) - 1
	if r.signSeq < 0 || r.signOffSeq < r.signSeq || parseLine(t, r.lines[r.seqEnd]).Type != attest.TypeSeal {
		t.Fatalf("unexpected log layout: sign at %d, sign-off at %d, last %s", r.signSeq, r.signOffSeq, parseLine(t, r.lines[r.seqEnd]).Type)
	}
	return r
}

// rechain re-encodes lines from index from on with each prev set to the
// hash of the line before it, as an attacker without any key can.
func rechain(t *testing.T, lines []string, from int) []string {
	t.Helper()
	out := append([]string(nil), lines...)
	for i := max(from, 1); i < len(out); i++ {
		e := parseLine(t, out[i])
		e.Prev = attest.LineHash([]byte(strings.TrimSuffix(out[i-1], "\n")))
		b, err := attest.MarshalLine(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b) + "\n"
	}
	return out
}

func relineT(t *testing.T, line string, edit func(e *attest.Entry)) string {
	t.Helper()
	e := parseLine(t, line)
	edit(e)
	b, err := attest.MarshalLine(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// verifyForged writes lines to a file and runs ksk log verify -o json on
// it with the TCR's pins and extra flags.
func (r *attackRoom) verifyForged(t *testing.T, lines []string, extra ...string) (int, logReportJSON) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "forged.log")
	writeFileAt(t, p, strings.Join(lines, ""), 0o644)
	args := append([]string{"log", "verify", "-o", "json", "--attestation-key", r.attestPEM, "--allowed-signers", r.allowed}, extra...)
	code, out, errOut := runKSK(t, "", append(args, p)...)
	var rep logReportJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s%s", code, err, out, errOut)
	}
	return code, rep
}

type logReportJSON struct {
	Valid    bool            `json:"valid"`
	Finished bool            `json:"finished"`
	Status   string          `json:"status"`
	Attested int64           `json:"attested_through_seq"`
	Findings []check.Finding `json:"findings"`
}

func (r logReportJSON) errorChecks() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == check.Error {
			out = append(out, f.Check)
		}
	}
	return out
}

func TestAttackForgedLogs(t *testing.T) {
	r := newAttackRoom(t)
	// The genuine log verifies in the default, finished mode, bound to
	// its script and ceremony.
	code, rep := r.verifyForged(t, r.lines, "--script", quarterlyScript, "--ceremony", "KSK Ceremony 1 (quarterly signing)/1")
	if code != 0 || !rep.Valid || !rep.Finished || rep.Status != "VALID" {
		t.Fatalf("the genuine log: exit %d %+v", code, rep)
	}

	otherScript := filepath.Join(t.TempDir(), "other.yaml")
	writeFileAt(t, otherScript, readFileT(t, quarterlyScript)+"\n# another script\n", 0o644)

	tests := []struct {
		name   string
		before string // what the attack got before the fix
		forge  func() []string
		flags  []string
		want   string // the error check named
	}{
		{"SKR hash changed, chain re-hashed, tail dropped",
			"VALID, exit 0, with a LOG-NO-SEAL warning: the attendance signatures counted as every allowed signer signing",
			func() []string {
				l := append([]string(nil), r.lines[:r.signSeq+1]...)
				l[r.signSeq] = relineT(t, l[r.signSeq], func(e *attest.Entry) {
					for i := range e.Files {
						e.Files[i].SHA256[0] ^= 0xff
					}
				})
				return rechain(t, l, r.signSeq)
			}, nil, attest.CheckNoSeal},
		{"seal dropped", "VALID with a LOG-NO-SEAL warning",
			func() []string { return r.lines[:r.seqEnd] }, nil, attest.CheckNoSeal},
		{"tail truncated before the sign-off", "VALID with a warning",
			func() []string { return r.lines[:r.signOffSeq] }, nil, attest.CheckNoSeal},
		{"an entry appended after the seal", "VALID with a warning",
			func() []string {
				extra := relineT(t, r.lines[r.signSeq], func(e *attest.Entry) { e.Seq = int64(len(r.lines)) })
				return rechain(t, append(append([]string(nil), r.lines...), extra), len(r.lines))
			}, nil, attest.CheckUnsealed},
		{"a log of another ceremony script", "VALID: nothing bound the log to its ceremony",
			func() []string { return r.lines }, []string{"--script", otherScript}, attest.CheckCeremony},
		{"a log of another ceremony number", "VALID",
			func() []string { return r.lines }, []string{"--ceremony", "KSK Ceremony 1 (quarterly signing)/2"}, attest.CheckCeremony},
		{"high-S seal", "VALID: (r, N-s) verifies too, giving the same content a second head",
			func() []string {
				l := append([]string(nil), r.lines...)
				l[r.seqEnd] = relineT(t, l[r.seqEnd], func(e *attest.Entry) { e.Seal.Signature = highS(t, e.Seal.Signature) })
				return l
			}, nil, attest.CheckSeal},
		{"ESC in a detail", "VALID, and ksk log show sent the escape sequence to the terminal",
			func() []string {
				l := append([]string(nil), r.lines...)
				l[r.signSeq] = relineT(t, l[r.signSeq], func(e *attest.Entry) { e.Details["title"] = "Sign\x1b[2K\rthe KSR" })
				return rechain(t, l, r.signSeq)
			}, nil, attest.CheckControl},
		{"witness signature re-armored", "VALID: a re-wrapped armor gave the same signature a second head",
			func() []string {
				l := append([]string(nil), r.lines...)
				l[r.signOffSeq] = relineT(t, l[r.signOffSeq], func(e *attest.Entry) {
					e.Witness.Signature = strings.Replace(e.Witness.Signature, "\n", "\n\n", 1)
				})
				return rechain(t, l, r.signOffSeq)
			}, nil, attest.CheckWitness},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, rep := r.verifyForged(t, tt.forge(), tt.flags...)
			got := rep.errorChecks()
			if code != exitRejected || rep.Valid || rep.Finished || rep.Status != "INVALID" || len(got) == 0 || got[0] != tt.want {
				t.Errorf("before the fix: %s; now exit %d, status %s, errors %v; want exit 1 naming %s\n%+v", tt.before, code, rep.Status, got, tt.want, rep.Findings)
			}
			// A log cut before the sign-off also lacks every witness's
			// sign-off: the attendance signatures do not count.
			if tt.want == attest.CheckNoSeal && tt.name != "seal dropped" && !slices.Contains(got, attest.CheckSignOff) {
				t.Errorf("no %s among %v", attest.CheckSignOff, got)
			}
		})
	}

	// The forged log of the first case, checked as a log in progress:
	// it verifies only as NOT FINISHED, attested up to no signing.
	l := r.lines[:r.signSeq+1]
	code, rep = r.verifyForged(t, l, "--in-progress")
	if code != 0 || rep.Finished || rep.Status != "NOT FINISHED" {
		t.Errorf("the truncated log --in-progress: exit %d %+v", code, rep)
	}
	p := filepath.Join(t.TempDir(), "partial.log")
	writeFileAt(t, p, strings.Join(l, ""), 0o644)
	code, out, _ := runKSK(t, "", "log", "show", "--in-progress", p)
	if code != 0 || !strings.Contains(out, "Verification: NOT FINISHED") || strings.Contains(out, "Verification: VALID") {
		t.Errorf("log show --in-progress of a partial log: exit %d\n%s", code, lastLines(out, 5))
	}
	code, out, _ = runKSK(t, "", "log", "show", p)
	if code != exitRejected || !strings.Contains(out, "Verification: INVALID") {
		t.Errorf("log show of a partial log: exit %d\n%s", code, lastLines(out, 5))
	}
}

// highS returns the ECDSA P-256 signature sig with S replaced by N-S.
func highS(t *testing.T, sig []byte) []byte {
	t.Helper()
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &v); err != nil {
		t.Fatal(err)
	}
	v.S.Sub(elliptic.P256().Params().N, v.S)
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
