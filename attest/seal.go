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
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// Seal signature algorithms.
const (
	SigAlgECDSASHA256 = "ecdsa-sha256"        // ECDSA (P-256 in the HSM) over SHA-256, ASN.1 DER signature
	SigAlgEd25519     = "ed25519"             // Ed25519 over the message itself
	SigAlgRSASHA256   = "rsa-pkcs1v15-sha256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// SealDomain prefixes the message that a seal signs.
const SealDomain = "ksk-attestation-seal-v1 "

// RekorDomain prefixes the message that the attestation key signs for a
// Rekor entry. It differs from SealDomain, so that a signature published
// in a transparency log can never stand as a seal in a log, nor a seal as
// a Rekor entry.
const RekorDomain = "ksk-attestation-rekor-v1 "

// RekorMessage returns the bytes the attestation key signs to publish head
// in a Rekor transparency log: RekorDomain, the head in lower-case hex, and
// a newline.
func RekorMessage(head Hash) []byte {
	return []byte(RekorDomain + head.String() + "\n")
}

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
		if err == nil {
			seal.Signature, err = lowS(s.Public().(*ecdsa.PublicKey), seal.Signature)
		}
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
		if err := checkLowS(k, s.Signature); err != nil {
			return err
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

// ecdsaSignature is the ASN.1 form of an ECDSA signature.
type ecdsaSignature struct{ R, S *big.Int }

// parseECDSA parses an ECDSA signature that must be in its one DER form.
func parseECDSA(sig []byte) (*ecdsaSignature, error) {
	var v ecdsaSignature
	rest, err := asn1.Unmarshal(sig, &v)
	if err != nil {
		return nil, fmt.Errorf("ECDSA signature is not ASN.1: %w", err)
	}
	if len(rest) != 0 || v.R == nil || v.S == nil || v.R.Sign() <= 0 || v.S.Sign() <= 0 {
		return nil, errors.New("ECDSA signature is not a DER SEQUENCE of two positive INTEGERs")
	}
	if re, err := asn1.Marshal(v); err != nil || !bytes.Equal(re, sig) {
		return nil, errors.New("ECDSA signature is not in DER form")
	}
	return &v, nil
}

// lowS returns sig with S replaced by N-S when S is above N/2, so that a
// seal has one form: (r, s) and (r, N-s) are both valid signatures, and
// the log must not have two heads for one content.
func lowS(pub *ecdsa.PublicKey, sig []byte) ([]byte, error) {
	v, err := parseECDSA(sig)
	if err != nil {
		return nil, err
	}
	n := pub.Curve.Params().N
	if v.S.Cmp(new(big.Int).Rsh(n, 1)) <= 0 {
		return sig, nil
	}
	v.S.Sub(n, v.S)
	return asn1.Marshal(*v)
}

// checkLowS refuses an ECDSA signature that is not DER or whose S is above
// N/2 (the other, malleated form of a low-S signature).
func checkLowS(pub *ecdsa.PublicKey, sig []byte) error {
	v, err := parseECDSA(sig)
	if err != nil {
		return err
	}
	if v.S.Cmp(new(big.Int).Rsh(pub.Curve.Params().N, 1)) > 0 {
		return errors.New("ECDSA signature has a high S (above N/2): ksk writes only the low-S form, so this one was altered")
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
	return nil
}
