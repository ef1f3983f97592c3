// Package trustanchor reads DNSSEC trust anchors: IANA's root-anchors.xml
// format of RFC 7958 and RFC 9718 (KeyDigest elements with their validity
// periods, optionally with the public key and flags), and DS records in
// zone file presentation format. Anchor.Matches tells whether a DNSKEY is
// the key an anchor names, by computing its DS record.
//
// Parsing is as strict as package ksr's: unknown or duplicate elements,
// non-UTC times, malformed hex or base64, oversized input and a digest that
// does not match the anchor's own public key are errors that name the line
// and element.
package trustanchor
