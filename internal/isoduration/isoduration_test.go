package isoduration

import (
	"errors"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr error
	}{
		{"P21D", 21 * day, nil},
		{"PT0S", 0, nil},
		{"P1W", 7 * day, nil},
		{"P14DT23H59M59S", 15*day - time.Second, nil},
		{"PT30M", 30 * time.Minute, nil}, // M after T is minutes
		{"P1DT12H", 36 * time.Hour, nil},
		{"P1M", 0, ErrYearsMonths},
		{"P1Y", 0, ErrYearsMonths},
		{"P0M", 0, ErrYearsMonths},
		{"P1Y2M3D", 0, ErrYearsMonths},
		{"P36500D", 36500 * day, nil},
		{"P36501D", 0, ErrRange},
		{"P99999999999999999999D", 0, ErrRange},
		{"PT1.5S", 0, ErrSyntax},
		{"-P1D", 0, ErrSyntax},
		{"P", 0, ErrSyntax},
		{"PT", 0, ErrSyntax},
		{"P1DT", 0, ErrSyntax},
		{"", 0, ErrSyntax},
		{"21D", 0, ErrSyntax},
		{"P21", 0, ErrSyntax},
		{"P1D1D", 0, ErrSyntax},
		{"PT1H2H", 0, ErrSyntax},
		{"P1DTT1H", 0, ErrSyntax},
		{"P1H", 0, ErrSyntax},
		{"p21d", 0, ErrSyntax},
		{"P1D ", 0, ErrSyntax},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.wantErr == nil {
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.wantErr)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "PT0S"},
		{21 * day, "P21D"},
		{15*day - time.Second, "P14DT23H59M59S"},
		{90 * time.Minute, "PT1H30M"},
		{1500 * time.Millisecond, "PT1.5S"},
		{-2 * day, "-P2D"},
		{Max, "P36500D"},
	}
	for _, tt := range tests {
		if got := Format(tt.in); got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in >= 0 && tt.in%time.Second == 0 {
			if back, err := Parse(Format(tt.in)); err != nil || back != tt.in {
				t.Errorf("round trip of %v: %v, %v", tt.in, back, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"P21D", "PT0S", "P1DT2H3M4S", "P1W", "P1M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if d < 0 || d > Max {
			t.Fatalf("Parse(%q) = %v out of range", s, d)
		}
		if back, err := Parse(Format(d)); err != nil || back != d {
			t.Fatalf("Parse(%q) = %v; Format gives %q, which parses to %v, %v", s, d, Format(d), back, err)
		}
	})
}
