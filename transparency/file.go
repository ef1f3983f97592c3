package transparency

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/ksk-dev/ksk/attest"
)

// FileFormat is the format member of an entry file.
const FileFormat = "ksk-rekor-v1"

// FileSuffix is appended to a log's path to name its entry file.
const FileSuffix = ".rekor.json"

// MaxFileBytes bounds the size of an entry file that ParseFile accepts.
const MaxFileBytes = 16 << 20

// maxProofHashes bounds an inclusion proof: a tree of 2^64 leaves needs
// at most 64 hashes.
const maxProofHashes = 64

// DefaultPath returns the entry file of a log: the log's path followed by
// FileSuffix.
func DefaultPath(logPath string) string { return logPath + FileSuffix }

// File is an entry file: the Rekor entries of a log's publications, oldest
// first.
type File struct {
	Format  string  `json:"format"`  // FileFormat
	Entries []Entry `json:"entries"` // one per publication, oldest first
}

// Entry is one publication: the head published, the server, and the
// entry as Rekor returned it.
type Entry struct {
	// PublishedHead is the log head the entry commits to, 64 hex digits:
	// the hash of the log's entry just before its rekor-publish entry.
	PublishedHead string `json:"published_head"`
	// RekorURL is the server it was published to.
	RekorURL string `json:"rekor_url"`
	// UUID is the entry ID Rekor returned: 16 hex digits of tree ID and
	// the 64 hex digits of the entry's leaf hash (or the leaf hash alone).
	UUID string `json:"uuid"`
	// LogIndex is the entry's (virtual) index in the Rekor log.
	LogIndex int64 `json:"log_index"`
	// LogID is the SHA-256 (hex) of the Rekor server's public key.
	LogID string `json:"log_id"`
	// IntegratedTime is when Rekor integrated the entry, in Unix seconds.
	IntegratedTime int64 `json:"integrated_time"`
	// Body is the canonical hashedrekord entry, base64, as Rekor returned it.
	Body string `json:"body"`
	// InclusionProof proves the entry is in the tree its checkpoint signs.
	InclusionProof InclusionProof `json:"inclusion_proof"`
	// SignedEntryTimestamp is Rekor's signature (base64) over the body,
	// integrated time, log index and log ID.
	SignedEntryTimestamp string `json:"signed_entry_timestamp"`
}

// InclusionProof is Rekor's Merkle inclusion proof (RFC 6962 hashing).
type InclusionProof struct {
	LogIndex   int64    `json:"log_index"`  // index of the leaf in its tree
	TreeSize   int64    `json:"tree_size"`  // size of the tree the proof is for
	RootHash   string   `json:"root_hash"`  // hex root hash of that tree
	Hashes     []string `json:"hashes"`     // hex sibling hashes, leaf to root
	Checkpoint string   `json:"checkpoint"` // signed checkpoint (signed note) of that tree
}

// Head returns the published head.
func (e *Entry) Head() (attest.Hash, error) {
	if !isHex(e.PublishedHead, 64) {
		return attest.Hash{}, fmt.Errorf("%w: published_head %q is not 64 lower-case hex digits", ErrMalformed, e.PublishedHead)
	}
	return attest.ParseHash(e.PublishedHead)
}

// LeafHash returns the hex leaf hash part of the UUID (its last 64 hex
// digits).
func (e *Entry) LeafHash() string {
	if len(e.UUID) < 64 {
		return e.UUID
	}
	return e.UUID[len(e.UUID)-64:]
}

// Marshal returns the canonical encoding of f: JSON indented by two spaces,
// members in the order of the struct fields, no HTML escaping, and a final
// newline. ParseFile accepts only this encoding.
func Marshal(f *File) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	g := *f
	if g.Entries == nil {
		g.Entries = []Entry{}
	}
	for i := range g.Entries {
		if g.Entries[i].InclusionProof.Hashes == nil {
			e := g.Entries[i]
			e.InclusionProof.Hashes = []string{}
			g.Entries[i] = e
		}
	}
	if err := enc.Encode(&g); err != nil {
		return nil, fmt.Errorf("encode Rekor entry file: %w", err)
	}
	return b.Bytes(), nil
}

// ParseFile parses an entry file strictly: at most MaxFileBytes, one JSON
// object with exactly the documented members, the format FileFormat, every
// entry well-formed (hex and base64 where they belong, non-negative
// numbers), and the bytes in the canonical encoding that Marshal writes,
// so that the file's hash, which the log records, has one meaning. Errors
// wrap ErrMalformed. It checks no signature: see VerifyEntry.
func ParseFile(data []byte) (*File, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if f.Format != FileFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrMalformed, f.Format, FileFormat)
	}
	for i := range f.Entries {
		if err := f.Entries[i].validate(); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", ErrMalformed, i+1, err)
		}
	}
	canon, err := Marshal(&f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(canon, data) {
		return nil, fmt.Errorf("%w: not in canonical form (it was edited or reformatted; ksk writes it with two-space indentation, members in the documented order and a final newline)", ErrMalformed)
	}
	return &f, nil
}

// ReadFile reads and parses the entry file at path. A file that cannot be
// read is returned as the os error (test with errors.Is(err,
// fs.ErrNotExist)); a malformed one wraps ErrMalformed.
func ReadFile(path string) (*File, []byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := ParseFile(data)
	if err != nil {
		return nil, data, fmt.Errorf("%s: %w", path, err)
	}
	return f, data, nil
}

func isHex(s string, n int) bool {
	if n >= 0 && len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (e *Entry) validate() error {
	if _, err := e.Head(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), ErrMalformed.Error()+": "))
	}
	u, err := url.Parse(e.RekorURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("rekor_url %q is not an http(s) URL", e.RekorURL)
	}
	if !isHex(e.UUID, 64) && !isHex(e.UUID, 80) {
		return fmt.Errorf("uuid %q is not 64 or 80 lower-case hex digits", e.UUID)
	}
	if e.LogIndex < 0 || e.IntegratedTime < 0 || e.InclusionProof.LogIndex < 0 {
		return errors.New("negative log_index or integrated_time")
	}
	if !isHex(e.LogID, 64) {
		return fmt.Errorf("log_id %q is not 64 lower-case hex digits", e.LogID)
	}
	if _, err := decodeStrictBase64(e.Body); err != nil || e.Body == "" {
		return errors.New("body is not base64")
	}
	if b, err := decodeStrictBase64(e.SignedEntryTimestamp); err != nil || len(b) == 0 {
		return errors.New("signed_entry_timestamp is not base64")
	}
	p := &e.InclusionProof
	if p.TreeSize <= 0 || p.LogIndex >= p.TreeSize {
		return fmt.Errorf("inclusion_proof: log_index %d outside a tree of size %d", p.LogIndex, p.TreeSize)
	}
	if !isHex(p.RootHash, 64) {
		return errors.New("inclusion_proof: root_hash is not 64 lower-case hex digits")
	}
	if len(p.Hashes) > maxProofHashes {
		return fmt.Errorf("inclusion_proof: more than %d hashes", maxProofHashes)
	}
	for _, h := range p.Hashes {
		if !isHex(h, 64) {
			return fmt.Errorf("inclusion_proof: hash %q is not 64 lower-case hex digits", h)
		}
	}
	if p.Checkpoint == "" {
		return errors.New("inclusion_proof: no checkpoint")
	}
	return nil
}

// decodeStrictBase64 decodes standard, padded base64 and refuses any other
// spelling of the same bytes.
func decodeStrictBase64(s string) ([]byte, error) {
	return base64.StdEncoding.Strict().DecodeString(s)
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}
