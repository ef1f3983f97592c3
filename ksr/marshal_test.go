package ksr

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// clearLines zeroes the source line numbers, which Marshal does not keep.
func clearLines(d *Document) {
	for _, bs := range [][]Bundle{requestBundles(d), responseBundles(d)} {
		for i := range bs {
			bs[i].Line = 0
			for j := range bs[i].Keys {
				bs[i].Keys[j].Line = 0
			}
			for j := range bs[i].Signatures {
				bs[i].Signatures[j].Line = 0
			}
		}
	}
}

func requestBundles(d *Document) []Bundle {
	if d.Request == nil {
		return nil
	}
	return d.Request.Bundles
}

func responseBundles(d *Document) []Bundle {
	if d.Response == nil {
		return nil
	}
	return d.Response.Bundles
}

// canonical sorts keys and signatures as Marshal writes them.
func canonical(d *Document) {
	for _, bs := range [][]Bundle{requestBundles(d), responseBundles(d)} {
		for i := range bs {
			SortKeys(bs[i].Keys)
			SortSignatures(bs[i].Signatures)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, f := range realFiles(t, "*.xml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := ParseFile(f, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(bytes.NewReader(out), ParseOptions{})
			if err != nil {
				t.Fatalf("reparse: %v\n%s", err, out)
			}
			out2, err := Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, out2) {
				t.Error("Marshal(Parse(Marshal(d))) differs from Marshal(d)")
			}
			again, err := Marshal(want)
			if err != nil || !bytes.Equal(out, again) {
				t.Error("Marshal is not deterministic")
			}
			clearLines(want)
			clearLines(got)
			canonical(want)
			if !reflect.DeepEqual(want, got) {
				t.Errorf("round trip differs")
			}
		})
	}
}

// TestMarshalMatchesIANA checks that Marshal reproduces IANA's own SKR
// layout byte for byte where IANA's file already has Marshal's order.
func TestMarshalMatchesIANA(t *testing.T) {
	f := filepath.Join("..", "testdata", "iana-root", "skr-root-2017-q1-0.xml")
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(bytes.NewReader(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	// Same lines, possibly in another order within a bundle (keys sorted).
	lines := func(b []byte) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			m[strings.TrimSpace(l)]++
		}
		return m
	}
	if !reflect.DeepEqual(lines(raw), lines(out)) {
		t.Errorf("Marshal output does not have the lines of IANA's SKR")
	}
	if !bytes.HasPrefix(out, []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KSR id=\"122992ea-297d-4f12-845b-0fb448c33ccb\" domain=\".\" serial=\"1\">\n<Response>\n")) {
		t.Errorf("unexpected header:\n%s", out[:200])
	}
}

func TestMarshalEscapesAndSorts(t *testing.T) {
	d := &Document{
		ID: `a"b<c>&'d`, Domain: ".", Serial: 7,
		Timestamp: time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
		Request: &Request{
			ZSKPolicy: SignaturePolicy{
				MaxSignatureValidity: 21 * 24 * time.Hour,
				MinSignatureValidity: 26 * time.Hour,
				Algorithms: []AlgorithmPolicy{
					{Algorithm: 8, Size: 2048, Exponent: 65537},
					{Algorithm: 13, Size: 256},
					{Algorithm: 15, Size: 256},
				},
			},
			Bundles: []Bundle{{
				ID:         "b\n1",
				Inception:  time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
				Expiration: time.Date(2020, 1, 22, 0, 0, 0, 0, time.UTC),
				Keys: []Key{
					{Identifier: "k2", KeyTag: 2, Flags: 256, Protocol: 3, Algorithm: 8, PublicKey: []byte{2}},
					{Identifier: "k1b", KeyTag: 1, Flags: 256, Protocol: 3, Algorithm: 8, PublicKey: []byte{9}},
					{Identifier: "k1a", KeyTag: 1, Flags: 256, Protocol: 3, Algorithm: 8, PublicKey: []byte{3}},
				},
				Signatures: []Signature{
					{Identifier: "k2", KeyTag: 2, Algorithm: 8, TypeCovered: 48, SignersName: ".", Inception: time.Unix(1e9, 0), Expiration: time.Unix(2e9, 0), Data: []byte{1}},
					{Identifier: "k1a", KeyTag: 1, Algorithm: 8, TypeCovered: 48, SignersName: ".", Inception: time.Unix(1e9, 0), Expiration: time.Unix(2e9, 0), Data: []byte{2}},
					{Identifier: "k1b", KeyTag: 1, Algorithm: 8, TypeCovered: 48, SignersName: ".", Inception: time.Unix(1e9, 0), Expiration: time.Unix(2e9, 0), Data: []byte{1}},
				},
				Signers: []string{"KC00020"},
			}},
		},
	}
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`<KSR id="a&#34;b&lt;c&gt;&amp;&#39;d" domain="." serial="7" timestamp="2020-01-02T02:04:05+00:00">`,
		`<RequestBundle id="b&#xA;1">`,
		"<MinSignatureValidity>P1DT2H</MinSignatureValidity>",
		"<PublishSafety>PT0S</PublishSafety>",
		"<MaxSignatureValidity>P21D</MaxSignatureValidity>",
		`<RSA size="2048" exponent="65537"/>`,
		`<ECDSA size="256"/>`,
		`<EdDSA size="256"/>`,
		`<Signer keyIdentifier="KC00020"/>`,
		"<TypeCovered>DNSKEY</TypeCovered>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	order := func(subs ...string) {
		t.Helper()
		last := -1
		for _, sub := range subs {
			i := strings.Index(s, sub)
			if i <= last {
				t.Errorf("%q out of order", sub)
			}
			last = i
		}
	}
	order(`keyIdentifier="k1a" keyTag`, `keyIdentifier="k1b" keyTag`, `keyIdentifier="k2" keyTag`)
	order(`<Signature keyIdentifier="k1b"`, `<Signature keyIdentifier="k1a"`, `<Signature keyIdentifier="k2"`)
	if d.Request.Bundles[0].Keys[0].Identifier != "k2" {
		t.Error("Marshal reordered the caller's keys")
	}
	back, err := Parse(bytes.NewReader(out), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != d.ID || back.Request.Bundles[0].ID != "b\n1" || back.Request.Bundles[0].Signers[0] != "KC00020" {
		t.Errorf("escaped values did not round-trip: %+v", back)
	}
}

func TestMarshalErrors(t *testing.T) {
	for name, d := range map[string]*Document{
		"nil":     nil,
		"neither": {ID: "x", Domain: "."},
		"both":    {ID: "x", Domain: ".", Request: &Request{}, Response: &Response{}},
		"bad algorithm": {ID: "x", Domain: ".", Request: &Request{ZSKPolicy: SignaturePolicy{
			Algorithms: []AlgorithmPolicy{{Algorithm: 3, Size: 1024}}}}},
		"signer in response": {ID: "x", Domain: ".", Response: &Response{Bundles: []Bundle{{ID: "b", Signers: []string{"s"}}}}},
	} {
		if _, err := Marshal(d); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"},
		{21 * 24 * time.Hour, "P21D"},
		{26 * time.Hour, "P1DT2H"},
		{90 * time.Second, "PT1M30S"},
		{24*time.Hour + 5*time.Second, "P1DT5S"},
		{1500 * time.Millisecond, "PT1S"},
		{-time.Hour, "-PT1H"},
	} {
		if got := formatDuration(c.d); got != c.want {
			t.Errorf("formatDuration(%v) = %s, want %s", c.d, got, c.want)
		}
		if c.d >= 0 && c.d%time.Second == 0 {
			back, err := parseDuration(c.want)
			if err != nil || back != c.d {
				t.Errorf("parseDuration(%s) = %v, %v", c.want, back, err)
			}
		}
	}
}
