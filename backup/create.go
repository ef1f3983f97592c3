package backup

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/quorum"
)

// Key is what Create needs of the key to back up; *hsm.Key has it.
type Key interface {
	crypto.Signer
	Label() string
	ID() []byte
	Algorithm() hsm.Algorithm
	Bits() int
	Attributes() hsm.KeyAttributes
	Created() time.Time
}

// WrapKEK is a KEK on the source token that can wrap a key.
type WrapKEK interface {
	// Wrap wraps the key with CKM_AES_KEY_WRAP_PAD.
	Wrap(k Key) ([]byte, error)
	// Destroy destroys the KEK on the token.
	Destroy() error
}

// Source is the token a key is backed up from. Create calls Random, then
// ImportKEK, then Key, in that order (a security officer login for the
// KEK comes before the user's).
type Source interface {
	// Info describes the token.
	Info() hsm.TokenInfo
	// Random returns n bytes from the token's random number generator.
	Random(n int) ([]byte, error)
	// ImportKEK makes kek a wrap-only session key on the token, trusted
	// so that it may wrap keys marked CKA_WRAP_WITH_TRUSTED.
	ImportKEK(kek []byte) (WrapKEK, error)
	// Key returns the key labelled label.
	Key(label string) (Key, error)
}

// DefaultM and DefaultN are the recovery quorum ksk recommends: 5 of 7
// recovery key share holders, as for the root zone KSK.
const (
	DefaultM = 5
	DefaultN = 7
)

// MaxWorkFactor is the highest scrypt work factor Create accepts: the
// highest quorum.Open accepts, so that restore can open the credentials.
const MaxWorkFactor = quorum.MaxWorkFactor

// CreateOptions describe a backup.
type CreateOptions struct {
	// Label is the CKA_LABEL of the key to back up.
	Label string
	// Roster lists the recovery key share holders (every holder's role
	// must be quorum.RoleRecoveryKeyShareHolder).
	Roster quorum.Roster
	// Passphrases holds each holder's passphrase, by holder name. Create
	// does not keep them; the caller wipes them.
	Passphrases map[string][]byte
	// Progress, when set, is called after each credential is issued
	// (quorum.IssueOptions.Progress).
	Progress func(done, total int)
	// WorkFactor is the scrypt work factor of the credentials, 0 for
	// quorum.DefaultWorkFactor, at most MaxWorkFactor.
	WorkFactor int
	// DNSKEY shapes the DNSKEY and DS records in the file.
	DNSKEY hsm.DNSKEYOptions
	// Now is the backup's time; zero means time.Now().
	Now time.Time
}

// Created is a backup made by Create, not yet written anywhere.
type Created struct {
	// File is the backup file and Data its encoding.
	File *File
	Data []byte
	// Credentials are the recovery key share holders' credential files,
	// in roster order.
	Credentials []quorum.Credential
}

// ValidateRoster checks that a roster can hold a backup's KEK: valid, and
// every holder a recovery key share holder. Errors wrap
// quorum.ErrInvalidRoster.
func ValidateRoster(r quorum.Roster) error {
	if err := r.Validate(); err != nil {
		return err
	}
	for _, h := range r.Holders {
		if h.Role != quorum.RoleRecoveryKeyShareHolder {
			return fmt.Errorf("%w: holder %s has role %s; a backup's KEK is shared among %s holders only",
				quorum.ErrInvalidRoster, h.Name, h.Role, quorum.RoleRecoveryKeyShareHolder)
		}
	}
	return nil
}

func (o *CreateOptions) validate() error {
	if o.Label == "" {
		return fmt.Errorf("%w: empty key label", ErrInvalidArgument)
	}
	if err := ValidateRoster(o.Roster); err != nil {
		return err
	}
	for _, h := range o.Roster.Holders {
		if len(o.Passphrases[h.Name]) == 0 {
			return fmt.Errorf("%w: no passphrase for holder %s", ErrInvalidArgument, h.Name)
		}
	}
	if o.WorkFactor == 0 {
		o.WorkFactor = quorum.DefaultWorkFactor
	}
	if o.WorkFactor < 1 || o.WorkFactor > MaxWorkFactor {
		return fmt.Errorf("%w: scrypt work factor must be between 1 and %d", ErrInvalidArgument, MaxWorkFactor)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return nil
}

// Create backs up the key labelled opts.Label from src:
//
//  1. a fresh AES-256 KEK from the token's RNG is imported into the token
//     as a trusted, wrap-only session key;
//  2. the key is found, refused with ErrNotBackupable unless extractable,
//     and signs ReferenceMessage;
//  3. the token wraps it under the KEK (CKM_AES_KEY_WRAP_PAD), and the KEK
//     is destroyed on the token;
//  4. the KEK is split M-of-N into one credential per holder
//     (quorum.Issue), every credential is opened again with its holder's
//     passphrase and the quorum is checked to give back the KEK;
//  5. the file records the split, a commitment to the KEK and a MAC
//     keyed from it, and the KEK is wiped from memory.
//
// Nothing is written: the caller writes the credentials and the file.
// Errors never contain the KEK, a share or a passphrase.
func Create(src Source, opts CreateOptions) (res *Created, err error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("back up key %q from %s", opts.Label, src.Info())
	fail := func(err error) (*Created, error) { return nil, fmt.Errorf("%s: %w", what, err) }

	kek, err := src.Random(hsm.KEKSize)
	if err != nil {
		return fail(err)
	}
	defer clear(kek)
	if len(kek) != hsm.KEKSize {
		return fail(fmt.Errorf("%w: the token returned %d random bytes, want %d", hsm.ErrPKCS11, len(kek), hsm.KEKSize))
	}
	w, err := src.ImportKEK(kek)
	if err != nil {
		return fail(err)
	}
	destroyed := false
	defer func() {
		if destroyed {
			return
		}
		if derr := w.Destroy(); derr != nil && err == nil {
			res, err = fail(derr)
		}
	}()

	k, err := src.Key(opts.Label)
	if err != nil {
		return fail(err)
	}
	if !k.Attributes().Extractable {
		return fail(fmt.Errorf("%w: the key is not extractable (only keys generated with --backupable can be backed up, and a key can never become backup-able later)", ErrNotBackupable))
	}
	alg := k.Algorithm()
	info, err := keyInfo(k, opts.DNSKEY)
	if err != nil {
		return fail(err)
	}
	in, signOpts := referenceInput(alg)
	sig, err := k.Sign(rand.Reader, in, signOpts)
	if err != nil {
		return fail(fmt.Errorf("reference signature: %w", err))
	}
	if err := VerifyReference(k.Public(), alg, sig); err != nil {
		return fail(fmt.Errorf("%w: reference signature: %v", hsm.ErrSignatureInvalid, err))
	}
	wrapped, err := w.Wrap(k)
	if err != nil {
		if errors.Is(err, hsm.ErrNotExtractable) {
			return fail(fmt.Errorf("%w: %v", ErrNotBackupable, err))
		}
		return fail(err)
	}
	destroyed = true
	if err := w.Destroy(); err != nil {
		return fail(err)
	}

	creds, err := quorum.Issue(kek, opts.Roster, opts.Passphrases, &quorum.IssueOptions{WorkFactor: opts.WorkFactor, Progress: opts.Progress})
	if err != nil {
		return fail(err)
	}
	splitID, err := checkCredentials(opts.Roster, creds, opts.Passphrases, kek)
	if err != nil {
		return fail(err)
	}

	digest := opts.Roster.Digest()
	ti := src.Info()
	f := &File{
		Format:      Format,
		Created:     opts.Now.UTC().Truncate(time.Second),
		Key:         info,
		SourceToken: TokenInfo{Label: ti.Label, Serial: ti.Serial, Manufacturer: ti.Manufacturer, Model: ti.Model},
		Wrap:        Wrapped{Mechanism: hsm.WrapMechanismName, KEK: KEKAlgorithm, Key: wrapped},
		Quorum: Split{
			RosterID: opts.Roster.ID, RosterDigest: hex.EncodeToString(digest[:]),
			M: opts.Roster.M, N: opts.Roster.N, SplitID: splitID,
		},
		Reference: Reference{Message: ReferenceMessage, Signature: sig},
	}
	if err := f.seal(kek); err != nil {
		return fail(err)
	}
	data, err := f.Marshal()
	if err != nil {
		return fail(err)
	}
	// What is written must be what restore will read.
	parsed, err := Parse(data)
	if err != nil {
		return fail(fmt.Errorf("the new backup file does not parse: %w", err))
	}
	if err := parsed.VerifyKEK(kek); err != nil {
		return fail(err)
	}
	return &Created{File: parsed, Data: data, Credentials: creds}, nil
}

// keyInfo describes a key's public half for the file.
func keyInfo(k Key, opts hsm.DNSKEYOptions) (KeyInfo, error) {
	spki, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return KeyInfo{}, fmt.Errorf("%w: public key: %w", hsm.ErrUnsupportedKey, err)
	}
	dk, err := hsm.NewDNSKEY(k.Public(), k.Algorithm(), opts)
	if err != nil {
		return KeyInfo{}, err
	}
	dss, err := hsm.DSSet(dk)
	if err != nil {
		return KeyInfo{}, err
	}
	info := KeyInfo{
		Label: k.Label(), ID: hex.EncodeToString(k.ID()),
		Algorithm: uint8(k.Algorithm()), AlgorithmName: k.Algorithm().String(), Bits: k.Bits(),
		Generated: k.Created().UTC(), PublicKey: spki, DNSKEY: rrLine(dk), KeyTag: dk.KeyTag(),
	}
	for _, ds := range dss {
		info.DS = append(info.DS, rrLine(ds))
	}
	return info, nil
}

// checkCredentials opens every new credential with its holder's
// passphrase, combines them, checks that they give back the KEK, and
// returns the split id.
func checkCredentials(roster quorum.Roster, creds []quorum.Credential, passphrases map[string][]byte, kek []byte) (string, error) {
	opened := make([]quorum.Opened, 0, len(creds))
	defer func() {
		for i := range opened {
			opened[i].Wipe()
		}
	}()
	for _, c := range creds {
		opened = append(opened, quorum.Open(c.Holder, c.File, passphrases[c.Holder]))
	}
	secret, res, err := roster.Combine(opened)
	defer clear(secret)
	if err != nil {
		return "", fmt.Errorf("checking the new credentials: %w", err)
	}
	if res.Valid != len(creds) {
		return "", fmt.Errorf("checking the new credentials: %w: only %d of %d open", quorum.ErrAltered, res.Valid, len(creds))
	}
	if subtle.ConstantTimeCompare(secret, kek) != 1 {
		return "", fmt.Errorf("checking the new credentials: %w: they do not give back the KEK", quorum.ErrAltered)
	}
	return res.SplitID, nil
}
