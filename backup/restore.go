package backup

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/quorum"
)

// RestoredKey is a key Restore unwrapped into the target;
// *hsm.UnwrappedKey has it.
type RestoredKey interface {
	crypto.Signer
	// Attributes are the private key's attributes as the token reports them.
	Attributes() hsm.KeyAttributes
	// Destroy destroys every object created for the key.
	Destroy() error
}

// UnwrapKEK is a KEK on the target token that can unwrap a key.
type UnwrapKEK interface {
	// Unwrap unwraps the key into the token as a non-extractable,
	// sensitive, sign-only token object and creates its public key and
	// metadata objects, or creates nothing.
	Unwrap(wrapped []byte, spec hsm.UnwrapSpec) (RestoredKey, error)
	// Destroy destroys the KEK on the token.
	Destroy() error
}

// Target is the token a key is restored into; the user is logged in.
type Target interface {
	// Info describes the token.
	Info() hsm.TokenInfo
	// CheckFree fails with hsm.ErrLabelExists when the label or the
	// CKA_ID is in use.
	CheckFree(label string, id []byte) error
	// ImportKEK makes kek an unwrap-only session key on the token.
	ImportKEK(kek []byte) (UnwrapKEK, error)
}

// RestoreOptions are the roster and the opened credentials of a restore.
type RestoreOptions struct {
	// Roster is the recovery key share holders' roster; it must be the
	// one the backup was split for.
	Roster quorum.Roster
	// Credentials are the opened credential files presented. Restore does
	// not wipe them; the caller does.
	Credentials []quorum.Opened
}

// SignatureCheck says how the restored key's reference signature was
// checked.
type SignatureCheck string

// The ways a reference signature is checked.
const (
	// SignatureIdentical: byte-identical to the backup's (RSA, Ed25519).
	SignatureIdentical SignatureCheck = "identical"
	// SignatureVerified: verified with the backup's public key (ECDSA,
	// whose signatures are randomised).
	SignatureVerified SignatureCheck = "verified"
)

// Restored reports a restore.
type Restored struct {
	// Quorum is the outcome of every credential presented; nil when
	// Restore stopped before combining them.
	Quorum *quorum.Result
	// Key is the restored key; nil unless the restore succeeded.
	Key RestoredKey
	// Signature says how the reference signature was checked.
	Signature SignatureCheck
}

// Restore restores the key of a parsed backup file into tgt:
//
//  1. the roster must be the backup's (ErrOtherBackup), and the label and
//     CKA_ID free in the target (hsm.ErrLabelExists);
//  2. the credentials must reach the quorum (quorum.ErrQuorumNotMet) in
//     the backup's split (ErrOtherBackup), and the KEK they give must match
//     the file's commitment and MAC (ErrAltered);
//  3. the KEK becomes an unwrap-only session key in the target, the key is
//     unwrapped with its public key and metadata objects, and the KEK is
//     destroyed;
//  4. the restored key is proved: same public key, DNSKEY and key tag, a
//     reference signature identical to the backup's (RSA, Ed25519) or
//     verifying with its public key (ECDSA) (ErrMismatch), and sensitive,
//     non-extractable, sign-only attributes (ErrUnsafeAttributes).
//
// Every refusal before step 3 creates nothing in the target; a failure in
// or after step 3 destroys the restored key's objects and the KEK, so the
// target is left as it was. The Restored report is returned also with an
// error, for the credentials' outcomes.
func Restore(f *File, tgt Target, opts RestoreOptions) (*Restored, error) {
	rep := &Restored{}
	if f == nil || f.pub == nil {
		return rep, fmt.Errorf("%w: the backup file was not parsed", ErrInvalidArgument)
	}
	what := fmt.Sprintf("restore key %q into %s", f.Key.Label, tgt.Info())
	fail := func(err error) (*Restored, error) { return rep, fmt.Errorf("%s: %w", what, err) }

	r := opts.Roster
	if err := f.CheckRoster(r); err != nil {
		return fail(err)
	}
	if err := tgt.CheckFree(f.Key.Label, f.id); err != nil {
		return fail(err)
	}

	kek, res, err := r.Combine(opts.Credentials)
	rep.Quorum = res
	defer clear(kek)
	if err != nil {
		return fail(err)
	}
	if res.SplitID != f.Quorum.SplitID {
		return fail(fmt.Errorf("%w: the credentials that reach the quorum belong to split %.16s…, not to this backup's split %.16s…",
			ErrOtherBackup, res.SplitID, f.Quorum.SplitID))
	}
	if len(kek) != hsm.KEKSize {
		return fail(fmt.Errorf("%w: the credentials hold %d bytes, not an AES-256 KEK", ErrOtherBackup, len(kek)))
	}
	if err := f.VerifyKEK(kek); err != nil {
		return fail(err)
	}

	w, err := tgt.ImportKEK(kek)
	clear(kek)
	if err != nil {
		return fail(err)
	}
	spec := hsm.UnwrapSpec{Label: f.Key.Label, ID: f.KeyID(), Algorithm: f.Algorithm(), Public: f.pub, Created: f.Key.Generated}
	k, err := w.Unwrap(f.Wrap.Key, spec)
	derr := w.Destroy()
	if err != nil {
		switch {
		case errors.Is(err, hsm.ErrPublicKeyMismatch):
			err = fmt.Errorf("%w: %v", ErrMismatch, err)
		case errors.Is(err, hsm.ErrWrappedKeyInvalid):
			err = fmt.Errorf("%w: %v", ErrAltered, err)
		}
		return fail(also(err, derr))
	}
	if derr != nil {
		return fail(also(derr, destroyKey(k)))
	}
	check, err := prove(f, k)
	if err != nil {
		return fail(also(err, destroyKey(k)))
	}
	rep.Key, rep.Signature = k, check
	return rep, nil
}

// also adds a second failure to an error, on one line.
func also(err, more error) error {
	if more == nil {
		return err
	}
	return fmt.Errorf("%w; %w", err, more)
}

// CheckRoster fails with ErrOtherBackup unless r is the roster the file's
// KEK was split for (same id, m, n and digest), and with
// quorum.ErrInvalidRoster for an invalid roster.
func (f *File) CheckRoster(r quorum.Roster) error {
	if err := r.Validate(); err != nil {
		return err
	}
	digest := r.Digest()
	if r.ID != f.Quorum.RosterID || hex.EncodeToString(digest[:]) != f.Quorum.RosterDigest || r.M != f.Quorum.M || r.N != f.Quorum.N {
		return fmt.Errorf("%w: roster %s (%d of %d, digest %.16x…) is not the roster %s (%d of %d, digest %.16s…) the backup's KEK was split for",
			ErrOtherBackup, r.ID, r.M, r.N, digest[:], f.Quorum.RosterID, f.Quorum.M, f.Quorum.N, f.Quorum.RosterDigest)
	}
	return nil
}

func destroyKey(k RestoredKey) error {
	if err := k.Destroy(); err != nil {
		return fmt.Errorf("and destroying the restored key failed, remove it by hand: %w", err)
	}
	return nil
}

// equalPublic reports whether two public keys are the same.
func equalPublic(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// prove checks that a restored key is the one backed up and safe.
func prove(f *File, k RestoredKey) (SignatureCheck, error) {
	alg := f.Algorithm()
	switch k.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return "", fmt.Errorf("%w: public key type %T", ErrMismatch, k.Public())
	}
	if !equalPublic(k.Public(), f.pub) {
		return "", fmt.Errorf("%w: the restored key's public key is not the backup's", ErrMismatch)
	}
	dk, err := hsm.NewDNSKEY(k.Public(), alg, f.DNSKEYOptions())
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	if rrLine(dk) != f.Key.DNSKEY || dk.KeyTag() != f.Key.KeyTag {
		return "", fmt.Errorf("%w: the restored key's DNSKEY (key tag %d) is not the backup's (key tag %d)", ErrMismatch, dk.KeyTag(), f.Key.KeyTag)
	}
	in, opts := referenceInput(alg)
	sig, err := k.Sign(rand.Reader, in, opts)
	if err != nil {
		if errors.Is(err, hsm.ErrSignatureInvalid) {
			return "", fmt.Errorf("%w: the restored key's reference signature does not verify: %v", ErrMismatch, err)
		}
		return "", fmt.Errorf("reference signature: %w", err)
	}
	check := SignatureVerified
	if deterministic(alg) {
		if !bytes.Equal(sig, f.Reference.Signature) {
			return "", fmt.Errorf("%w: the restored key's reference signature differs from the backup's", ErrMismatch)
		}
		check = SignatureIdentical
	} else if err := VerifyReference(f.pub, alg, sig); err != nil {
		return "", fmt.Errorf("%w: the restored key's reference signature does not verify with the backup's public key: %v", ErrMismatch, err)
	}
	at := k.Attributes()
	if !at.Sensitive || at.Extractable || !at.Sign || at.Decrypt || at.Unwrap || at.Derive || !at.Private {
		return "", fmt.Errorf("%w: sensitive %t, extractable %t, sign %t, decrypt %t, unwrap %t, derive %t, private %t",
			ErrUnsafeAttributes, at.Sensitive, at.Extractable, at.Sign, at.Decrypt, at.Unwrap, at.Derive, at.Private)
	}
	return check, nil
}
