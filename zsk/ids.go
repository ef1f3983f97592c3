package zsk

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
)

// idMaker makes the KSR and bundle ids: random version 4 UUIDs, or, with
// a seed, UUIDs in the same format derived from the seed so that golden
// tests get the same document every time.
type idMaker struct {
	seed string
	rand io.Reader
}

// uuid returns the id called name ("ksr", "bundle-1", ...).
func (m idMaker) uuid(name string) (string, error) {
	var b [16]byte
	if m.seed != "" {
		sum := sha256.Sum256([]byte("ksk zsk.CreateKSR id\x00" + m.seed + "\x00" + name))
		copy(b[:], sum[:])
	} else {
		r := m.rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("random UUID: %w", err)
		}
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
