package signer_test

import (
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/signer"
)

// TestMatchKey: the golden configuration's keys match; each changed
// expectation is one SIGN-KSK-MATCH error naming the key.
func TestMatchKey(t *testing.T) {
	keys := goldenKeys(t)
	tests := []struct {
		name   string
		edit   func(*signer.KeyConfig)
		errors int
		msg    string
	}{
		{"match", func(*signer.KeyConfig) {}, 0, ""},
		{"key tag", func(k *signer.KeyConfig) { k.KeyTag++ }, 1, "key tag"},
		{"DS", func(k *signer.KeyConfig) { k.DSSHA256 = strings.Repeat("00", 32) }, 1, "SHA-256 DS"},
		{"size", func(k *signer.KeyConfig) { k.Size = 4096 }, 1, "2048 bits"},
		{"exponent", func(k *signer.KeyConfig) { k.RSAExponent = 3 }, 1, "RSA exponent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustConfig(t, goldenConfig)
			for _, name := range cfg.KeyNames() {
				kc := *cfg.Keys[name]
				tt.edit(&kc)
				s, err := keys.FindKey(kc.Label)
				if err != nil {
					t.Fatal(err)
				}
				dk, rep := signer.MatchKey(cfg, &kc, ".", s)
				if dk == nil || dk.Flags != 257 || dk.Hdr.Name != "." {
					t.Fatalf("%s: DNSKEY %v", name, dk)
				}
				if n := len(rep.ErrorChecks()); (n == 0) != (tt.errors == 0) {
					t.Fatalf("%s: findings %v", name, rep.Findings)
				}
				for _, f := range rep.Findings {
					if f.Check != signer.CheckKSKMatch || !strings.Contains(f.Message, "key "+name+" ") || !strings.Contains(f.Message, tt.msg) {
						t.Errorf("%s: %s", name, f)
					}
				}
				if tt.errors == 0 && dk.KeyTag() != cfg.Keys[name].KeyTag {
					t.Errorf("%s: key tag %d", name, dk.KeyTag())
				}
			}
		})
	}
	// A nil configuration uses the default policy.
	cfg := mustConfig(t, goldenConfig)
	kc := cfg.Keys["ksk_next"]
	s, _ := keys.FindKey(kc.Label)
	if dk, rep := signer.MatchKey(nil, kc, ".", s); dk == nil || !rep.Valid() {
		t.Errorf("nil config: %v %v", dk, rep.Findings)
	}
}
