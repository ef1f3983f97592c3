package signer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/signer"
)

func mustDate(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestPlanRollover: the quarters and dates of planned rollovers, and the
// refusals.
func TestPlanRollover(t *testing.T) {
	rehearsal := string(mustRead(t, "../scripts/signer/softhsm-rehearsal.yaml"))
	algorithm := string(mustRead(t, "../scripts/signer/algorithm-rollover.yaml"))
	start := mustDate("2031-01-01")
	tests := []struct {
		name   string
		config string
		opts   signer.RolloverOptions
		// want is the schema of each quarter; dates are publish, rollover,
		// revoke and remove.
		want     string
		dates    [4]string
		replaced []string
		warn     string
		err      error
		errText  string
	}{
		{name: "standard", config: rehearsal, opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: start},
			want:  "pre-publish rollover revoke post-revoke",
			dates: [4]string{"2031-01-11", "2031-04-11", "2031-07-10", "2031-09-18"}},
		{name: "three quarters of publication", config: rehearsal, opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: start, PublishQuarters: 3},
			want:  "pre-publish publish+ publish+ rollover revoke post-revoke",
			dates: [4]string{"2031-01-11", "2031-10-08", "2032-01-06", "2032-03-16"}},
		{name: "short bundles need more quarters for the hold-down", config: rehearsal,
			opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: start, Interval: 2 * day},
			// 18-day quarters: publication on day 2, the hold-down ends on
			// day 32, so the rollover waits for slot 2 of quarter 3 (day 38).
			want:  "pre-publish publish+ rollover revoke post-revoke",
			dates: [4]string{"2031-01-03", "2031-02-08", "2031-02-26", "2031-03-12"},
			warn:  "published revoked for only P14D"},
		{name: "backwards", config: rehearsal, opts: signer.RolloverOptions{Current: "ksk_next", Next: "ksk_current", Start: start, Slots: 4},
			// 40-day quarters: the rollover is 40 days after publication.
			want:  "pre-publish rollover revoke post-revoke",
			dates: [4]string{"2031-01-11", "2031-02-20", "2031-04-01", "2031-04-21"},
			warn:  "published revoked for only P20D"},
		{name: "algorithm rollover", config: algorithm, opts: signer.RolloverOptions{Current: "ksk_rsa", Next: "ksk_ecdsa", Start: start},
			want:  "algorithm-pre-publish algorithm-revoke post-revoke",
			dates: [4]string{"2031-01-11", "2031-04-11", "2031-04-11", "2031-06-20"}},
		{name: "algorithm rollover, two quarters of double signing", config: algorithm,
			opts:  signer.RolloverOptions{Current: "ksk_rsa", Next: "ksk_ecdsa", Start: start, PublishQuarters: 3},
			want:  "algorithm-pre-publish algorithm-double-sign algorithm-double-sign algorithm-revoke post-revoke",
			dates: [4]string{"2031-01-11", "2031-10-08", "2031-10-08", "2031-12-17"}},
		{name: "schemas of the same name replaced", config: strings.Replace(rehearsal, "\nstandard_schemas:\n  current: ksk_current\n  next: ksk_next\n", "\nschemas:\n  normal:\n    1: {publish: ksk_current, sign: ksk_current}\n    2: {publish: ksk_current, sign: ksk_current}\n    3: {publish: ksk_current, sign: ksk_current}\n  custom:\n    1: {publish: ksk_next, sign: ksk_next}\n    2: {publish: ksk_next, sign: ksk_next}\n    3: {publish: ksk_next, sign: ksk_next}\n", 1),
			opts:     signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: start},
			want:     "pre-publish rollover revoke post-revoke",
			dates:    [4]string{"2031-01-11", "2031-04-11", "2031-07-10", "2031-09-18"},
			replaced: []string{"normal"}},
		{name: "unknown key", config: rehearsal, opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_2040", Start: start},
			err: signer.ErrPlan, errText: `no key "ksk_2040" (it has ksk_current, ksk_next)`},
		{name: "same key", config: rehearsal, opts: signer.RolloverOptions{Current: "ksk_next", Next: "ksk_next", Start: start},
			err: signer.ErrPlan, errText: "the same key"},
		{name: "no start", config: rehearsal, opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next"},
			err: signer.ErrPlan, errText: "no start"},
		{name: "too few slots", config: rehearsal, opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: start, Slots: 2},
			err: signer.ErrPlan, errText: "at least 3"},
		{name: "next not valid when published", config: strings.Replace(rehearsal, "valid_from: 2010-07-15T00:00:00Z\n    ds_sha256: 26E0", "valid_from: 2031-02-01T00:00:00Z\n    ds_sha256: 26E0", 1),
			opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: start},
			err:  signer.ErrPlan, errText: "key ksk_next is valid from 2031-02-01T00:00:00Z"},
		{name: "a configuration that does not load", config: rehearsal + "bogus: 1\n", opts: signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: start},
			err: signer.ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := signer.PlanRollover([]byte(tc.config), tc.opts)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("got %v, want %v saying %q", err, tc.err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := p.Schedule
			var got []string
			for i, q := range s.Quarters {
				got = append(got, q.Schema)
				if q.Quarter != i+1 || i > 0 && !q.Start.After(s.Quarters[i-1].Start) {
					t.Errorf("quarter %d: %+v", i+1, q)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("quarters %v, want %s", got, tc.want)
			}
			d := s.Dates
			for i, g := range []time.Time{d.Publish, d.Rollover, d.Revoke, d.Remove} {
				if g.Format(time.DateOnly) != tc.dates[i] {
					t.Errorf("dates publish, rollover, revoke, remove = %s %s %s %s, want %v", day0(d.Publish), day0(d.Rollover), day0(d.Revoke), day0(d.Remove), tc.dates)
					break
				}
			}
			if d.HoldDownEnds.Sub(d.Publish) != signer.AddHoldDown || d.Rollover.Sub(d.Publish) < signer.AddHoldDown {
				t.Errorf("hold-down: publish %s, ends %s, rollover %s", d.Publish, d.HoldDownEnds, d.Rollover)
			}
			if strings.Join(s.ReplacedSchemas, " ") != strings.Join(tc.replaced, " ") {
				t.Errorf("replaced %v, want %v", s.ReplacedSchemas, tc.replaced)
			}
			if (tc.warn == "") != (len(s.Warnings) == 0) || tc.warn != "" && !strings.Contains(strings.Join(s.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q, want %q", s.Warnings, tc.warn)
			}
			// The configuration loads with every schema of the schedule, and
			// the schedule file reads back.
			cfg, err := signer.ParseConfig(p.Config)
			if err != nil {
				t.Fatalf("planned configuration: %v\n%s", err, p.Config)
			}
			for _, q := range s.Quarters {
				if _, err := cfg.Schema(q.Schema); err != nil {
					t.Error(err)
				}
			}
			back, err := signer.ParseSchedule(p.ScheduleData)
			if err != nil || back.ConfigSHA256 != s.ConfigSHA256 || len(back.Quarters) != len(s.Quarters) {
				t.Errorf("schedule does not read back: %v\n%s", err, p.ScheduleData)
			}
			if first, _, _ := strings.Cut(tc.config, "\n"); !strings.HasPrefix(string(p.Config), first+"\n") {
				t.Errorf("the planned configuration lost the input's first comment %q", first)
			}
			if _, err := cfg.Schema("custom"); tc.replaced != nil && err != nil {
				t.Errorf("a schema of another name was not kept: %v", err)
			}
		})
	}
}

func day0(t time.Time) string { return t.Format(time.DateOnly) }

// TestPlannedRolloverSigns signs a normal quarter, then every quarter of
// the plan with its schema and the previous SKR: each passes every check
// (SIGN-RFC5011-HOLDDOWN included) and verifies against both trust
// anchors.
func TestPlannedRolloverSigns(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA ZSKs")
	}
	data := mustRead(t, "../scripts/signer/softhsm-rehearsal.yaml")
	src := testKeys(t, "rsa-2048-1", "ksk-rehearsal-1", "rsa-2048-2", "ksk-rehearsal-2")
	cfg := mustConfig(t, "../scripts/signer/softhsm-rehearsal.yaml")
	ta := anchorsOf(t, src, cfg)
	q0 := makeKSR(t, rootQuarter(1, quarterStart(0)))
	prev, rep, err := signer.Sign(context.Background(), cfg, src, signer.Options{Schema: "normal", KSR: q0, At: quarterStart(0)}, signer.SignOptions{})
	if err != nil {
		t.Fatalf("normal: %v\n%s", err, findings(rep))
	}
	for _, publish := range []int{1, 2} {
		plan, err := signer.PlanRollover(data, signer.RolloverOptions{Current: "ksk_current", Next: "ksk_next", Start: quarterStart(1), PublishQuarters: publish})
		if err != nil {
			t.Fatal(err)
		}
		planned, err := signer.ParseConfig(plan.Config)
		if err != nil {
			t.Fatal(err)
		}
		p := prev
		for _, q := range plan.Schedule.Quarters {
			req := makeKSR(t, rootQuarter(q.Quarter+1, q.Start))
			doc, rep, err := signer.Sign(context.Background(), planned, src, signer.Options{Schema: q.Schema, KSR: req, PreviousSKR: p, At: q.Start}, signer.SignOptions{})
			if err != nil {
				t.Fatalf("publish quarters %d, quarter %d (%s): %v\n%s", publish, q.Quarter, q.Schema, err, findings(rep))
			}
			if len(rep.Findings) > 0 {
				t.Errorf("quarter %d (%s): findings\n%s", q.Quarter, q.Schema, findings(rep))
			}
			verifySKR(t, doc, req, ta)
			p = doc
		}
	}
}

// TestAddKey: a key read from its public key joins a configuration,
// pinned by key tag and DS, and matches the key (SIGN-KSK-MATCH); with the
// standard schemas from the configuration's key to it, post-revoke signs
// with it alone.
func TestAddKey(t *testing.T) {
	data := mustRead(t, "../scripts/signer/softhsm-rehearsal.yaml")
	for _, tc := range []struct {
		test string
		alg  hsm.Algorithm
		tag  uint16
		size int
	}{
		{"ec-prime256v1-1", hsm.ECDSAP256SHA256, 9144, 256},
		{"ed25519-1", hsm.ED25519, 54100, 256},
		{"ec-secp384r1-1", hsm.ECDSAP384SHA384, 44078, 384},
	} {
		t.Run(tc.test, func(t *testing.T) {
			k := softhsmtest.LoadTestKey(t, tc.test)
			kc, err := signer.NewKeyConfig("ksk_new", "new-label", k.Public(), tc.alg, ".", mustDate("2031-01-01"))
			if err != nil {
				t.Fatal(err)
			}
			if kc.KeyTag != tc.tag || kc.Size != tc.size || len(kc.DSSHA256) != 64 {
				t.Errorf("key config %+v", kc)
			}
			withKey, err := signer.AddKey(data, kc)
			if err != nil {
				t.Fatal(err)
			}
			out, replaced, err := signer.WithStandardSchemas(withKey, "ksk_current", "ksk_new", 0)
			if err != nil || len(replaced) != 0 {
				t.Fatalf("%v %v", err, replaced)
			}
			cfg, err := signer.ParseConfig(out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if _, rep := signer.MatchKey(cfg, cfg.Keys["ksk_new"], ".", k); !rep.Valid() {
				t.Errorf("SIGN-KSK-MATCH:\n%s", findings(rep))
			}
			s, err := cfg.Schema("post-revoke")
			if err != nil || s.Slots[0].Sign[0] != "ksk_new" {
				t.Errorf("post-revoke %+v %v", s, err)
			}
			if _, err := signer.AddKey(out, kc); !errors.Is(err, signer.ErrInvalid) {
				t.Errorf("the same key twice: %v", err)
			}
		})
	}
	kc, _ := signer.NewKeyConfig("ksk_other", "ksk-rehearsal-1", softhsmtest.LoadTestKey(t, "rsa-2048-1").Public(), hsm.RSASHA256, ".", mustDate("2031-01-01"))
	if _, err := signer.AddKey(data, kc); !errors.Is(err, signer.ErrInvalid) || !strings.Contains(err.Error(), "already has label") {
		t.Errorf("a label already used: %v", err)
	}
	if _, err := signer.NewKeyConfig("bad name!", "l", softhsmtest.LoadTestKey(t, "rsa-2048-1").Public(), hsm.RSASHA256, ".", time.Time{}); !errors.Is(err, signer.ErrInvalid) {
		t.Errorf("a bad name: %v", err)
	}
}

func TestSchedulePath(t *testing.T) {
	for in, want := range map[string]string{"rollover.yaml": "rollover.schedule.yaml", "out/r.yml": "out/r.schedule.yaml", "plain": "plain.schedule.yaml"} {
		if got := signer.SchedulePath(in); got != want {
			t.Errorf("SchedulePath(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := signer.ParseSchedule([]byte("format: other\n")); !errors.Is(err, signer.ErrInvalid) {
		t.Errorf("another format: %v", err)
	}
	if _, err := signer.ParseSchedule([]byte("format: ksk-rollover-schedule-v1\nbogus: 1\n")); !errors.Is(err, signer.ErrSyntax) {
		t.Errorf("an unknown field: %v", err)
	}
}
