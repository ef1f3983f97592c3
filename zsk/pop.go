package zsk

import (
	"crypto"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// signBundle adds to b one RRSIG per key over b's DNSKEY RRset: the proof
// that the ZSK operator holds each private key. The signatures are valid
// over the bundle's own inception to expiration, so the document does not
// depend on when it was made. Each signature is verified with the key's
// DNSKEY before it is kept.
func signBundle(b *ksr.Bundle, zone string, signers map[string]crypto.Signer) error {
	rrset := b.DNSKEYs(zone)
	b.Signatures = b.Signatures[:0]
	for i := range b.Keys {
		k := &b.Keys[i]
		dnskey := k.DNSKEY(zone)
		rrsig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: zone, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: k.TTL},
			Algorithm:  k.Algorithm,
			KeyTag:     k.KeyTag,
			SignerName: zone,
			Inception:  uint32(b.Inception.Unix()),
			Expiration: uint32(b.Expiration.Unix()),
		}
		if err := rrsig.Sign(signers[k.Identifier], rrset); err != nil {
			return fmt.Errorf("%w: %s (key tag %d) over bundle %s: %w", ErrSign, k.Identifier, k.KeyTag, b.ID, err)
		}
		if err := rrsig.Verify(dnskey, rrset); err != nil {
			return fmt.Errorf("%w: the signature of %s (key tag %d) over bundle %s does not verify with its DNSKEY: %w", ErrSign, k.Identifier, k.KeyTag, b.ID, err)
		}
		data, err := base64.StdEncoding.DecodeString(rrsig.Signature)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSign, err)
		}
		b.Signatures = append(b.Signatures, ksr.Signature{
			Identifier:  k.Identifier,
			TTL:         k.TTL,
			TypeCovered: dns.TypeDNSKEY,
			Algorithm:   rrsig.Algorithm,
			Labels:      rrsig.Labels,
			OriginalTTL: rrsig.OrigTtl,
			Inception:   time.Unix(int64(rrsig.Inception), 0).UTC(),
			Expiration:  time.Unix(int64(rrsig.Expiration), 0).UTC(),
			KeyTag:      rrsig.KeyTag,
			SignersName: zone,
			Data:        data,
		})
	}
	return nil
}
