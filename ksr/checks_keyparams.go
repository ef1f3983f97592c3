package ksr

import (
	"crypto/ecdh"
	"errors"
	"fmt"
	"math/big"

	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// keyParams are the parameters of a DNSKEY public key that the policies
// constrain: the key size in bits (RSA modulus, ECDSA or EdDSA curve) and
// the RSA public exponent.
type keyParams struct {
	bits     int
	exponent int   // RSA only
	err      error // the public key is malformed for its algorithm
}

var errUnknownAlgorithm = errors.New("algorithm has no known key format")

// paramsOf decodes the parameters of a public key in DNSKEY wire format.
func paramsOf(alg uint8, pub []byte) keyParams {
	switch {
	case policy.IsRSA(alg):
		return rsaParams(pub)
	case alg == dns.ECDSAP256SHA256:
		return curveParams(pub, ecdh.P256(), 256)
	case alg == dns.ECDSAP384SHA384:
		return curveParams(pub, ecdh.P384(), 384)
	case alg == dns.ED25519:
		if len(pub) != 32 {
			return keyParams{err: fmt.Errorf("an Ed25519 key has 32 bytes, not %d", len(pub))}
		}
		return keyParams{bits: 256}
	case alg == dns.ED448:
		if len(pub) != 57 {
			return keyParams{err: fmt.Errorf("an Ed448 key has 57 bytes, not %d", len(pub))}
		}
		return keyParams{bits: 456}
	}
	return keyParams{err: errUnknownAlgorithm}
}

// rsaParams decodes an RFC 3110 RSA public key: exponent length (one byte,
// or zero and two bytes), exponent, modulus.
func rsaParams(pub []byte) keyParams {
	if len(pub) < 3 {
		return keyParams{err: errors.New("RSA key too short")}
	}
	elen, off := int(pub[0]), 1
	if elen == 0 {
		elen, off = int(pub[1])<<8|int(pub[2]), 3
	}
	if elen == 0 || off+elen >= len(pub) {
		return keyParams{err: errors.New("RSA key: bad exponent length")}
	}
	e := new(big.Int).SetBytes(pub[off : off+elen])
	n := new(big.Int).SetBytes(pub[off+elen:])
	if !e.IsInt64() || e.Int64() > 1<<31-1 || e.Int64() < 3 || e.Bit(0) == 0 {
		return keyParams{err: fmt.Errorf("RSA key: exponent %s is not an odd number from 3 to 2^31-1", e)}
	}
	if n.Sign() == 0 || pub[off+elen] == 0 {
		return keyParams{err: errors.New("RSA key: modulus has a leading zero byte")}
	}
	return keyParams{bits: n.BitLen(), exponent: int(e.Int64())}
}

// curveParams checks that pub is an uncompressed point (without the 0x04
// prefix, RFC 6605) on the curve.
func curveParams(pub []byte, c ecdh.Curve, bits int) keyParams {
	if len(pub) != 2*bits/8 {
		return keyParams{err: fmt.Errorf("an ECDSA P-%d key has %d bytes, not %d", bits, 2*bits/8, len(pub))}
	}
	if _, err := c.NewPublicKey(append([]byte{4}, pub...)); err != nil {
		return keyParams{err: fmt.Errorf("ECDSA P-%d key is not a point on the curve", bits)}
	}
	return keyParams{bits: bits}
}

// curveSize returns the key size that a policy entry of an ECDSA or EdDSA
// algorithm must state, or 0 for other algorithms.
func curveSize(alg uint8) int {
	switch alg {
	case dns.ECDSAP256SHA256, dns.ED25519:
		return 256
	case dns.ECDSAP384SHA384:
		return 384
	case dns.ED448:
		return 456
	}
	return 0
}

func algName(a uint8) string { return fmt.Sprintf("%s (%d)", policy.AlgorithmName(a), a) }
