package signer

import (
	"crypto"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

// MatchKey checks a key found in the HSM under kc's label against its
// configuration, exactly as ksk sign does before signing (SIGN-KSK-MATCH):
// the algorithm ksk recorded for it, its size, its RSA exponent, and the
// key tag and SHA-256 DS of its DNSKEY (flags 257, owned by zone, with
// cfg's KSK TTL). It returns that DNSKEY, nil when the HSM's key cannot be
// kc's algorithm at all, and a report whose errors name every mismatch;
// the key matches when the report is Valid.
func MatchKey(cfg *Config, kc *KeyConfig, zone string, s crypto.Signer) (*dns.DNSKEY, *check.Report) {
	c := &Config{Policy: policy.Default()}
	if cfg != nil && cfg.Policy != nil {
		c = cfg
	}
	p := &Plan{Config: c, zone: dns.CanonicalName(zone)}
	bk := p.match(kc, s)
	r := &check.Report{}
	r.Add(p.findings...)
	return bk.dnskey, r
}
