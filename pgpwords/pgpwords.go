// Package pgpwords renders bytes as words of the PGP word list, so that a
// hash can be read aloud in a key ceremony and checked by ear: a byte at an
// even position is spoken as a two-syllable word and a byte at an odd
// position as a three-syllable word, so a dropped or swapped word is heard.
package pgpwords

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownWord is returned by Decode for a word that is not in the list
// for its position.
var ErrUnknownWord = errors.New("not a PGP word for this position")

// Encode returns the PGP words for b, one per byte.
func Encode(b []byte) []string {
	words := make([]string, len(b))
	for i, c := range b {
		words[i] = Word(i, c)
	}
	return words
}

// String returns the PGP words for b separated by single spaces.
func String(b []byte) string { return strings.Join(Encode(b), " ") }

// Word returns the word for byte c at position pos (counted from 0).
func Word(pos int, c byte) string {
	if pos%2 == 0 {
		return even[c]
	}
	return odd[c]
}

var reverse = func() [2]map[string]byte {
	var m [2]map[string]byte
	for p, list := range [2]*[256]string{&even, &odd} {
		m[p] = make(map[string]byte, 256)
		for i, w := range list {
			m[p][strings.ToLower(w)] = byte(i)
		}
	}
	return m
}()

// Decode turns words back into bytes; startPos is the byte position of the
// first word (so the last words of a hash can be checked on their own).
// Words match case-insensitively and may be separated by any white space.
// A word from the wrong list for its position is an error: that is how the
// list catches a transposition.
func Decode(words string, startPos int) ([]byte, error) {
	fields := strings.Fields(words)
	out := make([]byte, len(fields))
	for i, w := range fields {
		pos := startPos + i
		c, ok := reverse[pos%2][strings.ToLower(w)]
		if !ok {
			return nil, fmt.Errorf("word %d %q: %w", i+1, w, ErrUnknownWord)
		}
		out[i] = c
	}
	return out, nil
}
