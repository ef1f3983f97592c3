package zonecheck_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/zonecheck"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/skr"
	"github.com/ksk-dev/ksk/zsk"
	"github.com/miekg/dns"
)

// softKSK generates a KSK on a fresh SoftHSM token.
func softKSK(t *testing.T, alg hsm.Algorithm) zonecheck.KSK {
	t.Helper()
	tk := softhsmtest.NewToken(t)
	tok := tk.Open(t)
	k, err := tok.GenerateKey(hsm.GenerateOptions{Label: "ksk-" + strings.ToLower(alg.String()), Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := k.DNSKEY(hsm.DNSKEYOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return zonecheck.KSK{Signer: k, DNSKEY: rr}
}

// exportBundle writes bundle i of an SKR with skr.WriteZone and reads the
// text back: the validators see exactly what ksk skr export prints.
func exportBundle(t *testing.T, d *ksr.Document, i int) []dns.RR {
	t.Helper()
	var buf bytes.Buffer
	if err := skr.WriteZone(&buf, d, []int{i}); err != nil {
		t.Fatal(err)
	}
	var out []dns.RR
	zp := dns.NewZoneParser(&buf, ".", "export")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, buf.String())
	}
	return out
}

// synthetic makes three ZSKs of an algorithm (retiring, current, next),
// a KSR starting at start, and its SKR signed by ksk. The current ZSK, in
// every bundle, is the one that signs the zones.
func synthetic(t *testing.T, ksk zonecheck.KSK, zskAlg uint8, start time.Time) (*ksr.Document, *zonecheck.ZSK) {
	t.Helper()
	zsks := []*zonecheck.ZSK{zonecheck.NewZSK(t, zskAlg), zonecheck.NewZSK(t, zskAlg), zonecheck.NewZSK(t, zskAlg)}
	var keys []zsk.Key
	for _, z := range zsks {
		keys = append(keys, zsk.Key{Signer: z.Signer})
	}
	req, err := zsk.CreateKSR(zsk.Options{Keys: keys, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Default()
	if zskAlg != dns.RSASHA256 {
		p.Request.ApprovedAlgorithms = []string{dns.AlgorithmToString[zskAlg]}
		p.Request.EnableUnsupportedECDSA = true
	}
	if r := ksr.Validate(req, p, ksr.ValidateOptions{At: start}); !r.Valid() {
		for _, f := range r.Findings {
			t.Log(f.String())
		}
		t.Fatal("the synthetic KSR is not valid")
	}
	resp := zonecheck.SignSKR(t, req, ksk)
	if r := skr.Verify(resp, skr.VerifyOptions{KSR: req}); !r.Valid() {
		for _, f := range r.Findings {
			t.Log(f.String())
		}
		t.Fatal("the synthetic SKR does not verify")
	}
	return resp, zsks[1]
}

// checkAll fails the test unless every validator in want ran and agreed
// with pass.
func checkAll(t *testing.T, what string, res map[string]error, pass bool, want ...string) {
	t.Helper()
	for _, v := range want {
		err, ran := res[v]
		switch {
		case !ran:
			t.Errorf("%s: %s did not run", what, v)
		case pass && err != nil:
			t.Errorf("%s: %s fails: %v", what, v, err)
		case !pass && err == nil:
			t.Errorf("%s: %s accepts a zone with a flipped signature byte", what, v)
		case !pass:
			t.Logf("%s: %s rejects it: %s", what, v, verdict(err))
		}
	}
}

// TestSyntheticEndToEnd: a KSK in SoftHSM, ZSKs made in Go, a KSR from
// zsk.CreateKSR starting a day ago, its SKR, each bundle exported by
// skr.WriteZone and wrapped in a zone that dnssec-signzone signs with the
// current ZSK: ldns-verify-zone and kzonecheck accept every bundle at a
// time inside it, dnssec-verify the bundles valid now, and all three
// reject the current bundle with one bit flipped in the KSK's signature.
// The ZSKs have the KSK's algorithm: dnssec-verify wants every RRset
// signed with every algorithm that signs the DNSKEY RRset (RFC 4035 §2.2).
func TestSyntheticEndToEnd(t *testing.T) {
	all := []string{zonecheck.LDNS, zonecheck.Knot, zonecheck.BIND, zonecheck.SignZone}
	tests := []struct {
		alg     hsm.Algorithm
		bundles []int // besides the first, checked at a time inside them
	}{
		{hsm.RSASHA256, []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{hsm.ECDSAP256SHA256, []int{8}},
		{hsm.ED25519, []int{8}},
	}
	for _, tt := range tests {
		t.Run(tt.alg.String(), func(t *testing.T) {
			ksk := softKSK(t, tt.alg)
			anchor := ksk.DNSKEY.ToDS(dns.SHA256)
			now := time.Now().UTC().Truncate(time.Hour)

			// Bundle 1 is valid now: all three validators.
			resp, z := synthetic(t, ksk, uint8(tt.alg), now.Add(-24*time.Hour))
			b1 := exportBundle(t, resp, 0)
			checkAll(t, "bundle 1", zonecheck.Validate(t, b1, z, time.Now(), anchor), true, all...)
			checkAll(t, "bundle 1 flipped", zonecheck.Validate(t, zonecheck.FlipSignature(b1, ksk.DNSKEY.KeyTag()), z, time.Now(), anchor), false, all...)

			// The later bundles start in the future: the validators with a
			// time option check them at their inception plus an hour.
			for _, i := range tt.bundles {
				b := &resp.Response.Bundles[i]
				at := b.Inception.Add(time.Hour)
				rrs := exportBundle(t, resp, i)
				checkAll(t, "bundle "+b.ID, zonecheck.Validate(t, rrs, z, at, anchor), true, zonecheck.LDNS, zonecheck.Knot)
				checkAll(t, "bundle "+b.ID+" flipped", zonecheck.Validate(t, zonecheck.FlipSignature(rrs, ksk.DNSKEY.KeyTag()), z, at, anchor), false, zonecheck.LDNS, zonecheck.Knot)
			}

			// A KSR that started 81 days ago has its last bundle (current
			// and next ZSK) valid now: dnssec-verify checks it too.
			old, z := synthetic(t, ksk, uint8(tt.alg), now.Add(-81*24*time.Hour))
			last := exportBundle(t, old, 8)
			checkAll(t, "last bundle", zonecheck.Validate(t, last, z, time.Now(), anchor), true, all...)
			checkAll(t, "last bundle flipped", zonecheck.Validate(t, zonecheck.FlipSignature(last, ksk.DNSKEY.KeyTag()), z, time.Now(), anchor), false, all...)
		})
	}
}

// TestMixedAlgorithms: an ECDSA KSK over the root policy's RSA ZSKs.
// ldns-verify-zone and kzonecheck accept the zone; dnssec-verify wants
// every RRset signed by ECDSA as well, since ECDSA signs the DNSKEY RRset
// (RFC 4035 §2.2), so it reports the zone as not fully signed. An
// algorithm rollover of the root must therefore publish a ZSK of the new
// algorithm before the new KSK signs (RFC 6781 §4.1.4).
func TestMixedAlgorithms(t *testing.T) {
	ksk := softKSK(t, hsm.ECDSAP256SHA256)
	resp, z := synthetic(t, ksk, dns.RSASHA256, time.Now().UTC().Truncate(time.Hour).Add(-24*time.Hour))
	res := zonecheck.Validate(t, exportBundle(t, resp, 0), z, time.Now())
	checkAll(t, "ECDSA KSK, RSA ZSK", res, true, zonecheck.LDNS, zonecheck.Knot)
	checkAll(t, "ECDSA KSK, RSA ZSK", res, false, zonecheck.BIND)
	if err := res[zonecheck.BIND]; err != nil && !strings.Contains(err.Error(), "not fully signed") {
		t.Errorf("dnssec-verify fails for another reason: %v", err)
	}
}

// verdict returns the line of a validator's failure that says why: the
// first that names a bogus, missing or unverifiable signature.
func verdict(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for _, l := range lines[1:] {
		for _, w := range []string{"Bogus", "No self-signed", "no valid signature", "not fully signed", "dropped", "No correct"} {
			if strings.Contains(l, w) {
				return strings.TrimSpace(l)
			}
		}
	}
	return strings.TrimSpace(lines[0])
}
