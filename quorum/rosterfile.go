package quorum

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// RosterFile is the YAML form of a roster, as `ksk credentials` reads it:
//
//	id: keygen-2026-1
//	m: 3
//	n: 7
//	holders:
//	  - name: co1
//	    role: crypto-officer
//	    passphrase_source: env:CO1_PASSPHRASE
//
// Unknown keys are rejected. passphrase_source is where `ksk credentials
// issue` reads the holder's passphrase (env:NAME, file:PATH or prompt); it
// is not part of the roster digest.
type RosterFile struct {
	// ID is the roster id.
	ID string `yaml:"id"`
	// M is the quorum.
	M int `yaml:"m"`
	// N is the number of holders.
	N int `yaml:"n"`
	// Holders lists the holders in share index order.
	Holders []RosterFileHolder `yaml:"holders"`
}

// RosterFileHolder is one holder of a RosterFile.
type RosterFileHolder struct {
	// Name is the holder's name.
	Name string `yaml:"name"`
	// Role is crypto-officer or recovery-key-share-holder.
	Role Role `yaml:"role"`
	// PassphraseSource says where the holder's passphrase is read from.
	PassphraseSource string `yaml:"passphrase_source"`
	// Protection is passphrase (the default) or possession: a credential
	// sealed in a numbered tamper-evident bag, usable by whoever holds it,
	// which takes no passphrase_source.
	Protection Protection `yaml:"protection"`
}

// MaxRosterFileSize bounds a roster file.
const MaxRosterFileSize = 1 << 20

// ParseRosterFile decodes and validates a roster file. Errors wrap
// ErrInvalidRoster.
func ParseRosterFile(data []byte) (*RosterFile, error) {
	if len(data) > MaxRosterFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidRoster, MaxRosterFileSize)
	}
	var f RosterFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty roster file", ErrInvalidRoster)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidRoster, err)
	}
	if err := f.Roster().Validate(); err != nil {
		return nil, err
	}
	for i, h := range f.Holders {
		if h.Protection.IsPossession() && h.PassphraseSource != "" {
			return nil, fmt.Errorf("%w: holders[%d] (%s): a possession credential has no passphrase; remove passphrase_source", ErrInvalidRoster, i, h.Name)
		}
	}
	return &f, nil
}

// Roster returns the roster the file describes.
func (f *RosterFile) Roster() Roster {
	r := Roster{ID: f.ID, M: f.M, N: f.N}
	for _, h := range f.Holders {
		r.Holders = append(r.Holders, Holder{Name: h.Name, Role: h.Role, Protection: h.Protection})
	}
	return r
}
