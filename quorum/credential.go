package quorum

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/hashicorp/vault/shamir"
)

// Format is the version label inside every credential.
const Format = "ksk-quorum-credential-v1"

// DefaultWorkFactor is the scrypt work factor (log2 N) Issue uses unless
// told otherwise: age's own default, about a second on a current machine.
// Tests use a low factor; production credentials should keep the default
// or raise it.
const DefaultWorkFactor = 18

// MaxWorkFactor is the highest scrypt work factor Issue writes and Open
// accepts: the default plus a margin of two (scrypt with r = 8 then needs
// 1 GiB). age itself would accept 22 (4 GiB), so a crafted credential
// could make a ceremony machine allocate gigabytes before the passphrase
// is even tried; Open refuses it from the header, before any scrypt work.
const MaxWorkFactor = DefaultWorkFactor + 2

// MaxFileSize bounds the credential files Open reads.
const MaxFileSize = 64 << 10

// keyLen is the length of the random key that is split with the secret so
// that the commitment cannot be brute-forced from a short secret.
const keyLen = 32

// payload is the plaintext inside a credential file, encoded as JSON.
// Byte fields are hex except Share and Signature (base64, JSON's default
// for []byte).
type payload struct {
	Format       string `json:"format"`
	RosterID     string `json:"roster_id"`
	RosterDigest string `json:"roster_digest"`
	Holder       string `json:"holder"`
	Role         Role   `json:"role"`
	Index        int    `json:"index"`
	M            int    `json:"m"`
	N            int    `json:"n"`
	SplitID      string `json:"split_id"`
	Commitment   string `json:"commitment"`
	PublicKey    string `json:"public_key"`
	Share        []byte `json:"share"`
	// Protection is empty for a passphrase credential and "possession"
	// for a possession credential; it is signed, so a file cannot be
	// passed off as the other kind.
	Protection Protection `json:"protection,omitempty"`
	Signature  []byte     `json:"signature"`
}

// signed is the canonical encoding the split's key signs.
func (p *payload) signed() []byte {
	var e encoder
	e.str(Format)
	e.str(p.RosterID)
	e.str(p.RosterDigest)
	e.str(p.Holder)
	e.str(string(p.Role))
	e.u32(uint32(p.Index))
	e.u32(uint32(p.M))
	e.u32(uint32(p.N))
	e.str(p.SplitID)
	e.str(p.Commitment)
	e.str(p.PublicKey)
	e.bytes(p.Share)
	if p.Protection != "" {
		// After the share, so passphrase credentials sign as before.
		e.str(string(p.Protection))
	}
	return e.b
}

// splitKey identifies the split a payload belongs to.
func (p *payload) splitKey() string {
	return p.RosterDigest + "/" + p.SplitID + "/" + p.PublicKey + "/" + p.Commitment
}

// commitment binds the reconstructed value (random key || secret) to the
// split.
func commitment(splitID, value []byte) [32]byte {
	var e encoder
	e.str("ksk-quorum-commit-v1")
	e.bytes(splitID)
	e.bytes(value)
	sum := sha256.Sum256(e.b)
	clear(e.b)
	return sum
}

// Credential is one holder's issued credential file.
type Credential struct {
	// Holder is the holder's name.
	Holder string
	// Role is the holder's role.
	Role Role
	// Index is the holder's 1-based position in the roster.
	Index int
	// File is the ASCII-armored age file to give the holder.
	File []byte
	// Fingerprint is the hex SHA-256 of File, for the ceremony's roster.
	Fingerprint string
}

// String describes the credential without its contents.
func (c Credential) String() string {
	return fmt.Sprintf("credential %d for %s (%s) sha256:%s", c.Index, c.Holder, c.Role, c.Fingerprint)
}

// Fingerprint returns the hex SHA-256 of a credential file.
func Fingerprint(file []byte) string {
	sum := sha256.Sum256(file)
	return hex.EncodeToString(sum[:])
}

// IssueOptions tune Issue. The zero value is the production default.
type IssueOptions struct {
	// Progress, when set, is called after each credential is sealed with
	// the number done and the total (scrypt makes each take about a
	// second at the default work factor).
	Progress func(done, total int)
	// WorkFactor is the scrypt work factor (log2 N) of each file; 0 means
	// DefaultWorkFactor. Values below DefaultWorkFactor are for tests.
	WorkFactor int
	// Rand is the randomness source; nil means crypto/rand. The Shamir
	// polynomials always use crypto/rand.
	Rand io.Reader
}

// Issue splits secret M-of-N according to roster and returns one
// credential per holder, in roster order, each encrypted to the holder's
// passphrase (passphrases is keyed by holder name), or, for a holder whose
// protection is possession, written unencrypted as a PEM block to be
// sealed in a tamper-evident bag (no passphrase is needed for it). The secret and the
// passphrases are not retained; buffers Issue allocates are wiped.
// Errors wrap ErrInvalidRoster or ErrInvalidArgument and never contain a
// secret or passphrase.
func Issue(secret []byte, roster Roster, passphrases map[string][]byte, opts *IssueOptions) ([]Credential, error) {
	if err := roster.Validate(); err != nil {
		return nil, err
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty secret", ErrInvalidArgument)
	}
	for _, h := range roster.Holders {
		if !h.Protection.IsPossession() && len(passphrases[h.Name]) == 0 {
			return nil, fmt.Errorf("%w: no passphrase for holder %s", ErrInvalidArgument, h.Name)
		}
	}
	var o IssueOptions
	if opts != nil {
		o = *opts
	}
	if o.WorkFactor == 0 {
		o.WorkFactor = DefaultWorkFactor
	}
	if o.WorkFactor < 1 || o.WorkFactor > MaxWorkFactor {
		return nil, fmt.Errorf("%w: scrypt work factor must be between 1 and %d", ErrInvalidArgument, MaxWorkFactor)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}

	// value = random key || secret: the key makes the commitment
	// unguessable even when the secret is a short PIN.
	value := make([]byte, keyLen+len(secret))
	defer clear(value)
	if _, err := io.ReadFull(o.Rand, value[:keyLen]); err != nil {
		return nil, fmt.Errorf("quorum: random key: %w", err)
	}
	copy(value[keyLen:], secret)
	splitID := make([]byte, 32)
	if _, err := io.ReadFull(o.Rand, splitID); err != nil {
		return nil, fmt.Errorf("quorum: split id: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(o.Rand)
	if err != nil {
		return nil, fmt.Errorf("quorum: split signing key: %w", err)
	}
	defer clear(priv)
	shares, err := shamir.Split(value, roster.N, roster.M)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	defer func() {
		for _, s := range shares {
			clear(s)
		}
	}()
	commit := commitment(splitID, value)
	digest := roster.Digest()

	creds := make([]Credential, 0, roster.N)
	for i, h := range roster.Holders {
		p := payload{
			Format:       Format,
			RosterID:     roster.ID,
			RosterDigest: hex.EncodeToString(digest[:]),
			Holder:       h.Name,
			Role:         h.Role,
			Index:        i + 1,
			M:            roster.M,
			N:            roster.N,
			SplitID:      hex.EncodeToString(splitID),
			Commitment:   hex.EncodeToString(commit[:]),
			PublicKey:    hex.EncodeToString(pub),
			Share:        shares[i],
		}
		if h.Protection.IsPossession() {
			p.Protection = ProtectionPossession
		}
		msg := p.signed()
		p.Signature = ed25519.Sign(priv, msg)
		clear(msg)
		var file []byte
		if p.Protection.IsPossession() {
			file, err = sealPossession(&p)
		} else {
			file, err = seal(&p, passphrases[h.Name], o.WorkFactor)
		}
		if err != nil {
			return nil, fmt.Errorf("quorum: credential for %s: %w", h.Name, err)
		}
		creds = append(creds, Credential{Holder: h.Name, Role: h.Role, Index: i + 1, File: file, Fingerprint: Fingerprint(file)})
		if o.Progress != nil {
			o.Progress(len(creds), len(roster.Holders))
		}
	}
	return creds, nil
}

// seal encrypts the payload to the passphrase as an armored age file.
func seal(p *payload, passphrase []byte, workFactor int) ([]byte, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	// age takes the passphrase as a string, which cannot be wiped.
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(workFactor)
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// possessionPEM is the PEM type of a possession credential.
const possessionPEM = "KSK POSSESSION CREDENTIAL"

// sealPossession writes the payload of a possession credential as a PEM
// block: no encryption, its integrity from the split's signature and the
// manifest's SHA-256, its confidentiality from the sealed bag.
func sealPossession(p *payload) ([]byte, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return pem.EncodeToMemory(&pem.Block{Type: possessionPEM, Headers: map[string]string{
		"Holder": p.Holder, "Roster": p.RosterID,
		"Protection": "possession: whoever holds this file can use it; keep it sealed in its numbered tamper-evident bag",
	}, Bytes: plain}), nil
}

// IsPossession reports whether file is a possession credential (a PEM
// block of that type), which Open opens without a passphrase. It reads
// only the first line and proves nothing: Open checks the rest.
func IsPossession(file []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(file, " \t\r\n"), []byte("-----BEGIN "+possessionPEM+"-----"))
}

// Opened is a credential file after Open: either its verified contents or
// the reason it cannot be used (Err). It holds the share until Wipe.
type Opened struct {
	// Source names where the file came from (a path), for reports.
	Source string
	// Fingerprint is the hex SHA-256 of the file.
	Fingerprint string
	// Err is nil when the file decrypted, parsed and its signature
	// verified; otherwise it wraps ErrWrongPassphrase or ErrAltered.
	Err error
	// Holder, Role and Index are the holder the credential names (empty
	// when Err is set).
	Holder string
	// Role is the role the credential names.
	Role Role
	// Index is the holder's 1-based share index the credential names.
	Index int
	// RosterID is the roster the credential was issued for.
	RosterID string
	// Protection is ProtectionPossession for a possession credential,
	// ProtectionPassphrase otherwise (empty when Err is set).
	Protection Protection

	p *payload
}

// String describes the credential without its share.
func (o Opened) String() string {
	if o.Err != nil {
		return fmt.Sprintf("%s: %s", o.Source, reason(o.Err))
	}
	return fmt.Sprintf("%s: credential %d for %s (%s) of roster %s", o.Source, o.Index, o.Holder, o.Role, o.RosterID)
}

// Wipe overwrites the share held in memory.
func (o *Opened) Wipe() {
	if o.p != nil {
		clear(o.p.Share)
		o.p = nil
	}
}

// OpenOptions tune Open.
type OpenOptions struct {
	// MaxWorkFactor is the highest scrypt work factor accepted; 0 means
	// MaxWorkFactor, and more than MaxWorkFactor is not allowed. A fuzz
	// test lowers it to stay fast.
	MaxWorkFactor int
	// Pinned, when not nil, are the SHA-256 fingerprints (lower-case hex)
	// of the only credential files to open, from a credentials manifest
	// or a script's pins: any other file is refused with ErrNotPinned
	// before it is decrypted, so that a stranger's file costs nothing.
	Pinned []string
}

// Open decrypts and verifies one credential file with its holder's
// passphrase. It never fails: problems are in the returned Opened's Err.
func Open(source string, file, passphrase []byte) Opened {
	return OpenWithOptions(source, file, passphrase, OpenOptions{})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(source string, file, passphrase []byte, opts OpenOptions) Opened {
	o := Opened{Source: source, Fingerprint: Fingerprint(file)}
	if opts.Pinned != nil && !slices.Contains(opts.Pinned, o.Fingerprint) {
		o.Err = fmt.Errorf("%w: sha256 %s is not among the %d pinned credentials; not decrypted", ErrNotPinned, o.Fingerprint, len(opts.Pinned))
		return o
	}
	p, err := open(file, passphrase, opts)
	if err != nil {
		o.Err = err
		return o
	}
	o.p = p
	o.Holder, o.Role, o.Index, o.RosterID, o.Protection = p.Holder, p.Role, p.Index, p.RosterID, p.Protection
	if o.Protection == "" {
		o.Protection = ProtectionPassphrase
	}
	return o
}

func open(file, passphrase []byte, opts OpenOptions) (*payload, error) {
	if len(file) > MaxFileSize {
		return nil, fmt.Errorf("%w: file larger than %d bytes", ErrAltered, MaxFileSize)
	}
	if IsPossession(file) {
		return openPossession(file)
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("%w: empty passphrase", ErrWrongPassphrase)
	}
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongPassphrase, err)
	}
	maxWF := MaxWorkFactor
	if opts.MaxWorkFactor > 0 && opts.MaxWorkFactor < maxWF {
		maxWF = opts.MaxWorkFactor
	}
	id.SetMaxWorkFactor(maxWF)
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(file)), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w: the passphrase does not open this credential", ErrWrongPassphrase)
		}
		return nil, fmt.Errorf("%w: %w", ErrAltered, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	defer clear(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAltered, err)
	}
	if len(plain) > MaxFileSize {
		return nil, fmt.Errorf("%w: plaintext larger than %d bytes", ErrAltered, MaxFileSize)
	}
	p, err := parse(plain)
	if err == nil && p.Protection != "" {
		clear(p.Share)
		return nil, fmt.Errorf("%w: a passphrase credential that names protection %q", ErrAltered, p.Protection)
	}
	return p, err
}

// openPossession parses a possession credential: one PEM block of that
// type and nothing else, whose signed payload says possession.
func openPossession(file []byte) (*payload, error) {
	b, rest := pem.Decode(file)
	if b == nil || b.Type != possessionPEM {
		return nil, fmt.Errorf("%w: not a PEM block of type %s", ErrAltered, possessionPEM)
	}
	defer clear(b.Bytes)
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the possession credential's PEM block", ErrAltered)
	}
	p, err := parse(b.Bytes)
	if err == nil && p.Protection != ProtectionPossession {
		clear(p.Share)
		return nil, fmt.Errorf("%w: a possession credential's signed contents do not say possession", ErrAltered)
	}
	return p, err
}

// parse decodes and checks a credential's plaintext, including its
// signature. Errors wrap ErrAltered and never contain the share.
func parse(plain []byte) (*payload, error) {
	var p payload
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		clear(p.Share)
		return nil, fmt.Errorf("%w: contents are not a credential", ErrAltered)
	}
	if dec.More() {
		clear(p.Share)
		return nil, fmt.Errorf("%w: trailing data after the credential", ErrAltered)
	}
	if err := p.check(); err != nil {
		clear(p.Share)
		return nil, fmt.Errorf("%w: %s", ErrAltered, err)
	}
	return &p, nil
}

func (p *payload) check() error {
	switch {
	case p.Format != Format:
		return errors.New("unknown format")
	case !idRE.MatchString(p.RosterID):
		return errors.New("bad roster id")
	case !nameRE.MatchString(p.Holder):
		return errors.New("bad holder name")
	case !p.Role.Valid():
		return errors.New("bad role")
	case p.N < 2 || p.N > 255 || p.M < 2 || p.M > p.N:
		return errors.New("bad m or n")
	case p.Index < 1 || p.Index > p.N:
		return errors.New("bad share index")
	case !isHex(p.RosterDigest, 32), !isHex(p.SplitID, 32), !isHex(p.Commitment, 32):
		return errors.New("bad digest, split id or commitment")
	case !isHex(p.PublicKey, ed25519.PublicKeySize):
		return errors.New("bad public key")
	case len(p.Share) < keyLen+2:
		return errors.New("share too short")
	case p.Protection != "" && p.Protection != ProtectionPossession:
		return errors.New("bad protection")
	case len(p.Signature) != ed25519.SignatureSize:
		return errors.New("bad signature length")
	}
	pub, _ := hex.DecodeString(p.PublicKey)
	msg := p.signed()
	defer clear(msg)
	if !ed25519.Verify(pub, msg, p.Signature) {
		return errors.New("signature does not verify")
	}
	return nil
}

// isHex reports whether s is the lowercase hex encoding of n bytes.
func isHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	return !slices.ContainsFunc([]byte(s), func(c byte) bool {
		return !('0' <= c && c <= '9' || 'a' <= c && c <= 'f')
	})
}
