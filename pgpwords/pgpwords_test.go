package pgpwords

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func TestEncodeVectors(t *testing.T) {
	empty := sha256.Sum256(nil)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"nothing", nil, ""},
		{"first words", []byte{0, 0}, "aardvark adroitness"},
		{"last words", []byte{255, 255}, "Zulu Yucatan"},
		// The vector: SHA-256 of empty input is e3b0c442...
		{"sha256 of empty input, first three bytes", empty[:3], "tissue phonetic snowslide"},
		{"position decides the list", []byte{0xe3, 0xe3}, "tissue torpedo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%x) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := len(Encode(empty[:])); got != 32 {
		t.Errorf("Encode of a SHA-256 gave %d words", got)
	}
}

func TestListsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, list := range [][256]string{even, odd} {
		for _, w := range list {
			lw := strings.ToLower(w)
			if seen[lw] || w == "" {
				t.Fatalf("word %q repeated or empty", w)
			}
			seen[lw] = true
		}
	}
}

func TestDecode(t *testing.T) {
	sum := sha256.Sum256([]byte("ksk"))
	got, err := Decode(strings.ToUpper(String(sum[:])), 0)
	if err != nil || !bytes.Equal(got, sum[:]) {
		t.Fatalf("Decode(Encode) = %x, %v", got, err)
	}
	// The last four words alone, from their position.
	tail := strings.Join(Encode(sum[:])[28:], "  \n")
	got, err = Decode(tail, 28)
	if err != nil || !bytes.Equal(got, sum[28:]) {
		t.Fatalf("Decode(tail) = %x, %v", got, err)
	}
	// A two-syllable word read at an odd position is refused.
	if _, err := Decode("tissue tissue", 0); !errors.Is(err, ErrUnknownWord) {
		t.Fatalf("transposed word accepted: %v", err)
	}
	if _, err := Decode("tissue banana", 0); !errors.Is(err, ErrUnknownWord) {
		t.Fatalf("unknown word accepted: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("tissue phonetic snowslide", 0)
	f.Add("Zulu", 1)
	f.Fuzz(func(t *testing.T, s string, pos int) {
		if pos < 0 || pos > 1<<20 {
			return
		}
		b, err := Decode(s, pos)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to the same words.
		words := strings.Fields(s)
		for i, c := range b {
			if !strings.EqualFold(Word(pos+i, c), words[i]) {
				t.Fatalf("round trip: %q -> %x -> %q", words[i], c, Word(pos+i, c))
			}
		}
	})
}
