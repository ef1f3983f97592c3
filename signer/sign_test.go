package signer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/signer"
	"github.com/ksk-dev/ksk/skr"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

// anchorsOf builds trust anchors (SHA-256 DS, valid from 2000) for keys.
func anchorsOf(t testing.TB, src softKeys, cfg *signer.Config) *trustanchor.TrustAnchor {
	t.Helper()
	ta := &trustanchor.TrustAnchor{Zone: "."}
	for _, name := range cfg.KeyNames() {
		kc := cfg.Keys[name]
		s, ok := src[kc.Label]
		if !ok {
			continue
		}
		dk, err := hsm.NewDNSKEY(s.Public(), kc.Algorithm, hsm.DNSKEYOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds := dk.ToDS(dns.SHA256)
		digest := mustHex(t, ds.Digest)
		ta.Anchors = append(ta.Anchors, trustanchor.Anchor{ID: kc.Label, Zone: ".", ValidFrom: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			KeyTag: dk.KeyTag(), Algorithm: dk.Algorithm, DigestType: dns.SHA256, Digest: digest})
	}
	return ta
}

// verifySKR runs skr.Verify with anchors and the KSR and fails on errors.
func verifySKR(t testing.TB, doc, req *ksr.Document, ta *trustanchor.TrustAnchor) {
	t.Helper()
	// Round-trip through XML first: what is checked is what is written.
	parsed, err := ksr.Parse(strings.NewReader(string(marshal(t, doc))), ksr.ParseOptions{MaxSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	r := skr.Verify(parsed, skr.VerifyOptions{Anchors: ta, KSR: req})
	for _, f := range r.Findings {
		t.Errorf("skr.Verify: %s", f)
	}
}

// TestGoldenSoftware signs the golden KSR with the test keys in software
// (Go's crypto/rsa) and compares with the golden SKR that SoftHSM made:
// two implementations of PKCS#1 v1.5 give the same bytes.
func TestGoldenSoftware(t *testing.T) {
	cfg := mustConfig(t, goldenConfig)
	src := goldenKeys(t)
	req := loadDoc(t, ksr2018q1)
	doc, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: "rollover", KSR: req, At: at2018q1}, signer.SignOptions{})
	if err != nil {
		t.Fatalf("%v\n%v", err, rep)
	}
	// KSK-2017 was published in 2017-Q3, but without the previous SKR the
	// history starts at bundle 1: RFC 5011's hold-down is not proven.
	holdDownOnly(t, "golden", rep, "warning bundle #1 0a8f7774-3bd3-4702-a923-f1d73f653bd6 ksk_current",
		"warning bundle #2 4c05c9b8-a7c4-46b7-a4f8-737a5261f09b ksk_next")
	compareGolden(t, marshal(t, doc))
	verifySKR(t, doc, req, anchorsOf(t, src, cfg))
}

// TestGoldenShape checks the golden SKR against the real one it is
// modelled on: same bundles, ZSKs and times, the KSKs where the real SKR
// has KSK-2010 and KSK-2017, the same signers per bundle.
func TestGoldenShape(t *testing.T) {
	got := loadDoc(t, goldenSKR)
	real := loadDoc(t, "../testdata/iana-root/skr-root-2018-q1-0-d_to_e.xml")
	role := map[string]string{"Kjqmt7v": "old", "Klajeyz": "new", "ksk-test-1": "old", "ksk-test-2": "new"}
	if got.ID != real.ID || len(got.Response.Bundles) != len(real.Response.Bundles) {
		t.Fatalf("id %s, %d bundles", got.ID, len(got.Response.Bundles))
	}
	if got.Response.ZSKPolicy.MaxValidityOverlap != real.Response.ZSKPolicy.MaxValidityOverlap ||
		len(got.Response.KSKPolicy.Algorithms) != 1 || got.Response.KSKPolicy.Algorithms[0] != real.Response.KSKPolicy.Algorithms[0] ||
		got.Response.KSKPolicy.RetireSafety != real.Response.KSKPolicy.RetireSafety {
		t.Errorf("policies differ: %+v\n%+v", got.Response, real.Response.KSKPolicy)
	}
	for i := range got.Response.Bundles {
		g, r := &got.Response.Bundles[i], &real.Response.Bundles[i]
		if g.ID != r.ID || !g.Inception.Equal(r.Inception) || !g.Expiration.Equal(r.Expiration) || len(g.Keys) != len(r.Keys) {
			t.Errorf("bundle %d differs", i+1)
		}
		var gs, rs []string
		for _, s := range g.Signatures {
			gs = append(gs, role[s.Identifier])
		}
		for _, s := range r.Signatures {
			rs = append(rs, role[s.Identifier])
		}
		if strings.Join(gs, ",") != strings.Join(rs, ",") {
			t.Errorf("bundle %d signed by %v, the real one by %v", i+1, gs, rs)
		}
	}
}

// TestPreSigningChecks breaks each check once and expects it to fail, with
// nothing signed.
func TestPreSigningChecks(t *testing.T) {
	golden := string(mustRead(t, goldenConfig))
	rollover := golden[strings.Index(golden, "schemas:"):]
	withSchema := func(s string) string { return strings.Replace(golden, rollover, s, 1) }
	slotsFrom := func(first, rest string) string {
		s := "schemas:\n  rollover:\n    1: " + first + "\n"
		for i := 2; i <= 9; i++ {
			s += "    " + string(rune('0'+i)) + ": " + rest + "\n"
		}
		return s
	}
	tests := []struct {
		name  string
		yaml  string
		keys  softKeys
		check string
	}{
		{"schema too short", strings.Replace(golden, "    9: {publish: [ksk_current, ksk_next], sign: ksk_next}\n", "", 1), nil, signer.CheckSchema},
		{"response num_bundles", golden + "response_policy:\n  num_bundles: 6\n", nil, signer.CheckSchema},
		{"key not yet valid", strings.Replace(golden, "valid_from: 2017-02-02T00:00:00+00:00", "valid_from: 2018-01-05T00:00:00+00:00", 1), nil, signer.CheckKSKValidity},
		{"key no longer valid", strings.Replace(golden, "valid_from: 2017-02-02T00:00:00+00:00", "valid_from: 2017-02-02T00:00:00+00:00\n    valid_until: 2018-02-01T00:00:00+00:00", 1), nil, signer.CheckKSKValidity},
		{"algorithm not covered", strings.Replace(strings.Replace(strings.Replace(strings.Replace(golden,
			"    key_tag: 33946\n    algorithm: RSASHA256\n    rsa_size: 2048\n    rsa_exponent: 65537\n", "    key_tag: 9144\n    algorithm: ECDSAP256SHA256\n", 1),
			"26E0FCF345CC3268FB4EF4FD3A8571EBD5ED55022371A86D01E4D7A94A81F4AB", "A5950C71A9283712C5C9059FD69EB75A38E02A2D49BEA5266B7B09AA959DD7B6", 1),
			"label: ksk-test-2", "label: ksk-ec", 1), "min_validity_overlap: P9D", "min_validity_overlap: P9D", 1),
			testKeys(t, "rsa-2048-1", "ksk-test-1", "ec-prime256v1-1", "ksk-ec"), signer.CheckAlgCoverage},
		{"signature validity", strings.Replace(strings.Replace(golden, "min_signature_validity: P21D", "min_signature_validity: P22D", 1), "max_signature_validity: P21D", "max_signature_validity: P22D", 1), nil, signer.CheckSigValidity},
		{"signer's name", strings.Replace(golden, `signers_name: "."`, `signers_name: "example."`, 1), nil, signer.CheckRRset},
		{"publish safety", strings.Replace(withSchema(slotsFrom("{publish: ksk_current, sign: ksk_current}", "{publish: [ksk_current, ksk_next], sign: ksk_next}")),
			"publish_safety: PT0S", "publish_safety: P15D", 1), nil, signer.CheckPublishSafety},
		{"retire safety", withSchema(slotsFrom("{publish: [ksk_current, ksk_next], sign: ksk_current}", "{publish: ksk_next, sign: ksk_next}")), nil, signer.CheckRetireSafety},
		{"key tag", strings.Replace(golden, "key_tag: 33946", "key_tag: 33947", 1), nil, signer.CheckKSKMatch},
		{"DS", strings.Replace(golden, "26E0FCF345CC", "26E0FCF345CD", 1), nil, signer.CheckKSKMatch},
		{"size", strings.Replace(golden, "rsa_size: 2048\n    rsa_exponent: 65537\n    valid_from: 2017", "rsa_size: 4096\n    rsa_exponent: 65537\n    valid_from: 2017", 1), nil, signer.CheckKSKMatch},
		{"exponent", strings.Replace(golden, "rsa_exponent: 65537\n    valid_from: 2017", "rsa_exponent: 3\n    valid_from: 2017", 1), nil, signer.CheckKSKMatch},
		{"algorithm", golden, testKeys(t, "rsa-2048-1", "ksk-test-1", "ec-prime256v1-1", "ksk-test-2"), signer.CheckKSKMatch},
		{"wrong key under the label", golden, testKeys(t, "rsa-2048-1", "ksk-test-1", "rsa-2048-1", "ksk-test-2"), signer.CheckKSKMatch},
		{"KSR check", strings.Replace(golden, "ksk_policy:\n", "request_policy:\n  num_bundles: 8\nksk_policy:\n", 1), nil, ksr.CheckBundleCount},
	}
	req := loadDoc(t, ksr2018q1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.yaml)
			src := tt.keys
			if src == nil {
				src = goldenKeys(t)
			}
			doc, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: "rollover", KSR: req, At: at2018q1}, signer.SignOptions{})
			if !errors.Is(err, signer.ErrChecksFailed) || doc != nil {
				t.Fatalf("err %v, doc %v", err, doc != nil)
			}
			if !rep.Has(tt.check) {
				t.Errorf("%s not reported:\n%s", tt.check, findings(rep))
			}
			if !strings.Contains(err.Error(), tt.check) {
				t.Errorf("error %v does not name %s", err, tt.check)
			}
		})
	}
}

func findings(r *check.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// TestBindKeysMissingKey: a key the HSM does not have is an error
// wrapping hsm.ErrKeyNotFound, not a finding.
func TestBindKeysMissingKey(t *testing.T) {
	cfg := mustConfig(t, goldenConfig)
	p, rep, err := signer.Prepare(cfg, signer.Options{Schema: "rollover", KSR: loadDoc(t, ksr2018q1), At: at2018q1})
	if err != nil || !rep.Valid() {
		t.Fatalf("%v %v", err, rep)
	}
	if _, err := p.BindKeys(testKeys(t, "rsa-2048-1", "ksk-test-1")); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Errorf("BindKeys: %v", err)
	}
	if _, _, err := p.Sign(context.Background(), signer.SignOptions{}); !errors.Is(err, signer.ErrNotBound) {
		t.Errorf("Sign before BindKeys: %v", err)
	}
	if _, _, err := signer.Prepare(cfg, signer.Options{Schema: "nope", KSR: loadDoc(t, ksr2018q1)}); !errors.Is(err, signer.ErrUnknownSchema) {
		t.Errorf("unknown schema: %v", err)
	}
}

// TestSummary: the plan shows each bundle's ZSKs and KSK actions, with the
// revoked key tag once the keys are bound.
func TestSummary(t *testing.T) {
	cfg := mustParse(t, strings.Replace(string(mustRead(t, goldenConfig)), "    2: {publish: [ksk_current, ksk_next], sign: ksk_next}",
		"    2: {publish: ksk_next, revoke: ksk_current, sign: [ksk_current, ksk_next]}", 1)+"")
	p, _, err := signer.Prepare(cfg, signer.Options{Schema: "rollover", KSR: loadDoc(t, ksr2018q1), At: at2018q1})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Summary()
	if len(s) != 9 || s[0].Index != 1 || len(s[0].ZSKTags) != 2 || len(s[1].KSKs) != 2 {
		t.Fatalf("summary %+v", s)
	}
	if _, err := p.BindKeys(goldenKeys(t)); err != nil {
		t.Fatal(err)
	}
	s = p.Summary()
	for _, k := range s[1].KSKs {
		if k.Name == "ksk_current" && (!k.Revoked || !k.Signs || k.KeyTag != 25614) {
			t.Errorf("revoked key: %+v", k)
		}
	}
}

// TestRolloverRehearsal signs five quarters of synthetic KSRs with the
// standard schemas, each chained to the SKR before, and verifies each SKR
// against trust anchors for both keys.
func TestRolloverRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA ZSKs")
	}
	cfg := mustConfig(t, "../scripts/signer/softhsm-rehearsal.yaml")
	src := testKeys(t, "rsa-2048-1", "ksk-rehearsal-1", "rsa-2048-2", "ksk-rehearsal-2")
	ta := anchorsOf(t, src, cfg)
	var prev *ksr.Document
	for q, schema := range []string{"normal", "pre-publish", "rollover", "revoke", "post-revoke"} {
		req := makeKSR(t, rootQuarter(q+1, quarterStart(q)))
		doc, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: schema, KSR: req, PreviousSKR: prev, At: req.Request.Bundles[0].Inception}, signer.SignOptions{})
		if err != nil {
			t.Fatalf("quarter %d (%s): %v\n%s", q+1, schema, err, findings(rep))
		}
		var want []string
		if q == 0 { // no previous SKR: RFC 5011's hold-down is not proven
			want = []string{"warning bundle #1 ksr-q1-b1 ksk_current"}
		}
		holdDownOnly(t, fmt.Sprintf("quarter %d (%s)", q+1, schema), rep, want...)
		verifySKR(t, doc, req, ta)
		if schema == "revoke" {
			b := doc.Response.Bundles[1]
			var revoked bool
			for _, k := range b.Keys {
				if k.Flags == 385 && k.KeyTag == 25614 {
					revoked = true
				}
			}
			if !revoked || len(b.Signatures) != 2 {
				t.Errorf("revoke bundle 2: %+v", b)
			}
		}
		prev = doc
	}
}

// TestSafetyAcrossQuarters: with the previous SKR, a key that signs the
// first bundle must have been published in its last bundle, and a key that
// signed it must not vanish within retire_safety.
func TestSafetyAcrossQuarters(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA ZSKs")
	}
	cfg := mustConfig(t, "../scripts/signer/softhsm-rehearsal.yaml")
	src := testKeys(t, "rsa-2048-1", "ksk-rehearsal-1", "rsa-2048-2", "ksk-rehearsal-2")
	q1 := makeKSR(t, rootQuarter(1, quarterStart(0)))
	skr1, _, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: "normal", KSR: q1, At: quarterStart(0)}, signer.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q2 := makeKSR(t, rootQuarter(2, quarterStart(1)))
	for schema, want := range map[string]string{
		"post-revoke": signer.CheckPublishSafety, // ksk_next signs bundle 1, never published before
		"rollover+":   signer.CheckPublishSafety,
	} {
		_, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: schema, KSR: q2, PreviousSKR: skr1, At: quarterStart(1)}, signer.SignOptions{})
		if !errors.Is(err, signer.ErrChecksFailed) || !rep.Has(want) {
			t.Errorf("%s: %v\n%s", schema, err, findings(rep))
		}
		if schema == "post-revoke" && !rep.Has(signer.CheckRetireSafety) {
			t.Errorf("%s: ksk_current removed at once, no %s:\n%s", schema, signer.CheckRetireSafety, findings(rep))
		}
	}
	// SIGN-PREVIOUS-KSK: the key that signed the previous SKR is not in
	// the HSM (nor in the configuration's schema).
	only2 := testKeys(t, "rsa-2048-2", "ksk-rehearsal-2")
	p, _, err := signer.Prepare(cfg, signer.Options{Schema: "post-revoke", KSR: q2, PreviousSKR: skr1, At: quarterStart(1)})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.BindKeys(only2)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Has(signer.CheckPreviousKSK) {
		t.Errorf("no %s:\n%s", signer.CheckPreviousKSK, findings(rep))
	}
}

// TestAlgorithmRollover signs the algorithm rollover schemas with an RSA
// and an ECDSA KSK over KSRs whose ZSKs change algorithm in step.
func TestAlgorithmRollover(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA ZSKs")
	}
	cfg := mustConfig(t, "../scripts/signer/algorithm-rollover.yaml")
	src := testKeys(t, "rsa-2048-1", "ksk-rsa", "ec-prime256v1-1", "ksk-ecdsa")
	ta := anchorsOf(t, src, cfg)
	rsaZ := zskRef{"rsa-150", hsm.RSASHA256}
	ecZ := zskRef{"ec-prime256v1-2", hsm.ECDSAP256SHA256}
	layouts := map[string]func(i int) []zskRef{
		"normal":                func(int) []zskRef { return []zskRef{rsaZ} },
		"algorithm-pre-publish": func(i int) []zskRef { return append([]zskRef{rsaZ}, map[bool][]zskRef{true: {ecZ}}[i > 0]...) },
		"algorithm-double-sign": func(int) []zskRef { return []zskRef{rsaZ, ecZ} },
		"algorithm-revoke":      func(i int) []zskRef { return append(map[bool][]zskRef{true: {rsaZ}}[i == 0], ecZ) },
		"post-revoke":           func(int) []zskRef { return []zskRef{ecZ} },
	}
	var prev *ksr.Document
	for q, schema := range []string{"normal", "algorithm-pre-publish", "algorithm-double-sign", "algorithm-revoke", "post-revoke"} {
		req := makeKSR(t, quarterSpec{id: "alg-" + schema, start: quarterStart(q), pop: true, zsks: layouts[schema]})
		doc, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: schema, KSR: req, PreviousSKR: prev, At: quarterStart(q)}, signer.SignOptions{})
		if err != nil {
			t.Fatalf("%s: %v\n%s", schema, err, findings(rep))
		}
		verifySKR(t, doc, req, ta)
		algs := doc.Response.KSKPolicy.Algorithms
		if schema == "algorithm-double-sign" && (len(algs) != 2 || algs[1].Algorithm != 13 || algs[1].Size != 256) {
			t.Errorf("%s: KSK policy algorithms %+v", schema, algs)
		}
		prev = doc
	}
	// The wrong schema for the KSR: ECDSA ZSKs without an ECDSA KSK.
	req := makeKSR(t, quarterSpec{id: "alg-bad", start: quarterStart(9), pop: true, zsks: layouts["algorithm-double-sign"]})
	_, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: "normal", KSR: req, At: quarterStart(9)}, signer.SignOptions{})
	if !errors.Is(err, signer.ErrChecksFailed) || !rep.Has(signer.CheckAlgCoverage) {
		t.Errorf("normal over two algorithms: %v\n%s", err, findings(rep))
	}
}

// TestNonRootZone: for a zone other than the root the RRSIGs carry the
// zone's label count and name, and the SKR verifies.
func TestNonRootZone(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA ZSKs")
	}
	golden := string(mustRead(t, goldenConfig))
	src := goldenKeys(t)
	// A DS digest covers the owner name: the configured ones are the
	// root's.
	for label, old := range map[string]string{"ksk-test-1": "6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C20",
		"ksk-test-2": "26E0FCF345CC3268FB4EF4FD3A8571EBD5ED55022371A86D01E4D7A94A81F4AB"} {
		dk, err := hsm.NewDNSKEY(src[label].Public(), hsm.RSASHA256, hsm.DNSKEYOptions{Owner: "example.org."})
		if err != nil {
			t.Fatal(err)
		}
		golden = strings.Replace(golden, old, dk.ToDS(dns.SHA256).Digest, 1)
	}
	cfg := mustParse(t, strings.Replace(golden, `signers_name: "."`, `signers_name: "example.org."`, 1)+
		"request_policy:\n  acceptable_domains: [example.org.]\n")
	spec := rootQuarter(1, quarterStart(0))
	spec.zone = "example.org."
	req := makeKSR(t, spec)
	doc, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: "rollover", KSR: req, At: quarterStart(0)}, signer.SignOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, findings(rep))
	}
	for _, b := range doc.Response.Bundles {
		for _, s := range b.Signatures {
			if s.Labels != 2 || s.SignersName != "example.org." {
				t.Errorf("bundle %s: labels %d, signer %s", b.ID, s.Labels, s.SignersName)
			}
		}
	}
	r := skr.Verify(doc, skr.VerifyOptions{KSR: req})
	if !r.Valid() {
		t.Errorf("%s", findings(r))
	}
}
