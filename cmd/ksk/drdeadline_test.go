package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestDRDeadline runs ksk dr deadline on the real 2017 Q2 root SKR, whose
// last DNSKEY RRSIG expires 2017-07-11T00:00:00Z.
func TestDRDeadline(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "iana-root")
	q2 := filepath.Join(data, "skr-root-2017-q2-0.xml")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"mid-quarter", []string{"--skr", q2, "--at", "2017-05-15T00:00:00Z"}, 0,
			[]string{"Expires:    2017-07-11T00:00:00Z", "Left:       57 days 0 hours", "In force:   bundle 5 of 9", "Last RRSIG: bundle 9 of 9"}},
		{"an hour before", []string{"--skr", q2, "--at", "2017-07-10T23:00:00Z"}, 0, []string{"Left:       0 days 1 hours"}},
		{"expired", []string{"--skr", q2, "--at", "2017-08-01T00:00:00Z"}, exitRejected,
			[]string{"Left:       none: expired 21 days 0 hours ago", "no bundle of this SKR is valid"}},
		{"at the instant", []string{"--skr", q2, "--at", "2017-07-11T00:00:00Z"}, exitRejected, []string{"expired 0 days 0 hours ago"}},
		{"a KSR", []string{"--skr", filepath.Join(data, "ksr-root-2017-q2-0.xml")}, exitRejected, []string{"is a KSR, not an SKR"}},
		{"no skr", []string{"--at", "2017-05-15T00:00:00Z"}, exitUsage, []string{"--skr is required"}},
		{"bad at", []string{"--skr", q2, "--at", "15 May 2017"}, exitUsage, []string{"not an RFC 3339 time"}},
		{"missing file", []string{"--skr", filepath.Join(t.TempDir(), "none.xml")}, exitUsage, []string{"none.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runKSK(t, "", append([]string{"dr", "deadline"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
	code, out, _ := runKSK(t, "", "dr", "deadline", "--skr", q2, "--at", "2017-05-15T00:00:00Z", "-o", "json")
	var r map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r["expires"] != "2017-07-11T00:00:00Z" || r["left_seconds"] != float64(57*86400) || r["expired"] != false {
		t.Errorf("-o json: exit %d %s", code, out)
	}
}
