package signer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/signer"
)

// holdDownOnly fails unless every finding of rep is a SIGN-RFC5011-HOLDDOWN
// one and they are exactly want, each "severity where key".
func holdDownOnly(t *testing.T, what string, rep *check.Report, want ...string) {
	t.Helper()
	var got []string
	for _, f := range rep.Findings {
		if f.Check != signer.CheckRFC5011HoldDown {
			t.Errorf("%s: unexpected finding %s", what, f)
			continue
		}
		key, _, _ := strings.Cut(strings.TrimPrefix(f.Message, "key "), " ")
		got = append(got, string(f.Severity)+" "+f.Where+" "+key)
		hint := "add hold-down of 30 days"
		if f.Severity == check.Warning {
			hint = "--previous-skr"
		}
		if !strings.Contains(f.Message, hint) {
			t.Errorf("%s: %s does not say %q", what, f, hint)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: %s findings\n%s\nwant\n%s", what, signer.CheckRFC5011HoldDown, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAddHoldDown signs quarters of synthetic KSRs with the standard
// schemas, each chained to the SKR before, and checks RFC 5011's add
// hold-down on the last one.
func TestAddHoldDown(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA ZSKs")
	}
	cfg := mustConfig(t, "../scripts/signer/softhsm-rehearsal.yaml")
	src := testKeys(t, "rsa-2048-1", "ksk-rehearsal-1", "rsa-2048-2", "ksk-rehearsal-2")
	algCfg := mustConfig(t, "../scripts/signer/algorithm-rollover.yaml")
	algSrc := testKeys(t, "rsa-2048-1", "ksk-rsa", "ec-prime256v1-1", "ksk-ecdsa")
	rsaZ, ecZ := zskRef{"rsa-150", hsm.RSASHA256}, zskRef{"ec-prime256v1-2", hsm.ECDSAP256SHA256}
	algZSKs := map[string]func(i int) []zskRef{
		"normal":                func(int) []zskRef { return []zskRef{rsaZ} },
		"algorithm-pre-publish": func(i int) []zskRef { return append([]zskRef{rsaZ}, map[bool][]zskRef{true: {ecZ}}[i > 0]...) },
		"algorithm-double-sign": func(int) []zskRef { return []zskRef{rsaZ, ecZ} },
	}
	tests := []struct {
		name    string
		alg     bool     // the algorithm rollover configuration
		schemas []string // one per quarter; the last is checked
		want    []string // "severity where key"
	}{
		// No previous SKR: the key signs from the first bundle known.
		{"normal alone", false, []string{"normal"}, []string{"warning bundle #1 ksr-q1-b1 ksk_current"}},
		// The next KSK is published in bundle 1 and signs alone from
		// bundle 2, 10 days later; bundle 1 is the first known.
		{"rollover alone", false, []string{"rollover"}, []string{"warning bundle #1 ksr-q1-b1 ksk_current", "warning bundle #2 ksr-q1-b2 ksk_next"}},
		// The previous SKR proves ksk_next absent before bundle 1: 10 days.
		{"rollover after normal", false, []string{"normal", "rollover"}, []string{"error bundle #2 ksr-q2-b2 ksk_next"}},
		// Published from the pre-publish quarter's bundle 2: 90 days.
		{"pre-publish then rollover", false, []string{"normal", "pre-publish", "rollover"}, nil},
		{"pre-publish", false, []string{"normal", "pre-publish"}, nil},
		// The previous SKR is the pre-publish quarter alone: ksk_next is
		// published from its bundle 2, 90 days before; ksk_current signed
		// its last bundle.
		{"rollover after a lone pre-publish", false, []string{"pre-publish", "rollover"}, nil},
		// An algorithm rollover's new KSK signs from the bundle it is
		// published in, with the KSK that signed the bundle before: the
		// bundle does not depend on resolvers trusting it yet.
		{"algorithm-pre-publish after normal", true, []string{"normal", "algorithm-pre-publish"}, nil},
		{"algorithm-pre-publish alone", true, []string{"algorithm-pre-publish"}, []string{"warning bundle #1 alg-q1-b1 ksk_rsa"}},
		// Both sign from the first bundle known: neither carries the
		// other's trust.
		{"algorithm-double-sign alone", true, []string{"algorithm-double-sign"}, []string{"warning bundle #1 alg-q1-b1 ksk_rsa", "warning bundle #1 alg-q1-b1 ksk_ecdsa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prev *ksr.Document
			last := len(tt.schemas) - 1
			for q, schema := range tt.schemas {
				c, k, spec := cfg, src, rootQuarter(q+1, quarterStart(q))
				if tt.alg {
					c, k = algCfg, algSrc
					spec = quarterSpec{id: fmt.Sprintf("alg-q%d", q+1), start: quarterStart(q), pop: true, zsks: algZSKs[schema]}
				}
				req := makeKSR(t, spec)
				doc, rep, err := signer.Sign(context.Background(), c, k, signer.Options{Schema: schema, KSR: req, PreviousSKR: prev, At: quarterStart(q)}, signer.SignOptions{})
				if q < last {
					if err != nil {
						t.Fatalf("quarter %d (%s): %v\n%s", q+1, schema, err, findings(rep))
					}
					prev = doc
					continue
				}
				holdDownOnly(t, schema, rep, tt.want...)
				isErr := slices.ContainsFunc(tt.want, func(s string) bool { return strings.HasPrefix(s, "error ") })
				if isErr != (errors.Is(err, signer.ErrChecksFailed) && doc == nil) || (!isErr && err != nil) {
					t.Errorf("%s: err %v, SKR %v", schema, err, doc != nil)
				}
				if isErr && !strings.Contains(err.Error(), signer.CheckRFC5011HoldDown) {
					t.Errorf("error %v does not name %s", err, signer.CheckRFC5011HoldDown)
				}
			}
		})
	}
}
