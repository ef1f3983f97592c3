package ksr

import (
	"reflect"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/policy"
	"github.com/miekg/dns"
)

const day = 24 * time.Hour

// mutation is one change to the real files that breaks exactly one rule.
type mutation struct {
	name  string
	check string // the only check that must fail
	// ksr changes ksr-root-2017-q2-0.xml; prev, when set, changes
	// skr-root-2017-q1-0.xml and validates the chain against it.
	ksr  func(t *testing.T, d *Document)
	prev func(t *testing.T, s *Document)
	// policy adjusts the root policy where the broken rule would otherwise
	// drag a neighbouring rule along (a fixed 21-day validity ties overlaps
	// to intervals); opts adjusts the options.
	policy func(p *policy.Policy)
	opts   func(o *ValidateOptions)
}

func mutations() []mutation {
	return []mutation{
		{name: "domain not acceptable", check: CheckDomain, ksr: func(t *testing.T, d *Document) {
			d.Domain = "example."
			vtResign(t, d, 2048)
		}},
		{name: "KSR id with spaces", check: CheckID, ksr: func(t *testing.T, d *Document) { d.ID = "not a uuid" }},
		{name: "KSR id is the previous SKR's", check: CheckID, prev: func(t *testing.T, s *Document) { s.ID = "23e34059-7725-46a8-a7d2-662d657aab2b" }},
		{name: "two bundles with one id", check: CheckBundleUnique, ksr: func(t *testing.T, d *Document) {
			d.Request.Bundles[3].ID = d.Request.Bundles[2].ID
		}},
		{name: "bundle id reused from the previous SKR", check: CheckBundleUnique, prev: func(t *testing.T, s *Document) {
			s.Response.Bundles[4].ID = "3ea61ea1-43ca-47ce-a9c4-1e5799fb13b7"
		}},
		{name: "eight bundles", check: CheckBundleCount,
			ksr: func(t *testing.T, d *Document) { d.Request.Bundles = d.Request.Bundles[:8] },
			policy: func(p *policy.Policy) {
				p.Request.NumKeysPerBundle = []int{2, 1, 1, 1, 1, 1, 1, 1}
				p.Request.NumDifferentKeysInAllBundles = policy.IntChoice{2}
				p.Request.MinCycleInceptionLength = policy.Duration(70 * day)
			}},
		{name: "one keyIdentifier, two keys", check: CheckBundleKeys,
			ksr: func(t *testing.T, d *Document) {
				// ZSK 15768 in the last bundle takes ZSK 61045's identifier.
				b := &d.Request.Bundles[8]
				id := d.Request.Bundles[0].Keys[1].Identifier
				for j := range b.Keys {
					if b.Keys[j].KeyTag == 15768 {
						b.Keys[j].Identifier = id
					}
				}
				for j := range b.Signatures {
					if b.Signatures[j].KeyTag == 15768 {
						b.Signatures[j].Identifier = id
					}
				}
			},
			policy: func(p *policy.Policy) { p.Request.NumDifferentKeysInAllBundles = policy.IntChoice{2, 3} }},
		{name: "wrong keyTag attribute", check: CheckKeyTag, ksr: func(t *testing.T, d *Document) {
			vtEachKey(d, 15768, func(k *Key) { k.KeyTag = 15769 })
		}},
		{name: "ZSK shares the KSK's key tag", check: CheckKeyTagCollision, opts: func(o *ValidateOptions) {
			o.KSKs = []*dns.DNSKEY{vtKSKWithTag(14796)}
		}},
		{name: "SEP flag on a ZSK", check: CheckKeyFlags, ksr: func(t *testing.T, d *Document) {
			vtEachKey(d, 15768, func(k *Key) { k.Flags = 257 })
			vtResign(t, d, 2048)
		}},
		{name: "REVOKE flag on a ZSK", check: CheckKeyFlags, ksr: func(t *testing.T, d *Document) {
			vtEachKey(d, 61045, func(k *Key) { k.Flags = 256 | 128 })
			vtResign(t, d, 2048)
		}},
		{name: "protocol 2", check: CheckKeyProtocol, ksr: func(t *testing.T, d *Document) {
			vtEachKey(d, 14796, func(k *Key) { k.Protocol = 2 })
			vtResign(t, d, 2048)
		}},
		{name: "policy claims exponent 3 (as 2010-q2)", check: CheckKeyZSKPolicy,
			ksr:    func(t *testing.T, d *Document) { d.Request.ZSKPolicy.Algorithms[0].Exponent = 3 },
			policy: func(p *policy.Policy) { p.Request.RSAApprovedExponents = []int{3, 65537} }},
		{name: "deprecated algorithm claimed", check: CheckPolicyAlg, ksr: func(t *testing.T, d *Document) {
			zp := &d.Request.ZSKPolicy
			zp.Algorithms = append(zp.Algorithms, AlgorithmPolicy{Algorithm: dns.RSASHA1, Size: 2048, Exponent: 65537})
		}},
		{name: "unapproved algorithm claimed", check: CheckPolicyAlg, ksr: func(t *testing.T, d *Document) {
			zp := &d.Request.ZSKPolicy
			zp.Algorithms = append(zp.Algorithms, AlgorithmPolicy{Algorithm: dns.RSASHA512, Size: 2048, Exponent: 65537})
		}},
		{name: "unapproved RSA size claimed", check: CheckPolicyParams, ksr: func(t *testing.T, d *Document) {
			zp := &d.Request.ZSKPolicy
			zp.Algorithms = append(zp.Algorithms, AlgorithmPolicy{Algorithm: dns.RSASHA256, Size: 4096, Exponent: 65537})
		}},
		{name: "RSA-1024 keys and claim", check: CheckPolicyParams, ksr: func(t *testing.T, d *Document) {
			d.Request.ZSKPolicy.Algorithms[0].Size = 1024
			vtResign(t, d, 1024)
		}},
		{name: "bad signature", check: CheckBundlePOP, ksr: func(t *testing.T, d *Document) {
			d.Request.Bundles[4].Signatures[0].Data[10] ^= 1
		}},
		{name: "key does not sign", check: CheckBundlePOP, ksr: func(t *testing.T, d *Document) {
			b := &d.Request.Bundles[0]
			b.Signatures = b.Signatures[:1]
		}},
		{name: "signature names no key", check: CheckBundlePOP, ksr: func(t *testing.T, d *Document) {
			b := &d.Request.Bundles[3]
			b.Signatures = append(b.Signatures, b.Signatures[0])
			b.Signatures[1].Identifier = "no-such-key"
		}},
		{name: "RRSIG labels", check: CheckBundleRRSIG, ksr: func(t *testing.T, d *Document) {
			d.Request.Bundles[2].Signatures[0].Labels = 1
		}},
		{name: "RRSIG key tag", check: CheckBundleRRSIG, ksr: func(t *testing.T, d *Document) {
			d.Request.Bundles[2].Signatures[0].KeyTag = 61045
		}},
		{name: "RRSIG algorithm", check: CheckBundleRRSIG, ksr: func(t *testing.T, d *Document) {
			d.Request.Bundles[6].Signatures[0].Algorithm = dns.RSASHA512
		}},
		{name: "RRSIG expires before inception", check: CheckBundleRRSIG, ksr: func(t *testing.T, d *Document) {
			s := &d.Request.Bundles[1].Signatures[0]
			s.Expiration = s.Inception.Add(-time.Hour)
		}},
		{name: "cycle of 82 days", check: CheckCycleDuration, ksr: func(t *testing.T, d *Document) {
			vtShift(d, 7, day)
			vtShift(d, 8, 2*day)
		}},
		{name: "interval of 11.5 days", check: CheckBundleIntervals, ksr: func(t *testing.T, d *Document) {
			vtShift(d, 4, 36*time.Hour)
			for i := 5; i < 9; i++ {
				vtShift(d, i, 12*time.Hour)
			}
		}},
		{name: "key TTL 86400", check: CheckPolicyKeys, ksr: func(t *testing.T, d *Document) {
			for i := range d.Request.Bundles {
				for j := range d.Request.Bundles[i].Keys {
					d.Request.Bundles[i].Keys[j].TTL = 86400
				}
			}
			vtResign(t, d, 2048)
		}},
		{name: "validity of 22 days", check: CheckSigValidity, ksr: func(t *testing.T, d *Document) {
			d.Request.Bundles[8].Expiration = d.Request.Bundles[8].Expiration.Add(day)
		}},
		{name: "overlap of 12.5 days", check: CheckSigOverlap,
			ksr: func(t *testing.T, d *Document) {
				vtShift(d, 4, -36*time.Hour)
				for i := 5; i < 9; i++ {
					vtShift(d, i, -12*time.Hour)
				}
			},
			policy: func(p *policy.Policy) { p.Request.MinBundleInterval = policy.Duration(8 * day) }},
		{name: "expires beyond the horizon", check: CheckSigHorizon, ksr: func(t *testing.T, d *Document) {
			for i := range d.Request.Bundles {
				vtShift(d, i, 90*day)
			}
		}, opts: func(o *ValidateOptions) { o.At = time.Date(2017, 4, 1, 0, 0, 0, 0, time.UTC) }},
		{name: "retire safety of 11 days claimed", check: CheckSafety, ksr: func(t *testing.T, d *Document) {
			d.Request.ZSKPolicy.RetireSafety = 11 * day
		}},
		{name: "publish safety of 12 days claimed", check: CheckSafety,
			ksr:  func(t *testing.T, d *Document) { d.Request.ZSKPolicy.PublishSafety = 12 * day },
			prev: func(t *testing.T, s *Document) {}},
		{name: "previous SKR signature broken", check: CheckChainPrevious, prev: func(t *testing.T, s *Document) {
			s.Response.Bundles[2].Signatures[0].Data[5] ^= 0x80
		}},
		{name: "previous SKR for another zone", check: CheckChainPrevious, prev: func(t *testing.T, s *Document) {
			s.Domain = "example."
		}, policy: func(p *policy.Policy) { p.Response.ValidateSignatures = false }},
		{name: "ZSK 61045 differs in the previous SKR's last bundle", check: CheckChainKeys, prev: func(t *testing.T, s *Document) {
			b := &s.Response.Bundles[8]
			for j := range b.Keys {
				if b.Keys[j].KeyTag == 61045 {
					b.Keys[j].TTL = 3600
				}
			}
		}},
		{name: "overlap of 15 days with the previous SKR", check: CheckChainOverlap, prev: func(t *testing.T, s *Document) {
			b := &s.Response.Bundles[8]
			b.Expiration = b.Expiration.Add(5 * day)
		}},
		{name: "previous SKR's KSK policy differs", check: CheckChainPolicy, prev: func(t *testing.T, s *Document) {
			s.Response.KSKPolicy.RetireSafety = 27 * day
		}},
	}
}

// vtKSKWithTag returns a KSK DNSKEY, not any of the real keys, whose key
// tag is tag: it adjusts the last two bytes of a fixed public key so that
// the RFC 4034 checksum comes out right.
func vtKSKWithTag(tag uint16) *dns.DNSKEY {
	pub := make([]byte, 260)
	pub[0] = 3
	pub[1], pub[2], pub[3] = 1, 0, 1
	for i := 4; i < len(pub); i++ {
		pub[i] = byte(i*7 + 1)
	}
	k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 172800}, Flags: 257, Protocol: 3, Algorithm: dns.RSASHA256}
	for x := 0; x < 1<<16; x++ {
		pub[len(pub)-2], pub[len(pub)-1] = byte(x>>8), byte(x)
		k.PublicKey = toBase64(pub)
		if k.KeyTag() == tag {
			return k
		}
	}
	panic("no key with that tag")
}

// TestMutationsOneCheckEach: each mutation of the real files is rejected by
// exactly the check it targets, and the unmutated files pass.
func TestMutationsOneCheckEach(t *testing.T) {
	covered := map[string]bool{CheckParse: true} // KSR-PARSE is covered by TestValidateNotAKSR and the CLI tests
	for _, m := range mutations() {
		t.Run(m.name, func(t *testing.T) {
			d := vtLoad(t, "ksr-root-2017-q2-0.xml")
			opts := ValidateOptions{At: vtAt(d)}
			if m.ksr != nil {
				m.ksr(t, d)
			}
			if m.prev != nil {
				opts.PreviousSKR = vtLoad(t, "skr-root-2017-q1-0.xml")
				m.prev(t, opts.PreviousSKR)
			}
			p := policy.Default()
			if m.policy != nil {
				m.policy(p)
				if err := p.Validate(); err != nil {
					t.Fatal(err)
				}
			}
			if m.opts != nil {
				m.opts(&opts)
			}
			r := Validate(d, p, opts)
			if got := r.ErrorChecks(); !reflect.DeepEqual(got, []string{m.check}) {
				vtDump(t, r)
				t.Fatalf("ErrorChecks = %v, want [%s]", got, m.check)
			}
			covered[m.check] = true
		})
	}
	for _, id := range CheckIDs() {
		if !covered[id] {
			t.Errorf("no mutation targets %s", id)
		}
	}
}
