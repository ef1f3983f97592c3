package trustanchor

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/internal/strictxml"
	"github.com/miekg/dns"
)

// DefaultMaxSize is the largest file read when ParseOptions.MaxSize is 0.
const DefaultMaxSize = 1 << 20

// ParseOptions tunes Parse, ParseDS and Load.
type ParseOptions struct {
	// MaxSize is the largest input in bytes; 0 means DefaultMaxSize.
	MaxSize int64
}

// schema is the RFC 9718 format (RFC 7958 plus optional PublicKey and Flags).
var schema = &strictxml.Schema{
	Root: "TrustAnchor",
	Elements: map[string]*strictxml.Spec{
		"TrustAnchor": {
			Children: []strictxml.Child{{Name: "Zone", Min: 1, Max: 1}, {Name: "KeyDigest", Min: 1, Max: -1}},
			Required: []string{"id", "source"},
		},
		"KeyDigest": {
			Children: []strictxml.Child{
				{Name: "KeyTag", Min: 1, Max: 1}, {Name: "Algorithm", Min: 1, Max: 1},
				{Name: "DigestType", Min: 1, Max: 1}, {Name: "Digest", Min: 1, Max: 1},
				{Name: "PublicKey", Min: 0, Max: 1}, {Name: "Flags", Min: 0, Max: 1},
			},
			Required: []string{"id", "validFrom"},
			Optional: []string{"validUntil"},
		},
	},
}

// readLimited reads all of r, at most limit bytes.
func readLimited(r io.Reader, file string, opts ParseOptions) ([]byte, error) {
	limit := opts.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	data, err := strictxml.ReadLimited(r, file, limit, ErrTooLarge)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Load reads the trust anchors in the file at path: an RFC 9718 XML
// document if its first non-blank character is "<", DS records otherwise.
func Load(path string, opts ParseOptions) (*TrustAnchor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trustanchor: %w", err)
	}
	defer f.Close()
	data, err := readLimited(f, path, opts)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '<' {
		return parseXML(data, path)
	}
	return parseDS(data, path)
}

// ParseFile parses the RFC 9718 XML document in the file at path.
func ParseFile(path string, opts ParseOptions) (*TrustAnchor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trustanchor: %w", err)
	}
	defer f.Close()
	data, err := readLimited(f, path, opts)
	if err != nil {
		return nil, err
	}
	return parseXML(data, path)
}

// Parse parses an RFC 7958/RFC 9718 trust anchor XML document
// (root-anchors.xml) from r.
func Parse(r io.Reader, opts ParseOptions) (*TrustAnchor, error) {
	data, err := readLimited(r, "", opts)
	if err != nil {
		return nil, err
	}
	return parseXML(data, "")
}

func parseXML(data []byte, file string) (*TrustAnchor, error) {
	root, err := strictxml.ReadFile(data, file, schema)
	if err != nil {
		return nil, err
	}
	d := &decoder{strictxml.Decoder{File: file}}
	ta := d.trustAnchor(root)
	if d.Err != nil {
		return nil, d.Err
	}
	return ta, nil
}

type decoder struct {
	strictxml.Decoder
}

func (d *decoder) trustAnchor(n *strictxml.Node) *TrustAnchor {
	zone := n.Child("Zone")
	ta := &TrustAnchor{ID: n.Attrs["id"], Source: n.Attrs["source"], Zone: zone.Text}
	if _, ok := dns.IsDomainName(zone.Text); !ok || zone.Text == "" {
		d.Fail(zone, "%w: %q is not a domain name", ErrBadValue, zone.Text)
	}
	ta.Zone = dns.Fqdn(ta.Zone)
	for _, kd := range n.All("KeyDigest") {
		ta.Anchors = append(ta.Anchors, d.keyDigest(kd, ta.Zone))
	}
	return ta
}

func (d *decoder) keyDigest(n *strictxml.Node, zone string) Anchor {
	a := Anchor{
		ID:         n.Attrs["id"],
		Zone:       zone,
		ValidFrom:  d.time(n, "validFrom"),
		KeyTag:     uint16(d.uint(n.Child("KeyTag"), 16)),
		Algorithm:  uint8(d.uint(n.Child("Algorithm"), 8)),
		DigestType: uint8(d.uint(n.Child("DigestType"), 8)),
		Line:       n.Line,
	}
	if _, ok := n.Attrs["validUntil"]; ok {
		a.ValidUntil = d.time(n, "validUntil")
		if d.Err == nil && !a.ValidUntil.After(a.ValidFrom) {
			d.Fail(n, "%w: validUntil %s is not after validFrom %s", ErrBadValue, strictxml.FormatTime(a.ValidUntil), strictxml.FormatTime(a.ValidFrom))
		}
	}
	if a.ID == "" {
		d.Fail(n, "attribute id: %w: empty", ErrBadValue)
	}
	dg := n.Child("Digest")
	a.Digest = d.hex(dg)
	if d.Err == nil {
		if want := digestLen(a.DigestType); want != 0 && len(a.Digest) != want {
			d.Fail(dg, "%w: %d-byte digest for digest type %d, want %d bytes", ErrBadValue, len(a.Digest), a.DigestType, want)
		}
	}
	if f := n.Child("Flags"); f != nil {
		a.Flags = uint16(d.uint(f, 16))
	}
	if pk := n.Child("PublicKey"); pk != nil {
		a.PublicKey = d.base64(pk)
		d.checkConsistent(n, &a)
	}
	return a
}

// checkConsistent checks that an anchor's own public key gives its key tag
// and digest.
func (d *decoder) checkConsistent(n *strictxml.Node, a *Anchor) {
	if d.Err != nil {
		return
	}
	flags := a.Flags
	if flags == 0 {
		flags = dns.ZONE | dns.SEP
	}
	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: a.Zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags:     flags,
		Protocol:  3,
		Algorithm: a.Algorithm,
		PublicKey: base64.StdEncoding.EncodeToString(a.PublicKey),
	}
	if tag := key.KeyTag(); tag != a.KeyTag {
		d.Fail(n, "%w: <KeyTag> is %d, the public key's is %d", ErrInconsistent, a.KeyTag, tag)
		return
	}
	if ds := key.ToDS(a.DigestType); ds != nil && !strings.EqualFold(ds.Digest, hex.EncodeToString(a.Digest)) {
		d.Fail(n, "%w: <Digest> is not the digest of <PublicKey>", ErrInconsistent)
	}
}

// digestLen returns the digest length of a DS digest type, 0 if unknown.
func digestLen(t uint8) int {
	switch t {
	case dns.SHA1:
		return 20
	case dns.SHA256, dns.GOST94:
		return 32
	case dns.SHA384:
		return 48
	}
	return 0
}

func (d *decoder) time(n *strictxml.Node, attr string) time.Time {
	t, err := strictxml.ParseTime(n.Attrs[attr])
	if err != nil {
		d.Fail(n, "attribute %s: %w", attr, err)
	}
	return t
}

func (d *decoder) uint(n *strictxml.Node, bits int) uint64 {
	v, err := strictxml.ParseUint(n.Text, bits)
	if err != nil {
		d.Fail(n, "%w", err)
	}
	return v
}

func (d *decoder) hex(n *strictxml.Node) []byte {
	s := strings.Join(strings.Fields(n.Text), "")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		d.Fail(n, "%w: not a hex digest", ErrBadValue)
		return nil
	}
	return b
}

func (d *decoder) base64(n *strictxml.Node) []byte {
	s := strings.Join(strings.Fields(n.Text), "")
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 {
		d.Fail(n, "%w: not base64", ErrBadValue)
		return nil
	}
	return b
}
