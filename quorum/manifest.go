package quorum

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Manifest lists the credentials of one split with their files and
// SHA-256: what ksk credentials issue -o json prints and a ceremony
// writes beside the credentials it issues, and what a ceremony script's
// quorum pins (quorums[].credentials). It holds no secret.
type Manifest struct {
	// RosterID, M, N and RosterDigest (hex) are the roster's.
	RosterID     string `json:"roster_id"`
	M            int    `json:"m"`
	N            int    `json:"n"`
	RosterDigest string `json:"roster_digest"`
	// Credentials has one entry per holder, in roster order.
	Credentials []ManifestEntry `json:"credentials"`
}

// ManifestEntry is one credential of a Manifest.
type ManifestEntry struct {
	Holder string `json:"holder"`
	Role   Role   `json:"role"`
	Index  int    `json:"index"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// NewManifest returns the manifest of credentials issued for r, written
// to paths (paths[i] holds creds[i]).
func NewManifest(r Roster, creds []Credential, paths []string) Manifest {
	d := r.Digest()
	return Manifest{RosterID: r.ID, M: r.M, N: r.N, RosterDigest: hex.EncodeToString(d[:]), Credentials: ManifestEntries(creds, paths)}
}

// ManifestEntries returns the manifest entries of credentials written to
// paths (paths[i] holds creds[i]).
func ManifestEntries(creds []Credential, paths []string) []ManifestEntry {
	out := make([]ManifestEntry, len(creds))
	for i, c := range creds {
		out[i] = ManifestEntry{Holder: c.Holder, Role: c.Role, Index: c.Index, File: paths[i], SHA256: c.Fingerprint}
	}
	return out
}

// MaxManifestSize bounds the manifests ParseManifest reads.
const MaxManifestSize = 1 << 20

// ParseManifest parses a credentials manifest (the JSON ksk credentials
// issue -o json prints) and checks that it was issued for roster r: the
// same roster ID and digest. Unknown fields are refused.
func ParseManifest(data []byte, r Roster) (Manifest, error) {
	var m Manifest
	if len(data) > MaxManifestSize {
		return m, fmt.Errorf("%w: manifest larger than %d bytes", ErrInvalidArgument, MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%w: manifest: %w", ErrInvalidArgument, err)
	}
	d := r.Digest()
	if m.RosterID != r.ID || m.RosterDigest != hex.EncodeToString(d[:]) {
		return m, fmt.Errorf("%w: the credentials were issued for roster %s (digest %s), not this roster %s (digest %x)", ErrOtherSplit, m.RosterID, m.RosterDigest, r.ID, d)
	}
	return m, nil
}

// Pins returns the SHA-256 fingerprints of the manifest's credentials,
// for OpenOptions.Pinned.
func (m Manifest) Pins() []string {
	out := make([]string, len(m.Credentials))
	for i, c := range m.Credentials {
		out[i] = c.SHA256
	}
	return out
}
