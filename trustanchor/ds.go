package trustanchor

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/miekg/dns"
)

// ParseDS reads trust anchors from DS records in zone file presentation
// format, as "ksk keys ds" prints them:
//
//	. 86400 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
//
// Relative owner names are relative to the root. Comments, blank lines and
// $TTL/$ORIGIN are allowed; $INCLUDE and records of other types are not,
// and all records must have the same owner. DS anchors have no validity
// period: they are valid at all times.
func ParseDS(r io.Reader, opts ParseOptions) (*TrustAnchor, error) {
	data, err := readLimited(r, "", opts)
	if err != nil {
		return nil, err
	}
	return parseDS(data, "")
}

func parseDS(data []byte, file string) (*TrustAnchor, error) {
	fail := func(line int, format string, args ...any) error {
		return &ParseError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	zp := dns.NewZoneParser(bytes.NewReader(data), ".", file)
	zp.SetIncludeAllowed(false)
	ta := &TrustAnchor{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		// The zone parser does not expose a record's line; count records
		// by the line of their owner's first occurrence instead.
		line := lineOfRecord(data, len(ta.Anchors))
		ds, isDS := rr.(*dns.DS)
		if !isDS {
			return nil, fail(line, "%w: %s record, want DS", ErrBadValue, dns.TypeToString[rr.Header().Rrtype])
		}
		digest, err := hex.DecodeString(ds.Digest)
		if err != nil || len(digest) == 0 {
			return nil, fail(line, "%w: DS digest is not hex", ErrBadValue)
		}
		if want := digestLen(ds.DigestType); want != 0 && len(digest) != want {
			return nil, fail(line, "%w: %d-byte digest for digest type %d, want %d bytes", ErrBadValue, len(digest), ds.DigestType, want)
		}
		owner := dns.CanonicalName(ds.Hdr.Name)
		if ta.Zone == "" {
			ta.Zone = owner
		} else if owner != ta.Zone {
			return nil, fail(line, "%w: DS owner %s differs from %s", ErrBadValue, owner, ta.Zone)
		}
		ta.Anchors = append(ta.Anchors, Anchor{
			Zone: owner, KeyTag: ds.KeyTag, Algorithm: ds.Algorithm, DigestType: ds.DigestType,
			Digest: digest, Line: line,
		})
	}
	if err := zp.Err(); err != nil {
		return nil, fail(0, "%w: %v", ErrSyntax, err)
	}
	if len(ta.Anchors) == 0 {
		return nil, fail(0, "%w: no DS records", ErrMissingElement)
	}
	return ta, nil
}

// lineOfRecord returns the 1-based line of the i-th line that holds a
// record (not blank, not a comment, not a $ directive, not a continuation
// of a parenthesised record), or 0 if it cannot tell.
func lineOfRecord(data []byte, i int) int {
	depth := 0
	n := 0
	for ln, line := range bytes.Split(data, []byte{'\n'}) {
		body := line
		if j := bytes.IndexByte(body, ';'); j >= 0 {
			body = body[:j]
		}
		trimmed := bytes.TrimSpace(body)
		starts := depth == 0 && len(trimmed) > 0 && trimmed[0] != '$'
		depth += bytes.Count(body, []byte{'('}) - bytes.Count(body, []byte{')'})
		if starts {
			if n == i {
				return ln + 1
			}
			n++
		}
	}
	return 0
}
