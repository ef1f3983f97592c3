package ksr

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/ksk-dev/ksk/internal/strictxml"
	"github.com/miekg/dns"
)

// ErrMarshal is returned by Marshal for a Document it cannot write.
var ErrMarshal = errors.New("cannot marshal document")

// Marshal writes d as XML in the layout of IANA's SKRs: an XML declaration,
// then one element per line without indentation. The output is
// deterministic: keys are sorted by key tag, then public key; signatures by
// key tag, algorithm, then signature data; times are written as
// 2017-01-01T00:00:00+00:00 and durations canonically (P21D, PT0S,
// P1DT2H). Bundles, policy algorithms and signers keep their order.
//
// Marshal does not validate d beyond what the format needs: exactly one of
// Request and Response, and policy algorithms of a known family.
func Marshal(d *Document) ([]byte, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: nil document", ErrMarshal)
	}
	if (d.Request == nil) == (d.Response == nil) {
		return nil, fmt.Errorf("%w: exactly one of Request and Response must be set", ErrMarshal)
	}
	w := &xmlWriter{}
	w.line(`<?xml version="1.0" encoding="UTF-8"?>`)
	attrs := []string{"id", d.ID, "domain", dns.Fqdn(d.Domain), "serial", strconv.FormatUint(uint64(d.Serial), 10)}
	if !d.Timestamp.IsZero() {
		attrs = append(attrs, "timestamp", strictxml.FormatTime(d.Timestamp))
	}
	w.open("KSR", attrs...)
	if d.Request != nil {
		w.open("Request")
		w.open("RequestPolicy")
		w.policy("ZSK", &d.Request.ZSKPolicy)
		w.close("RequestPolicy")
		for i := range d.Request.Bundles {
			w.bundle("RequestBundle", &d.Request.Bundles[i], true)
		}
		w.close("Request")
	} else {
		w.open("Response")
		w.open("ResponsePolicy")
		w.policy("KSK", &d.Response.KSKPolicy)
		w.policy("ZSK", &d.Response.ZSKPolicy)
		w.close("ResponsePolicy")
		for i := range d.Response.Bundles {
			w.bundle("ResponseBundle", &d.Response.Bundles[i], false)
		}
		w.close("Response")
	}
	w.close("KSR")
	if w.err != nil {
		return nil, w.err
	}
	return w.buf.Bytes(), nil
}

// SortKeys sorts keys in Marshal's order: by key tag, then public key.
func SortKeys(keys []Key) {
	slices.SortStableFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.KeyTag, b.KeyTag), bytes.Compare(a.PublicKey, b.PublicKey))
	})
}

// SortSignatures sorts signatures in Marshal's order: by key tag, then
// algorithm, then signature data.
func SortSignatures(sigs []Signature) {
	slices.SortStableFunc(sigs, func(a, b Signature) int {
		return cmp.Or(cmp.Compare(a.KeyTag, b.KeyTag), cmp.Compare(a.Algorithm, b.Algorithm), bytes.Compare(a.Data, b.Data))
	})
}

// xmlWriter writes one element per line.
type xmlWriter struct {
	buf bytes.Buffer
	err error
}

func (w *xmlWriter) line(s string) {
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
}

func (w *xmlWriter) tag(name string, attrs []string, end string) {
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.buf.WriteByte(' ')
		w.buf.WriteString(attrs[i])
		w.buf.WriteString(`="`)
		xml.EscapeText(&w.buf, []byte(attrs[i+1])) //nolint:errcheck // bytes.Buffer writes never fail
		w.buf.WriteByte('"')
	}
	w.buf.WriteString(end)
	w.buf.WriteByte('\n')
}

func (w *xmlWriter) open(name string, attrs ...string)  { w.tag(name, attrs, ">") }
func (w *xmlWriter) empty(name string, attrs ...string) { w.tag(name, attrs, "/>") }
func (w *xmlWriter) close(name string)                  { w.line("</" + name + ">") }

func (w *xmlWriter) leaf(name, text string) {
	w.buf.WriteString("<" + name + ">")
	xml.EscapeText(&w.buf, []byte(text)) //nolint:errcheck // bytes.Buffer writes never fail
	w.buf.WriteString("</" + name + ">\n")
}

func (w *xmlWriter) uint(name string, v uint64) { w.leaf(name, strconv.FormatUint(v, 10)) }

func (w *xmlWriter) policy(name string, p *SignaturePolicy) {
	w.open(name)
	w.leaf("PublishSafety", formatDuration(p.PublishSafety))
	w.leaf("RetireSafety", formatDuration(p.RetireSafety))
	w.leaf("MaxSignatureValidity", formatDuration(p.MaxSignatureValidity))
	w.leaf("MinSignatureValidity", formatDuration(p.MinSignatureValidity))
	w.leaf("MaxValidityOverlap", formatDuration(p.MaxValidityOverlap))
	w.leaf("MinValidityOverlap", formatDuration(p.MinValidityOverlap))
	for _, a := range p.Algorithms {
		w.open("SignatureAlgorithm", "algorithm", strconv.Itoa(int(a.Algorithm)))
		size := strconv.Itoa(a.Size)
		switch fam := algorithmFamily(a.Algorithm); fam {
		case familyRSA:
			w.empty(fam, "size", size, "exponent", strconv.Itoa(a.Exponent))
		case familyECDSA, familyEdDSA:
			w.empty(fam, "size", size)
		default:
			if w.err == nil {
				w.err = fmt.Errorf("%w: <%s> policy: algorithm %d has no key parameter element", ErrMarshal, name, a.Algorithm)
			}
		}
		w.close("SignatureAlgorithm")
	}
	w.close(name)
}

func (w *xmlWriter) bundle(name string, b *Bundle, request bool) {
	if !request && len(b.Signers) > 0 && w.err == nil {
		w.err = fmt.Errorf("%w: bundle %s: <Signer> only occurs in a request bundle", ErrMarshal, b.ID)
	}
	w.open(name, "id", b.ID)
	w.leaf("Inception", strictxml.FormatTime(b.Inception))
	w.leaf("Expiration", strictxml.FormatTime(b.Expiration))
	keys := slices.Clone(b.Keys)
	SortKeys(keys)
	for i := range keys {
		k := &keys[i]
		w.open("Key", "keyIdentifier", k.Identifier, "keyTag", strconv.Itoa(int(k.KeyTag)))
		w.uint("TTL", uint64(k.TTL))
		w.uint("Flags", uint64(k.Flags))
		w.uint("Protocol", uint64(k.Protocol))
		w.uint("Algorithm", uint64(k.Algorithm))
		w.leaf("PublicKey", toBase64(k.PublicKey))
		w.close("Key")
	}
	sigs := slices.Clone(b.Signatures)
	SortSignatures(sigs)
	for i := range sigs {
		s := &sigs[i]
		w.open("Signature", "keyIdentifier", s.Identifier)
		w.uint("TTL", uint64(s.TTL))
		w.leaf("TypeCovered", typeString(s.TypeCovered))
		w.uint("Algorithm", uint64(s.Algorithm))
		w.uint("Labels", uint64(s.Labels))
		w.uint("OriginalTTL", uint64(s.OriginalTTL))
		w.leaf("SignatureExpiration", strictxml.FormatTime(s.Expiration))
		w.leaf("SignatureInception", strictxml.FormatTime(s.Inception))
		w.uint("KeyTag", uint64(s.KeyTag))
		w.leaf("SignersName", dns.Fqdn(s.SignersName))
		w.leaf("SignatureData", toBase64(s.Data))
		w.close("Signature")
	}
	if request {
		for _, id := range b.Signers {
			w.empty("Signer", "keyIdentifier", id)
		}
	}
	w.close(name)
}

// typeString returns the mnemonic of an RR type, or TYPEnnn (RFC 3597).
func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}
