package zsk_test

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"errors"
	"io"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/zsk"
	"github.com/miekg/dns"
)

const day = 24 * time.Hour

// TestCreateKSRRootPolicy: three RSA-2048 ZSKs with every default give a KSR
// that the root zone policy accepts at its start, with no finding at all,
// before and after a Marshal/Parse round trip.
func TestCreateKSRRootPolicy(t *testing.T) {
	d, err := zsk.CreateKSR(zsk.Options{Keys: rsaZSKs(t, 0, 1, 2), Start: testStart})
	if err != nil {
		t.Fatal(err)
	}
	r := ksr.Validate(d, policy.Default(), ksr.ValidateOptions{At: testStart})
	if len(r.Findings) != 0 {
		dumpFindings(t, r)
		t.Fatalf("%d findings, want none", len(r.Findings))
	}
	xml, err := ksr.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ksr.Parse(bytes.NewReader(xml), ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := ksr.Validate(back, policy.Default(), ksr.ValidateOptions{At: testStart}); !r.Valid() {
		dumpFindings(t, r)
		t.Fatal("the parsed KSR is not valid")
	}

	bs := d.Request.Bundles
	if len(bs) != 9 {
		t.Fatalf("%d bundles, want 9", len(bs))
	}
	for i, b := range bs {
		if want := testStart.Add(time.Duration(i) * 10 * day); !b.Inception.Equal(want) {
			t.Errorf("bundle %d: inception %s, want %s", i+1, b.Inception, want)
		}
		if got := b.Expiration.Sub(b.Inception); got != 21*day {
			t.Errorf("bundle %d: validity %s", i+1, got)
		}
		if len(b.Signatures) != len(b.Keys) {
			t.Errorf("bundle %d: %d signatures for %d keys", i+1, len(b.Signatures), len(b.Keys))
		}
	}
	p := d.Request.ZSKPolicy
	want := ksr.SignaturePolicy{
		PublishSafety: 10 * day, RetireSafety: 10 * day,
		MaxSignatureValidity: 21 * day, MinSignatureValidity: 21 * day,
		MaxValidityOverlap: 12 * day, MinValidityOverlap: 9 * day,
		Algorithms: []ksr.AlgorithmPolicy{{Algorithm: dns.RSASHA256, Size: 2048, Exponent: 65537}},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("RequestPolicy %+v, want the root's %+v", p, want)
	}
}

// TestCreateKSRSchedules checks which keys each bundle publishes and what
// the root policy says of each result.
func TestCreateKSRSchedules(t *testing.T) {
	tests := []struct {
		name     string
		keys     []int
		bundles  int
		schedule string
		want     string // the schedule in ParseSchedule's form
		errors   []string
	}{
		{"one key: every bundle", []int{0}, 0, "", "1,1,1,1,1,1,1,1,1", []string{ksr.CheckPolicyKeys}},
		{"two keys: next pre-published last", []int{0, 1}, 0, "", "1,1,1,1,1,1,1,1,1+2", []string{ksr.CheckPolicyKeys}},
		{"three keys: the root's quarter", []int{0, 1, 2}, 0, "", "1+2,2,2,2,2,2,2,2,2+3", nil},
		{"explicit schedule", []int{0, 1, 2}, 0, "1+2,2,2,2,2,2,2,2,2+3", "1+2,2,2,2,2,2,2,2,2+3", nil},
		{"explicit schedule off the root's", []int{0, 1, 2}, 0, "1+2,1+2,2,2,2,2,2,2,2+3", "1+2,1+2,2,2,2,2,2,2,2+3", []string{ksr.CheckPolicyKeys}},
		{"three keys, one bundle", []int{0, 1, 2}, 1, "", "1+2+3", []string{ksr.CheckBundleCount, ksr.CheckPolicyKeys}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := zsk.Options{Keys: rsaZSKs(t, tt.keys...), Start: testStart, Bundles: tt.bundles}
			if tt.schedule != "" {
				s, err := zsk.ParseSchedule(tt.schedule, len(tt.keys))
				if err != nil {
					t.Fatal(err)
				}
				opts.Schedule = s
			}
			d, err := zsk.CreateKSR(opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := scheduleOf(d, opts.Keys); got != tt.want {
				t.Errorf("schedule %s, want %s", got, tt.want)
			}
			r := ksr.Validate(d, policy.Default(), ksr.ValidateOptions{At: testStart})
			if got := r.ErrorChecks(); !reflect.DeepEqual(got, tt.errors) {
				dumpFindings(t, r)
				t.Errorf("root policy errors %v, want %v", got, tt.errors)
			}
		})
	}
}

// scheduleOf reads a KSR's schedule back, numbering keys as in keys.
func scheduleOf(d *ksr.Document, keys []zsk.Key) string {
	var s zsk.Schedule
	for _, b := range d.Request.Bundles {
		var entry []int
		for i, k := range keys {
			if slices.ContainsFunc(b.Keys, func(bk ksr.Key) bool { return bk.Identifier == k.Identifier }) {
				entry = append(entry, i)
			}
		}
		s = append(s, entry)
	}
	return s.String()
}

// TestCreateKSRAlgorithms: ECDSA and Ed25519 ZSKs, under a policy that
// approves them.
func TestCreateKSRAlgorithms(t *testing.T) {
	tests := []struct {
		name    string
		keys    func(t *testing.T) []crypto.Signer
		alg     uint8
		size    int
		approve string
	}{
		{"ECDSAP256SHA256", func(t *testing.T) []crypto.Signer {
			return []crypto.Signer{newECDSA(t, elliptic.P256()), newECDSA(t, elliptic.P256()), newECDSA(t, elliptic.P256())}
		}, dns.ECDSAP256SHA256, 256, "ECDSAP256SHA256"},
		{"ECDSAP384SHA384", func(t *testing.T) []crypto.Signer {
			return []crypto.Signer{newECDSA(t, elliptic.P384()), newECDSA(t, elliptic.P384()), newECDSA(t, elliptic.P384())}
		}, dns.ECDSAP384SHA384, 384, "ECDSAP384SHA384"},
		{"ED25519", func(t *testing.T) []crypto.Signer {
			return []crypto.Signer{newEd25519(t), newEd25519(t), newEd25519(t)}
		}, dns.ED25519, 256, "ED25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []zsk.Key
			for _, s := range tt.keys(t) {
				keys = append(keys, zsk.Key{Signer: s})
			}
			d, err := zsk.CreateKSR(zsk.Options{Keys: keys, Start: testStart})
			if err != nil {
				t.Fatal(err)
			}
			want := []ksr.AlgorithmPolicy{{Algorithm: tt.alg, Size: tt.size}}
			if got := d.Request.ZSKPolicy.Algorithms; !reflect.DeepEqual(got, want) {
				t.Errorf("policy algorithms %+v, want %+v", got, want)
			}
			p := policy.Default()
			p.Request.ApprovedAlgorithms = []string{tt.approve}
			p.Request.EnableUnsupportedECDSA = true
			if r := ksr.Validate(d, p, ksr.ValidateOptions{At: testStart}); !r.Valid() {
				dumpFindings(t, r)
				t.Fatal("not valid under a policy approving the algorithm")
			}
		})
	}
}

// TestCreateKSRIDs: random ids are fresh UUIDs; a seed makes the whole
// document deterministic (RSA PKCS#1 v1.5 signatures are).
func TestCreateKSRIDs(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	opts := zsk.Options{Keys: rsaZSKs(t, 0, 1, 2), Start: testStart}
	ids := map[string]bool{}
	for range 2 {
		d, err := zsk.CreateKSR(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range append([]string{d.ID}, bundleIDs(d)...) {
			if !uuid.MatchString(id) {
				t.Errorf("id %q is not a version 4 UUID", id)
			}
			if ids[id] {
				t.Errorf("id %s repeats", id)
			}
			ids[id] = true
		}
	}

	opts.IDSeed = "golden"
	a, b := mustMarshal(t, opts), mustMarshal(t, opts)
	if !bytes.Equal(a, b) {
		t.Error("two KSRs with the same seed differ")
	}
	opts.IDSeed = "other"
	if c := mustMarshal(t, opts); bytes.Equal(a, c) {
		t.Error("KSRs with different seeds are equal")
	}
}

func bundleIDs(d *ksr.Document) []string {
	var out []string
	for _, b := range d.Bundles() {
		out = append(out, b.ID)
	}
	return out
}

func mustMarshal(t *testing.T, opts zsk.Options) []byte {
	t.Helper()
	d, err := zsk.CreateKSR(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ksr.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// badSigner claims one public key and signs with another.
type badSigner struct {
	crypto.Signer
	pub crypto.PublicKey
}

func (b badSigner) Public() crypto.PublicKey { return b.pub }

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestCreateKSRErrors(t *testing.T) {
	keys := rsaZSKs(t, 0, 1, 2, 3)
	mismatched := zsk.Key{Signer: badSigner{keys[0].Signer, keys[1].Signer.Public()}, Identifier: "bad"}
	sched := func(s string) zsk.Schedule {
		out, err := zsk.ParseSchedule(s, 3)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name string
		opts zsk.Options
		want error
	}{
		{"no keys", zsk.Options{Start: testStart}, zsk.ErrOptions},
		{"no start", zsk.Options{Keys: keys[:3]}, zsk.ErrOptions},
		{"four keys without a schedule", zsk.Options{Keys: keys, Start: testStart}, zsk.ErrOptions},
		{"validity not above the interval", zsk.Options{Keys: keys[:3], Start: testStart, Validity: 10 * day}, zsk.ErrOptions},
		{"negative bundles", zsk.Options{Keys: keys[:3], Start: testStart, Bundles: -1}, zsk.ErrOptions},
		{"schedule too short", zsk.Options{Keys: keys[:3], Start: testStart, Schedule: sched("1+2,2,2+3")}, zsk.ErrOptions},
		{"key in no bundle", zsk.Options{Keys: keys[:3], Start: testStart, Schedule: sched("1,1,1,1,1,1,1,1,1+2")}, zsk.ErrOptions},
		{"key twice in a bundle", zsk.Options{Keys: keys[:3], Start: testStart, Schedule: zsk.Schedule{{0, 0}, {1}, {1}, {1}, {1}, {1}, {1}, {1}, {1, 2}}}, zsk.ErrOptions},
		{"key index out of range", zsk.Options{Keys: keys[:3], Start: testStart, Schedule: zsk.Schedule{{0, 5}, {1}, {1}, {1}, {1}, {1}, {1}, {1}, {1, 2}}}, zsk.ErrOptions},
		{"empty bundle", zsk.Options{Keys: keys[:3], Start: testStart, Schedule: zsk.Schedule{{0, 1}, {}, {1}, {1}, {1}, {1}, {1}, {1}, {1, 2}}}, zsk.ErrOptions},
		{"same key twice", zsk.Options{Keys: []zsk.Key{keys[0], {Signer: keys[0].Signer, Identifier: "again"}, keys[2]}, Start: testStart}, zsk.ErrOptions},
		{"same identifier twice", zsk.Options{Keys: []zsk.Key{keys[0], {Signer: keys[1].Signer, Identifier: keys[0].Identifier}, keys[2]}, Start: testStart}, zsk.ErrOptions},
		{"identifier with spaces", zsk.Options{Keys: []zsk.Key{{Signer: keys[0].Signer, Identifier: " x "}}, Start: testStart}, zsk.ErrOptions},
		{"bad domain", zsk.Options{Keys: keys[:3], Start: testStart, Domain: "a..b"}, zsk.ErrOptions},
		{"past 2106", zsk.Options{Keys: keys[:3], Start: time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC)}, zsk.ErrOptions},
		{"algorithm that does not fit the key", zsk.Options{Keys: []zsk.Key{{Signer: keys[0].Signer, Algorithm: dns.ED25519}}, Start: testStart}, zsk.ErrOptions},
		{"signer that does not match its public key", zsk.Options{Keys: []zsk.Key{keys[0], mismatched, keys[2]}, Start: testStart}, zsk.ErrSign},
		{"random source fails", zsk.Options{Keys: keys[:3], Start: testStart, Rand: failingReader{}}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := zsk.CreateKSR(tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if d != nil {
				t.Error("a document came back with the error")
			}
		})
	}
}

func TestCreateKSRCadence(t *testing.T) {
	d, err := zsk.CreateKSR(zsk.Options{
		Keys: rsaZSKs(t, 0, 1, 2), Start: testStart.Add(90 * time.Minute).Add(300 * time.Millisecond),
		Bundles: 4, Interval: 2 * day, Validity: 5 * day, TTL: 3600, Domain: "example.", Serial: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Domain != "example." || d.Serial != 7 {
		t.Errorf("domain %q serial %d", d.Domain, d.Serial)
	}
	first := d.Request.Bundles[0]
	if want := testStart.Add(90 * time.Minute); !first.Inception.Equal(want) {
		t.Errorf("inception %s, want %s (truncated to the second)", first.Inception, want)
	}
	for _, b := range d.Request.Bundles {
		for _, k := range b.Keys {
			if k.TTL != 3600 || k.Flags != 256 || k.Protocol != 3 {
				t.Errorf("key %+v", k)
			}
		}
		for _, s := range b.Signatures {
			if s.SignersName != "example." || s.Labels != 1 || s.OriginalTTL != 3600 {
				t.Errorf("signature %+v", s)
			}
		}
	}
	p := d.Request.ZSKPolicy
	if p.MinValidityOverlap != 1*day || p.MaxValidityOverlap != 4*day || p.PublishSafety != 2*day {
		t.Errorf("policy %+v", p)
	}
	lax := policy.Default()
	lax.Request.AcceptableDomains = []string{"example."}
	lax.Request.NumBundles = policy.IntChoice{4}
	lax.Request.NumKeysPerBundle = []int{2, 1, 1, 2}
	lax.Request.MinCycleInceptionLength, lax.Request.MaxCycleInceptionLength = policy.Duration(6*day), policy.Duration(6*day)
	lax.Request.MinBundleInterval, lax.Request.MaxBundleInterval = policy.Duration(2*day), policy.Duration(2*day)
	lax.KSK.MinSignatureValidity, lax.KSK.MaxSignatureValidity = policy.Duration(5*day), policy.Duration(5*day)
	lax.KSK.MinValidityOverlap = policy.Duration(3 * day)
	lax.KSK.TTL = 3600
	if r := ksr.Validate(d, lax, ksr.ValidateOptions{At: testStart}); !r.Valid() {
		dumpFindings(t, r)
		t.Error("not valid under a policy of its cadence")
	}

	// An explicit policy keeps its fields, with algorithms filled in.
	claim := ksr.SignaturePolicy{PublishSafety: day, RetireSafety: day, MinSignatureValidity: 5 * day, MaxSignatureValidity: 5 * day, MinValidityOverlap: day, MaxValidityOverlap: 4 * day}
	d, err = zsk.CreateKSR(zsk.Options{Keys: rsaZSKs(t, 0), Start: testStart, Policy: &claim})
	if err != nil {
		t.Fatal(err)
	}
	got := d.Request.ZSKPolicy
	if got.PublishSafety != day || len(got.Algorithms) != 1 || len(claim.Algorithms) != 0 {
		t.Errorf("policy %+v (given %+v)", got, claim)
	}
}
