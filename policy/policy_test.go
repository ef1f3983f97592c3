package policy

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDefaultIsRootZonePolicy(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	r := p.Request
	checks := []struct {
		name      string
		got, want any
	}{
		{"num_bundles", r.NumBundles, IntChoice{9}},
		{"approved_algorithms", r.ApprovedAlgorithms, []string{"RSASHA256"}},
		{"rsa_approved_key_sizes", r.RSAApprovedKeySizes, []int{2048}},
		{"rsa_approved_exponents", r.RSAApprovedExponents, []int{65537}},
		{"min_bundle_interval", r.MinBundleInterval.Std(), 9 * day},
		{"max_bundle_interval", r.MaxBundleInterval.Std(), 11 * day},
		{"signature_horizon_days", r.SignatureHorizonDays, 180},
		{"ksk.min_signature_validity", p.KSK.MinSignatureValidity.Std(), 21 * day},
		{"ksk.max_signature_validity", p.KSK.MaxSignatureValidity.Std(), 21 * day},
		{"ksk.min_validity_overlap", p.KSK.MinValidityOverlap.Std(), 9 * day},
		{"ksk.max_validity_overlap", p.KSK.MaxValidityOverlap.Std(), 16 * day},
		{"key ttl", p.KeyTTL(), uint32(172800)},
		{"acceptable_domains", r.AcceptableDomains, []string{"."}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Every switch is on by default, except enable_unsupported_ecdsa.
	v := reflect.ValueOf(r)
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type.Kind() == reflect.Bool && f.Name != "EnableUnsupportedECDSA" && !v.Field(i).Bool() {
			t.Errorf("request.%s is off by default", f.Name)
		}
	}
}

func TestLegacyValidates(t *testing.T) {
	p := Legacy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Request.ExpirationSlack.Std() != time.Second || p.Request.RSAExponentMatchZSKPolicy {
		t.Fatalf("legacy policy: %+v", p.Request)
	}
}

func TestCloneIsDeep(t *testing.T) {
	p := Default()
	c := p.Clone()
	c.Request.NumKeysPerBundle[0] = 7
	c.Request.ApprovedAlgorithms[0] = "ED25519"
	if p.Request.NumKeysPerBundle[0] != 2 || p.Request.ApprovedAlgorithms[0] != "RSASHA256" {
		t.Fatal("Clone shares slices")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Policy)
		path   string
	}{
		{"interval min above max", func(p *Policy) { p.Request.MinBundleInterval = days(12) }, "request.min_bundle_interval"},
		{"cycle min above max", func(p *Policy) { p.Request.MinCycleInceptionLength = days(90) }, "request.min_cycle_inception_length"},
		{"validity min above max", func(p *Policy) { p.KSK.MinSignatureValidity = days(30) }, "ksk.min_signature_validity"},
		{"overlap min above max", func(p *Policy) { p.KSK.MinValidityOverlap = days(30) }, "ksk.min_validity_overlap"},
		{"unknown algorithm", func(p *Policy) { p.Request.ApprovedAlgorithms = []string{"RSASHA257"} }, "request.approved_algorithms"},
		{"no algorithms", func(p *Policy) { p.Request.ApprovedAlgorithms = nil }, "request.approved_algorithms"},
		{"zero bundles", func(p *Policy) { p.Request.NumBundles = IntChoice{0} }, "request.num_bundles"},
		{"no bundle count", func(p *Policy) { p.Request.NumBundles = nil }, "request.num_bundles"},
		{"bad domain", func(p *Policy) { p.Request.AcceptableDomains = []string{"a..b"} }, "request.acceptable_domains"},
		{"no domain", func(p *Policy) { p.Request.AcceptableDomains = nil }, "request.acceptable_domains"},
		{"horizon", func(p *Policy) { p.Request.SignatureHorizonDays = 0 }, "request.signature_horizon_days"},
		{"rsa size", func(p *Policy) { p.Request.RSAApprovedKeySizes = []int{70000} }, "request.rsa_approved_key_sizes"},
		{"rsa exponent", func(p *Policy) { p.Request.RSAApprovedExponents = []int{-3} }, "request.rsa_approved_exponents"},
		{"zero max validity", func(p *Policy) { p.KSK.MaxSignatureValidity = 0; p.KSK.MinSignatureValidity = 0 }, "ksk.max_signature_validity"},
		{"signers name", func(p *Policy) { p.KSK.SignersName = "" }, "ksk.signers_name"},
		{"keys per bundle", func(p *Policy) { p.Request.NumKeysPerBundle = []int{0} }, "request.num_keys_per_bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			tt.mutate(p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if !contains(err.Error(), tt.path) {
				t.Fatalf("error %q does not name %s", err, tt.path)
			}
		})
	}
}

func TestAlgorithmNames(t *testing.T) {
	for _, name := range []string{"RSASHA256", "RSASHA512", "ECDSAP256SHA256", "ED25519", "DSA_NSEC3_SHA1", "DSA-NSEC3-SHA1"} {
		n, ok := AlgorithmNumber(name)
		if !ok {
			t.Errorf("AlgorithmNumber(%q) not found", name)
			continue
		}
		if back, _ := AlgorithmNumber(AlgorithmName(n)); back != n {
			t.Errorf("AlgorithmName(%d) = %q does not map back", n, AlgorithmName(n))
		}
	}
	if _, ok := AlgorithmNumber("RSA-SHA256x"); ok {
		t.Error("unknown name accepted")
	}
	for _, n := range []uint8{1, 3, 5, 6, 7, 12} {
		if !DeprecatedAlgorithm(n) || SupportedAlgorithm(n) {
			t.Errorf("algorithm %d: deprecated %v supported %v", n, DeprecatedAlgorithm(n), SupportedAlgorithm(n))
		}
	}
	for _, n := range []uint8{8, 10, 13, 14, 15} {
		if DeprecatedAlgorithm(n) || !SupportedAlgorithm(n) {
			t.Errorf("algorithm %d: deprecated %v supported %v", n, DeprecatedAlgorithm(n), SupportedAlgorithm(n))
		}
	}
	if AlgorithmName(200) != "ALG200" {
		t.Error(AlgorithmName(200))
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
