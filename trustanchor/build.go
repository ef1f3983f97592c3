package trustanchor

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ErrBadKey is returned by NewKeyDigest for a DNSKEY that cannot be a
// trust anchor: no key, not a zone key, an unusable public key, an
// algorithm miekg/dns cannot digest, or a validity period that ends before
// it starts.
var ErrBadKey = errors.New("DNSKEY cannot be a trust anchor")

// NewKeyDigest returns the RFC 9718 KeyDigest of key: its owner, key tag,
// algorithm, SHA-256 digest (digest type 2), public key and flags, with id
// and the validity period from validFrom to validUntil (zero: open-ended).
// The id is the caller's: ksk uses the key's HSM label, as kskm and IANA
// do (IANA's "Klajeyz" is KSK-2017's label).
func NewKeyDigest(id string, key *dns.DNSKEY, validFrom, validUntil time.Time) (Anchor, error) {
	if key == nil {
		return Anchor{}, fmt.Errorf("%w: no key", ErrBadKey)
	}
	if id == "" {
		return Anchor{}, fmt.Errorf("%w: empty id", ErrBadKey)
	}
	if key.Flags&dns.ZONE == 0 {
		return Anchor{}, fmt.Errorf("%w: flags %d lack the zone key bit", ErrBadKey, key.Flags)
	}
	if !validUntil.IsZero() && !validUntil.After(validFrom) {
		return Anchor{}, fmt.Errorf("%w: validUntil %s is not after validFrom %s", ErrBadKey,
			validUntil.UTC().Format(time.RFC3339), validFrom.UTC().Format(time.RFC3339))
	}
	pk, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil || len(pk) == 0 {
		return Anchor{}, fmt.Errorf("%w: public key is not base64", ErrBadKey)
	}
	ds := key.ToDS(dns.SHA256)
	if ds == nil {
		return Anchor{}, fmt.Errorf("%w: no SHA-256 DS for algorithm %d", ErrBadKey, key.Algorithm)
	}
	digest, err := hex.DecodeString(ds.Digest)
	if err != nil {
		return Anchor{}, fmt.Errorf("%w: DS digest: %w", ErrBadKey, err)
	}
	return Anchor{
		ID:         id,
		Zone:       dns.CanonicalName(key.Hdr.Name),
		ValidFrom:  validFrom.UTC(),
		ValidUntil: validUntil.UTC(),
		KeyTag:     key.KeyTag(),
		Algorithm:  key.Algorithm,
		DigestType: dns.SHA256,
		Digest:     digest,
		PublicKey:  pk,
		Flags:      key.Flags,
	}, nil
}

// DNSKEY returns the DNSKEY record of an anchor that carries its public
// key (RFC 9718), with ttl; nil when the anchor has no public key. Flags
// absent from the anchor are taken to be 257, as for a KSK.
func (a Anchor) DNSKEY(ttl uint32) *dns.DNSKEY {
	if a.PublicKey == nil {
		return nil
	}
	flags := a.Flags
	if flags == 0 {
		flags = dns.ZONE | dns.SEP
	}
	return &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: dns.Fqdn(a.Zone), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl},
		Flags:     flags,
		Protocol:  3,
		Algorithm: a.Algorithm,
		PublicKey: base64.StdEncoding.EncodeToString(a.PublicKey),
	}
}

// MarshalDS writes ta's anchors as DS records in zone file presentation
// format, one a line, in ta's order, with ttl, preceded by a comment
// naming each anchor's id and validity. ParseDS and Load read it back.
func MarshalDS(ta *TrustAnchor, ttl uint32) []byte {
	var b bytes.Buffer
	for _, a := range ta.Anchors {
		comment(&b, a)
		ds := a.DS()
		ds.Hdr.Ttl = ttl
		b.WriteString(ds.String() + "\n")
	}
	return b.Bytes()
}

// MarshalDNSKEY writes the DNSKEY records of ta's anchors in zone file
// presentation format, one a line, in ta's order, with ttl, preceded by a
// comment naming each anchor's id and validity. It fails if an anchor has
// no public key.
func MarshalDNSKEY(ta *TrustAnchor, ttl uint32) ([]byte, error) {
	var b bytes.Buffer
	for _, a := range ta.Anchors {
		k := a.DNSKEY(ttl)
		if k == nil {
			return nil, fmt.Errorf("%w: anchor %s (key tag %d) has no public key", ErrMissingElement, a.ID, a.KeyTag)
		}
		comment(&b, a)
		b.WriteString(k.String() + "\n")
	}
	return b.Bytes(), nil
}

func comment(b *bytes.Buffer, a Anchor) {
	until := "open-ended"
	if !a.ValidUntil.IsZero() {
		until = "until " + a.ValidUntil.UTC().Format(time.RFC3339)
	}
	id := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, a.ID)
	fmt.Fprintf(b, "; %s key tag %d, valid from %s, %s\n", id, a.KeyTag, a.ValidFrom.UTC().Format(time.RFC3339), until)
}
