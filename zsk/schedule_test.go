package zsk_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ksk-dev/ksk/zsk"
)

func TestDefaultSchedule(t *testing.T) {
	tests := []struct {
		keys, bundles int
		want          string
		err           bool
	}{
		{1, 9, "1,1,1,1,1,1,1,1,1", false},
		{2, 9, "1,1,1,1,1,1,1,1,1+2", false},
		{3, 9, "1+2,2,2,2,2,2,2,2,2+3", false},
		{3, 2, "1+2,2+3", false},
		{3, 1, "1+2+3", false},
		{2, 1, "1+2", false},
		{4, 9, "", true},
		{0, 9, "", true},
		{1, 0, "", true},
	}
	for _, tt := range tests {
		s, err := zsk.DefaultSchedule(tt.keys, tt.bundles)
		if tt.err {
			if !errors.Is(err, zsk.ErrOptions) {
				t.Errorf("DefaultSchedule(%d, %d): err = %v, want ErrOptions", tt.keys, tt.bundles, err)
			}
			continue
		}
		if err != nil || s.String() != tt.want {
			t.Errorf("DefaultSchedule(%d, %d) = %q, %v; want %q", tt.keys, tt.bundles, s, err, tt.want)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in   string
		keys int
		want zsk.Schedule
		err  bool
	}{
		{"1+2,2,2+3", 3, zsk.Schedule{{0, 1}, {1}, {1, 2}}, false},
		{" 1 + 2 , 2 ", 2, zsk.Schedule{{0, 1}, {1}}, false},
		{"3", 3, zsk.Schedule{{2}}, false},
		{"", 3, nil, true},
		{"1,,2", 2, nil, true},
		{"0", 3, nil, true},
		{"4", 3, nil, true},
		{"1+x", 3, nil, true},
		{"1;2", 3, nil, true},
	}
	for _, tt := range tests {
		got, err := zsk.ParseSchedule(tt.in, tt.keys)
		if tt.err {
			if !errors.Is(err, zsk.ErrOptions) {
				t.Errorf("ParseSchedule(%q): err = %v, want ErrOptions", tt.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSchedule(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if again, err := zsk.ParseSchedule(got.String(), tt.keys); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q through %q: %v, %v", tt.in, got.String(), again, err)
		}
	}
}
