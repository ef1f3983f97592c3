package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/ksk-dev/ksk/internal/rfc5011"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// The rehearsal's KSKs: the fixed test keys rsa-2048-1 (old) and
// rsa-2048-2 (new), whose key tags and DS digests are facts of
// softhsm-testdata/.
const (
	rehearsalOldLabel = "ksk-old"
	rehearsalNewLabel = "ksk-new"
	rehearsalOldDS    = "6E7DF8A5D641564597B4E1B598B21A301C07A66A79E6A8ECBB43A31D20E89C20"
	rehearsalNewDS    = "26E0FCF345CC3268FB4EF4FD3A8571EBD5ED55022371A86D01E4D7A94A81F4AB"
)

// rehearsalConfig is the signer configuration of the rehearsal: the two
// KSKs and the standard schemas from ksk_old to ksk_new. The HSM comes
// from the environment (softhsmtest.Token.Setenv).
func rehearsalConfig(oldTag, newTag uint16) string {
	key := func(name, label string, tag uint16, ds string) string {
		return fmt.Sprintf("  %s:\n    label: %s\n    algorithm: RSASHA256\n    rsa_size: 2048\n    rsa_exponent: 65537\n"+
			"    key_tag: %d\n    ds_sha256: %s\n    valid_from: 2020-01-01T00:00:00Z\n", name, label, tag, ds)
	}
	return "keys:\n" + key("ksk_old", rehearsalOldLabel, oldTag, rehearsalOldDS) +
		key("ksk_new", rehearsalNewLabel, newTag, rehearsalNewDS) +
		"standard_schemas:\n  current: ksk_old\n  next: ksk_new\n" + publishRevokeSchema
}

// publishRevokeSchema is wrong on purpose, for ksk rollover check: the new
// KSK is published in slot 1 and the old one revoked from slot 2, in the
// same quarter, long before RFC 5011 resolvers accept the new one.
const publishRevokeSchema = `schemas:
  publish-revoke:
    1: {publish: [ksk_old, ksk_new], sign: ksk_old}
    2: &pr {publish: ksk_new, revoke: ksk_old, sign: [ksk_old, ksk_new]}
    3: *pr
    4: *pr
    5: *pr
    6: *pr
    7: *pr
    8: *pr
    9: {publish: ksk_new, sign: ksk_new}
`

// TestRehearsedRollover rehearses a KSK rollover across five quarters on a
// fresh SoftHSM token, as issue 4 §7 asks. For each quarter, ksk ksr
// create makes the KSR from three ZSKs in the HSM (retiring, current,
// next; each KSR after the first continues the previous SKR), ksk ksr
// verify checks it (with the previous SKR: the chain), ksk sign signs it
// with the quarter's standard schema (normal, pre-publish, rollover,
// revoke, post-revoke) and --previous-skr (chain and safety checks), and
// ksk skr verify checks the SKR against the KSR and the KSKs' DS records.
// Then the RFC 5011 simulation replays the 45 bundles to a resolver that
// trusts only the old KSK: it must accept the new one (30-day add
// hold-down) before the new one signs alone and before the old one is
// revoked, accept the revocation, and never lose trust.
func TestRehearsedRollover(t *testing.T) {
	if testing.Short() {
		t.Skip("signs five quarters on SoftHSM")
	}
	tk := softhsmtest.NewToken(t)
	tk.Setenv(t)
	oldKey := tk.ImportTestKey(t, "rsa-2048-1", rehearsalOldLabel)
	newKey := tk.ImportTestKey(t, "rsa-2048-2", rehearsalNewLabel)
	// Seven ZSKs: quarter q publishes zsk-q, zsk-q+1, zsk-q+2.
	zsks := make([]string, 7)
	for i := range zsks {
		zsks[i] = fmt.Sprintf("zsk-%d", i+1)
		mustRun(t, tk, "keys", "generate", "--label", zsks[i], "--algorithm", "RSASHA256", "--flags", "256")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "signer.yaml")
	anchors := filepath.Join(dir, "anchors.ds")
	writeRehearsalFile(t, config, rehearsalConfig(oldKey.KeyTag, newKey.KeyTag))
	writeRehearsalFile(t, anchors, fmt.Sprintf(". IN DS %d 8 2 %s\n. IN DS %d 8 2 %s\n",
		oldKey.KeyTag, rehearsalOldDS, newKey.KeyTag, rehearsalNewDS))

	schemas := []string{"normal", "pre-publish", "rollover", "revoke", "post-revoke"}
	start := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	var skrs []rfc5011.SKR
	var skrFiles, ksrFiles []string
	prev := ""
	for q, schema := range schemas {
		name := fmt.Sprintf("q%d-%s", q+1, schema)
		ksrFile := filepath.Join(dir, "ksr-"+name+".xml")
		skrFile := filepath.Join(dir, "skr-"+name+".xml")
		create := []string{"ksr", "create", "--zsk", zsks[q], "--zsk", zsks[q+1], "--zsk", zsks[q+2], "--out", ksrFile}
		if prev == "" {
			create = append(create, "--start", start.Format(time.RFC3339))
		} else {
			create = append(create, "--previous-skr", prev)
		}
		mustRun(t, tk, create...)
		k, err := ksr.ParseFile(ksrFile, ksr.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		at := k.Request.Bundles[0].Inception.Format(time.RFC3339)
		sign := []string{"sign", "--config", config, "--schema", schema, "--ksr", ksrFile, "--at", at, "--out", skrFile, "--yes"}
		verify := []string{"skr", "verify", "--ksr", ksrFile, "--anchors", anchors, "--at", at, skrFile}
		check := []string{"ksr", "verify", "--at", at, ksrFile}
		if prev != "" {
			sign = append(sign, "--previous-skr", prev)
			check = append(check, "--previous-skr", prev)
		}
		mustRun(t, tk, check...)
		mustRun(t, tk, sign...)
		if out := mustRun(t, tk, verify...); !strings.Contains(out, "VALID") {
			t.Fatalf("%s: skr verify:\n%s", name, out)
		}
		doc, err := ksr.ParseFile(skrFile, ksr.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		skrs = append(skrs, rfc5011.SKR{Name: name, Doc: doc})
		skrFiles, ksrFiles = append(skrFiles, skrFile), append(ksrFiles, ksrFile)
		prev = skrFile
	}

	tl, err := rfc5011.FromSKRs(skrs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl) != 45 {
		t.Fatalf("%d bundles served, want 45", len(tl))
	}
	if g := tl.Gaps(); len(g) != 0 {
		t.Errorf("the quarters leave gaps: %v", g)
	}
	oldDNSKEY := rehearsalKSK(t, skrs[0].Doc, oldKey.KeyTag)
	r, err := rfc5011.NewResolver(".", rfc5011.Params{}, oldDNSKEY)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := r.Run(tl, rfc5011.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", tr.Summary())
	if tr.Lost() {
		t.Errorf("the resolver lost trust:\n%s", tr.Summary())
	}

	firstSeen, ok := tr.First(newKey.KeyTag, rfc5011.AddPend)
	if !ok {
		t.Fatal("the new KSK was never seen")
	}
	valid, ok := tr.First(newKey.KeyTag, rfc5011.Valid)
	if !ok {
		t.Fatal("the new KSK never became a trust anchor")
	}
	if d := valid.At.Sub(firstSeen.At); d < rfc5011.DefaultAddHoldDown {
		t.Errorf("the new KSK was accepted %s after it was first seen, before the add hold-down", d)
	}
	revoked, ok := tr.First(oldKey.KeyTag, rfc5011.Revoked)
	if !ok {
		t.Fatal("the resolver never saw the old KSK revoked")
	}
	soleNew := firstSoleSigner(t, tl, newKey.KeyTag)
	if !valid.At.Before(revoked.At) || valid.At.After(soleNew) {
		t.Errorf("the new KSK became Valid at %s; it signs alone from %s and the old one is revoked at %s",
			valid.At, soleNew, revoked.At)
	}
	// The schedule of the standard schemas, quarter by quarter (90 days).
	day := func(n int) time.Time { return start.Add(time.Duration(n) * 24 * time.Hour) }
	for _, w := range []struct {
		what      string
		got, want time.Time
	}{
		{"new KSK first seen (pre-publish slot 2)", firstSeen.At, day(100)},
		{"new KSK Valid (30 days later)", valid.At, day(130)},
		{"new KSK signs alone (rollover slot 2)", soleNew, day(190)},
		{"old KSK revoked (revoke slot 2)", revoked.At, day(280)},
	} {
		if !w.got.Equal(w.want) {
			t.Errorf("%s at %s, want %s", w.what, w.got.Format(time.RFC3339), w.want.Format(time.RFC3339))
		}
	}
	final := map[uint16]rfc5011.State{}
	for _, k := range tr.Final {
		final[k.KeyTag] = k.State
	}
	if final[newKey.KeyTag] != rfc5011.Valid || (final[oldKey.KeyTag] != rfc5011.Revoked && final[oldKey.KeyTag] != rfc5011.Removed) {
		t.Errorf("final states %v", tr.Final)
	}

	// Control: a resolver that trusts only the old KSK and comes online at
	// the rollover quarter (so missed the pre-publication) loses trust
	// when the new KSK starts signing alone.
	late, err := rfc5011.NewResolver(".", rfc5011.Params{}, oldDNSKEY)
	if err != nil {
		t.Fatal(err)
	}
	ltr, err := late.Run(tl, rfc5011.RunOptions{From: day(180)})
	if err != nil {
		t.Fatal(err)
	}
	if !ltr.Lost() || !ltr.Losses[0].At.Equal(day(190)) {
		t.Errorf("a resolver that missed the pre-publication: %s", ltr.Summary())
	}

	rolloverCheckRehearsal(t, tk, rolloverRehearsal{dir: dir, config: config, anchors: anchors,
		skrs: skrFiles, ksrs: ksrFiles, start: start, oldTag: oldKey.KeyTag, newTag: newKey.KeyTag})
}

// rehearsalKSK returns the KSK with this key tag from the first bundle of
// an SKR.
func rehearsalKSK(t *testing.T, doc *ksr.Document, tag uint16) *dns.DNSKEY {
	t.Helper()
	for i := range doc.Response.Bundles[0].Keys {
		if k := &doc.Response.Bundles[0].Keys[i]; k.KeyTag == tag && k.IsKSK() {
			return k.DNSKEY(doc.Domain)
		}
	}
	t.Fatalf("no KSK %d in the first bundle", tag)
	return nil
}

// firstSoleSigner returns the start of the first served RRset signed by
// the key with this tag alone.
func firstSoleSigner(t *testing.T, tl rfc5011.Timeline, tag uint16) time.Time {
	t.Helper()
	for _, s := range tl {
		if len(s.Sigs) == 1 && s.Sigs[0].KeyTag == tag {
			return s.From
		}
	}
	t.Fatalf("key %d never signs alone", tag)
	return time.Time{}
}

func writeRehearsalFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
