package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	"github.com/miekg/pkcs11"
)

// digestInfoPrefix is the DER DigestInfo header that PKCS#1 v1.5 puts
// before a digest (RFC 8017, section 9.2, note 1).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var _ crypto.Signer = (*Key)(nil)

// VerifiesSignatures reports that Sign verifies every signature the HSM
// returns against the key's public key before returning it, so callers
// need not repeat that check as they sign.
func (k *Key) VerifiesSignatures() bool { return true }

// Sign signs with the key on the token and implements crypto.Signer; rand
// is ignored (the token has its own). It verifies every signature against
// the public key before returning it and fails with ErrSignatureInvalid
// rather than return a bad one.
//
//   - RSA: PKCS#1 v1.5 (CKM_RSA_PKCS over DigestInfo || digest); opts must
//     name SHA-256, SHA-384 or SHA-512 and digest must be that hash. PSS is
//     refused.
//   - ECDSA: CKM_ECDSA over the digest; the token's r||s is returned as
//     the ASN.1 DER that crypto.Signer callers such as miekg/dns expect.
//   - Ed25519: pure Ed25519 (CKM_EDDSA) over the whole message; opts must
//     be crypto.Hash(0), as miekg/dns passes it.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k.err != nil {
		return nil, k.err
	}
	if opts == nil {
		opts = crypto.Hash(0)
	}
	h := opts.HashFunc()
	fail := func(err error) ([]byte, error) { return nil, fmt.Errorf("sign with %s: %w", k, err) }
	switch pub := k.public.(type) {
	case *rsa.PublicKey:
		if _, pss := opts.(*rsa.PSSOptions); pss {
			return fail(invalidf("RSA-PSS is not used in DNSSEC"))
		}
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return fail(invalidf("RSA signing needs SHA-256, SHA-384 or SHA-512, not %v", h))
		}
		if len(digest) != h.Size() {
			return fail(invalidf("digest is %d bytes, %v needs %d", len(digest), h, h.Size()))
		}
		sig, err := k.tok.rawSign(k.priv, pkcs11.CKM_RSA_PKCS, append(append([]byte{}, prefix...), digest...))
		if err != nil {
			return fail(err)
		}
		if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
			return fail(fmt.Errorf("%w: %w", ErrSignatureInvalid, err))
		}
		return sig, nil
	case *ecdsa.PublicKey:
		if h != 0 && len(digest) != h.Size() {
			return fail(invalidf("digest is %d bytes, %v needs %d", len(digest), h, h.Size()))
		}
		raw, err := k.tok.rawSign(k.priv, pkcs11.CKM_ECDSA, digest)
		if err != nil {
			return fail(err)
		}
		sig, err := rawToASN1(raw, (pub.Curve.Params().BitSize+7)/8)
		if err != nil {
			return fail(fmt.Errorf("%w: %w", ErrSignatureInvalid, err))
		}
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			return fail(ErrSignatureInvalid)
		}
		return sig, nil
	case ed25519.PublicKey:
		if h != 0 {
			return fail(invalidf("Ed25519 signs the whole message: pass crypto.Hash(0), not %v", h))
		}
		if o, ok := opts.(*ed25519.Options); ok && o.Context != "" {
			return fail(invalidf("Ed25519ctx is not used in DNSSEC"))
		}
		sig, err := k.tok.rawSign(k.priv, CKM_EDDSA, digest)
		if err != nil {
			return fail(err)
		}
		if !ed25519.Verify(pub, digest, sig) {
			return fail(ErrSignatureInvalid)
		}
		return sig, nil
	}
	return fail(fmt.Errorf("%w: no public key", ErrUnsupportedKey))
}

// rawSign runs C_SignInit and C_Sign on a session of its own.
func (t *Token) rawSign(priv pkcs11.ObjectHandle, mech uint, data []byte) ([]byte, error) {
	var sig []byte
	err := t.pool.with(func(sh pkcs11.SessionHandle) error {
		if err := t.ctx.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, priv); err != nil {
			return p11Error("C_SignInit", err)
		}
		var err error
		if sig, err = t.ctx.Sign(sh, data); err != nil {
			return p11Error("C_Sign", err)
		}
		return nil
	})
	return sig, err
}

// rawToASN1 converts a PKCS#11 ECDSA signature (r||s, each size bytes) to
// the ASN.1 DER SEQUENCE { r INTEGER, s INTEGER }.
func rawToASN1(raw []byte, size int) ([]byte, error) {
	if len(raw) != 2*size {
		return nil, fmt.Errorf("ECDSA signature is %d bytes, want %d", len(raw), 2*size)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(raw[:size]),
		new(big.Int).SetBytes(raw[size:]),
	})
}
