package attest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The canonical encoding. Every line of the log is the RFC 8785 (JSON
// Canonicalization Scheme) serialization of its entry: object members sorted
// by name, no white space, strings escaped only where JSON requires it (", \
// and control characters, with the short forms \b \t \n \f \r and \u00xx
// otherwise), integers in plain decimal. Because the entry has no floating
// point numbers and its member names are ASCII, appendEntry below produces
// exactly that form without a general-purpose canonicalizer, and decodeEntry
// accepts a line only if re-encoding its entry gives back the same bytes.
// The hash is therefore over the exact line bytes, which a reviewer can
// recompute with sha256sum.

// EntryDomain is the domain-separation prefix of an entry hash:
// hash = SHA-256(EntryDomain || line || "\n").
const EntryDomain = "ksk-attestation-log-v1\n"

const zeroHex = "0000000000000000000000000000000000000000000000000000000000000000"

// validDetailKey reports whether k is an allowed details key: 1 to 64
// characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit.
func validDetailKey(k string) bool {
	if len(k) == 0 || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validate checks the structure of e that the encoding relies on.
func (e *Entry) validate() error {
	if e.Seq < 0 {
		return fmt.Errorf("negative sequence number %d", e.Seq)
	}
	switch e.Type {
	case TypeOpen, TypeStep, TypeSeal, TypeWitness:
	default:
		return fmt.Errorf("unknown entry type %q", e.Type)
	}
	if (e.Type == TypeSeal) != (e.Seal != nil) {
		return fmt.Errorf("entry of type %q must %shave a seal", e.Type, map[bool]string{true: "", false: "not "}[e.Type == TypeSeal])
	}
	if (e.Type == TypeWitness) != (e.Witness != nil) {
		return fmt.Errorf("entry of type %q must %shave a witness signature", e.Type, map[bool]string{true: "", false: "not "}[e.Type == TypeWitness])
	}
	for _, s := range []string{e.Step, e.Actor} {
		if !utf8.ValidString(s) {
			return errors.New("step or actor is not valid UTF-8")
		}
	}
	for k, v := range e.Details {
		if !validDetailKey(k) {
			return fmt.Errorf("details key %q: want 1-64 of a-z 0-9 _ . - starting with a letter or digit", k)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("details %q: value is not valid UTF-8", k)
		}
	}
	for _, f := range e.Files {
		if f.Role != Read && f.Role != Written {
			return fmt.Errorf("file %q: role %q is neither %q nor %q", f.Path, f.Role, Read, Written)
		}
		if f.Path == "" || !utf8.ValidString(f.Path) {
			return fmt.Errorf("file path %q is empty or not valid UTF-8", f.Path)
		}
	}
	if w := e.Witness; w != nil {
		for _, s := range []string{w.Name, w.KeyFingerprint, w.PublicKey, w.Signature} {
			if !utf8.ValidString(s) {
				return errors.New("witness field is not valid UTF-8")
			}
		}
	}
	if s := e.Seal; s != nil && !utf8.ValidString(s.Alg) {
		return errors.New("seal algorithm is not valid UTF-8")
	}
	return nil
}

// appendEntry appends the canonical encoding of e, without newline, to b.
func appendEntry(b []byte, e *Entry) ([]byte, error) {
	if err := e.validate(); err != nil {
		return b, err
	}
	b = append(b, `{"actor":`...)
	b = appendString(b, e.Actor)
	b = append(b, `,"details":{`...)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys) // ASCII keys: byte order is RFC 8785's UTF-16 order
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, e.Details[k])
	}
	b = append(b, `},"files":[`...)
	for i, f := range e.Files {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"path":`...)
		b = appendString(b, f.Path)
		b = append(b, `,"role":`...)
		b = appendString(b, string(f.Role))
		b = append(b, `,"sha256":"`...)
		b = hex.AppendEncode(b, f.SHA256[:])
		b = append(b, `"}`...)
	}
	b = append(b, `],"prev":"`...)
	b = hex.AppendEncode(b, e.Prev[:])
	b = append(b, '"')
	if s := e.Seal; s != nil {
		b = append(b, `,"seal":{"alg":`...)
		b = appendString(b, s.Alg)
		b = append(b, `,"head":"`...)
		b = hex.AppendEncode(b, s.Head[:])
		b = append(b, `","key_fingerprint":"`...)
		b = hex.AppendEncode(b, s.KeyFingerprint[:])
		b = append(b, `","public_key":"`...)
		b = base64.StdEncoding.AppendEncode(b, s.PublicKey)
		b = append(b, `","signature":"`...)
		b = base64.StdEncoding.AppendEncode(b, s.Signature)
		b = append(b, `"}`...)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"step":`...)
	b = appendString(b, e.Step)
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, TimeLayout)
	b = append(b, `","type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, FormatVersion, 10)
	if w := e.Witness; w != nil {
		b = append(b, `,"witness":{"head":"`...)
		b = hex.AppendEncode(b, w.Head[:])
		b = append(b, `","key_fingerprint":`...)
		b = appendString(b, w.KeyFingerprint)
		b = append(b, `,"name":`...)
		b = appendString(b, w.Name)
		b = append(b, `,"public_key":`...)
		b = appendString(b, w.PublicKey)
		b = append(b, `,"signature":`...)
		b = appendString(b, w.Signature)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendString appends s as an RFC 8785 JSON string. s must be valid UTF-8.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// parser reads the canonical form strictly: members in the fixed order,
// no white space, only the escapes RFC 8785 produces, sorted unique details
// keys, lower-case hex, strict base64, fixed-width time. Anything else is an
// error, so a line that parses and validates is canonical: FuzzVerify checks
// that such a line always re-encodes to itself, and ParseLine re-encodes
// and compares as well.
type parser struct {
	b   []byte
	i   int
	err error
}

func (p *parser) failf(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("byte %d: %s", p.i+1, fmt.Sprintf(format, args...))
	}
}

// lit consumes s or fails.
func (p *parser) lit(s string) {
	if p.err != nil {
		return
	}
	if !bytes.HasPrefix(p.b[p.i:], []byte(s)) {
		p.failf("want %s", s)
		return
	}
	p.i += len(s)
}

// peek reports whether s comes next (without consuming it).
func (p *parser) peek(s string) bool {
	return p.err == nil && bytes.HasPrefix(p.b[p.i:], []byte(s))
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// str reads a canonical JSON string.
func (p *parser) str() string {
	if p.err != nil {
		return ""
	}
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		p.failf("want a string")
		return ""
	}
	p.i++
	start := p.i
	var out []byte // nil until an escape is seen
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			var s string
			if out == nil {
				s = string(p.b[start:p.i])
			} else {
				s = string(append(out, p.b[start:p.i]...))
			}
			p.i++
			if !utf8.ValidString(s) {
				p.failf("string is not valid UTF-8")
			}
			return s
		case c < 0x20:
			p.failf("unescaped control character")
			return ""
		case c == '\\':
			if p.i+1 >= len(p.b) {
				p.failf("bad escape")
				return ""
			}
			out = append(out, p.b[start:p.i]...)
			var r byte
			n := 2
			switch p.b[p.i+1] {
			case '"':
				r = '"'
			case '\\':
				r = '\\'
			case 'b':
				r = '\b'
			case 't':
				r = '\t'
			case 'n':
				r = '\n'
			case 'f':
				r = '\f'
			case 'r':
				r = '\r'
			case 'u':
				// Only \u00xx for a control character without a short form.
				if p.i+6 > len(p.b) || p.b[p.i+2] != '0' || p.b[p.i+3] != '0' {
					p.failf("non-canonical \\u escape")
					return ""
				}
				hi, ok1 := unhex(p.b[p.i+4])
				lo, ok2 := unhex(p.b[p.i+5])
				r = hi<<4 | lo
				if !ok1 || !ok2 || hi > 1 || r == '\b' || r == '\t' || r == '\n' || r == '\f' || r == '\r' {
					p.failf("non-canonical \\u escape")
					return ""
				}
				n = 6
			default:
				p.failf("non-canonical escape")
				return ""
			}
			out = append(out, r)
			p.i += n
			start = p.i
		default:
			p.i++
		}
	}
	p.failf("unterminated string")
	return ""
}

// hash reads a 64-digit lower-case hex string into h.
func (p *parser) hash(h *Hash) {
	if p.err != nil {
		return
	}
	if p.i+66 > len(p.b) || p.b[p.i] != '"' || p.b[p.i+65] != '"' {
		p.failf("want 64 hex digits in quotes")
		return
	}
	src := p.b[p.i+1 : p.i+65]
	for j := range h {
		hi, ok1 := unhex(src[2*j])
		lo, ok2 := unhex(src[2*j+1])
		if !ok1 || !ok2 {
			p.failf("want 64 lower-case hex digits")
			return
		}
		h[j] = hi<<4 | lo
	}
	p.i += 66
}

// int reads a non-negative decimal integer without leading zeros.
func (p *parser) int() int64 {
	if p.err != nil {
		return 0
	}
	start := p.i
	var n int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		if p.i-start >= 18 {
			p.failf("number too long")
			return 0
		}
		n = n*10 + int64(p.b[p.i]-'0')
		p.i++
	}
	if p.i == start || (p.b[start] == '0' && p.i-start > 1) {
		p.failf("want a canonical non-negative integer")
	}
	return n
}

// time reads a time in TimeLayout: "YYYY-MM-DDThh:mm:ss.mmmZ", exactly.
func (p *parser) time() time.Time {
	if p.err != nil {
		return time.Time{}
	}
	const n = len(`"` + TimeLayout + `"`)
	if p.i+n > len(p.b) {
		p.failf("want a time %s", TimeLayout)
		return time.Time{}
	}
	s := p.b[p.i : p.i+n]
	num := func(from, to int) int {
		v := 0
		for _, c := range s[from:to] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(1, 5), num(6, 8), num(9, 11)
	hour, minute, sec, milli := num(12, 14), num(15, 17), num(18, 20), num(21, 24)
	if s[0] != '"' || s[5] != '-' || s[8] != '-' || s[11] != 'T' || s[14] != ':' || s[17] != ':' || s[20] != '.' || s[24] != 'Z' || s[25] != '"' ||
		year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || milli < 0 {
		p.failf("want a time %s", TimeLayout)
		return time.Time{}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, milli*int(time.Millisecond), time.UTC)
	if t.Day() != day { // 31 April and the like
		p.failf("no such date")
		return time.Time{}
	}
	p.i += n
	return t
}

func (p *parser) base64() []byte {
	s := p.str()
	if p.err != nil {
		return nil
	}
	if strings.ContainsAny(s, "\r\n") { // the decoder would skip them
		p.failf("base64 with line breaks")
		return nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		p.failf("base64: %v", err)
	}
	return b
}

// decodeEntry parses one line (without its newline) into e and checks that
// the line is the canonical encoding of e. scratch is reused for the
// re-encoding and returned.
//
// To keep Verify free of per-entry allocations where it can, decodeEntry
// reuses e.Details and e.Files: an Entry passed to VerifyOptions.OnEntry is
// valid only during the call.
//
// With reencode, decodeEntry also re-encodes e and compares it with line.
func decodeEntry(line []byte, e *Entry, scratch []byte, reencode bool) ([]byte, error) {
	details, files := e.Details, e.Files[:0]
	clear(details)
	*e = Entry{Details: details, Files: files}
	p := &parser{b: line}
	p.lit(`{"actor":`)
	e.Actor = p.str()
	p.lit(`,"details":{`)
	last := ""
	for p.err == nil && !p.peek("}") {
		if e.Details == nil {
			e.Details = make(map[string]string, 4)
		}
		if len(e.Details) > 0 {
			p.lit(",")
		}
		k := p.str()
		if p.err == nil && len(e.Details) > 0 && k <= last {
			p.failf("details keys not in order or repeated at %q", k)
		}
		last = k
		p.lit(":")
		e.Details[k] = p.str()
	}
	p.lit(`},"files":[`)
	for p.err == nil && !p.peek("]") {
		if len(e.Files) > 0 {
			p.lit(",")
		}
		var f FileRef
		p.lit(`{"path":`)
		f.Path = p.str()
		p.lit(`,"role":`)
		f.Role = Role(p.str())
		p.lit(`,"sha256":`)
		p.hash(&f.SHA256)
		p.lit(`}`)
		e.Files = append(e.Files, f)
	}
	p.lit(`],"prev":`)
	p.hash(&e.Prev)
	if p.peek(`,"seal":`) {
		s := &Seal{}
		p.lit(`,"seal":{"alg":`)
		s.Alg = p.str()
		p.lit(`,"head":`)
		p.hash(&s.Head)
		p.lit(`,"key_fingerprint":`)
		p.hash(&s.KeyFingerprint)
		p.lit(`,"public_key":`)
		s.PublicKey = p.base64()
		p.lit(`,"signature":`)
		s.Signature = p.base64()
		p.lit(`}`)
		e.Seal = s
	}
	p.lit(`,"seq":`)
	e.Seq = p.int()
	p.lit(`,"step":`)
	e.Step = p.str()
	p.lit(`,"time":`)
	e.Time = p.time()
	p.lit(`,"type":`)
	e.Type = p.str()
	p.lit(`,"v":`)
	if v := p.int(); p.err == nil && v != FormatVersion {
		p.failf("format version %d, want %d", v, FormatVersion)
	}
	if p.peek(`,"witness":`) {
		w := &Witness{}
		p.lit(`,"witness":{"head":`)
		p.hash(&w.Head)
		p.lit(`,"key_fingerprint":`)
		w.KeyFingerprint = p.str()
		p.lit(`,"name":`)
		w.Name = p.str()
		p.lit(`,"public_key":`)
		w.PublicKey = p.str()
		p.lit(`,"signature":`)
		w.Signature = p.str()
		p.lit(`}`)
		e.Witness = w
	}
	p.lit(`}`)
	if p.err == nil && p.i != len(line) {
		p.failf("trailing data")
	}
	if p.err != nil {
		if !json.Valid(line) {
			return scratch, fmt.Errorf("not JSON (%w)", p.err)
		}
		return scratch, fmt.Errorf("not a canonical entry: %w", p.err)
	}
	if !reencode {
		return scratch, e.validate()
	}
	var err error
	scratch, err = appendEntry(scratch[:0], e)
	if err != nil {
		return scratch, err
	}
	if !bytes.Equal(scratch, line) {
		i := 0
		for i < len(line) && i < len(scratch) && line[i] == scratch[i] {
			i++
		}
		return scratch, fmt.Errorf("not in canonical form (RFC 8785): differs from its re-encoding at byte %d", i+1)
	}
	return scratch, nil
}

// MarshalLine returns the canonical encoding of e (without newline): the
// line the Writer would write. It validates e but does not apply the
// secret guard.
func MarshalLine(e *Entry) ([]byte, error) {
	b, err := appendEntry(nil, e)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// ParseLine parses one line (without its newline), which must be in
// canonical form.
func ParseLine(line []byte) (*Entry, error) {
	var e Entry
	if _, err := decodeEntry(line, &e, nil, true); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &e, nil
}

// lineHash returns the entry hash of a line given with its newline:
// SHA-256(EntryDomain || line).
func lineHash(lineNL []byte) Hash {
	h := sha256.New()
	h.Write([]byte(EntryDomain))
	h.Write(lineNL)
	var out Hash
	h.Sum(out[:0])
	return out
}

// LineHash returns the entry hash of a line given without its newline.
func LineHash(line []byte) Hash {
	h := sha256.New()
	h.Write([]byte(EntryDomain))
	h.Write(line)
	h.Write([]byte{'\n'})
	var out Hash
	h.Sum(out[:0])
	return out
}
