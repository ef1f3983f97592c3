package zsk

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// FlagsZSK are the DNSKEY flags of a requested ZSK: Zone Key only.
const FlagsZSK = 256

// algorithmOf returns k's DNSSEC algorithm: the one given, or the one its
// public key implies.
func algorithmOf(k *Key) (uint8, error) {
	if k.Algorithm != 0 {
		return k.Algorithm, nil
	}
	switch p := k.Signer.Public().(type) {
	case *rsa.PublicKey:
		return dns.RSASHA256, nil
	case *ecdsa.PublicKey:
		switch p.Curve.Params().BitSize {
		case 256:
			return dns.ECDSAP256SHA256, nil
		case 384:
			return dns.ECDSAP384SHA384, nil
		}
		return 0, fmt.Errorf("%w: ECDSA curve %s has no DNSSEC algorithm", ErrOptions, p.Curve.Params().Name)
	case ed25519.PublicKey:
		return dns.ED25519, nil
	default:
		return 0, fmt.Errorf("%w: public key type %T has no DNSSEC algorithm", ErrOptions, p)
	}
}

// requestKey returns k as the ZSK record of a KSR for zone.
func requestKey(k *Key, zone string, ttl uint32) (ksr.Key, error) {
	if k.Signer == nil {
		return ksr.Key{}, fmt.Errorf("%w: no signer", ErrOptions)
	}
	alg, err := algorithmOf(k)
	if err != nil {
		return ksr.Key{}, err
	}
	rr, err := hsm.NewDNSKEY(k.Signer.Public(), hsm.Algorithm(alg), hsm.DNSKEYOptions{Owner: zone, Flags: FlagsZSK, TTL: ttl})
	if err != nil {
		return ksr.Key{}, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	pub, err := base64.StdEncoding.DecodeString(rr.PublicKey)
	if err != nil {
		return ksr.Key{}, fmt.Errorf("%w: DNSKEY public key: %w", ErrOptions, err)
	}
	tag := rr.KeyTag()
	id := k.Identifier
	if id == "" {
		id = fmt.Sprintf("zsk-%d", tag)
	}
	return ksr.Key{
		Identifier: id,
		KeyTag:     tag,
		TTL:        ttl,
		Flags:      FlagsZSK,
		Protocol:   3,
		Algorithm:  alg,
		PublicKey:  pub,
	}, nil
}

// AlgorithmPolicy returns the <SignatureAlgorithm> entry that describes
// k: its algorithm, its size in bits (RSA modulus, ECDSA or EdDSA curve)
// and, for RSA, its public exponent (RFC 3110 wire format). A malformed
// RSA key gives size and exponent 0.
func AlgorithmPolicy(k *ksr.Key) ksr.AlgorithmPolicy {
	a := ksr.AlgorithmPolicy{Algorithm: k.Algorithm}
	switch k.Algorithm {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512, dns.RSAMD5:
		pub := k.PublicKey
		if len(pub) < 3 {
			return a
		}
		elen, off := int(pub[0]), 1
		if elen == 0 {
			elen, off = int(pub[1])<<8|int(pub[2]), 3
		}
		if off+elen >= len(pub) {
			return a
		}
		e := new(big.Int).SetBytes(pub[off : off+elen])
		a.Exponent = int(e.Int64())
		a.Size = new(big.Int).SetBytes(pub[off+elen:]).BitLen()
	case dns.ECDSAP256SHA256, dns.ED25519:
		a.Size = 256
	case dns.ECDSAP384SHA384:
		a.Size = 384
	case dns.ED448:
		a.Size = 456
	}
	return a
}
