package ksr

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readReal(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "iana-root", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lineOf returns the 1-based line of the first occurrence of sub in s.
func lineOf(t *testing.T, s, sub string) int {
	t.Helper()
	i := strings.Index(s, sub)
	if i < 0 {
		t.Fatalf("%q not in document", sub)
	}
	return strings.Count(s[:i], "\n") + 1
}

func TestParseErrors(t *testing.T) {
	const skr = "skr-root-2017-q1-0.xml"
	const ksr = "ksr-root-2010-q2-0.xml" // CRLF line ends
	firstKey := `<Key keyIdentifier="302e312c302a06035504031323566572695369676e20444e5353656320526f6f7420414c47382032303438205a534b31"`
	cases := []struct {
		name     string
		file     string
		old, new string // first occurrence of old replaced by new
		maxSize  int64
		want     error
		element  string
		at       string // the error's line is that of the first occurrence of at
	}{
		{name: "unknown element", file: skr, old: "<TTL>172800</TTL>", new: "<TTL>172800</TTL><Foo>1</Foo>", want: ErrUnknownElement, element: "Foo", at: "<Foo>"},
		{name: "unknown element in leaf", file: skr, old: "<Flags>256</Flags>", new: "<Flags>256<b/></Flags>", want: ErrUnknownElement, element: "b", at: "<b/>"},
		{name: "unknown root element", file: skr, old: "<KSR ", new: "<KSK ", want: ErrUnknownElement, element: "KSK", at: "<KSK "},
		{name: "signer in response", file: skr, old: "<Inception>2017-01-01T00:00:00+00:00</Inception>", new: "<Signer keyIdentifier=\"x\"/><Inception>2017-01-01T00:00:00+00:00</Inception>", want: ErrUnknownElement, element: "Signer", at: "<Signer"},
		{name: "namespaced element", file: skr, old: "<TTL>172800</TTL>", new: "<x:TTL xmlns:x=\"urn:x\">172800</x:TTL>", want: ErrUnknownElement, element: "urn:x:TTL", at: "<x:TTL"},
		{name: "text in container", file: skr, old: "<Response>", new: "<Response>hello", want: ErrUnknownElement, element: "Response", at: "hello"},
		{name: "unknown attribute", file: skr, old: "<Key keyIdentifier=", new: "<Key foo=\"1\" keyIdentifier=", want: ErrUnknownAttribute, element: "Key", at: "foo="},
		{name: "version attribute", file: skr, old: "<KSR id=", new: "<KSR version=\"1.0\" id=", want: ErrUnknownAttribute, element: "KSR", at: "<KSR"},
		{name: "missing attribute", file: skr, old: ` keyTag="39291"`, new: "", want: ErrMissingAttribute, element: "Key", at: firstKey},
		{name: "duplicate element", file: skr, old: "<TTL>172800</TTL>", new: "<TTL>172800</TTL>\n<TTL >172800</TTL>", want: ErrDuplicateElement, element: "TTL", at: "<TTL >"},
		{name: "duplicate policy", file: skr, old: "</ZSK>", new: "</ZSK><ZSK/>", want: ErrDuplicateElement, element: "ZSK", at: "<ZSK/>"},
		{name: "both request and response", file: skr, old: "</Response>", new: "</Response><Request><RequestPolicy><ZSK><PublishSafety>P1D</PublishSafety><RetireSafety>P1D</RetireSafety><MaxSignatureValidity>P1D</MaxSignatureValidity><MinSignatureValidity>P1D</MinSignatureValidity><MaxValidityOverlap>P1D</MaxValidityOverlap><MinValidityOverlap>P1D</MinValidityOverlap><SignatureAlgorithm algorithm=\"8\"><RSA size=\"2048\" exponent=\"3\"/></SignatureAlgorithm></ZSK></RequestPolicy></Request>", want: ErrDuplicateElement, element: "Response", at: "<Response>"},
		{name: "missing element", file: skr, old: "<Flags>256</Flags>\n", new: "", want: ErrMissingElement, element: "Key", at: firstKey},
		{name: "misspelt request", file: ksr, old: "<Request>", new: "<Requestx>", want: ErrUnknownElement, element: "Requestx", at: "<Requestx>"},
		{name: "missing key", file: skr, old: "<ResponseBundle id=\"b5b861fc-957a-4a15-af80-75d4bb9c7433\">", new: "<ResponseBundle id=\"x\"><Inception>2017-01-01T00:00:00</Inception><Expiration>2017-01-01T00:00:00</Expiration></ResponseBundle><ResponseBundle id=\"b5b861fc-957a-4a15-af80-75d4bb9c7433\">", want: ErrMissingElement, element: "ResponseBundle", at: "<ResponseBundle id=\"x\">"},
		{name: "non-UTC offset", file: skr, old: "2017-01-01T00:00:00+00:00</Inception>", new: "2017-01-01T00:00:00+01:00</Inception>", want: ErrNotUTC, element: "Inception", at: "+01:00"},
		{name: "non-UTC signature time", file: skr, old: "2017-01-22T00:00:00+00:00</SignatureExpiration>", new: "2017-01-22T00:00:00-05:00</SignatureExpiration>", want: ErrNotUTC, element: "SignatureExpiration", at: "-05:00"},
		{name: "malformed time", file: skr, old: "2017-01-01T00:00:00+00:00</Inception>", new: "2017-01-01T00:00:00.5+00:00</Inception>", want: ErrBadTime, element: "Inception", at: ".5+00:00"},
		{name: "invalid date", file: ksr, old: "2010-04-01T00:00:00", new: "2010-02-30T00:00:00", want: ErrBadTime, element: "Inception", at: "2010-02-30"},
		{name: "month duration", file: skr, old: "<RetireSafety>P28D</RetireSafety>", new: "<RetireSafety>P1M</RetireSafety>", want: ErrUnsupportedDuration, element: "RetireSafety", at: "P1M"},
		{name: "year duration", file: skr, old: "<MaxSignatureValidity>P21D</MaxSignatureValidity>", new: "<MaxSignatureValidity>P1Y</MaxSignatureValidity>", want: ErrUnsupportedDuration, element: "MaxSignatureValidity", at: "P1Y"},
		{name: "bad duration", file: skr, old: "<RetireSafety>P28D</RetireSafety>", new: "<RetireSafety>28 days</RetireSafety>", want: ErrBadDuration, element: "RetireSafety", at: "28 days"},
		{name: "huge duration", file: skr, old: "<RetireSafety>P28D</RetireSafety>", new: "<RetireSafety>P99999999999999999999D</RetireSafety>", want: ErrRange, element: "RetireSafety", at: "P9999"},
		{name: "bad base64", file: skr, old: "<PublicKey>AwEAAYbi", new: "<PublicKey>A*EAAYbi", want: ErrBadBase64, element: "PublicKey", at: "A*EAAYbi"},
		{name: "truncated base64", file: skr, old: "<SignatureData>kjzn", new: "<SignatureData>jzn", want: ErrBadBase64, element: "SignatureData", at: "<SignatureData>jzn"},
		{name: "empty public key", file: skr, old: "<PublicKey>AwEAAYbi", new: "<PublicKey></PublicKey><x>", want: ErrUnknownElement, element: "x", at: "<x>"},
		{name: "ttl out of range", file: skr, old: "<TTL>172800</TTL>", new: "<TTL>4294967296</TTL>", want: ErrRange, element: "TTL", at: "4294967296"},
		{name: "signature time after 2106", file: skr, old: "2017-01-22T00:00:00+00:00</SignatureExpiration>", new: "2106-02-07T06:28:16+00:00</SignatureExpiration>", want: ErrRange, element: "SignatureExpiration", at: "2106-02-07T06:28:16"},
		{name: "signature time before 1970", file: skr, old: "2017-01-22T00:00:00+00:00</SignatureExpiration>", new: "1969-12-31T23:59:59+00:00</SignatureExpiration>", want: ErrRange, element: "SignatureExpiration", at: "1969-12-31"},
		{name: "key tag out of range", file: skr, old: `keyTag="39291"`, new: `keyTag="65536"`, want: ErrRange, element: "Key", at: "65536"},
		{name: "negative number", file: skr, old: "<Protocol>3</Protocol>", new: "<Protocol>-3</Protocol>", want: ErrBadNumber, element: "Protocol", at: "-3"},
		{name: "bad domain", file: skr, old: `domain="."`, new: `domain="a..b"`, want: ErrBadValue, element: "KSR", at: "<KSR"},
		{name: "bad type covered", file: skr, old: "<TypeCovered>DNSKEY</TypeCovered>", new: "<TypeCovered>NOTATYPE</TypeCovered>", want: ErrBadValue, element: "TypeCovered", at: "NOTATYPE"},
		{name: "wrong algorithm family", file: skr, old: `<RSA size="2048" exponent="65537"/>`, new: `<ECDSA size="256"/>`, want: ErrMissingElement, element: "SignatureAlgorithm", at: "<SignatureAlgorithm"},
		{name: "text in empty element", file: skr, old: `<RSA size="2048" exponent="65537"/>`, new: `<RSA size="2048" exponent="65537">x</RSA>`, want: ErrUnknownElement, element: "RSA", at: "<RSA"},
		{name: "empty id", file: skr, old: `<ResponseBundle id="b5b861fc-957a-4a15-af80-75d4bb9c7433"`, new: `<ResponseBundle id=""`, want: ErrBadValue, element: "ResponseBundle", at: `id=""`},
		{name: "truncated file", file: skr, old: "</KSR>", new: "", want: ErrSyntax, element: "KSR", at: "EOF"},
		{name: "truncated mid-element", file: skr, old: "<SignatureData>kjzn", new: "<SignatureDa", want: ErrSyntax, element: "Signature", at: "<SignatureDa"},
		{name: "mismatched end tag", file: skr, old: "</Key>", new: "</Kex>", want: ErrSyntax, element: "Key", at: "</Kex>"},
		{name: "doctype", file: skr, old: "<KSR ", new: "<!DOCTYPE KSR [<!ENTITY x \"y\">]>\n<KSR ", want: ErrSyntax, element: "", at: "<!DOCTYPE"},
		{name: "undefined entity", file: skr, old: "<Protocol>3", new: "<Protocol>&x;3", want: ErrSyntax, element: "Protocol", at: "&x;"},
		{name: "foreign encoding", file: skr, old: `encoding="UTF-8"`, new: `encoding="ISO-8859-1"`, want: ErrSyntax, element: "", at: "<?xml"},
		{name: "late declaration", file: ksr, old: "<Request>", new: "<?xml version=\"1.0\"?><Request>", want: ErrSyntax, element: "KSR", at: "<?xml"},
		{name: "second root", file: skr, old: "</KSR>", new: "</KSR><KSR/>", want: ErrDuplicateElement, element: "KSR", at: "<KSR/>"},
		{name: "CRLF line count", file: ksr, old: "<Protocol>3</Protocol>", new: "<Protocol>3</Protocol><Bogus/>", want: ErrUnknownElement, element: "Bogus", at: "<Bogus/>"},
		{name: "empty document", file: skr, old: "", maxSize: 0, want: ErrMissingElement, element: "KSR"},
		{name: "oversized", file: skr, old: "", maxSize: 10000, want: ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := readReal(t, c.file)
			if c.old != "" {
				if !strings.Contains(doc, c.old) {
					t.Fatalf("%q not in %s", c.old, c.file)
				}
				doc = strings.Replace(doc, c.old, c.new, 1)
			} else if c.name == "empty document" {
				doc = "  \n"
			}
			_, err := Parse(strings.NewReader(doc), ParseOptions{MaxSize: c.maxSize})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %q does not match %q", err, c.want)
			}
			if c.want != ErrTooLarge && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %q does not match ErrMalformed", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			msg := err.Error()
			if c.element != "" && (pe.Element != c.element || !strings.Contains(msg, "<"+c.element+">")) {
				t.Errorf("error %q names element %q, want %q", msg, pe.Element, c.element)
			}
			if c.at != "" {
				want := strings.Count(doc, "\n") + 1 // EOF
				if c.at != "EOF" {
					want = lineOf(t, doc, c.at)
				}
				if pe.Line != want || !strings.Contains(msg, fmt.Sprintf("line %d", want)) {
					t.Errorf("error %q at line %d, want %d", msg, pe.Line, want)
				}
			}
		})
	}
}

func TestParseFileErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.xml")
	doc := strings.Replace(readReal(t, "skr-root-2017-q1-0.xml"), "P21D", "P3M", 1)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(path, ParseOptions{})
	if !errors.Is(err, ErrUnsupportedDuration) || !strings.HasPrefix(err.Error(), path+":8: <MaxSignatureValidity>: ") {
		t.Errorf("error %v", err)
	}
	_, err = ParseFile(filepath.Join(dir, "missing.xml"), ParseOptions{})
	if !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrMalformed) {
		t.Errorf("missing file: %v", err)
	}
}

// TestParseTooLargeStopsReading checks that Parse reads no more than the
// limit plus one byte of an endless input.
func TestParseTooLargeStopsReading(t *testing.T) {
	r := &countingReader{}
	_, err := Parse(r, ParseOptions{MaxSize: 4096})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v", err)
	}
	if r.n > 4096+512 {
		t.Errorf("read %d bytes", r.n)
	}
	if _, err := Parse(strings.NewReader(strings.Repeat(" ", DefaultMaxSize+1)), ParseOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("default limit: %v", err)
	}
}

type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	if len(p) > 100 {
		p = p[:100]
	}
	for i := range p {
		p[i] = ' '
	}
	r.n += len(p)
	return len(p), nil
}

func TestParseAccepts(t *testing.T) {
	doc := readReal(t, "skr-root-2017-q1-0.xml")
	for name, edit := range map[string][2]string{
		"Z suffix":              {"2017-01-01T00:00:00+00:00</Inception>", "2017-01-01T00:00:00Z</Inception>"},
		"no zone":               {"2017-01-01T00:00:00+00:00</Inception>", "2017-01-01T00:00:00</Inception>"},
		"-00:00":                {"2017-01-01T00:00:00+00:00</Inception>", "2017-01-01T00:00:00-00:00</Inception>"},
		"space separator":       {"2017-01-01T00:00:00+00:00</Inception>", "2017-01-01 00:00:00+00:00</Inception>"},
		"weeks":                 {"<MaxSignatureValidity>P21D", "<MaxSignatureValidity>P3W"},
		"hours and minutes":     {"<MaxSignatureValidity>P21D", "<MaxSignatureValidity>P20DT23H60M"},
		"seconds":               {"<MaxSignatureValidity>P21D", "<MaxSignatureValidity>PT1814400S"},
		"comment":               {"<Response>", "<Response><!-- a comment -->"},
		"wrapped base64":        {"<PublicKey>AwEAAYbinauHA9oUb4aGN", "<PublicKey>\n  AwEAAYbinauHA9oUb4a\n  GN"},
		"timestamp":             {`serial="1"`, `serial="1" timestamp="2016-12-01T00:00:00Z"`},
		"no declaration":        {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", ""},
		"lower-case encoding":   {`encoding="UTF-8"`, `encoding="utf-8"`},
		"numeric type covered":  {"<TypeCovered>DNSKEY</TypeCovered>", "<TypeCovered>48</TypeCovered>"},
		"RFC 3597 type covered": {"<TypeCovered>DNSKEY</TypeCovered>", "<TypeCovered>TYPE48</TypeCovered>"},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(doc, edit[0]) {
				t.Fatalf("%q not in document", edit[0])
			}
			d, err := Parse(strings.NewReader(strings.Replace(doc, edit[0], edit[1], 1)), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := Parse(strings.NewReader(doc), ParseOptions{})
			if !d.Response.Bundles[0].Inception.Equal(want.Response.Bundles[0].Inception) ||
				d.Response.KSKPolicy.MaxSignatureValidity != want.Response.KSKPolicy.MaxSignatureValidity ||
				!bytes.Equal(d.Response.Bundles[0].Keys[0].PublicKey, want.Response.Bundles[0].Keys[0].PublicKey) ||
				d.Response.Bundles[0].Signatures[0].TypeCovered != 48 {
				t.Error("value differs from the original's")
			}
		})
	}
}

const minimalRequest = "<Request><RequestPolicy><ZSK>" +
	"<PublishSafety>P1D</PublishSafety><RetireSafety>P1D</RetireSafety><MaxSignatureValidity>P1D</MaxSignatureValidity>" +
	"<MinSignatureValidity>P1D</MinSignatureValidity><MaxValidityOverlap>P1D</MaxValidityOverlap><MinValidityOverlap>P1D</MinValidityOverlap>" +
	"<SignatureAlgorithm algorithm=\"8\"><RSA size=\"2048\" exponent=\"3\"/></SignatureAlgorithm></ZSK></RequestPolicy></Request>"

func TestParseErrorsSynthetic(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      error
		line      int
		element   string
	}{
		{"neither request nor response", "<KSR id=\"a\" domain=\".\" serial=\"1\">\n</KSR>", ErrMissingElement, 1, "KSR"},
		{"duplicate attribute", "<KSR id=\"a\" id=\"b\" domain=\".\" serial=\"1\"/>", ErrDuplicateAttribute, 1, "KSR"},
		{"incomplete response", "\n<KSR id=\"a\" domain=\".\" serial=\"1\"><Response/></KSR>", ErrMissingElement, 2, "Response"},
		{"serial too large", "\n<KSR id=\"a\" domain=\".\" serial=\"4294967296\">" + minimalRequest + "</KSR>", ErrRange, 2, "KSR"},
		{"unsupported algorithm", "<KSR id=\"a\" domain=\".\" serial=\"1\">" + strings.Replace(minimalRequest, `algorithm="8"`, `algorithm="3"`, 1) + "</KSR>", ErrBadValue, 1, "SignatureAlgorithm"},
		{"bad timestamp attribute", "<KSR id=\"a\" domain=\".\" serial=\"1\" timestamp=\"2020-01-01T00:00:00+02:00\"><Request><RequestPolicy><ZSK>" +
			"<PublishSafety>P1D</PublishSafety><RetireSafety>P1D</RetireSafety><MaxSignatureValidity>P1D</MaxSignatureValidity>" +
			"<MinSignatureValidity>P1D</MinSignatureValidity><MaxValidityOverlap>P1D</MaxValidityOverlap><MinValidityOverlap>P1D</MinValidityOverlap>" +
			"<SignatureAlgorithm algorithm=\"3\"><RSA size=\"1\" exponent=\"3\"/></SignatureAlgorithm></ZSK></RequestPolicy></Request></KSR>", ErrNotUTC, 1, "KSR"},
		{"garbage", "\x00\x01", ErrSyntax, 1, ""},
		{"text only", "hello", ErrSyntax, 1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.doc), ParseOptions{})
			var pe *ParseError
			if !errors.Is(err, c.want) || !errors.As(err, &pe) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if pe.Line != c.line || pe.Element != c.element {
				t.Errorf("error %q at line %d element %q, want %d %q", err, pe.Line, pe.Element, c.line, c.element)
			}
		})
	}
}

// TestRRSIGTimeBounds: the first and last seconds an RRSIG's 32-bit time
// field holds (RFC 4034 §3.1.5) parse; one second beyond either does not
// (TestParseErrors).
func TestRRSIGTimeBounds(t *testing.T) {
	const old = "2017-01-22T00:00:00+00:00</SignatureExpiration>"
	for _, ts := range []string{"1970-01-01T00:00:00+00:00", "2106-02-07T06:28:15+00:00"} {
		doc := strings.Replace(readReal(t, "skr-root-2017-q1-0.xml"), old, ts+"</SignatureExpiration>", 1)
		if _, err := Parse(strings.NewReader(doc), ParseOptions{}); err != nil {
			t.Errorf("%s: %v", ts, err)
		}
	}
}
