package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Seal signature algorithms.
const (
	SigAlgECDSASHA256 = "ecdsa-sha256"        // ECDSA (P-256 in the HSM) over SHA-256, ASN.1 DER signature
	SigAlgEd25519     = "ed25519"             // Ed25519 over the message itself
	SigAlgRSASHA256   = "rsa-pkcs1v15-sha256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// SealDomain prefixes the message that a seal signs.
const SealDomain = "ksk-attestation-seal-v1 "

// SealMessage returns the bytes a seal signs for head: SealDomain, the head
// in lower-case hex, and a newline. With openssl:
//
//	printf 'ksk-attestation-seal-v1 %s\n' HEAD > msg
//	openssl dgst -sha256 -verify attestation.pem -signature sig.der msg
func SealMessage(head Hash) []byte {
	return []byte(SealDomain + head.String() + "\n")
}

// KeyFingerprint returns the SHA-256 of pub's DER SubjectPublicKeyInfo and
// that encoding.
func KeyFingerprint(pub crypto.PublicKey) (Hash, []byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Hash{}, nil, fmt.Errorf("encode attestation public key: %w", err)
	}
	return sha256.Sum256(der), der, nil
}

// ParsePublicKeyPEM parses a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block,
// as `openssl pkey -pubout` writes it, to pin the attestation key.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM PUBLIC KEY block")
		}
		if b.Type != "PUBLIC KEY" {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PUBLIC KEY: %w", err)
		}
		return pub, nil
	}
}

// signSeal signs head with s and returns the seal.
func signSeal(s crypto.Signer, head Hash) (*Seal, error) {
	fp, der, err := KeyFingerprint(s.Public())
	if err != nil {
		return nil, err
	}
	msg := SealMessage(head)
	seal := &Seal{Head: head, KeyFingerprint: fp, PublicKey: der}
	switch s.Public().(type) {
	case *ecdsa.PublicKey:
		seal.Alg = SigAlgECDSASHA256
		d := sha256.Sum256(msg)
		seal.Signature, err = s.Sign(rand.Reader, d[:], crypto.SHA256)
	case ed25519.PublicKey:
		seal.Alg = SigAlgEd25519
		seal.Signature, err = s.Sign(rand.Reader, msg, crypto.Hash(0))
	case *rsa.PublicKey:
		seal.Alg = SigAlgRSASHA256
		d := sha256.Sum256(msg)
		seal.Signature, err = s.Sign(rand.Reader, d[:], crypto.SHA256)
	default:
		return nil, fmt.Errorf("attestation key type %T not supported (want ECDSA, Ed25519 or RSA)", s.Public())
	}
	if err != nil {
		return nil, fmt.Errorf("sign head with attestation key: %w", err)
	}
	// Check our own signature: an HSM that returns garbage must not seal.
	if err := verifySealSignature(seal); err != nil {
		return nil, fmt.Errorf("attestation key produced a signature that does not verify: %w", err)
	}
	return seal, nil
}

// verifySealSignature checks seal's fingerprint and signature.
func verifySealSignature(s *Seal) error {
	if sha256.Sum256(s.PublicKey) != s.KeyFingerprint {
		return errors.New("key_fingerprint is not the SHA-256 of public_key")
	}
	pub, err := x509.ParsePKIXPublicKey(s.PublicKey)
	if err != nil {
		return fmt.Errorf("public_key: %w", err)
	}
	msg := SealMessage(s.Head)
	d := sha256.Sum256(msg)
	switch s.Alg {
	case SigAlgECDSASHA256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("alg %s with a %T key", s.Alg, pub)
		}
		if !ecdsa.VerifyASN1(k, d[:], s.Signature) {
			return errors.New("ECDSA signature does not verify")
		}
	case SigAlgEd25519:
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("alg %s with a %T key", s.Alg, pub)
		}
		if !ed25519.Verify(k, msg, s.Signature) {
			return errors.New("Ed25519 signature does not verify")
		}
	case SigAlgRSASHA256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("alg %s with a %T key", s.Alg, pub)
		}
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], s.Signature); err != nil {
			return fmt.Errorf("RSA signature does not verify: %w", err)
		}
	default:
		return fmt.Errorf("unknown signature algorithm %q", s.Alg)
	}
	return nil
}

// seal checks a seal entry during Verify.
func (v *verifier) seal(e *Entry) error {
	s := e.Seal
	if s.Head != e.Prev {
		return v.fail(e.Seq, v.line, CheckSeal, ErrBadSignature, "the seal signs head %s, not the head %s it follows", s.Head, e.Prev)
	}
	if err := verifySealSignature(s); err != nil {
		return v.fail(e.Seq, v.line, CheckSeal, ErrBadSignature, "seal by key %s: %v", s.KeyFingerprint, err)
	}
	if len(v.opts.AttestationKeys) > 0 {
		ok := false
		for _, k := range v.opts.AttestationKeys {
			if _, der, err := KeyFingerprint(k); err == nil && bytes.Equal(der, s.PublicKey) {
				ok = true
				break
			}
		}
		if !ok {
			return v.fail(e.Seq, v.line, CheckSealKey, ErrUnknownKey, "the seal is by key %s, not the pinned attestation key", s.KeyFingerprint)
		}
	}
	v.res.SealCount++
	if len(v.res.Seals) < maxListed {
		v.res.Seals = append(v.res.Seals, SealInfo{Seq: e.Seq, Line: v.line, Head: s.Head, Alg: s.Alg, KeyFingerprint: s.KeyFingerprint})
	}
	v.res.LastSealSeq = e.Seq
	v.res.Unsealed = 0
	return nil
}
