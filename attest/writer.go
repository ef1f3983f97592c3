package attest

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/ksk-dev/ksk/internal/atomicfile"
	"golang.org/x/crypto/ssh"
)

// Option configures Create and Open.
type Option func(*config)

type config struct {
	now    func() time.Time
	verify VerifyOptions
}

// WithClock sets the clock that stamps entries (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithVerifyOptions sets what Open checks the existing log against (a head,
// pinned keys). OnEntry is honoured, so a resuming ceremony can see the
// entries already written.
func WithVerifyOptions(o VerifyOptions) Option { return func(c *config) { c.verify = o } }

// Writer appends entries to a log. Each append writes one line and fsyncs
// the file before it returns. A Writer holds an exclusive flock on the file
// so that two processes cannot interleave entries. Its methods are safe for
// concurrent use. After a failed write the Writer refuses further appends.
type Writer struct {
	mu          sync.Mutex
	f           *os.File
	path        string
	now         func() time.Time
	seq         int64 // sequence number of the last entry
	head        Hash
	witnessHead Hash
	size        int64
	buf         []byte
	err         error // sticky
}

func newConfig(opts []Option) config {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func lock(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("lock %s: %w (is another ksk writing this log?)", f.Name(), err)
	}
	return nil
}

// Create creates a new log at path, which must not exist, and writes its
// entry 0 of type "open" from open's Step, Actor, Details and Files (its
// other fields are ignored). It fsyncs the file and its directory.
func Create(path string, open Entry, opts ...Option) (*Writer, error) {
	c := newConfig(opts)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, err
	}
	w := &Writer{f: f, path: path, now: c.now, seq: -1}
	open.Type = TypeOpen
	open.Seal, open.Witness = nil, nil
	if _, err := w.append(&open); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Open opens an existing log to append to it: it verifies the whole log
// first and continues its chain. A log that does not verify is refused with
// the verification error. A torn last line (a crash during a write) is
// refused with an error wrapping ErrTruncated that says how many bytes
// verify; the operator records the incident and removes the torn line
// (truncate -s BYTES LOG) before resuming: ksk never cuts a log itself.
func Open(path string, opts ...Option) (*Writer, error) {
	c := newConfig(opts)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, err
	}
	// A log being appended to is in progress by definition.
	c.verify.InProgress = true
	res, err := Verify(f, c.verify)
	if err != nil {
		f.Close()
		if errors.Is(err, ErrTruncated) && res.Entries > 0 && res.ValidBytes > 0 {
			return nil, fmt.Errorf("refusing to append to %s: %w; after recording the incident, remove the torn line with `truncate -s %d %s` and resume", path, err, res.ValidBytes, path)
		}
		return nil, fmt.Errorf("refusing to append to %s, which does not verify: %w", path, err)
	}
	return &Writer{f: f, path: path, now: c.now, seq: res.LastSeq, head: res.Head, witnessHead: res.WitnessHead, size: res.ValidBytes}, nil
}

// Append writes a step entry: e.Step, e.Actor, e.Details and e.Files are
// the caller's, e.Type must be empty or TypeStep, and the Writer sets Seq,
// Time and Prev. It refuses an entry whose details name a secret (see
// CheckDetails) with an error wrapping ErrSecret. It returns the new head
// once the line is on disk.
func (w *Writer) Append(e Entry) (Hash, error) {
	if e.Type == "" {
		e.Type = TypeStep
	}
	if e.Type != TypeStep {
		return Hash{}, fmt.Errorf("append: type %q: use Seal or Witness for signatures", e.Type)
	}
	if e.Seal != nil || e.Witness != nil {
		return Hash{}, errors.New("append: a step entry carries no seal or witness")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.append(&e)
}

// Seal signs the current head with the attestation key s and appends a
// seal entry recording the signature and s's public key; it returns the new
// head. s is typically the HSM's ECDSA P-256 key.
func (w *Writer) Seal(step, actor string, s crypto.Signer) (Hash, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return Hash{}, w.err
	}
	seal, err := signSeal(s, w.head)
	if err != nil {
		return Hash{}, err
	}
	return w.append(&Entry{Type: TypeSeal, Step: step, Actor: actor, Seal: seal})
}

// Witness signs the witness head (see WitnessHead) with the witness's SSH
// key and appends a witness entry with the armored signature and the
// public key; it returns the new head.
func (w *Writer) Witness(step, name string, s ssh.Signer) (Hash, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return Hash{}, w.err
	}
	wit, err := signWitness(name, s, w.witnessHead)
	if err != nil {
		return Hash{}, err
	}
	return w.append(&Entry{Type: TypeWitness, Step: step, Actor: name, Witness: wit})
}

// AddWitnessSignature appends a witness entry for an SSH signature made
// elsewhere (echo HEAD | ssh-keygen -Y sign -n ksk-attestation -f KEY) over
// the witness head; armored is ssh-keygen's output. A signature that does
// not verify is refused with an error wrapping ErrBadSignature.
func (w *Writer) AddWitnessSignature(step, name string, pub ssh.PublicKey, armored []byte) (Hash, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return Hash{}, w.err
	}
	wit, err := newWitness(name, pub, armored, w.witnessHead)
	if err != nil {
		return Hash{}, err
	}
	return w.append(&Entry{Type: TypeWitness, Step: step, Actor: name, Witness: wit})
}

// append fills in Seq, Time and Prev, writes and fsyncs the line. w.mu is
// held (or w is not yet shared).
func (w *Writer) append(e *Entry) (Hash, error) {
	if w.err != nil {
		return Hash{}, w.err
	}
	if err := checkEntry(e); err != nil {
		return Hash{}, err
	}
	if err := checkControl(e); err != nil {
		return Hash{}, err
	}
	e.Seq = w.seq + 1
	e.Prev = w.head
	e.Time = w.now().UTC().Truncate(time.Millisecond)
	var err error
	w.buf, err = appendEntry(w.buf[:0], e)
	if err != nil {
		return Hash{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(w.buf) > MaxLineBytes {
		return Hash{}, fmt.Errorf("%w: entry is %d bytes, more than %d", ErrMalformed, len(w.buf), MaxLineBytes)
	}
	w.buf = append(w.buf, '\n')
	if _, err := w.f.Write(w.buf); err != nil {
		// Remove a partial line so the log still verifies, and stop.
		w.err = fmt.Errorf("%w: write entry %d: %w", ErrClosed, e.Seq, err)
		if terr := w.f.Truncate(w.size); terr != nil {
			w.err = fmt.Errorf("%w; the torn line could not be removed (ksk log verify reports it as truncated): %w", w.err, terr)
		}
		return Hash{}, w.err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("%w: fsync entry %d: %w", ErrClosed, e.Seq, err)
		return Hash{}, w.err
	}
	w.size += int64(len(w.buf))
	w.seq = e.Seq
	w.head = lineHash(w.buf)
	if e.Type == TypeWitness {
		w.witnessHead = e.Witness.Head
	} else {
		w.witnessHead = w.head
	}
	return w.head, nil
}

// Head returns the hash of the last entry.
func (w *Writer) Head() Hash {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head
}

// WitnessHead returns the head that a witness signs now: the head signed by
// the witness entry just before it if the last entry is a witness entry (so
// that every witness of a sign-off signs the same head, the one read out
// and written down), otherwise the current head.
func (w *Writer) WitnessHead() Hash {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.witnessHead
}

// Seq returns the sequence number of the last entry.
func (w *Writer) Seq() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq
}

// Close releases the lock and closes the file. Further appends fail with
// ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if w.err == nil {
		w.err = ErrClosed
	}
	if err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}
