package transparency

import (
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
)

// PublishStep is the step ID of the log entry that records a publication,
// and PublishActor its actor.
const (
	PublishStep  = "rekor-publish"
	PublishActor = "ksk"
)

// Details keys of a rekor-publish entry.
const (
	DetailURL            = "rekor_url"
	DetailUUID           = "uuid"
	DetailLogIndex       = "log_index"
	DetailIntegratedTime = "integrated_time"
	DetailPublishedHead  = "published_head"
)

// CheckOptions says what a log's Rekor entries are checked against.
type CheckOptions struct {
	// RekorKey is the pinned Rekor server public key (required).
	RekorKey crypto.PublicKey
	// AttestationKeys, when not empty, are the pinned attestation keys:
	// the key in every entry must be one of them.
	AttestationKeys []crypto.PublicKey
}

// Summary describes one stored entry for a report.
type Summary struct {
	UUID           string `json:"uuid"`
	LogIndex       int64  `json:"log_index"`
	IntegratedTime string `json:"integrated_time"` // RFC 3339, UTC
	PublishedHead  string `json:"published_head"`
	HeadSeq        int64  `json:"published_head_seq"` // seq of the log entry whose hash it is; -1 if none
	RekorURL       string `json:"rekor_url"`
	TreeSize       int64  `json:"tree_size"`
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	Verified       bool   `json:"verified"` // every offline check of this entry passed
}

type position struct {
	seq  int64
	line int
}

func (p position) String() string { return fmt.Sprintf("seq %d, line %d", p.seq, p.line) }

type publishRecord struct {
	pos     position
	prev    attest.Hash
	details map[string]string
	files   []attest.FileRef
}

// Checker verifies a log's entry file while attest.Verify streams the log:
// chain OnEntry into attest.VerifyOptions.OnEntry, then call Findings.
type Checker struct {
	opts      CheckOptions
	path      string
	name      string
	file      *File
	fileErr   error // parse error, or fs.ErrNotExist
	arts      []*Artifact
	errs      []error
	heads     map[attest.Hash]position
	sealKeys  []sealKey
	publishes []publishRecord
}

type sealKey struct {
	pos position
	fp  attest.Hash
}

// NewChecker reads the entry file at path and verifies each entry offline
// (VerifyEntry). A missing or malformed file is not an error here: it is
// reported by Findings. Any other read error is returned.
func NewChecker(path string, opts CheckOptions) (*Checker, error) {
	if opts.RekorKey == nil {
		return nil, errors.New("no pinned Rekor key")
	}
	c := &Checker{opts: opts, path: path, name: filepath.Base(path), heads: map[attest.Hash]position{}}
	f, _, err := ReadFile(path)
	switch {
	case err == nil:
		c.file = f
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrMalformed):
		c.fileErr = err
		return c, nil
	default:
		return nil, err
	}
	for i := range f.Entries {
		a, err := VerifyEntry(&f.Entries[i], opts.RekorKey)
		c.arts = append(c.arts, a)
		c.errs = append(c.errs, err)
		if h, herr := f.Entries[i].Head(); herr == nil {
			c.heads[h] = position{seq: -1}
		}
	}
	return c, nil
}

// Name returns the entry file's base name, as findings name it.
func (c *Checker) Name() string { return c.name }

// File returns the parsed entry file, nil if it was missing or malformed.
func (c *Checker) File() *File { return c.file }

// OnEntry records what the checks need from each verified log entry: the
// entries whose hashes are published heads, the seal keys, and the
// rekor-publish entries. Its signature is that of attest.VerifyOptions.OnEntry.
func (c *Checker) OnEntry(e *attest.Entry, h attest.Hash, line int) error {
	pos := position{seq: e.Seq, line: line}
	if p, ok := c.heads[h]; ok && p.seq < 0 {
		c.heads[h] = pos
	}
	if e.Seal != nil {
		c.sealKeys = append(c.sealKeys, sealKey{pos: pos, fp: e.Seal.KeyFingerprint})
	}
	if e.Type == attest.TypeStep && e.Step == PublishStep {
		r := publishRecord{pos: pos, prev: e.Prev, details: map[string]string{}, files: append([]attest.FileRef(nil), e.Files...)}
		for k, v := range e.Details { // copied: the Entry is reused
			r.details[k] = v
		}
		c.publishes = append(c.publishes, r)
	}
	return nil
}

func (c *Checker) where(i int) string {
	return fmt.Sprintf("%s entry %d", c.name, i+1)
}

// Findings returns the findings of every check: call it after attest.Verify
// has returned. A log that did not verify to its end only vouches for the
// heads of its verified prefix.
func (c *Checker) Findings() []check.Finding {
	var r check.Report
	switch {
	case errors.Is(c.fileErr, fs.ErrNotExist):
		r.Errorf(CheckMissing, c.name, "no Rekor entry file %s: the log was not published, or the file was not kept beside it (give it with --rekor-entry)", c.path)
		return r.Findings
	case c.fileErr != nil:
		r.Errorf(CheckMalformed, c.name, "%v", c.fileErr)
		return r.Findings
	case len(c.file.Entries) == 0:
		r.Errorf(CheckMissing, c.name, "the Rekor entry file holds no entry")
	}
	var pinned []attest.Hash
	for _, k := range c.opts.AttestationKeys {
		if fp, _, err := attest.KeyFingerprint(k); err == nil {
			pinned = append(pinned, fp)
		}
	}
	for i := range c.file.Entries {
		e := &c.file.Entries[i]
		var ve *VerifyError
		if errors.As(c.errs[i], &ve) {
			r.Errorf(ve.Check, c.where(i), "uuid %s: %s", e.UUID, ve.Msg)
			continue
		}
		a := c.arts[i]
		if p := c.heads[a.Head]; p.seq < 0 {
			r.Errorf(CheckHead, c.where(i), "published head %s is not the hash of any verified entry of this log: the entry anchors another log, or this log was changed", a.Head)
		}
		for _, s := range c.sealKeys {
			if s.fp != a.KeyFingerprint {
				r.Errorf(CheckKey, c.where(i), "the entry is signed by key %s, but the seal at %s by key %s", a.KeyFingerprint, s.pos, s.fp)
				break
			}
		}
		if len(pinned) > 0 && !containsHash(pinned, a.KeyFingerprint) {
			r.Errorf(CheckKey, c.where(i), "the entry is signed by key %s, not by a pinned --attestation-key", a.KeyFingerprint)
		}
	}
	c.checkRecords(&r)
	return r.Findings
}

func containsHash(list []attest.Hash, h attest.Hash) bool {
	for _, x := range list {
		if x == h {
			return true
		}
	}
	return false
}

// checkRecords matches the log's rekor-publish entries with the file: each
// names an entry of the file by UUID with the same details, follows the
// head it published, and records the SHA-256 of the file as it was when
// that entry was added (its entries up to that one, in canonical form).
func (c *Checker) checkRecords(r *check.Report) {
	recorded := map[string]bool{}
	for _, p := range c.publishes {
		where := p.pos.String()
		uuid := p.details[DetailUUID]
		idx := -1
		for i := range c.file.Entries {
			if c.file.Entries[i].UUID == uuid {
				idx = i
				break
			}
		}
		if idx < 0 {
			r.Errorf(CheckMissing, where, "the log records publication uuid %q, which %s does not hold", uuid, c.name)
			continue
		}
		recorded[uuid] = true
		e := &c.file.Entries[idx]
		want := map[string]string{
			DetailURL: e.RekorURL, DetailLogIndex: strconv.FormatInt(e.LogIndex, 10),
			DetailIntegratedTime: strconv.FormatInt(e.IntegratedTime, 10), DetailPublishedHead: e.PublishedHead,
		}
		for _, k := range []string{DetailPublishedHead, DetailLogIndex, DetailIntegratedTime, DetailURL} {
			if p.details[k] != want[k] {
				r.Errorf(CheckRecord, where, "the log records %s %q for uuid %s, %s entry %d holds %q", k, p.details[k], uuid, c.name, idx+1, want[k])
			}
		}
		if p.prev.String() != e.PublishedHead {
			r.Errorf(CheckRecord, where, "the rekor-publish entry follows head %s, not the published head %s", p.prev, e.PublishedHead)
		}
		data, err := Marshal(&File{Format: c.file.Format, Entries: c.file.Entries[:idx+1]})
		sum := sha256.Sum256(data)
		if err != nil || len(p.files) != 1 || p.files[0].SHA256 != attest.Hash(sum) {
			got := "nothing"
			if len(p.files) == 1 {
				got = p.files[0].SHA256.String()
			}
			r.Errorf(CheckRecord, where, "the entry file as of this publication (its first %d entries) has SHA-256 %x, but the log recorded %s: %s was changed", idx+1, sum, got, c.name)
		}
	}
	for i := range c.file.Entries {
		if !recorded[c.file.Entries[i].UUID] && c.errs[i] == nil {
			r.Warnf(CheckUnrecorded, c.where(i), "uuid %s is not recorded by a %s entry of the (verified part of the) log", c.file.Entries[i].UUID, PublishStep)
		}
	}
}

// Summaries describes each stored entry.
func (c *Checker) Summaries() []Summary {
	out := []Summary{}
	if c.file == nil {
		return out
	}
	for i, e := range c.file.Entries {
		s := Summary{
			UUID: e.UUID, LogIndex: e.LogIndex, IntegratedTime: time.Unix(e.IntegratedTime, 0).UTC().Format(time.RFC3339),
			PublishedHead: e.PublishedHead, HeadSeq: -1, RekorURL: e.RekorURL, TreeSize: e.InclusionProof.TreeSize,
			Verified: c.errs[i] == nil,
		}
		if a := c.arts[i]; a != nil {
			s.KeyFingerprint = a.KeyFingerprint.String()
			s.HeadSeq = c.heads[a.Head].seq
		}
		out = append(out, s)
	}
	return out
}
