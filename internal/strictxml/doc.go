// Package strictxml reads the small, attribute-light XML formats of DNSSEC
// key management (IANA's KSR/SKR, RFC 9718 trust anchors) strictly: it
// turns encoding/xml's token stream into a tree while enforcing a schema of
// element names, attributes and cardinalities, and reports the first
// violation with its line and element. It also parses the values those
// formats share: UTC timestamps and bounded decimal numbers.
package strictxml
