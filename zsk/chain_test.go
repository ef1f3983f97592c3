package zsk_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/zonecheck"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/zsk"
)

// testKSK is a software RSA KSK for the chain tests.
func testKSK(t *testing.T) zonecheck.KSK {
	t.Helper()
	s := testRSAKeys(t)[3]
	rr, err := hsm.NewDNSKEY(s.Public(), hsm.RSASHA256, hsm.DNSKEYOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return zonecheck.KSK{Signer: s, DNSKEY: rr}
}

// TestCreateKSRChain rehearses three quarters: each KSR is made with the
// previous SKR and passes the root policy's chain checks against it.
func TestCreateKSRChain(t *testing.T) {
	ksk := testKSK(t)
	keys := rsaZSKs(t, 0, 1, 2)
	// The fourth RSA key is the KSK; quarters roll a, b, c, then back to a.
	quarters := [][]zsk.Key{
		{keys[0], keys[1], keys[2]},
		{keys[1], keys[2], keys[0]},
		{keys[2], keys[0], keys[1]},
	}
	var prev *ksr.Document
	for q, ks := range quarters {
		opts := zsk.Options{Keys: ks, PreviousSKR: prev}
		if prev == nil {
			opts.Start = testStart
		}
		d, err := zsk.CreateKSR(opts)
		if err != nil {
			t.Fatalf("quarter %d: %v", q+1, err)
		}
		start := d.Request.Bundles[0].Inception
		if want := testStart.AddDate(0, 0, 90*q); !start.Equal(want) {
			t.Errorf("quarter %d starts %s, want %s", q+1, start, want)
		}
		r := ksr.Validate(d, policy.Default(), ksr.ValidateOptions{At: start, PreviousSKR: prev})
		if len(r.Findings) != 0 {
			dumpFindings(t, r)
			t.Fatalf("quarter %d: %d findings, want none", q+1, len(r.Findings))
		}
		prev = zonecheck.SignSKR(t, d, ksk)
	}
}

func TestCreateKSRChainErrors(t *testing.T) {
	ksk := testKSK(t)
	keys := rsaZSKs(t, 0, 1, 2)
	q1, err := zsk.CreateKSR(zsk.Options{Keys: keys, Start: testStart, IDSeed: "q1"})
	if err != nil {
		t.Fatal(err)
	}
	skr1 := zonecheck.SignSKR(t, q1, ksk)
	other := zonecheck.SignSKR(t, q1, ksk)
	other.Domain = "example."

	tests := []struct {
		name string
		opts zsk.Options
		want error
	}{
		{"keys in the wrong order", zsk.Options{Keys: []zsk.Key{keys[0], keys[2], keys[1]}, PreviousSKR: skr1}, zsk.ErrChain},
		{"previous is a KSR", zsk.Options{Keys: keys, PreviousSKR: q1}, zsk.ErrChain},
		{"previous for another zone", zsk.Options{Keys: []zsk.Key{keys[1], keys[2], keys[0]}, PreviousSKR: other, Domain: "."}, zsk.ErrChain},
		{"reused ids", zsk.Options{Keys: []zsk.Key{keys[1], keys[2], keys[0]}, PreviousSKR: skr1, IDSeed: "q1"}, zsk.ErrChain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := zsk.CreateKSR(tt.opts); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}

	// The domain and start default to the previous SKR's.
	d, err := zsk.CreateKSR(zsk.Options{Keys: []zsk.Key{keys[1], keys[2], keys[0]}, PreviousSKR: other})
	if err != nil {
		t.Fatal(err)
	}
	if d.Domain != "example." {
		t.Errorf("domain %q, want the previous SKR's", d.Domain)
	}
	got := keyTags(d.Request.Bundles[0].DNSKEYs(d.Domain))
	want := []uint16{zskTag(t, keys[1]), zskTag(t, keys[2])}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("first bundle keys %v, want %v", got, want)
	}
}

// zskTag returns the key tag of an RSA ZSK.
func zskTag(t *testing.T, k zsk.Key) uint16 {
	t.Helper()
	rr, err := hsm.NewDNSKEY(k.Signer.Public(), hsm.RSASHA256, hsm.DNSKEYOptions{Flags: zsk.FlagsZSK})
	if err != nil {
		t.Fatal(err)
	}
	return rr.KeyTag()
}
