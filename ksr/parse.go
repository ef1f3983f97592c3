package ksr

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/internal/strictxml"
	"github.com/miekg/dns"
)

// DefaultMaxSize is the largest document Parse reads when ParseOptions.MaxSize
// is 0: 1 MiB, the limit of IANA's kskm.
const DefaultMaxSize = 1 << 20

// ParseOptions tunes Parse.
type ParseOptions struct {
	// MaxSize is the largest input in bytes; 0 means DefaultMaxSize. Parse
	// stops reading at the limit and returns ErrTooLarge.
	MaxSize int64
}

func (o ParseOptions) maxSize() int64 {
	if o.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return o.MaxSize
}

// ParseFile parses the KSR or SKR in the file at path. Errors name the file.
func ParseFile(path string, opts ParseOptions) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ksr: %w", err)
	}
	defer f.Close()
	return parse(f, path, opts)
}

// Parse reads a KSR (a <KSR> holding a <Request>) or an SKR (a <KSR> holding
// a <Response>) from r. It reads at most opts.MaxSize bytes.
//
// Parsing is strict. Every rejected input gives a *ParseError naming the
// line and element, whose Err matches ErrTooLarge or ErrMalformed and one of
// the more specific sentinels (ErrUnknownElement, ErrNotUTC, ...) with
// errors.Is. A read error from r is returned wrapped, as is.
func Parse(r io.Reader, opts ParseOptions) (*Document, error) {
	return parse(r, "", opts)
}

func parse(r io.Reader, file string, opts ParseOptions) (*Document, error) {
	limit := opts.maxSize()
	data, err := strictxml.ReadLimited(r, file, limit, ErrTooLarge)
	if err != nil {
		return nil, err
	}
	root, err := strictxml.ReadFile(data, file, schema)
	if err != nil {
		return nil, err
	}
	d := &decoder{strictxml.Decoder{File: file}}
	doc := d.document(root)
	if d.Err != nil {
		return nil, d.Err
	}
	return doc, nil
}

// decoder turns a schema-checked tree into a Document. It records the first
// error and ignores the rest.
type decoder struct {
	strictxml.Decoder
}

func (d *decoder) document(n *strictxml.Node) *Document {
	doc := &Document{
		ID:     d.identifier(n, "id"),
		Domain: d.domainName(n, n.Attrs["domain"], "attribute domain"),
		Serial: uint32(d.attrUint(n, "serial", 32)),
	}
	if ts, ok := n.Attrs["timestamp"]; ok {
		t, err := strictxml.ParseTime(ts)
		if err != nil {
			d.Fail(n, "attribute timestamp: %w", err)
		}
		doc.Timestamp = t
	}
	req, resp := n.Child("Request"), n.Child("Response")
	switch {
	case req != nil && resp != nil:
		d.Fail(resp, "%w: a <KSR> holds a <Request> or a <Response>, not both", ErrDuplicateElement)
	case req != nil:
		doc.Request = &Request{
			ZSKPolicy: d.policy(req.Child("RequestPolicy").Child("ZSK")),
		}
		for _, b := range req.All("RequestBundle") {
			doc.Request.Bundles = append(doc.Request.Bundles, d.bundle(b))
		}
	case resp != nil:
		pol := resp.Child("ResponsePolicy")
		doc.Response = &Response{
			KSKPolicy: d.policy(pol.Child("KSK")),
			ZSKPolicy: d.policy(pol.Child("ZSK")),
		}
		for _, b := range resp.All("ResponseBundle") {
			doc.Response.Bundles = append(doc.Response.Bundles, d.bundle(b))
		}
	default:
		d.Fail(n, "%w: <KSR> lacks <Request> or <Response>", ErrMissingElement)
	}
	return doc
}

func (d *decoder) policy(n *strictxml.Node) SignaturePolicy {
	p := SignaturePolicy{
		PublishSafety:        d.duration(n.Child("PublishSafety")),
		RetireSafety:         d.duration(n.Child("RetireSafety")),
		MaxSignatureValidity: d.duration(n.Child("MaxSignatureValidity")),
		MinSignatureValidity: d.duration(n.Child("MinSignatureValidity")),
		MaxValidityOverlap:   d.duration(n.Child("MaxValidityOverlap")),
		MinValidityOverlap:   d.duration(n.Child("MinValidityOverlap")),
	}
	for _, a := range n.All("SignatureAlgorithm") {
		p.Algorithms = append(p.Algorithms, d.algorithm(a))
	}
	return p
}

// algorithmFamily returns the policy element name for a DNSSEC algorithm,
// or "" if the format has none.
func algorithmFamily(alg uint8) string {
	switch alg {
	case dns.RSAMD5, dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		return familyRSA
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		return familyECDSA
	case dns.ED25519, dns.ED448:
		return familyEdDSA
	}
	return ""
}

func (d *decoder) algorithm(n *strictxml.Node) AlgorithmPolicy {
	ap := AlgorithmPolicy{Algorithm: uint8(d.attrUint(n, "algorithm", 8))}
	if d.Err != nil {
		return ap
	}
	fam := algorithmFamily(ap.Algorithm)
	if fam == "" {
		d.Fail(n, "%w: algorithm %d has no key parameters in this format (RSA, ECDSA or EdDSA)", ErrBadValue, ap.Algorithm)
		return ap
	}
	if len(n.Children) != 1 || n.Children[0].Name != fam {
		d.Fail(n, "%w: algorithm %d needs exactly one <%s> element", ErrMissingElement, ap.Algorithm, fam)
		return ap
	}
	c := n.Children[0]
	ap.Size = int(d.attrUintRange(c, "size", 1, 65535))
	if fam == familyRSA {
		ap.Exponent = int(d.attrUintRange(c, "exponent", 1, 1<<32-1))
	}
	return ap
}

func (d *decoder) bundle(n *strictxml.Node) Bundle {
	b := Bundle{
		ID:         d.identifier(n, "id"),
		Inception:  d.time(n.Child("Inception")),
		Expiration: d.time(n.Child("Expiration")),
		Line:       n.Line,
	}
	for _, c := range n.Children {
		switch c.Name {
		case "Key":
			b.Keys = append(b.Keys, d.key(c))
		case "Signature":
			b.Signatures = append(b.Signatures, d.signature(c))
		case "Signer":
			b.Signers = append(b.Signers, d.identifier(c, "keyIdentifier"))
		}
	}
	return b
}

func (d *decoder) key(n *strictxml.Node) Key {
	return Key{
		Identifier: d.identifier(n, "keyIdentifier"),
		KeyTag:     uint16(d.attrUint(n, "keyTag", 16)),
		TTL:        uint32(d.uint(n.Child("TTL"), 32)),
		Flags:      uint16(d.uint(n.Child("Flags"), 16)),
		Protocol:   uint8(d.uint(n.Child("Protocol"), 8)),
		Algorithm:  uint8(d.uint(n.Child("Algorithm"), 8)),
		PublicKey:  d.base64(n.Child("PublicKey")),
		Line:       n.Line,
	}
}

func (d *decoder) signature(n *strictxml.Node) Signature {
	name := n.Child("SignersName")
	return Signature{
		Identifier:  d.identifier(n, "keyIdentifier"),
		TTL:         uint32(d.uint(n.Child("TTL"), 32)),
		TypeCovered: d.rrtype(n.Child("TypeCovered")),
		Algorithm:   uint8(d.uint(n.Child("Algorithm"), 8)),
		Labels:      uint8(d.uint(n.Child("Labels"), 8)),
		OriginalTTL: uint32(d.uint(n.Child("OriginalTTL"), 32)),
		Expiration:  d.rrsigTime(n.Child("SignatureExpiration")),
		Inception:   d.rrsigTime(n.Child("SignatureInception")),
		KeyTag:      uint16(d.uint(n.Child("KeyTag"), 16)),
		SignersName: d.domainName(name, name.Text, ""),
		Data:        d.base64(n.Child("SignatureData")),
		Line:        n.Line,
	}
}

// identifier returns a non-empty attribute value without surrounding space.
func (d *decoder) identifier(n *strictxml.Node, attr string) string {
	v := n.Attrs[attr]
	if v == "" || strings.TrimSpace(v) != v {
		d.Fail(n, "attribute %s: %w: %q must be non-empty, without surrounding space", attr, ErrBadValue, v)
	}
	return v
}

func (d *decoder) domainName(n *strictxml.Node, v, what string) string {
	if _, ok := dns.IsDomainName(v); !ok || v == "" || strings.TrimSpace(v) != v {
		if what != "" {
			d.Fail(n, "%s: %w: %q is not a domain name", what, ErrBadValue, v)
		} else {
			d.Fail(n, "%w: %q is not a domain name", ErrBadValue, v)
		}
		return v
	}
	return dns.Fqdn(v)
}

func (d *decoder) attrUint(n *strictxml.Node, attr string, bits int) uint64 {
	v, err := strictxml.ParseUint(n.Attrs[attr], bits)
	if err != nil {
		d.Fail(n, "attribute %s: %w", attr, err)
	}
	return v
}

func (d *decoder) attrUintRange(n *strictxml.Node, attr string, lo, hi uint64) uint64 {
	v := d.attrUint(n, attr, 64)
	if d.Err == nil && (v < lo || v > hi) {
		d.Fail(n, "attribute %s: %w: %d not in [%d, %d]", attr, ErrRange, v, lo, hi)
	}
	return v
}

func (d *decoder) uint(n *strictxml.Node, bits int) uint64 {
	v, err := strictxml.ParseUint(n.Text, bits)
	if err != nil {
		d.Fail(n, "%w", err)
	}
	return v
}

func (d *decoder) time(n *strictxml.Node) time.Time {
	t, err := strictxml.ParseTime(n.Text)
	if err != nil {
		d.Fail(n, "%w", err)
	}
	return t
}

// rrsigTime parses a timestamp that must fit an RRSIG's 32-bit field
// (RFC 4034 §3.1.5); dates after 2106 would wrap.
func (d *decoder) rrsigTime(n *strictxml.Node) time.Time {
	t := d.time(n)
	if d.Err == nil && (t.Unix() < 0 || t.Unix() > 1<<32-1) {
		d.Fail(n, "%w: %s does not fit an RRSIG's 32-bit time", ErrRange, n.Text)
	}
	return t
}

func (d *decoder) duration(n *strictxml.Node) time.Duration {
	v, err := parseDuration(n.Text)
	if err != nil {
		d.Fail(n, "%w", err)
	}
	return v
}

func (d *decoder) rrtype(n *strictxml.Node) uint16 {
	s := n.Text
	if t, ok := dns.StringToType[strings.ToUpper(s)]; ok {
		return t
	}
	if num, ok := strings.CutPrefix(strings.ToUpper(s), "TYPE"); ok {
		if v, err := strictxml.ParseUint(num, 16); err == nil {
			return uint16(v)
		}
	}
	if v, err := strictxml.ParseUint(s, 16); err == nil {
		return uint16(v)
	}
	d.Fail(n, "%w: %q is not an RR type", ErrBadValue, abbrev(s))
	return 0
}

// base64 decodes padded, canonical standard base64; white space inside the
// value (line breaks of a wrapped key) is ignored.
func (d *decoder) base64(n *strictxml.Node) []byte {
	s := strings.Join(strings.Fields(n.Text), "")
	if s == "" {
		d.Fail(n, "%w: empty", ErrBadBase64)
		return nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		d.Fail(n, "%w: %v", ErrBadBase64, err)
		return nil
	}
	return b
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
