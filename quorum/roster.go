package quorum

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Role is what a holder's credential is for.
type Role string

// The roles of the root zone's KSK ceremonies that hold shares.
const (
	// RoleCryptoOfficer holds a share of the HSM activation secret.
	RoleCryptoOfficer Role = "crypto-officer"
	// RoleRecoveryKeyShareHolder holds a share of a recovery secret.
	RoleRecoveryKeyShareHolder Role = "recovery-key-share-holder"
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	return r == RoleCryptoOfficer || r == RoleRecoveryKeyShareHolder
}

// Protection is how a holder's credential is protected.
type Protection string

// The protections a credential can have.
const (
	// ProtectionPassphrase (the default, also written as "") encrypts the
	// credential to the holder's passphrase: only the holder can use it.
	ProtectionPassphrase Protection = "passphrase"
	// ProtectionPossession leaves the credential unencrypted, sealed in a
	// numbered tamper-evident bag in the holder's safe deposit box: whoever
	// holds the bag's contents can use it, as with the smartcards of the
	// root zone's crypto officers. A ceremony counts such a credential
	// only after a custody step recorded its bag intact (docs/quorum.md).
	ProtectionPossession Protection = "possession"
)

// Valid reports whether p is a defined protection ("" is the default).
func (p Protection) Valid() bool {
	return p == "" || p == ProtectionPassphrase || p == ProtectionPossession
}

// IsPossession reports whether p is ProtectionPossession.
func (p Protection) IsPossession() bool { return p == ProtectionPossession }

// Holder is one named member of a roster.
type Holder struct {
	// Name identifies the holder: 1 to 64 letters, digits, '.', '_' or
	// '-', starting with a letter or digit. It also names the holder's
	// credential file.
	Name string
	// Role is the holder's role.
	Role Role
	// Protection is how the holder's credential is protected; "" means
	// ProtectionPassphrase.
	Protection Protection
}

// Roster names the holders of one split: M of its N holders reconstruct
// the secret. The order of Holders gives each holder's share index
// (1-based) and is part of the roster digest.
type Roster struct {
	// ID names the roster, for example the ceremony that issued it.
	ID string
	// M is the quorum: how many distinct credentials reconstruct the
	// secret (2 <= M <= N).
	M int
	// N is the number of holders (N <= 255); it must equal len(Holders).
	N int
	// Holders lists the holders in share index order.
	Holders []Holder
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	idRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
)

// Validate checks the roster. Errors wrap ErrInvalidRoster.
func (r Roster) Validate() error {
	if !idRE.MatchString(r.ID) {
		return fmt.Errorf("%w: id must be 1 to 128 letters, digits, '.', '_', ':' or '-'", ErrInvalidRoster)
	}
	if r.N != len(r.Holders) {
		return fmt.Errorf("%w: n is %d but %d holders are listed", ErrInvalidRoster, r.N, len(r.Holders))
	}
	if r.N > 255 {
		return fmt.Errorf("%w: n is %d; at most 255 holders", ErrInvalidRoster, r.N)
	}
	if r.M < 2 || r.M > r.N {
		return fmt.Errorf("%w: m must be between 2 and n (%d), not %d", ErrInvalidRoster, r.N, r.M)
	}
	seen := make(map[string]bool, len(r.Holders))
	for i, h := range r.Holders {
		if !nameRE.MatchString(h.Name) {
			return fmt.Errorf("%w: holders[%d]: name must be 1 to 64 letters, digits, '.', '_' or '-'", ErrInvalidRoster, i)
		}
		if seen[h.Name] {
			return fmt.Errorf("%w: holders[%d]: name %q listed twice", ErrInvalidRoster, i, h.Name)
		}
		seen[h.Name] = true
		if !h.Role.Valid() {
			return fmt.Errorf("%w: holders[%d] (%s): role must be %s or %s", ErrInvalidRoster, i, h.Name, RoleCryptoOfficer, RoleRecoveryKeyShareHolder)
		}
		if !h.Protection.Valid() {
			return fmt.Errorf("%w: holders[%d] (%s): protection must be %s or %s, not %q", ErrInvalidRoster, i, h.Name, ProtectionPassphrase, ProtectionPossession, h.Protection)
		}
	}
	return nil
}

// index returns the 1-based share index of the named holder, 0 if absent.
func (r Roster) index(name string) int {
	for i, h := range r.Holders {
		if h.Name == name {
			return i + 1
		}
	}
	return 0
}

// Digest is SHA-256 over the roster's canonical encoding: a version label,
// then ID, M, N and each holder's name and role in order, every string
// length-prefixed. A roster with a possession-protected holder is labelled
// v2 and encodes every holder's protection too, so a holder's protection
// cannot be changed without changing the digest (and the credentials
// bound to it); a roster of passphrase holders keeps its v1 digest. It
// does not depend on any split, so a ceremony script can pin it.
func (r Roster) Digest() [32]byte {
	v2 := slices.ContainsFunc(r.Holders, func(h Holder) bool { return h.Protection.IsPossession() })
	var e encoder
	if v2 {
		e.str("ksk-quorum-roster-v2")
	} else {
		e.str("ksk-quorum-roster-v1")
	}
	e.str(r.ID)
	e.u32(uint32(r.M))
	e.u32(uint32(r.N))
	for _, h := range r.Holders {
		e.str(h.Name)
		e.str(string(h.Role))
		if v2 {
			e.str(string(h.protection()))
		}
	}
	return sha256.Sum256(e.b)
}

// protection returns the holder's protection with the default filled in.
func (h Holder) protection() Protection {
	if h.Protection == "" {
		return ProtectionPassphrase
	}
	return h.Protection
}

// String describes the roster without any secret.
func (r Roster) String() string {
	return fmt.Sprintf("roster %s (%d of %d)", r.ID, r.M, r.N)
}

// encoder builds the unambiguous byte strings that are hashed and signed.
type encoder struct{ b []byte }

func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

func (e *encoder) bytes(v []byte) {
	e.u32(uint32(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) str(s string) { e.bytes([]byte(s)) }

// CredentialFileName is the file name of a holder's credential as ksk
// writes it: ROSTER-ID.HOLDER.age (a ':' of the roster id becomes '-').
func CredentialFileName(rosterID, holder string) string {
	return strings.ReplaceAll(rosterID, ":", "-") + "." + holder + ".age"
}

// CredentialFileName is the file name of the holder's credential as ksk
// writes it: ROSTER-ID.HOLDER.age, or ROSTER-ID.HOLDER.pem for a
// possession credential (not encrypted).
func (h Holder) CredentialFileName(rosterID string) string {
	name := CredentialFileName(rosterID, h.Name)
	if h.Protection.IsPossession() {
		name = strings.TrimSuffix(name, ".age") + ".pem"
	}
	return name
}
