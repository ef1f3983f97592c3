package transparency

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/internal/atomicfile"
)

// LoadFile reads the entry file at path to add an entry to it: a missing
// file is an empty File (exists false); a malformed one wraps ErrMalformed.
func LoadFile(path string) (f *File, old []byte, exists bool, err error) {
	old, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Format: FileFormat}, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	if f, err = ParseFile(old); err != nil {
		return nil, nil, true, fmt.Errorf("%s: %w", path, err)
	}
	return f, old, true, nil
}

// Record stores a published entry and records the publication in the log:
// it adds e to the entry file at path (written atomically), then appends a
// PublishStep entry to w whose details name the server, UUID, log index,
// integrated time and published head, and whose file is the entry file
// with its new SHA-256. e must publish w's current head. If the log entry
// cannot be written, the entry file is put back as it was. It returns the
// log's new head.
func Record(w *attest.Writer, path string, e *Entry) (attest.Hash, error) {
	if h := w.Head(); h.String() != e.PublishedHead {
		return attest.Hash{}, fmt.Errorf("the entry publishes head %s, but the log's head is %s", e.PublishedHead, h)
	}
	f, old, exists, err := LoadFile(path)
	if err != nil {
		return attest.Hash{}, err
	}
	f.Entries = append(f.Entries, *e)
	data, err := Marshal(f)
	if err != nil {
		return attest.Hash{}, err
	}
	if err := atomicfile.Write(path, data, 0o644, exists); err != nil {
		return attest.Hash{}, fmt.Errorf("store Rekor entry %s: %w", e.UUID, err)
	}
	ref, err := attest.HashFile(path, attest.Written)
	if err == nil && ref.SHA256 != attest.Hash(sha256.Sum256(data)) {
		err = fmt.Errorf("%s changed while it was written", path)
	}
	var head attest.Hash
	if err == nil {
		head, err = w.Append(attest.Entry{
			Step: PublishStep, Actor: PublishActor,
			Details: map[string]string{
				DetailURL:            e.RekorURL,
				DetailUUID:           e.UUID,
				DetailLogIndex:       strconv.FormatInt(e.LogIndex, 10),
				DetailIntegratedTime: strconv.FormatInt(e.IntegratedTime, 10),
				DetailPublishedHead:  e.PublishedHead,
			},
			Files: []attest.FileRef{ref},
		})
	}
	if err != nil {
		var rerr error
		if exists {
			rerr = atomicfile.Write(path, old, 0o644, true)
		} else {
			rerr = os.Remove(path)
		}
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("restoring %s: %w", path, rerr))
		}
		return attest.Hash{}, fmt.Errorf("record Rekor entry %s in the log: %w", e.UUID, err)
	}
	return head, nil
}
