package trustanchor

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"

	"github.com/ksk-dev/ksk/internal/strictxml"
)

// Marshal writes ta as an RFC 9718 XML document in the layout of IANA's
// root-anchors.xml: an XML declaration, one element per line, KeyDigests in
// order of validFrom (then key tag), digests in upper-case hex, times as
// 2017-02-02T00:00:00+00:00, and PublicKey and Flags when the anchor has
// them. The output is deterministic.
func Marshal(ta *TrustAnchor) []byte {
	var b bytes.Buffer
	attr := func(v string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(v)) //nolint:errcheck // bytes.Buffer writes never fail
		return e.String()
	}
	leaf := func(name, v string) {
		b.WriteString("<" + name + ">" + attr(v) + "</" + name + ">\n")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<TrustAnchor id="` + attr(ta.ID) + `" source="` + attr(ta.Source) + `">` + "\n")
	leaf("Zone", ta.Zone)
	anchors := slices.Clone(ta.Anchors)
	slices.SortStableFunc(anchors, func(x, y Anchor) int {
		if c := x.ValidFrom.Compare(y.ValidFrom); c != 0 {
			return c
		}
		return int(x.KeyTag) - int(y.KeyTag)
	})
	for _, a := range anchors {
		b.WriteString(`<KeyDigest id="` + attr(a.ID) + `" validFrom="` + strictxml.FormatTime(a.ValidFrom) + `"`)
		if !a.ValidUntil.IsZero() {
			b.WriteString(` validUntil="` + strictxml.FormatTime(a.ValidUntil) + `"`)
		}
		b.WriteString(">\n")
		leaf("KeyTag", strconv.Itoa(int(a.KeyTag)))
		leaf("Algorithm", strconv.Itoa(int(a.Algorithm)))
		leaf("DigestType", strconv.Itoa(int(a.DigestType)))
		leaf("Digest", strings.ToUpper(hex.EncodeToString(a.Digest)))
		if a.PublicKey != nil {
			leaf("PublicKey", base64.StdEncoding.EncodeToString(a.PublicKey))
		}
		if a.Flags != 0 {
			leaf("Flags", strconv.Itoa(int(a.Flags)))
		}
		b.WriteString("</KeyDigest>\n")
	}
	b.WriteString("</TrustAnchor>\n")
	return b.Bytes()
}
