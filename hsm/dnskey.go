package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/miekg/dns"
)

// DNSKEY defaults: a KSK (SEP bit set) of the root zone with the root's
// DNSKEY TTL.
const (
	DefaultDNSKEYFlags = 257
	DefaultDNSKEYOwner = "."
	DefaultDNSKEYTTL   = 172800
)

// DNSKEYOptions shape a DNSKEY record. Zero fields take the defaults.
type DNSKEYOptions struct {
	// Owner is the zone apex, DefaultDNSKEYOwner (the root) if empty.
	Owner string
	// Flags are the DNSKEY flags, DefaultDNSKEYFlags (257, a KSK) if 0.
	Flags uint16
	// TTL is the record's TTL, DefaultDNSKEYTTL if 0.
	TTL uint32
}

// DNSKEY returns the key's DNSKEY record (protocol 3).
func (k *Key) DNSKEY(opts DNSKEYOptions) (*dns.DNSKEY, error) {
	if k.err != nil {
		return nil, k.err
	}
	rr, err := NewDNSKEY(k.public, k.alg, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	return rr, nil
}

// NewDNSKEY builds the DNSKEY record of a public key for an algorithm:
// RFC 3110 for RSA, RFC 6605 for ECDSA, RFC 8080 for Ed25519.
func NewDNSKEY(pub crypto.PublicKey, alg Algorithm, opts DNSKEYOptions) (*dns.DNSKEY, error) {
	if opts.Owner == "" {
		opts.Owner = DefaultDNSKEYOwner
	}
	if opts.Flags == 0 {
		opts.Flags = DefaultDNSKEYFlags
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultDNSKEYTTL
	}
	if _, ok := dns.IsDomainName(opts.Owner); !ok {
		return nil, invalidf("owner %q is not a domain name", opts.Owner)
	}
	var wire []byte
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if !alg.IsRSA() {
			return nil, invalidf("an RSA key cannot be %s", alg)
		}
		e := big.NewInt(int64(p.E)).Bytes()
		if len(e) <= 255 {
			wire = append([]byte{byte(len(e))}, e...)
		} else {
			wire = append([]byte{0, byte(len(e) >> 8), byte(len(e))}, e...)
		}
		wire = append(wire, p.N.Bytes()...)
	case *ecdsa.PublicKey:
		want := map[int]Algorithm{256: ECDSAP256SHA256, 384: ECDSAP384SHA384}[p.Curve.Params().BitSize]
		if alg != want {
			return nil, invalidf("a %s key cannot be %s", p.Curve.Params().Name, alg)
		}
		b, err := p.Bytes()
		if err != nil {
			return nil, invalidf("ECDSA public key: %v", err)
		}
		wire = b[1:] // drop the 0x04 uncompressed-point marker
	case ed25519.PublicKey:
		if alg != ED25519 {
			return nil, invalidf("an Ed25519 key cannot be %s", alg)
		}
		wire = []byte(p)
	default:
		return nil, fmt.Errorf("%w: public key type %T", ErrUnsupportedKey, pub)
	}
	return &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: dns.CanonicalName(opts.Owner), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: opts.TTL},
		Flags:     opts.Flags,
		Protocol:  3,
		Algorithm: uint8(alg),
		PublicKey: base64.StdEncoding.EncodeToString(wire),
	}, nil
}

// DS returns the DS record of a DNSKEY with a digest type (dns.SHA256 or
// dns.SHA384).
func DS(key *dns.DNSKEY, digestType uint8) (*dns.DS, error) {
	if digestType != dns.SHA256 && digestType != dns.SHA384 {
		return nil, invalidf("DS digest type %d (want 2, SHA-256, or 4, SHA-384)", digestType)
	}
	ds := key.ToDS(digestType)
	if ds == nil {
		return nil, invalidf("cannot compute the DS of %s", key)
	}
	return ds, nil
}

// DSSet returns the SHA-256 and SHA-384 DS records of a DNSKEY.
func DSSet(key *dns.DNSKEY) ([]*dns.DS, error) {
	out := make([]*dns.DS, 0, 2)
	for _, d := range []uint8{dns.SHA256, dns.SHA384} {
		ds, err := DS(key, d)
		if err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	return out, nil
}
