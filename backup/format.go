package backup

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/miekg/dns"
)

// Format is the format label of a backup file.
const Format = "ksk-key-backup-v1"

// MaxFileSize bounds the backup files Parse accepts.
const MaxFileSize = 64 << 10

// ReferenceMessage is the fixed message the key signs at backup time and
// again after a restore. Read as the start of an RRSIG's signed data, its
// third byte ('k', 107) is the algorithm field, which is no DNSSEC
// algorithm, so the signature can never pass as an RRSIG.
const ReferenceMessage = "ksk-backup-reference-v1"

// KEKAlgorithm names the key-encryption key in the file.
const KEKAlgorithm = "AES-256"

// Limits of the byte fields.
const (
	maxLabel     = 255
	maxID        = 64
	maxPublicKey = 4 << 10
	maxWrapped   = 16 << 10
	maxSignature = 1 << 10
)

// File is a backup file: a JSON object with these fields, every one of
// them required. Byte strings are hex (identifiers, digests) or base64
// (the public key, the wrapped key, the signature).
type File struct {
	// Format is the format label, Format.
	Format string `json:"format"`
	// Created is when the backup was made (UTC, seconds).
	Created time.Time `json:"created"`
	// Key describes the key backed up.
	Key KeyInfo `json:"key"`
	// SourceToken is the token the key was backed up from.
	SourceToken TokenInfo `json:"source_token"`
	// Wrap holds the wrapped private key.
	Wrap Wrapped `json:"wrap"`
	// Quorum says how the KEK was shared.
	Quorum Split `json:"quorum"`
	// Reference is the key's signature over ReferenceMessage.
	Reference Reference `json:"reference"`
	// MAC is the hex HMAC-SHA256, keyed from the KEK, over every other
	// field (see docs/backup.md).
	MAC string `json:"mac"`

	pub    crypto.PublicKey
	id     []byte
	dnskey *dns.DNSKEY
}

// KeyInfo is the public part of the key backed up.
type KeyInfo struct {
	// Label and ID are the key's CKA_LABEL and CKA_ID (hex).
	Label string `json:"label"`
	ID    string `json:"id"`
	// Algorithm is the DNSSEC algorithm number, AlgorithmName its mnemonic.
	Algorithm     uint8  `json:"algorithm"`
	AlgorithmName string `json:"algorithm_name"`
	// Bits is the RSA modulus size or the curve size.
	Bits int `json:"bits"`
	// Generated is when ksk generated the key, if it recorded it.
	Generated time.Time `json:"generated,omitzero"`
	// PublicKey is the DER SubjectPublicKeyInfo (base64).
	PublicKey []byte `json:"public_key"`
	// DNSKEY is the key's DNSKEY record on one line.
	DNSKEY string `json:"dnskey"`
	// KeyTag is the DNSKEY's key tag.
	KeyTag uint16 `json:"key_tag"`
	// DS are the SHA-256 and SHA-384 DS records of the DNSKEY.
	DS []string `json:"ds"`
}

// TokenInfo names a token.
type TokenInfo struct {
	// Label, Serial, Manufacturer and Model are the token's, as
	// C_GetTokenInfo reports them.
	Label        string `json:"label"`
	Serial       string `json:"serial"`
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
}

// Wrapped is the wrapped private key.
type Wrapped struct {
	// Mechanism is hsm.WrapMechanismName.
	Mechanism string `json:"mechanism"`
	// KEK is KEKAlgorithm.
	KEK string `json:"kek"`
	// Key is the wrapped key (base64).
	Key []byte `json:"wrapped_key"`
}

// Split identifies the quorum credentials that hold the KEK.
type Split struct {
	// RosterID, RosterDigest (hex), M and N are the roster's.
	RosterID     string `json:"roster_id"`
	RosterDigest string `json:"roster_digest"`
	M            int    `json:"m"`
	N            int    `json:"n"`
	// SplitID is the quorum split's id (hex).
	SplitID string `json:"split_id"`
	// KEKCommitment is HKDF-SHA256 of the KEK with the split id as salt
	// and "ksk-backup-v1 kek commitment" as info (hex): it identifies the
	// KEK without revealing it.
	KEKCommitment string `json:"kek_commitment"`
}

// Reference is the reference signature.
type Reference struct {
	// Message is ReferenceMessage.
	Message string `json:"message"`
	// Signature is the key's signature over Message (base64): RSA
	// PKCS#1 v1.5 or ECDSA (ASN.1 DER) over its hash with the algorithm's
	// hash function, or pure Ed25519 over Message itself.
	Signature []byte `json:"signature"`
}

// PublicKey returns the key's public key (*rsa.PublicKey,
// *ecdsa.PublicKey or ed25519.PublicKey) of a parsed file.
func (f *File) PublicKey() crypto.PublicKey { return f.pub }

// KeyID returns a copy of the key's CKA_ID of a parsed file.
func (f *File) KeyID() []byte { return bytes.Clone(f.id) }

// Algorithm returns the key's DNSSEC algorithm.
func (f *File) Algorithm() hsm.Algorithm { return hsm.Algorithm(f.Key.Algorithm) }

// DNSKEYOptions returns the owner, flags and TTL of the file's DNSKEY, to
// build the same record from a restored key.
func (f *File) DNSKEYOptions() hsm.DNSKEYOptions {
	return hsm.DNSKEYOptions{Owner: f.dnskey.Hdr.Name, Flags: f.dnskey.Flags, TTL: f.dnskey.Hdr.Ttl}
}

// String describes the backup without any secret.
func (f *File) String() string {
	return fmt.Sprintf("backup of key %q (%s, key tag %d)", f.Key.Label, f.Algorithm(), f.Key.KeyTag)
}

// Marshal encodes the file as indented JSON with a final newline.
func (f *File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Parse decodes and checks a backup file: the size limit, strict JSON
// (unknown or duplicate fields, trailing data), every field's syntax and
// range, and that the fields agree with each other (the public key with
// the algorithm and size, the DNSKEY, key tag and DS with the public key,
// the reference signature with the public key). It cannot check the MAC,
// which needs the KEK: Restore does. Structural errors wrap ErrMalformed,
// disagreements ErrAltered.
func Parse(data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxFileSize)
	}
	if err := checkDuplicateKeys(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

// checkDuplicateKeys walks the JSON tokens and refuses an object with the
// same key twice (encoding/json would keep the last silently).
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for depth := 0; ; {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if depth++; depth > 8 {
					return errors.New("nested too deeply")
				}
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{object: v == '{', keys: map[string]bool{}, key: v == '{'})
			default:
				depth--
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				if top.keys[v] {
					return fmt.Errorf("field %q given twice", v)
				}
				top.keys[v] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}

func isHex(s string, min, max int) bool {
	if len(s)%2 != 0 || len(s) < 2*min || len(s) > 2*max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// printable reports whether s is valid UTF-8 without control characters,
// so that it can be shown in messages.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// rrLine renders a record on one line with single spaces.
func rrLine(rr dns.RR) string { return strings.Join(strings.Fields(rr.String()), " ") }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func altered(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAltered, fmt.Sprintf(format, args...))
}

// check validates the decoded fields and sets pub, id and dnskey.
func (f *File) check() error {
	k := &f.Key
	switch {
	case f.Format != Format:
		return malformed("format %q, want %q", f.Format, Format)
	case f.Created.IsZero():
		return malformed("no creation time")
	case k.Label == "" || len(k.Label) > maxLabel || !printable(k.Label):
		return malformed("key label must be 1 to %d printable bytes", maxLabel)
	case !isHex(k.ID, 1, maxID):
		return malformed("key id must be 1 to %d bytes of lowercase hex", maxID)
	case !hsm.Algorithm(k.Algorithm).Supported():
		return malformed("unsupported algorithm %d", k.Algorithm)
	case k.AlgorithmName != hsm.Algorithm(k.Algorithm).String():
		return malformed("algorithm name %q is not that of algorithm %d", k.AlgorithmName, k.Algorithm)
	case len(k.PublicKey) == 0 || len(k.PublicKey) > maxPublicKey:
		return malformed("public key must be 1 to %d bytes", maxPublicKey)
	case len(k.DS) != 2:
		return malformed("want the SHA-256 and SHA-384 DS records, got %d", len(k.DS))
	case !printable(f.SourceToken.Label) || !printable(f.SourceToken.Serial) ||
		!printable(f.SourceToken.Manufacturer) || !printable(f.SourceToken.Model) ||
		len(f.SourceToken.Label)+len(f.SourceToken.Serial)+len(f.SourceToken.Manufacturer)+len(f.SourceToken.Model) > 1024:
		return malformed("source token names must be printable and short")
	case f.Wrap.Mechanism != hsm.WrapMechanismName:
		return malformed("wrap mechanism %q, want %s", f.Wrap.Mechanism, hsm.WrapMechanismName)
	case f.Wrap.KEK != KEKAlgorithm:
		return malformed("KEK %q, want %s", f.Wrap.KEK, KEKAlgorithm)
	case len(f.Wrap.Key) < 16 || len(f.Wrap.Key) > maxWrapped || len(f.Wrap.Key)%8 != 0:
		return malformed("wrapped key must be 16 to %d bytes, a multiple of 8 (RFC 5649)", maxWrapped)
	case f.Quorum.RosterID == "" || len(f.Quorum.RosterID) > 128 || !printable(f.Quorum.RosterID):
		return malformed("bad roster id")
	case !isHex(f.Quorum.RosterDigest, 32, 32):
		return malformed("roster digest must be 32 bytes of lowercase hex")
	case f.Quorum.M < 2 || f.Quorum.N > 255 || f.Quorum.M > f.Quorum.N:
		return malformed("quorum must have 2 <= m <= n <= 255")
	case !isHex(f.Quorum.SplitID, 32, 32) || !isHex(f.Quorum.KEKCommitment, 32, 32):
		return malformed("split id and KEK commitment must be 32 bytes of lowercase hex")
	case f.Reference.Message != ReferenceMessage:
		return malformed("reference message %q, want %q", f.Reference.Message, ReferenceMessage)
	case len(f.Reference.Signature) == 0 || len(f.Reference.Signature) > maxSignature:
		return malformed("reference signature must be 1 to %d bytes", maxSignature)
	case !isHex(f.MAC, 32, 32):
		return malformed("MAC must be 32 bytes of lowercase hex")
	}
	f.id, _ = hex.DecodeString(k.ID)
	f.Created = f.Created.UTC()
	k.Generated = k.Generated.UTC()

	// The fields must agree with each other.
	alg := hsm.Algorithm(k.Algorithm)
	pub, err := x509.ParsePKIXPublicKey(k.PublicKey)
	if err != nil {
		return altered("public key: %v", err)
	}
	bits, err := publicBits(pub, alg)
	if err != nil {
		return altered("public key: %v", err)
	}
	if bits != k.Bits {
		return altered("the public key has %d bits, the file says %d", bits, k.Bits)
	}
	rr, err := dns.NewRR(k.DNSKEY)
	if err != nil {
		return altered("DNSKEY: %v", err)
	}
	dk, ok := rr.(*dns.DNSKEY)
	if !ok || dk.Hdr.Class != dns.ClassINET {
		return altered("DNSKEY: not an IN DNSKEY record")
	}
	want, err := hsm.NewDNSKEY(pub, alg, hsm.DNSKEYOptions{Owner: dk.Hdr.Name, Flags: dk.Flags, TTL: dk.Hdr.Ttl})
	if err != nil {
		return altered("DNSKEY: %v", err)
	}
	if rrLine(want) != k.DNSKEY || dk.Protocol != 3 {
		return altered("the DNSKEY is not that of the public key")
	}
	if want.KeyTag() != k.KeyTag {
		return altered("key tag %d, the DNSKEY's is %d", k.KeyTag, want.KeyTag())
	}
	dss, err := hsm.DSSet(want)
	if err != nil {
		return altered("DS: %v", err)
	}
	for i, ds := range dss {
		if rrLine(ds) != k.DS[i] {
			return altered("DS record %d is not that of the DNSKEY", i+1)
		}
	}
	if err := VerifyReference(pub, alg, f.Reference.Signature); err != nil {
		return altered("reference signature: %v", err)
	}
	f.pub, f.dnskey = pub, want
	return nil
}

// publicBits checks that a public key fits the algorithm and returns its
// size.
func publicBits(pub crypto.PublicKey, alg hsm.Algorithm) (int, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if !alg.IsRSA() {
			return 0, fmt.Errorf("an RSA key cannot be %s", alg)
		}
		return p.N.BitLen(), nil
	case *ecdsa.PublicKey:
		bits := p.Curve.Params().BitSize
		if !(alg == hsm.ECDSAP256SHA256 && bits == 256) && !(alg == hsm.ECDSAP384SHA384 && bits == 384) {
			return 0, fmt.Errorf("a %s key cannot be %s", p.Curve.Params().Name, alg)
		}
		return bits, nil
	case ed25519.PublicKey:
		if alg != hsm.ED25519 {
			return 0, fmt.Errorf("an Ed25519 key cannot be %s", alg)
		}
		return 256, nil
	}
	return 0, fmt.Errorf("unsupported public key type %T", pub)
}

// referenceInput returns what a key of the algorithm signs for the
// reference signature (the message's hash, or the message for Ed25519)
// and the signer options.
func referenceInput(alg hsm.Algorithm) ([]byte, crypto.SignerOpts) {
	return signingInput(alg, []byte(ReferenceMessage))
}

// signingInput returns what a crypto.Signer of the algorithm signs for a
// message, and the options.
func signingInput(alg hsm.Algorithm, msg []byte) ([]byte, crypto.SignerOpts) {
	h := alg.Hash()
	if h == 0 {
		return msg, crypto.Hash(0)
	}
	hh := h.New()
	hh.Write(msg)
	return hh.Sum(nil), h
}

// VerifyReference checks a reference signature with a public key.
func VerifyReference(pub crypto.PublicKey, alg hsm.Algorithm, sig []byte) error {
	in, opts := referenceInput(alg)
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(p, opts.HashFunc(), in, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(p, in, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(p, in, sig) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported public key type %T", pub)
}

// deterministic reports whether the algorithm's signatures are a function
// of key and message (RSA PKCS#1 v1.5, Ed25519), so that a restored key
// must reproduce the reference signature byte for byte.
func deterministic(alg hsm.Algorithm) bool { return alg.IsRSA() || alg == hsm.ED25519 }

// encoder builds the unambiguous byte string the MAC covers: every field
// length-prefixed.
type encoder struct{ b []byte }

func (e *encoder) u32(v uint32)   { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) bytes(v []byte) { e.u32(uint32(len(v))); e.b = append(e.b, v...) }
func (e *encoder) str(s string)   { e.bytes([]byte(s)) }
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.str("")
		return
	}
	e.str(t.UTC().Format(time.RFC3339Nano))
}

// macInput is the canonical encoding of every field but the MAC.
func (f *File) macInput() []byte {
	var e encoder
	e.str("ksk-backup-v1 mac")
	e.str(f.Format)
	e.time(f.Created)
	k := f.Key
	e.str(k.Label)
	e.str(k.ID)
	e.u32(uint32(k.Algorithm))
	e.str(k.AlgorithmName)
	e.u32(uint32(k.Bits))
	e.time(k.Generated)
	e.bytes(k.PublicKey)
	e.str(k.DNSKEY)
	e.u32(uint32(k.KeyTag))
	e.u32(uint32(len(k.DS)))
	for _, ds := range k.DS {
		e.str(ds)
	}
	s := f.SourceToken
	e.str(s.Label)
	e.str(s.Serial)
	e.str(s.Manufacturer)
	e.str(s.Model)
	e.str(f.Wrap.Mechanism)
	e.str(f.Wrap.KEK)
	e.bytes(f.Wrap.Key)
	q := f.Quorum
	e.str(q.RosterID)
	e.str(q.RosterDigest)
	e.u32(uint32(q.M))
	e.u32(uint32(q.N))
	e.str(q.SplitID)
	e.str(q.KEKCommitment)
	e.str(f.Reference.Message)
	e.bytes(f.Reference.Signature)
	return e.b
}

// deriveKey derives a 32-byte key from the KEK with HKDF-SHA256, the split
// id as salt and a label as info.
func deriveKey(kek []byte, splitID, info string) ([]byte, error) {
	salt, err := hex.DecodeString(splitID)
	if err != nil {
		return nil, err
	}
	return hkdf.Key(sha256.New, kek, salt, info, 32)
}

// kekCommitment returns the hex commitment to a KEK for a split.
func kekCommitment(kek []byte, splitID string) (string, error) {
	c, err := deriveKey(kek, splitID, "ksk-backup-v1 kek commitment")
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(c), nil
}

// computeMAC returns the file's hex MAC under a KEK.
func (f *File) computeMAC(kek []byte) (string, error) {
	key, err := deriveKey(kek, f.Quorum.SplitID, "ksk-backup-v1 mac key")
	if err != nil {
		return "", err
	}
	defer clear(key)
	m := hmac.New(sha256.New, key)
	m.Write(f.macInput())
	return hex.EncodeToString(m.Sum(nil)), nil
}

// seal sets the KEK commitment and the MAC.
func (f *File) seal(kek []byte) error {
	c, err := kekCommitment(kek, f.Quorum.SplitID)
	if err != nil {
		return err
	}
	f.Quorum.KEKCommitment = c
	f.MAC, err = f.computeMAC(kek)
	return err
}

// VerifyKEK checks a reconstructed KEK against the file: its commitment,
// then the MAC over the whole file. A KEK that is not the file's, or a
// file altered since it was made, wraps ErrAltered.
func (f *File) VerifyKEK(kek []byte) error {
	c, err := kekCommitment(kek, f.Quorum.SplitID)
	if err != nil {
		return altered("split id: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(c), []byte(f.Quorum.KEKCommitment)) != 1 {
		return altered("the reconstructed KEK does not match the backup's KEK commitment")
	}
	mac, err := f.computeMAC(kek)
	if err != nil {
		return altered("split id: %v", err)
	}
	if !hmac.Equal([]byte(mac), []byte(f.MAC)) {
		return altered("the MAC does not verify: the file was changed after the backup was made")
	}
	return nil
}
