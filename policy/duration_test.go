package policy

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"P21D", 21 * day, true},
		{"PT0S", 0, true},
		{"PT1S", time.Second, true},
		{"P1W", 7 * day, true},
		{"P14DT23H59M59S", 15*day - time.Second, true},
		{"PT1.5S", 0, false}, // fractions refused, as in KSR documents
		{"P1DT12H", 36 * time.Hour, true},
		{"P1M", 0, false},
		{"P1Y", 0, false},
		{"P0M", 0, false},
		{"P1Y2M3D", 0, false},
		{"-P1D", 0, false},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1DT", 0, false},
		{"", 0, false},
		{"21D", 0, false},
		{"P21", 0, false},
		{"P1D1D", 0, false},
		{"PT1H2H", 0, false},
		{"P1DTT1H", 0, false},
		{"P1H", 0, false},
		{"P99999999D", 0, false},
		{"P1.2.3D", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrDuration) {
			t.Errorf("ParseDuration(%q) = %v, %v; want ErrDuration", tt.in, got, err)
		}
	}
}

func TestPTMinutesIsNotMonths(t *testing.T) {
	got, err := ParseDuration("PT30M")
	if err != nil || got != 30*time.Minute {
		t.Fatalf("PT30M = %v, %v", got, err)
	}
}

func TestFormatDuration(t *testing.T) {
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
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in > 0 && tt.in%time.Second == 0 {
			back, err := ParseDuration(FormatDuration(tt.in))
			if err != nil || back != tt.in {
				t.Errorf("round trip of %v: %v, %v", tt.in, back, err)
			}
		}
	}
}
