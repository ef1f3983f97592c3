package attest

import (
	"bytes"
	"crypto"
	"errors"
	"strings"
	"testing"
)

// resign returns line with its entry changed by edit and re-encoded.
func relined(t *testing.T, line string, edit func(e *Entry)) string {
	t.Helper()
	e, err := ParseLine([]byte(strings.TrimSuffix(line, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	edit(e)
	b, err := MarshalLine(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestTampering(t *testing.T) {
	f := newFixture(t)
	attacker := ecKey(t)
	mallory := sshKey(t)
	tests := []struct {
		name   string
		tamper func(l []string) []string
		opts   func(o *VerifyOptions)
		want   error
		check  string
		seq    int64
		line   int
	}{
		{"edit one byte", func(l []string) []string {
			l[3] = strings.Replace(l[3], "ca:carol", "ca:carel", 1)
			return l
		}, nil, ErrBrokenChain, CheckChain, 3, 4},
		{"edit one byte of the last entry", func(l []string) []string {
			l[10] = strings.Replace(l[10], `"act4.seal"`, `"act4.seaL"`, 1)
			return l
		}, nil, ErrTruncated, CheckTruncated, 11, 12},
		{"break the JSON", func(l []string) []string {
			l[3] = strings.Replace(l[3], `":`, `";`, 1)
			return l
		}, nil, ErrMalformed, CheckMalformed, 3, 4},
		{"drop an entry", func(l []string) []string {
			return append(l[:3:3], l[4:]...)
		}, nil, ErrBrokenChain, CheckSequence, 4, 4},
		{"insert a copy", func(l []string) []string {
			return append(l[:4:4], append([]string{l[3]}, l[4:]...)...)
		}, nil, ErrBrokenChain, CheckSequence, 3, 5},
		{"insert a forged entry", func(l []string) []string {
			forged := relined(t, l[4], func(e *Entry) { e.Step = "forged" })
			return append(l[:4:4], append([]string{forged}, l[4:]...)...)
		}, nil, ErrBrokenChain, CheckSequence, 4, 6},
		{"swap two entries", func(l []string) []string {
			l[3], l[4] = l[4], l[3]
			return l
		}, nil, ErrBrokenChain, CheckSequence, 4, 4},
		{"renumber after a drop", func(l []string) []string {
			l = append(l[:3:3], l[4:]...)
			for i := 3; i < len(l); i++ {
				l[i] = relined(t, l[i], func(e *Entry) { e.Seq-- })
			}
			return l
		}, nil, ErrBrokenChain, CheckChain, 2, 3},
		{"truncate against the head", func(l []string) []string {
			return l[:9]
		}, nil, ErrTruncated, CheckTruncated, 9, 10},
		{"continues past the head", func(l []string) []string { return l },
			func(o *VerifyOptions) { o.Head = &f.heads[8] }, ErrHeadMismatch, CheckHead, 9, 10},
		{"torn last line", func(l []string) []string {
			l[10] = l[10][:len(l[10])/2]
			return l
		}, nil, ErrTruncated, CheckTruncated, 10, 11},
		{"replace a head signature", func(l []string) []string {
			other, _ := ParseLine([]byte(strings.TrimSpace(l[10])))
			l[6] = relined(t, l[6], func(e *Entry) { e.Seal.Signature = other.Seal.Signature })
			return l
		}, nil, ErrBadSignature, CheckSeal, 6, 7},
		{"re-seal with another key", func(l []string) []string {
			s, err := signSeal(attacker, f.heads[9])
			if err != nil {
				t.Fatal(err)
			}
			l[10] = relined(t, l[10], func(e *Entry) { e.Seal = s })
			return l
		}, func(o *VerifyOptions) { o.Head = nil }, ErrUnknownKey, CheckSealKey, 10, 11},
		{"wrong attestation key", func(l []string) []string { return l },
			func(o *VerifyOptions) { o.AttestationKeys = []crypto.PublicKey{attacker.Public()} }, ErrUnknownKey, CheckSealKey, 6, 7},
		{"replace a witness signature", func(l []string) []string {
			bob, _ := ParseLine([]byte(strings.TrimSpace(l[9])))
			l[8] = relined(t, l[8], func(e *Entry) { e.Witness.Signature = bob.Witness.Signature })
			return l
		}, nil, ErrBadSignature, CheckWitness, 8, 9},
		{"witness signature over another head", func(l []string) []string {
			w, err := signWitness("alice", f.alice, f.heads[5])
			if err != nil {
				t.Fatal(err)
			}
			l[8] = relined(t, l[8], func(e *Entry) { e.Witness.Signature = w.Signature })
			return l
		}, nil, ErrBadSignature, CheckWitness, 8, 9},
		{"witness entry replayed from an older head", func(l []string) []string {
			// A signature that verifies, with its head, but over a head
			// the log had passed: neither the head the entry follows nor
			// the one the witnesses before it signed.
			w, err := signWitness("alice", f.alice, f.heads[5])
			if err != nil {
				t.Fatal(err)
			}
			l[8] = relined(t, l[8], func(e *Entry) { e.Witness = w })
			return l
		}, nil, ErrBadSignature, CheckWitness, 8, 9},
		{"witness not allowed", func(l []string) []string { return l },
			func(o *VerifyOptions) { o.AllowedSigners = o.AllowedSigners[:1] }, ErrUnknownKey, CheckWitnessKey, 9, 10},
		{"witness under another name", func(l []string) []string {
			w, err := signWitness("alice", mallory, f.heads[7])
			if err != nil {
				t.Fatal(err)
			}
			l[8] = relined(t, l[8], func(e *Entry) { e.Witness = w })
			return l
		}, func(o *VerifyOptions) { o.Head = nil }, ErrUnknownKey, CheckWitnessKey, 8, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := tt.tamper(f.lines(t))
			opts := VerifyOptions{Head: &f.heads[10], AttestationKeys: []crypto.PublicKey{f.attest.Public()}, AllowedSigners: f.allowed}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			res, err := Verify(strings.NewReader(strings.Join(lines, "")), opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("%T is not an *EntryError", err)
			}
			if ee.Check != tt.check || ee.Seq != tt.seq || ee.Line != tt.line {
				t.Errorf("first bad entry: %s at seq %d line %d, want %s at seq %d line %d (%v)", ee.Check, ee.Seq, ee.Line, tt.check, tt.seq, tt.line, err)
			}
			if res.Valid() {
				t.Error("Result.Valid() after an error")
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	full := mustRead(f, fx.path)
	f.Add(full)
	f.Add(full[:len(full)-7])
	f.Add(bytes.Replace(full, []byte("carol"), []byte("carl"), 1))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"actor":"a","details":{"k":"v"},"files":[],"prev":"` + zeroHex + `","seq":0,"step":"s","time":"2026-04-01T09:00:00.000Z","type":"open","v":1}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Verify(bytes.NewReader(data), VerifyOptions{AllowedSigners: fx.allowed})
		if res == nil {
			t.Fatal("nil Result")
		}
		if err == nil && !res.Valid() {
			t.Fatal("no error but not valid")
		}
		if err != nil {
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *EntryError", err)
			}
		}
		// A line that Verify's parser accepts is canonical: it re-encodes
		// to itself.
		line, _, _ := bytes.Cut(data, []byte("\n"))
		var fast Entry
		if _, err := decodeEntry(line, &fast, nil, false); err == nil {
			e := &fast
			b, err := MarshalLine(e)
			if err != nil || !bytes.Equal(b, line) {
				t.Fatalf("parsed line does not re-encode to itself: %v\n%s\n%s", err, line, b)
			}
		}
	})
}
