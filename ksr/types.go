package ksr

import (
	"time"

	"github.com/miekg/dns"
)

// Document is a parsed <KSR> document. Exactly one of Request and Response
// is set.
type Document struct {
	ID     string // the KSR's id attribute (a UUID in the root zone)
	Domain string // the zone, as a fully qualified name ("." for the root)
	Serial uint32 // the serial attribute
	// Timestamp is the optional timestamp attribute that kskm reads; the
	// zero Time when absent.
	Timestamp time.Time
	Request   *Request
	Response  *Response
}

// Request is the <Request> of a KSR: the ZSK operator's policy and bundles.
type Request struct {
	ZSKPolicy SignaturePolicy // <RequestPolicy><ZSK>
	Bundles   []Bundle        // <RequestBundle>, in document order
}

// Response is the <Response> of an SKR: the KSK and ZSK policies and the
// signed bundles.
type Response struct {
	KSKPolicy SignaturePolicy // <ResponsePolicy><KSK>
	ZSKPolicy SignaturePolicy // <ResponsePolicy><ZSK>
	Bundles   []Bundle        // <ResponseBundle>, in document order
}

// SignaturePolicy is a <ZSK> or <KSK> policy element.
type SignaturePolicy struct {
	PublishSafety        time.Duration
	RetireSafety         time.Duration
	MaxSignatureValidity time.Duration
	MinSignatureValidity time.Duration
	MaxValidityOverlap   time.Duration
	MinValidityOverlap   time.Duration
	Algorithms           []AlgorithmPolicy // <SignatureAlgorithm>, in document order
}

// AlgorithmPolicy is a <SignatureAlgorithm algorithm="N"> element. Size is
// the key size in bits: the RSA modulus (<RSA size exponent>), the ECDSA
// curve (<ECDSA size>) or the EdDSA curve (<EdDSA size>).
type AlgorithmPolicy struct {
	Algorithm uint8 // DNSSEC algorithm number
	Size      int   // key size in bits
	Exponent  int   // RSA public exponent; 0 for other algorithms
}

// Bundle is a <RequestBundle> or <ResponseBundle>: the DNSKEY RRset of one
// validity period and its signatures.
type Bundle struct {
	ID         string
	Inception  time.Time // UTC
	Expiration time.Time // UTC
	Keys       []Key
	Signatures []Signature
	Signers    []string // <Signer keyIdentifier> of a request bundle (optional)
	Line       int      // line of the bundle's start tag in the source, 0 if built
}

// Key is a <Key> element: one DNSKEY record.
type Key struct {
	Identifier string // keyIdentifier attribute
	KeyTag     uint16 // keyTag attribute, as claimed by the document
	TTL        uint32
	Flags      uint16
	Protocol   uint8
	Algorithm  uint8
	PublicKey  []byte // decoded from base64
	Line       int    // line of the <Key> start tag, 0 if built
}

// Signature is a <Signature> element: one RRSIG record over the bundle's
// DNSKEY RRset.
type Signature struct {
	Identifier  string // keyIdentifier attribute: the signing key
	TTL         uint32
	TypeCovered uint16 // dns.TypeDNSKEY in every valid document
	Algorithm   uint8
	Labels      uint8
	OriginalTTL uint32
	Expiration  time.Time // UTC
	Inception   time.Time // UTC
	KeyTag      uint16
	SignersName string // fully qualified
	Data        []byte // decoded from base64
	Line        int    // line of the <Signature> start tag, 0 if built
}

// Bundles returns the bundles of whichever of Request or Response is set.
func (d *Document) Bundles() []Bundle {
	switch {
	case d.Request != nil:
		return d.Request.Bundles
	case d.Response != nil:
		return d.Response.Bundles
	}
	return nil
}

// DNSKEY returns k as a DNSKEY record owned by zone.
func (k *Key) DNSKEY(zone string) *dns.DNSKEY {
	return &dns.DNSKEY{
		Hdr: dns.RR_Header{
			Name:   dns.Fqdn(zone),
			Rrtype: dns.TypeDNSKEY,
			Class:  dns.ClassINET,
			Ttl:    k.TTL,
		},
		Flags:     k.Flags,
		Protocol:  k.Protocol,
		Algorithm: k.Algorithm,
		PublicKey: toBase64(k.PublicKey),
	}
}

// RRSIG returns s as an RRSIG record owned by zone.
func (s *Signature) RRSIG(zone string) *dns.RRSIG {
	return &dns.RRSIG{
		Hdr: dns.RR_Header{
			Name:   dns.Fqdn(zone),
			Rrtype: dns.TypeRRSIG,
			Class:  dns.ClassINET,
			Ttl:    s.TTL,
		},
		TypeCovered: s.TypeCovered,
		Algorithm:   s.Algorithm,
		Labels:      s.Labels,
		OrigTtl:     s.OriginalTTL,
		Expiration:  uint32(s.Expiration.Unix()),
		Inception:   uint32(s.Inception.Unix()),
		KeyTag:      s.KeyTag,
		SignerName:  dns.Fqdn(s.SignersName),
		Signature:   toBase64(s.Data),
	}
}

// DNSKEYs returns the bundle's keys as DNSKEY records owned by zone, in
// document order. miekg/dns sorts them canonically when it signs or
// verifies.
func (b *Bundle) DNSKEYs(zone string) []dns.RR {
	rrs := make([]dns.RR, len(b.Keys))
	for i := range b.Keys {
		rrs[i] = b.Keys[i].DNSKEY(zone)
	}
	return rrs
}

// Flag bits of a DNSKEY (RFC 4034 §2.1.1, RFC 5011 §7).
const (
	FlagZone   = 0x0100 // Zone Key: set on every DNSSEC key
	FlagSEP    = 0x0001 // Secure Entry Point: set on a KSK
	FlagRevoke = 0x0080 // REVOKE (RFC 5011)
)

// IsKSK reports whether k has the SEP flag, which marks a KSK.
func (k *Key) IsKSK() bool { return k.Flags&FlagSEP != 0 }

// IsRevoked reports whether k has the REVOKE flag.
func (k *Key) IsRevoked() bool { return k.Flags&FlagRevoke != 0 }
