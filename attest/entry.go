package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/pgpwords"
)

// FormatVersion is the value of every entry's "v" field.
const FormatVersion = 1

// TimeLayout is the layout of an entry's "time" field: RFC 3339 in UTC with
// milliseconds, fixed width.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Entry types.
const (
	TypeOpen    = "open"    // entry 0: starts the log
	TypeStep    = "step"    // a ceremony step
	TypeSeal    = "seal"    // the attestation key's signature over the head before it
	TypeWitness = "witness" // a witness's SSH signature over a head
)

// Hash is a SHA-256 value: an entry's hash, the log's head, a file's hash.
type Hash [32]byte

// String returns h in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Words returns h as PGP words, for the paper record.
func (h Hash) Words() string { return pgpwords.String(h[:]) }

// IsZero reports whether h is all zeros (the prev of entry 0).
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash parses 64 hex digits, or 32 PGP words as printed by Words.
func ParseHash(s string) (Hash, error) {
	var h Hash
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, " \t\n") {
		b, err := pgpwords.Decode(s, 0)
		if err != nil {
			return h, fmt.Errorf("parse head as PGP words: %w", err)
		}
		if len(b) != len(h) {
			return h, fmt.Errorf("parse head: %d PGP words, want %d", len(b), len(h))
		}
		copy(h[:], b)
		return h, nil
	}
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("parse head %q: want %d hex digits", s, 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(strings.ToLower(s))); err != nil {
		return h, fmt.Errorf("parse head %q: %w", s, err)
	}
	return h, nil
}

// Role says whether a step read or wrote a file.
type Role string

// Roles of a file in a step.
const (
	Read    Role = "read"
	Written Role = "written"
)

// FileRef is a file a step read or wrote, with its SHA-256.
type FileRef struct {
	Path   string `json:"path"`
	Role   Role   `json:"role"`
	SHA256 Hash   `json:"sha256"`
}

// HashFile hashes the file at path and returns its FileRef with the role.
func HashFile(path string, role Role) (FileRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileRef{}, fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return FileRef{}, fmt.Errorf("hash %s: %w", path, err)
	}
	ref := FileRef{Path: path, Role: role}
	h.Sum(ref.SHA256[:0])
	return ref, nil
}

// Seal is the attestation key's signature over the head that precedes the
// seal entry (its prev).
type Seal struct {
	Alg            string // SigAlgECDSASHA256, SigAlgEd25519 or SigAlgRSASHA256
	Head           Hash   // the head signed: equal to the entry's Prev
	KeyFingerprint Hash   // SHA-256 of the DER SubjectPublicKeyInfo
	PublicKey      []byte // DER SubjectPublicKeyInfo (base64 in the log)
	Signature      []byte // the signature over SealMessage(Head) (base64 in the log)
}

// Witness is a witness's SSH signature (SSHSIG, namespace
// WitnessNamespace) over a head, as ssh-keygen -Y sign makes it.
type Witness struct {
	Head           Hash   // the head signed
	KeyFingerprint string // ssh-keygen's "SHA256:..." fingerprint
	Name           string // the witness's identity (allowed_signers principal)
	PublicKey      string // authorized_keys form, "ssh-ed25519 AAAA..."
	Signature      string // armored "-----BEGIN SSH SIGNATURE-----" block
}

// Entry is one line of the log. Seq, Time and Prev are set by the Writer.
type Entry struct {
	Seq     int64             // 0 for the open entry, then 1, 2, ...
	Time    time.Time         // UTC, millisecond precision
	Type    string            // TypeOpen, TypeStep, TypeSeal or TypeWitness
	Step    string            // the script's step ID, e.g. "act2.load-ksr"
	Actor   string            // who did it, e.g. "ca:alice" or "ksk"
	Details map[string]string // what happened; never a secret (see CheckDetails)
	Files   []FileRef         // files read or written, with their hashes
	Prev    Hash              // hash of the previous entry; zero for entry 0
	Seal    *Seal             // set for TypeSeal only
	Witness *Witness          // set for TypeWitness only
}
