package trustanchor

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// Files returns the three files that publish ta: the RFC 9718 XML, and the
// DS and DNSKEY records in presentation format with the given TTL, after
// checking that the XML parses back to anchors that match their DNSKEYs.
func Files(ta *TrustAnchor, ttl uint32) (xml, ds, dnskey []byte, err error) {
	xmlData := Marshal(ta)
	back, err := Parse(bytes.NewReader(xmlData), ParseOptions{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("the trust anchor file does not parse back: %w", err)
	}
	if len(back.Anchors) != len(ta.Anchors) {
		return nil, nil, nil, fmt.Errorf("the trust anchor file parses back to %d anchors, not %d", len(back.Anchors), len(ta.Anchors))
	}
	for _, an := range back.Anchors {
		if !an.Matches(an.DNSKEY(ttl)) {
			return nil, nil, nil, fmt.Errorf("KeyDigest %s does not match its own DNSKEY", an.ID)
		}
	}
	keys, err := MarshalDNSKEY(back, ttl)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("DNSKEY records: %w", err)
	}
	return xmlData, MarshalDS(back, ttl), keys, nil
}

// FilePaths returns where the files of a trust anchor written to out go:
// out itself, and beside it out with its extension, if any, replaced by
// .ds and .dnskey.
func FilePaths(out string) (xml, ds, dnskey string) {
	base := strings.TrimSuffix(out, filepath.Ext(out))
	if base == "" || strings.HasSuffix(base, string(filepath.Separator)) {
		base = out
	}
	return out, base + ".ds", base + ".dnskey"
}

// NewID returns a random (version 4) UUID in upper case, like the ids of
// IANA's root-anchors.xml.
func NewID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("random UUID: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(u[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
