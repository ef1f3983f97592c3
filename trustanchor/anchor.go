package trustanchor

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TrustAnchor is a set of trust anchors for one zone: a <TrustAnchor>
// document, or the DS records of a DS file.
type TrustAnchor struct {
	ID      string   // the TrustAnchor id attribute; "" for a DS file
	Source  string   // the TrustAnchor source attribute; "" for a DS file
	Zone    string   // the zone, fully qualified ("." for the root)
	Anchors []Anchor // KeyDigests or DS records, in document order
}

// Anchor is one <KeyDigest> or DS record: the digest of a KSK and the
// period in which it is a trust anchor.
type Anchor struct {
	ID         string    // KeyDigest id attribute (for the root, e.g. "Kjqmt7v"); "" from a DS file
	Zone       string    // owner of the DNSKEY, fully qualified
	ValidFrom  time.Time // validFrom; zero (no lower bound) from a DS file
	ValidUntil time.Time // validUntil; zero when open-ended
	KeyTag     uint16
	Algorithm  uint8
	DigestType uint8
	Digest     []byte // the DS digest
	PublicKey  []byte // RFC 9718 <PublicKey>, decoded; nil when absent
	Flags      uint16 // RFC 9718 <Flags>; 0 when absent
	Line       int    // line of the KeyDigest element or DS record, 0 if built
}

// ValidAt reports whether t lies in the anchor's validity period:
// ValidFrom <= t, and t < ValidUntil unless ValidUntil is zero.
func (a Anchor) ValidAt(t time.Time) bool {
	if !a.ValidFrom.IsZero() && t.Before(a.ValidFrom) {
		return false
	}
	return a.ValidUntil.IsZero() || t.Before(a.ValidUntil)
}

// DS returns the anchor as a DS record.
func (a Anchor) DS() *dns.DS {
	return &dns.DS{
		Hdr:        dns.RR_Header{Name: dns.Fqdn(a.Zone), Rrtype: dns.TypeDS, Class: dns.ClassINET},
		KeyTag:     a.KeyTag,
		Algorithm:  a.Algorithm,
		DigestType: a.DigestType,
		Digest:     strings.ToUpper(hex.EncodeToString(a.Digest)),
	}
}

// Matches reports whether key is the key the anchor names: same owner,
// algorithm and key tag, and a DS digest (computed with miekg/dns ToDS and
// the anchor's digest type) equal to the anchor's. When the anchor carries
// a public key or flags (RFC 9718), they must be equal too. A revoked key
// has another key tag and digest, so it never matches its unrevoked
// anchor.
func (a Anchor) Matches(key *dns.DNSKEY) bool {
	if key == nil || key.Algorithm != a.Algorithm || key.KeyTag() != a.KeyTag ||
		!strings.EqualFold(dns.CanonicalName(key.Hdr.Name), dns.CanonicalName(a.Zone)) {
		return false
	}
	if a.Flags != 0 && key.Flags != a.Flags {
		return false
	}
	if a.PublicKey != nil {
		pk, err := base64.StdEncoding.DecodeString(key.PublicKey)
		if err != nil || !bytes.Equal(pk, a.PublicKey) {
			return false
		}
	}
	ds := key.ToDS(a.DigestType)
	if ds == nil {
		return false
	}
	d, err := hex.DecodeString(ds.Digest)
	return err == nil && bytes.Equal(d, a.Digest)
}

// Match returns the anchors that match key and are valid at t.
func (ta *TrustAnchor) Match(key *dns.DNSKEY, t time.Time) []*Anchor {
	var out []*Anchor
	for i := range ta.Anchors {
		if a := &ta.Anchors[i]; a.Matches(key) && a.ValidAt(t) {
			out = append(out, a)
		}
	}
	return out
}
