package strictxml

import (
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2017, 1, 1, 12, 34, 56, 0, time.UTC)
	for _, s := range []string{"2017-01-01T12:34:56", "2017-01-01T12:34:56Z", "2017-01-01T12:34:56+00:00", "2017-01-01T12:34:56-00:00", "2017-01-01 12:34:56+00:00"} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	for s, kind := range map[string]error{
		"2017-01-01T12:34:56+01:00": ErrNotUTC,
		"2017-01-01T12:34:56-05:30": ErrNotUTC,
		"2017-01-01T12:34:56+0100":  ErrBadTime,
		"2017-01-01T12:34:56.5Z":    ErrBadTime,
		"2017-01-01":                ErrBadTime,
		"2017-02-30T00:00:00":       ErrBadTime,
		"2017-01-01T24:00:00":       ErrBadTime,
		"2017-01-01X12:34:56":       ErrBadTime,
		"17-01-01T12:34:56":         ErrBadTime,
		"２０17-01-01T12:34:56":       ErrBadTime,
		"2017-01-01T12:34:56ZZ":     ErrBadTime,
		"":                          ErrBadTime,
		"2017-01-01T12:34:56+99:00": ErrBadTime,
	} {
		if _, err := ParseTime(s); !errors.Is(err, kind) || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTime(%q) error %v, want %v", s, err, kind)
		}
	}
	if s := FormatTime(time.Date(2017, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600))); s != "2017-01-01T00:00:00+00:00" {
		t.Errorf("FormatTime = %s", s)
	}
}

func TestParseUint(t *testing.T) {
	if v, err := ParseUint("65535", 16); err != nil || v != 65535 {
		t.Errorf("65535: %v %v", v, err)
	}
	for s, kind := range map[string]error{"65536": ErrRange, "-1": ErrBadNumber, "+1": ErrBadNumber, " 1": ErrBadNumber, "": ErrBadNumber, "1e3": ErrBadNumber} {
		if _, err := ParseUint(s, 16); !errors.Is(err, kind) {
			t.Errorf("ParseUint(%q): %v, want %v", s, err, kind)
		}
	}
}

func TestReadDepthAndText(t *testing.T) {
	schema := &Schema{Root: "a", Elements: map[string]*Spec{
		"a": {Children: []Child{{"a", 0, 1}, {"b", 0, -1}}},
	}}
	deep := ""
	for range 20 {
		deep += "<a>"
	}
	if _, err := Read([]byte(deep), schema); !errors.Is(err, ErrUnknownElement) {
		t.Errorf("deep nesting: %v", err)
	}
	n, err := Read([]byte("<a>\n <b> x </b><b/>\n</a>"), schema)
	if err != nil || len(n.All("b")) != 2 || n.Child("b").Text != "x" || n.All("b")[1].Line != 2 {
		t.Errorf("got %+v, %v", n, err)
	}
	if _, err := Read([]byte("<?xml version=\"1.1\"?><a/>"), schema); !errors.Is(err, ErrSyntax) {
		t.Errorf("XML 1.1: %v", err)
	}
	if _, err := Read([]byte("<?pi x?><a/>"), schema); !errors.Is(err, ErrSyntax) {
		t.Errorf("processing instruction: %v", err)
	}
}
