package ksr

import (
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/policy"
)

// TestValidateRealKSRs: every real root zone KSR validates at its first
// inception, under the root policy from 2017 on and under the legacy policy
// before.
func TestValidateRealKSRs(t *testing.T) {
	tests := []struct {
		file   string
		policy *policy.Policy
		// warnings lists the checks allowed to warn.
		warnings []string
	}{
		{"ksr-root-2009-q4-2.xml", policy.Legacy(), []string{CheckKeyZSKPolicy, CheckSigOverlap}},
		{"ksr-root-2010-q1-0.xml", policy.Legacy(), []string{CheckKeyZSKPolicy, CheckSigOverlap}},
		{"ksr-root-2010-q2-0.xml", policy.Legacy(), []string{CheckKeyZSKPolicy}},
		{"ksr-root-2016-q3-0.xml", policy.Legacy(), nil},
		{"ksr-root-2017-q2-0.xml", policy.Default(), nil},
		{"ksr-root-2018-q1-0-d_to_e.xml", policy.Default(), nil},
		{"ksr-root-2017-q2-0.xml", policy.Legacy(), nil},
		{"ksr-root-2018-q1-0-d_to_e.xml", nil, nil}, // nil: the default policy
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d := vtLoad(t, tt.file)
			r := Validate(d, tt.policy, ValidateOptions{At: vtAt(d)})
			if !r.Valid() {
				vtDump(t, r)
				t.Fatalf("%s rejected: %v", tt.file, r.ErrorChecks())
			}
			for _, f := range r.Findings {
				if !slices.Contains(tt.warnings, f.Check) {
					t.Errorf("unexpected finding %s", f)
				}
			}
		})
	}
}

// TestOldKSRsNeedLegacyPolicy: the root policy rejects the 2009-2016 KSRs
// (RSA-1024, and 23:59:59 bundle ends one second short of their claims).
func TestOldKSRsNeedLegacyPolicy(t *testing.T) {
	for _, file := range []string{"ksr-root-2009-q4-2.xml", "ksr-root-2010-q1-0.xml", "ksr-root-2010-q2-0.xml", "ksr-root-2016-q3-0.xml"} {
		d := vtLoad(t, file)
		r := Validate(d, policy.Default(), ValidateOptions{At: vtAt(d)})
		if r.Valid() || !r.Has(CheckPolicyParams) {
			t.Errorf("%s accepted by the root policy: %v", file, r.ErrorChecks())
		}
	}
}

// TestExponentMismatch2010Q2: ksr-root-2010-q2-0.xml claims exponent 3 for
// keys that use 65537. The mismatch is reported under KSR-KEY-ZSK-POLICY
// only: an error under the root policy's switches, a warning under the
// legacy policy, which turns rsa_exponent_match_zsk_policy off.
func TestExponentMismatch2010Q2(t *testing.T) {
	d := vtLoad(t, "ksr-root-2010-q2-0.xml")
	mismatch := func(r *check.Report) map[string]check.Severity {
		got := map[string]check.Severity{}
		for _, f := range r.Findings {
			if strings.Contains(f.Message, "exponent 65537, but the KSR's ZSK policy claims exponent 3") {
				got[f.Check] = f.Severity
			}
		}
		return got
	}
	legacy := Validate(d, policy.Legacy(), ValidateOptions{At: vtAt(d)})
	if !legacy.Valid() {
		vtDump(t, legacy)
		t.Fatal("rejected under the legacy policy")
	}
	if got := mismatch(legacy); !reflect.DeepEqual(got, map[string]check.Severity{CheckKeyZSKPolicy: check.Warning}) {
		t.Fatalf("legacy: mismatch reported as %v", got)
	}
	strict := policy.Legacy()
	strict.Request.RSAExponentMatchZSKPolicy = true
	r := Validate(d, strict, ValidateOptions{At: vtAt(d)})
	if got := r.ErrorChecks(); !reflect.DeepEqual(got, []string{CheckKeyZSKPolicy}) {
		vtDump(t, r)
		t.Fatalf("rsa_exponent_match_zsk_policy on: ErrorChecks = %v", got)
	}
	if got := mismatch(r); !reflect.DeepEqual(got, map[string]check.Severity{CheckKeyZSKPolicy: check.Error}) {
		t.Fatalf("strict: mismatch reported as %v", got)
	}
}

// TestChain2017: ksr-root-2017-q2-0.xml continues skr-root-2017-q1-0.xml.
// The ZSK policy's MinValidityOverlap changed from P10D to P9D, which is a
// warning.
func TestChain2017(t *testing.T) {
	d := vtLoad(t, "ksr-root-2017-q2-0.xml")
	prev := vtLoad(t, "skr-root-2017-q1-0.xml")
	r := Validate(d, nil, ValidateOptions{At: vtAt(d), PreviousSKR: prev})
	if !r.Valid() {
		vtDump(t, r)
		t.Fatalf("chain rejected: %v", r.ErrorChecks())
	}
	for _, f := range r.Findings {
		if f.Check != CheckChainPolicy || !strings.Contains(f.Message, "MinValidityOverlap from P10D") {
			t.Errorf("unexpected finding %s", f)
		}
	}
}

// TestChain2018DoesNotChain: ksr-root-2018-q1-0-d_to_e.xml follows the
// 2017-q4 SKR, which is not in testdata, not skr-root-2017-q3-0-c_to_d.xml:
// its first bundle (2018-01-01) starts 83 days after that SKR's last one
// expires (2017-10-10), ZSK 41824 was never published there, and ZSK 15768
// published there is gone. Only the chain checks fail.
func TestChain2018DoesNotChain(t *testing.T) {
	d := vtLoad(t, "ksr-root-2018-q1-0-d_to_e.xml")
	prev := vtLoad(t, "skr-root-2017-q3-0-c_to_d.xml")
	r := Validate(d, nil, ValidateOptions{At: vtAt(d), PreviousSKR: prev})
	if got, want := r.ErrorChecks(), []string{CheckChainKeys, CheckChainOverlap}; !reflect.DeepEqual(got, want) {
		vtDump(t, r)
		t.Fatalf("ErrorChecks = %v, want %v", got, want)
	}
	if !strings.Contains(r.Findings[0].Message+r.Findings[1].Message+r.Findings[2].Message, "gap of P83D") {
		vtDump(t, r)
		t.Error("the gap is not named")
	}
}

// TestChainWithOwnSKR: a KSR checked against its own SKR is a replay.
func TestChainWithOwnSKR(t *testing.T) {
	d := vtLoad(t, "ksr-root-2017-q2-0.xml")
	prev := vtLoad(t, "skr-root-2017-q2-0.xml")
	r := Validate(d, nil, ValidateOptions{At: vtAt(d), PreviousSKR: prev})
	for _, id := range []string{CheckID, CheckBundleUnique, CheckChainKeys, CheckChainOverlap} {
		if !r.Has(id) {
			t.Errorf("%s not reported", id)
		}
	}
}

func TestValidateNotAKSR(t *testing.T) {
	skr := vtLoad(t, "skr-root-2017-q1-0.xml")
	for _, d := range []*Document{nil, skr} {
		r := Validate(d, nil, ValidateOptions{})
		if got := r.ErrorChecks(); !reflect.DeepEqual(got, []string{CheckParse}) {
			t.Errorf("ErrorChecks = %v", got)
		}
	}
	ksr := vtLoad(t, "ksr-root-2017-q2-0.xml")
	r := Validate(ksr, nil, ValidateOptions{At: vtAt(ksr), PreviousSKR: vtLoad(t, "ksr-root-2010-q1-0.xml")})
	if !r.Has(CheckChainPrevious) {
		t.Error("a KSR given as the previous SKR is not reported")
	}
}

// TestValidateDefaultTimeIsNow: without At, the 2017 KSR has long expired.
func TestValidateDefaultTimeIsNow(t *testing.T) {
	d := vtLoad(t, "ksr-root-2017-q2-0.xml")
	r := Validate(d, nil, ValidateOptions{})
	if got := r.ErrorChecks(); !reflect.DeepEqual(got, []string{CheckSigHorizon}) {
		t.Fatalf("ErrorChecks = %v", got)
	}
	if !strings.Contains(r.Findings[0].Message, "expired") {
		t.Fatal(r.Findings[0])
	}
}

// TestFindingsNameBundleAndRule: every finding about a bundle names its
// index and id in the message, and its Where.
func TestFindingsNameBundleAndRule(t *testing.T) {
	d := vtLoad(t, "ksr-root-2010-q1-0.xml")
	r := Validate(d, policy.Default(), ValidateOptions{At: vtAt(d).Add(-time.Hour * 24 * 365)})
	if len(r.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range r.Findings {
		if !strings.HasPrefix(f.Where, "bundle #") {
			continue
		}
		var idx int
		var id string
		for i, b := range d.Request.Bundles {
			if strings.Contains(f.Where, b.ID) {
				idx, id = i+1, b.ID
			}
		}
		if id == "" || !strings.Contains(f.Message, "bundle #"+strconv.Itoa(idx)+" ("+id+")") {
			t.Errorf("finding does not name its bundle: %s", f)
		}
	}
}

func TestCheckIDsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, id := range CheckIDs() {
		if seen[id] || !strings.HasPrefix(id, "KSR-") {
			t.Errorf("bad or duplicate check ID %q", id)
		}
		seen[id] = true
	}
}

// TestChecksDocumented: docs/checks.md has a table row for every check ID.
func TestChecksDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range CheckIDs() {
		if !strings.Contains(string(doc), "| `"+id+"` |") {
			t.Errorf("docs/checks.md has no row for %s", id)
		}
	}
}
