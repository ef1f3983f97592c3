package trustanchor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

var rootAnchors = filepath.Join("..", "testdata", "root-anchors", "root-anchors.xml")

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseRootAnchors(t *testing.T) {
	ta, err := ParseFile(rootAnchors, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ta.Zone != "." || ta.ID != "E9724F53-1851-4F86-85E5-F1392102940B" || len(ta.Anchors) != 3 {
		t.Fatalf("got %+v", ta)
	}
	want := []struct {
		id         string
		tag        uint16
		from, till string
		hasKey     bool
	}{
		{"Kjqmt7v", 19036, "2010-07-15", "2019-01-11", false},
		{"Klajeyz", 20326, "2017-02-02", "", true},
		{"Kmyv6jo", 38696, "2024-07-18", "", true},
	}
	for i, w := range want {
		a := ta.Anchors[i]
		if a.ID != w.id || a.KeyTag != w.tag || a.Algorithm != 8 || a.DigestType != 2 || len(a.Digest) != 32 ||
			!a.ValidFrom.Equal(date(w.from)) || (a.PublicKey != nil) != w.hasKey || a.Line == 0 {
			t.Errorf("anchor %d: %+v", i, a)
		}
		if w.till == "" && !a.ValidUntil.IsZero() || w.till != "" && !a.ValidUntil.Equal(date(w.till)) {
			t.Errorf("anchor %d: validUntil %v", i, a.ValidUntil)
		}
	}
	// Load detects the format.
	ta2, err := Load(rootAnchors, ParseOptions{})
	if err != nil || len(ta2.Anchors) != 3 {
		t.Fatalf("Load: %v", err)
	}
}

func TestMarshalReproducesIANA(t *testing.T) {
	raw, err := os.ReadFile(rootAnchors)
	if err != nil {
		t.Fatal(err)
	}
	ta, err := Parse(bytes.NewReader(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := Marshal(ta)
	if strings.TrimSpace(string(out)) != strings.TrimSpace(string(raw)) {
		t.Errorf("Marshal differs from IANA's file:\n%s", out)
	}
	back, err := Parse(bytes.NewReader(out), ParseOptions{})
	if err != nil || !bytes.Equal(Marshal(back), out) {
		t.Errorf("round trip: %v", err)
	}
}

// ksks returns the distinct KSKs of the real SKRs by key tag.
func ksks(t *testing.T) map[uint16]*dns.DNSKEY {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "iana-root", "skr-*.xml"))
	out := map[uint16]*dns.DNSKEY{}
	for _, f := range files {
		d, err := ksr.ParseFile(f, ksr.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range d.Bundles() {
			for _, k := range b.Keys {
				if k.IsKSK() {
					out[k.KeyTag] = k.DNSKEY(d.Domain)
				}
			}
		}
	}
	if len(out) != 2 {
		t.Fatalf("found KSKs %v", out)
	}
	return out
}

func TestMatches(t *testing.T) {
	ta, err := ParseFile(rootAnchors, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys := ksks(t)
	k2010, k2017 := keys[19036], keys[20326]
	if !ta.Anchors[0].Matches(k2010) || ta.Anchors[0].Matches(k2017) {
		t.Error("KSK-2010 anchor")
	}
	if !ta.Anchors[1].Matches(k2017) || ta.Anchors[1].Matches(k2010) {
		t.Error("KSK-2017 anchor")
	}
	if ta.Anchors[2].Matches(k2017) {
		t.Error("KSK-2024 anchor matches KSK-2017")
	}
	revoked := *k2017
	revoked.Flags |= dns.REVOKE
	if ta.Anchors[1].Matches(&revoked) {
		t.Error("revoked KSK-2017 matches")
	}
	other := *k2010
	other.Hdr.Name = "example."
	if ta.Anchors[0].Matches(&other) {
		t.Error("key of another zone matches")
	}
	if ta.Anchors[0].Matches(nil) {
		t.Error("nil matches")
	}
	if got := ta.Match(k2010, date("2018-01-01")); len(got) != 1 || got[0].ID != "Kjqmt7v" {
		t.Errorf("Match 2018: %v", got)
	}
	if got := ta.Match(k2010, date("2019-01-11")); len(got) != 0 {
		t.Errorf("Match at validUntil: %v", got)
	}
	if got := ta.Match(k2017, date("2017-02-01")); len(got) != 0 {
		t.Errorf("Match before validFrom: %v", got)
	}
	if ds := ta.Anchors[1].DS().String(); !strings.HasSuffix(ds, "DS\t20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D") {
		t.Errorf("DS: %s", ds)
	}
}

func TestParseDS(t *testing.T) {
	const file = `; root KSKs
$TTL 86400
.	IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5

. 172800 IN DS ( 20326 8 2
    E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D )
`
	ta, err := ParseDS(strings.NewReader(file), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ta.Zone != "." || len(ta.Anchors) != 2 || ta.Anchors[0].Line != 3 || ta.Anchors[1].Line != 5 {
		t.Fatalf("got %+v", ta)
	}
	keys := ksks(t)
	if !ta.Anchors[0].Matches(keys[19036]) || !ta.Anchors[1].Matches(keys[20326]) || !ta.Anchors[0].ValidAt(date("1990-01-01")) {
		t.Error("DS anchors do not match")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "root.ds")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if ta, err := Load(path, ParseOptions{}); err != nil || len(ta.Anchors) != 2 {
		t.Errorf("Load DS file: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	raw, err := os.ReadFile(rootAnchors)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, c := range []struct {
		name, old, new string
		want           error
		element        string
		line           int
	}{
		{"unknown element", "<Zone>.</Zone>", "<Zone>.</Zone><Comment>x</Comment>", ErrUnknownElement, "Comment", 3},
		{"unknown attribute", `<KeyDigest id="Kjqmt7v"`, `<KeyDigest foo="1" id="Kjqmt7v"`, ErrUnknownAttribute, "KeyDigest", 4},
		{"duplicate element", "<KeyTag>19036</KeyTag>", "<KeyTag>19036</KeyTag><KeyTag>1</KeyTag>", ErrDuplicateElement, "KeyTag", 5},
		{"missing element", "<DigestType>2</DigestType>\n", "", ErrMissingElement, "KeyDigest", 4},
		{"missing validFrom", ` validFrom="2010-07-15T00:00:00+00:00"`, "", ErrMissingAttribute, "KeyDigest", 4},
		{"non-UTC", `validFrom="2010-07-15T00:00:00+00:00"`, `validFrom="2010-07-15T00:00:00+02:00"`, ErrNotUTC, "KeyDigest", 4},
		{"bad hex", "<Digest>49AAC1", "<Digest>X9AAC1", ErrBadValue, "Digest", 8},
		{"short digest", "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5", "49AAC11D", ErrBadValue, "Digest", 8},
		{"bad base64", "<PublicKey>AwEAAaz/", "<PublicKey>*wEAAaz/", ErrBadValue, "PublicKey", 15},
		{"digest mismatch", "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D", "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8E", ErrInconsistent, "KeyDigest", 10},
		{"key tag mismatch", "<KeyTag>20326</KeyTag>", "<KeyTag>20327</KeyTag>", ErrInconsistent, "KeyDigest", 10},
		{"until before from", `validUntil="2019-01-11T00:00:00+00:00"`, `validUntil="2009-01-11T00:00:00+00:00"`, ErrBadValue, "KeyDigest", 4},
		{"key tag range", "<KeyTag>19036</KeyTag>", "<KeyTag>190360</KeyTag>", ErrRange, "KeyTag", 5},
		{"truncated", "</TrustAnchor>", "", ErrSyntax, "TrustAnchor", 27},
		{"bad zone", "<Zone>.</Zone>", "<Zone>a..b</Zone>", ErrBadValue, "Zone", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(doc, c.old) {
				t.Fatalf("%q not in file", c.old)
			}
			_, err := Parse(strings.NewReader(strings.Replace(doc, c.old, c.new, 1)), ParseOptions{})
			var pe *ParseError
			if !errors.Is(err, c.want) || !errors.Is(err, ErrMalformed) || !errors.As(err, &pe) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if pe.Element != c.element || pe.Line != c.line || !strings.Contains(err.Error(), "<"+c.element+">") {
				t.Errorf("error %q at line %d element %q, want %d %q", err, pe.Line, pe.Element, c.line, c.element)
			}
		})
	}
	if _, err := Parse(strings.NewReader(doc), ParseOptions{MaxSize: 100}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size limit: %v", err)
	}
	for name, ds := range map[string]string{
		"not DS":       ". IN DNSKEY 257 3 8 AwEAAQ==",
		"bad syntax":   ". IN DS 19036 8 2",
		"short digest": ". IN DS 19036 8 2 49AAC11D",
		"two zones":    ". IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5\nexample. IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5",
		"empty":        "; nothing\n",
		"include":      "$INCLUDE /etc/passwd\n",
	} {
		if _, err := ParseDS(strings.NewReader(ds), ParseOptions{}); !errors.Is(err, ErrMalformed) {
			t.Errorf("DS %s: %v", name, err)
		}
	}
}
