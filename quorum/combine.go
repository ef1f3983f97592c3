package quorum

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"github.com/hashicorp/vault/shamir"
)

// Outcome is what Combine made of one presented credential.
type Outcome struct {
	// Source is the Opened credential's Source.
	Source string `json:"source"`
	// Fingerprint is the hex SHA-256 of the credential file.
	Fingerprint string `json:"sha256"`
	// Holder, Role and Index are what the credential names, when it could
	// be opened.
	Holder string `json:"holder,omitempty"`
	// Role is the role the credential names.
	Role Role `json:"role,omitempty"`
	// Index is the share index the credential names.
	Index int `json:"index,omitempty"`
	// Counted is true for a distinct valid credential of the split.
	Counted bool `json:"counted"`
	// Reason is empty when Counted, else duplicate, unknown-holder,
	// altered, wrong-passphrase or other-split.
	Reason string `json:"reason,omitempty"`
	// Err is nil when Counted, else wraps the sentinel named by Reason.
	Err error `json:"-"`
}

// Result reports a Combine: the roster, the split counted and every
// credential's outcome, in the order presented. It holds no secret.
type Result struct {
	// RosterID, M and N are the roster's.
	RosterID string `json:"roster_id"`
	// M is the quorum.
	M int `json:"m"`
	// N is the number of holders.
	N int `json:"n"`
	// SplitID is the hex id of the split whose credentials were counted;
	// empty when none was valid.
	SplitID string `json:"split_id,omitempty"`
	// Valid is the number of distinct valid credentials of that split.
	Valid int `json:"valid"`
	// Met reports Valid >= M.
	Met bool `json:"quorum_met"`
	// Credentials has one outcome per credential presented.
	Credentials []Outcome `json:"credentials"`
}

// String summarises the result without any secret.
func (r *Result) String() string {
	return fmt.Sprintf("roster %s: %d of %d required valid credentials (quorum met: %t)", r.RosterID, r.Valid, r.M, r.Met)
}

// Combine counts the distinct valid credentials among creds and, when at
// least M belong to one split of this roster, reconstructs the secret
// from M of them and checks it against the split's commitment.
//
// A credential counts when it opened (Err nil), names a holder of this
// roster with that holder's role and index, was issued for this roster
// (same id, M, N and digest), belongs to the split counted, and its holder
// has not been counted already. When valid credentials of several splits
// are presented, the split with the most distinct holders is counted
// (the first presented on a tie) and the others are ErrOtherSplit.
//
// The Result is always returned, also with an error. Fewer than M valid
// credentials give ErrQuorumNotMet. The returned secret is the caller's to
// wipe (clear it) when done; Combine wipes its own intermediate buffers.
func (r Roster) Combine(creds []Opened) ([]byte, *Result, error) {
	res := &Result{RosterID: r.ID, M: r.M, N: r.N, Credentials: make([]Outcome, len(creds))}
	if err := r.Validate(); err != nil {
		return nil, res, err
	}
	digest := r.Digest()
	digestHex := hex.EncodeToString(digest[:])

	for i, c := range creds {
		o := &res.Credentials[i]
		o.Source, o.Fingerprint = c.Source, c.Fingerprint
		o.Holder, o.Role, o.Index = c.Holder, c.Role, c.Index
		switch {
		case c.Err != nil:
			o.Err = c.Err
		case c.p == nil:
			o.Err = fmt.Errorf("%w: credential was not opened", ErrAltered)
		case r.index(c.p.Holder) == 0:
			o.Err = fmt.Errorf("%w: %s is not in roster %s", ErrUnknownHolder, c.p.Holder, r.ID)
		case c.p.RosterID != r.ID || c.p.RosterDigest != digestHex || c.p.M != r.M || c.p.N != r.N ||
			r.index(c.p.Holder) != c.p.Index || r.Holders[c.p.Index-1].Role != c.p.Role ||
			r.Holders[c.p.Index-1].Protection.IsPossession() != c.p.Protection.IsPossession():
			o.Err = fmt.Errorf("%w: issued for another roster than %s", ErrOtherSplit, r.ID)
		}
	}

	// Choose the split with the most distinct holders.
	count := map[string]map[int]bool{}
	var order []string
	for i, c := range creds {
		if res.Credentials[i].Err != nil {
			continue
		}
		k := c.p.splitKey()
		if count[k] == nil {
			count[k] = map[int]bool{}
			order = append(order, k)
		}
		count[k][c.p.Index] = true
	}
	var chosen string
	for _, k := range order {
		if chosen == "" || len(count[k]) > len(count[chosen]) {
			chosen = k
		}
	}

	var parts [][]byte
	var splitID []byte
	var commit string
	seen := map[int]bool{}
	for i, c := range creds {
		o := &res.Credentials[i]
		if o.Err != nil {
			continue
		}
		switch {
		case c.p.splitKey() != chosen:
			o.Err = fmt.Errorf("%w: %s's credential belongs to another split of roster %s", ErrOtherSplit, c.p.Holder, r.ID)
			continue
		case seen[c.p.Index]:
			o.Err = fmt.Errorf("%w: %s's credential was already counted", ErrDuplicate, c.p.Holder)
			continue
		}
		seen[c.p.Index] = true
		o.Counted = true
		res.Valid++
		res.SplitID = c.p.SplitID
		splitID, _ = hex.DecodeString(c.p.SplitID)
		commit = c.p.Commitment
		if len(parts) < r.M {
			parts = append(parts, c.p.Share)
		}
	}
	for i := range res.Credentials {
		res.Credentials[i].Reason = reason(res.Credentials[i].Err)
	}
	res.Met = res.Valid >= r.M
	if !res.Met {
		return nil, res, fmt.Errorf("%w: %d of %d required valid credentials", ErrQuorumNotMet, res.Valid, r.M)
	}

	value, err := shamir.Combine(parts)
	if err != nil {
		return nil, res, fmt.Errorf("%w: shares do not combine", ErrAltered)
	}
	defer clear(value)
	want, _ := hex.DecodeString(commit)
	got := commitment(splitID, value)
	if len(value) <= keyLen || subtle.ConstantTimeCompare(got[:], want) != 1 {
		res.Met = false
		return nil, res, fmt.Errorf("%w: the reconstructed secret does not match the split's commitment", ErrAltered)
	}
	secret := make([]byte, len(value)-keyLen)
	copy(secret, value[keyLen:])
	return secret, res, nil
}
