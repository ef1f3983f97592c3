package skr

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

func testdata(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, parts...)...)
}

func load(t testing.TB, name string) *ksr.Document {
	t.Helper()
	d, err := ksr.ParseFile(testdata("iana-root", name), ksr.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func anchors(t testing.TB) *trustanchor.TrustAnchor {
	t.Helper()
	ta, err := trustanchor.ParseFile(testdata("root-anchors", "root-anchors.xml"), trustanchor.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ta
}

// realSKRs maps each real SKR to the KSR it answers, if the KSR is in
// testdata.
var realSKRs = map[string]string{
	"skr-root-2017-q1-0.xml":        "",
	"skr-root-2017-q2-0.xml":        "ksr-root-2017-q2-0.xml",
	"skr-root-2017-q3-0-c_to_d.xml": "",
	"skr-root-2018-q1-0-d_to_e.xml": "ksr-root-2018-q1-0-d_to_e.xml",
}

func report(t *testing.T, r *check.Report) string {
	t.Helper()
	var b bytes.Buffer
	for _, f := range r.Findings {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

func TestVerifyRealSKRs(t *testing.T) {
	ta := anchors(t)
	for skrFile, ksrFile := range realSKRs {
		t.Run(skrFile, func(t *testing.T) {
			d := load(t, skrFile)
			opts := VerifyOptions{Anchors: ta, Policy: policy.Default(), At: d.Response.Bundles[0].Inception}
			if ksrFile != "" {
				opts.KSR = load(t, ksrFile)
			}
			r := Verify(d, opts)
			if !r.Valid() || len(r.Findings) != 0 {
				t.Errorf("findings:\n%s", report(t, r))
			}
			// Without options, and with the legacy policy, too.
			if r := Verify(d, VerifyOptions{}); len(r.Findings) != 0 {
				t.Errorf("findings without options:\n%s", report(t, r))
			}
			if r := Verify(d, VerifyOptions{Policy: policy.Legacy()}); len(r.Findings) != 0 {
				t.Errorf("findings with the legacy policy:\n%s", report(t, r))
			}
			// Long after: expired, a warning only.
			r = Verify(d, VerifyOptions{Anchors: ta, At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
			if !r.Valid() || !reflect.DeepEqual(checkIDs(r), []string{CheckExpired}) {
				t.Errorf("at 2030:\n%s", report(t, r))
			}
		})
	}
}

func checkIDs(r *check.Report) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Check)
	}
	return ids
}

func TestVerifyNotResponse(t *testing.T) {
	r := Verify(load(t, "ksr-root-2017-q2-0.xml"), VerifyOptions{})
	if !reflect.DeepEqual(r.ErrorChecks(), []string{CheckResponse}) {
		t.Errorf("got %v", r.ErrorChecks())
	}
	if r := Verify(nil, VerifyOptions{}); r.Valid() {
		t.Error("nil document is valid")
	}
	empty := &ksr.Document{ID: "x", Domain: ".", Response: &ksr.Response{}}
	if r := Verify(empty, VerifyOptions{}); !reflect.DeepEqual(r.ErrorChecks(), []string{CheckBundleCount}) {
		t.Errorf("empty SKR: %v", r.ErrorChecks())
	}
}

func TestVerifyDSAnchors(t *testing.T) {
	const ds = ". IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5\n" +
		". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
	ta, err := trustanchor.ParseDS(bytes.NewReader([]byte(ds)), trustanchor.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for skrFile := range realSKRs {
		if r := Verify(load(t, skrFile), VerifyOptions{Anchors: ta}); !r.Valid() {
			t.Errorf("%s:\n%s", skrFile, report(t, r))
		}
	}
	only2017 := &trustanchor.TrustAnchor{Zone: ".", Anchors: ta.Anchors[1:]}
	r := Verify(load(t, "skr-root-2018-q1-0-d_to_e.xml"), VerifyOptions{Anchors: only2017})
	// Bundle 1 is signed by KSK-2010 only.
	if !reflect.DeepEqual(r.ErrorChecks(), []string{CheckAnchorChain}) || len(r.Findings) != 1 || !strings.HasPrefix(r.Findings[0].Where, "bundle 1 ") {
		t.Errorf("got:\n%s", report(t, r))
	}
}

type mutation struct {
	name   string
	skr    string // default skr-root-2017-q2-0.xml
	noKSR  bool   // verify without the KSR
	mutate func(s, k *ksr.Document, ta *trustanchor.TrustAnchor, p *policy.Policy)
	want   string
	wantAt string // the finding's Where starts with this
}

func bundle(d *ksr.Document, i int) *ksr.Bundle { return &d.Bundles()[i] }

// ksk returns the index of the first KSK in b.
func ksk(b *ksr.Bundle) int {
	for i := range b.Keys {
		if b.Keys[i].IsKSK() {
			return i
		}
	}
	panic("no KSK")
}

// zsk returns the index of the first ZSK in b.
func zsk(b *ksr.Bundle) int {
	for i := range b.Keys {
		if !b.Keys[i].IsKSK() {
			return i
		}
	}
	panic("no ZSK")
}

var mutations = []mutation{
	{name: "flip a signature byte", want: CheckSigValid, wantAt: "bundle 4 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 3).Signatures[0].Data[17] ^= 0x40
		}},
	{name: "flip a ZSK public key byte", noKSR: true, want: CheckSigValid, wantAt: "bundle 2 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			b := bundle(s, 1)
			k := &b.Keys[zsk(b)]
			k.PublicKey[len(k.PublicKey)-1] ^= 1
			k.KeyTag = k.DNSKEY(".").KeyTag()
		}},
	{name: "change a key's claimed key tag", want: CheckKeyTag, wantAt: "bundle 1 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			b := bundle(s, 0)
			b.Keys[ksk(b)].KeyTag++
		}},
	{name: "change an RRSIG key tag", want: CheckSigKeyTag, wantAt: "bundle 2 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 1).Signatures[0].KeyTag = 20326
		}},
	{name: "drop the KSK", want: CheckSigKeyPresent, wantAt: "bundle 3 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			b := bundle(s, 2)
			i := ksk(b)
			b.Keys = append(b.Keys[:i], b.Keys[i+1:]...)
		}},
	{name: "drop the signature", want: CheckBundleKSKSigned, wantAt: "bundle 5 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 4).Signatures = nil
		}},
	{name: "revoke the signing KSK's key (signature then names a revoked key)", noKSR: true, want: CheckBundleKSKSigned, wantAt: "bundle 6 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			// Swap the signature for a copy naming a revoked twin of the
			// KSK, added to the bundle: structurally fine, but no
			// unrevoked KSK signs.
			b := bundle(s, 5)
			twin := b.Keys[ksk(b)]
			twin.Identifier += "-revoked"
			twin.Flags |= ksr.FlagRevoke
			twin.PublicKey = bytes.Clone(twin.PublicKey)
			twin.KeyTag = twin.DNSKEY(".").KeyTag()
			b.Keys = append(b.Keys, twin)
			b.Signatures[0].Identifier = twin.Identifier
			b.Signatures[0].KeyTag = twin.KeyTag
			// The old signature does not verify over the new RRset; sign
			// nothing, just verify with signature checks off.
		}},
	{name: "change the signer's name", want: CheckSigSigner, wantAt: "bundle 9 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 8).Signatures[0].SignersName = "example."
		}},
	{name: "change the labels", want: CheckSigLabels, wantAt: "bundle 1 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 0).Signatures[0].Labels = 1
		}},
	{name: "change the RRSIG algorithm", want: CheckSigAlgorithm, wantAt: "bundle 7 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 6).Signatures[0].Algorithm = dns.RSASHA512
		}},
	{name: "change the type covered", want: CheckSigType, wantAt: "bundle 2 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 1).Signatures[0].TypeCovered = dns.TypeA
		}},
	{name: "change the original TTL", want: CheckSigTTL, wantAt: "bundle 2 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 1).Signatures[0].OriginalTTL = 86400
		}},
	{name: "RRSIG inception before the bundle's", want: CheckSigValidityWindow, wantAt: "bundle 3 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			sig := &bundle(s, 2).Signatures[0]
			sig.Inception = sig.Inception.Add(-time.Hour)
		}},
	{name: "RRSIG expiration after the bundle's", want: CheckSigValidityWindow, wantAt: "bundle 3 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			sig := &bundle(s, 2).Signatures[0]
			sig.Expiration = sig.Expiration.Add(time.Second)
		}},
	{name: "duplicate bundle id", noKSR: true, want: CheckBundleIDUnique, wantAt: "bundle 2 ",
		mutate: func(s, _ *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(s, 1).ID = bundle(s, 0).ID
		}},
	{name: "KSR bundle id differs", want: CheckAnswersKSRBundles,
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(k, 4).ID = "00000000-0000-0000-0000-000000000000"
		}},
	{name: "KSR bundle order differs", want: CheckAnswersKSRBundles,
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(k, 4).ID, bundle(k, 5).ID = bundle(k, 5).ID, bundle(k, 4).ID
			bundle(k, 4).Inception, bundle(k, 5).Inception = bundle(k, 5).Inception, bundle(k, 4).Inception
			bundle(k, 4).Expiration, bundle(k, 5).Expiration = bundle(k, 5).Expiration, bundle(k, 4).Expiration
		}},
	{name: "KSR bundle has one bundle more", want: CheckAnswersKSRBundles,
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			extra := *bundle(k, 8)
			extra.ID = "extra"
			k.Request.Bundles = append(k.Request.Bundles, extra)
		}},
	{name: "KSR bundle inception differs", want: CheckAnswersKSRTimes, wantAt: "bundle 3 ",
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(k, 2).Inception = bundle(k, 2).Inception.Add(24 * time.Hour)
		}},
	{name: "KSR bundle expiration differs", want: CheckAnswersKSRTimes, wantAt: "bundle 9 ",
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(k, 8).Expiration = bundle(k, 8).Expiration.Add(-time.Second)
		}},
	{name: "KSR ZSK differs", want: CheckAnswersKSRZSKs, wantAt: "bundle 5 ",
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			key := &bundle(k, 4).Keys[0]
			key.PublicKey = bytes.Clone(key.PublicKey)
			key.PublicKey[9] ^= 1
		}},
	{name: "KSR has an extra ZSK", want: CheckAnswersKSRZSKs, wantAt: "bundle 1 ",
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			b := bundle(k, 0)
			extra := b.Keys[0]
			extra.PublicKey = append(bytes.Clone(extra.PublicKey), 0)
			b.Keys = append(b.Keys, extra)
		}},
	{name: "KSR ZSK TTL differs", want: CheckAnswersKSRZSKs, wantAt: "bundle 2 ",
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			bundle(k, 1).Keys[0].TTL = 3600
		}},
	{name: "KSR id differs", want: CheckAnswersKSRID,
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			k.ID = "another"
		}},
	{name: "KSR domain differs", want: CheckAnswersKSRDomain,
		mutate: func(_, k *ksr.Document, _ *trustanchor.TrustAnchor, _ *policy.Policy) {
			k.Domain = "example."
		}},
	{name: "anchor digest differs", want: CheckAnchorChain, wantAt: "bundle 1 ",
		mutate: func(_, _ *ksr.Document, ta *trustanchor.TrustAnchor, _ *policy.Policy) {
			ta.Anchors[0].Digest = bytes.Clone(ta.Anchors[0].Digest)
			ta.Anchors[0].Digest[0] ^= 1
		}},
	{name: "anchor not yet valid", want: CheckAnchorChain, wantAt: "bundle 1 ",
		mutate: func(_, _ *ksr.Document, ta *trustanchor.TrustAnchor, _ *policy.Policy) {
			ta.Anchors[0].ValidFrom = time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC)
		}},
	{name: "anchor expired", skr: "skr-root-2018-q1-0-d_to_e.xml", want: CheckAnchorChain, wantAt: "bundle 1 ",
		mutate: func(_, _ *ksr.Document, ta *trustanchor.TrustAnchor, _ *policy.Policy) {
			ta.Anchors[0].ValidUntil = time.Date(2017, 12, 31, 0, 0, 0, 0, time.UTC)
		}},
	{name: "anchor for another zone", want: CheckAnchorZone,
		mutate: func(_, _ *ksr.Document, ta *trustanchor.TrustAnchor, _ *policy.Policy) {
			ta.Zone = "example."
		}},
	{name: "policy bundle count", want: CheckBundleCount,
		mutate: func(_, _ *ksr.Document, _ *trustanchor.TrustAnchor, p *policy.Policy) {
			p.Response.NumBundles = policy.IntChoice{8}
		}},
	{name: "policy validity", want: CheckPolicySigValidity, wantAt: "bundle 1 ",
		mutate: func(_, _ *ksr.Document, _ *trustanchor.TrustAnchor, p *policy.Policy) {
			p.KSK.MaxSignatureValidity = policy.Duration(20 * 24 * time.Hour)
			p.KSK.MinSignatureValidity = policy.Duration(20 * 24 * time.Hour)
		}},
	{name: "policy overlap", want: CheckPolicyOverlap, wantAt: "bundle 2 ",
		mutate: func(_, _ *ksr.Document, _ *trustanchor.TrustAnchor, p *policy.Policy) {
			p.KSK.MaxValidityOverlap = policy.Duration(10 * 24 * time.Hour)
		}},
	{name: "policy signer", want: CheckPolicySigner,
		mutate: func(_, _ *ksr.Document, _ *trustanchor.TrustAnchor, p *policy.Policy) {
			p.KSK.SignersName = "example."
		}},
}

// TestVerifyMutations checks that each mutation of a real SKR, its KSR,
// the trust anchors or the policy is rejected by exactly the check it
// targets.
func TestVerifyMutations(t *testing.T) {
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			skrFile := m.skr
			if skrFile == "" {
				skrFile = "skr-root-2017-q2-0.xml"
			}
			s := load(t, skrFile)
			k := load(t, realSKRs[skrFile])
			ta := anchors(t)
			p := policy.Default()
			m.mutate(s, k, ta, p)
			opts := VerifyOptions{Anchors: ta, KSR: k, Policy: p}
			if m.noKSR {
				opts.KSR = nil
			}
			if m.want == CheckBundleKSKSigned && m.name != "drop the signature" {
				p.Response.ValidateSignatures = false
			}
			r := Verify(s, opts)
			if got := r.ErrorChecks(); !reflect.DeepEqual(got, []string{m.want}) {
				t.Fatalf("failed checks %v, want [%s]:\n%s", got, m.want, report(t, r))
			}
			// The first error names the bundle (index and id) and key.
			for _, f := range r.Findings {
				if f.Severity != check.Error {
					continue
				}
				if m.wantAt != "" && !strings.HasPrefix(f.Where, m.wantAt) {
					t.Errorf("first finding at %q, want %q...", f.Where, m.wantAt)
				}
				if strings.HasPrefix(f.Where, "bundle ") && !strings.Contains(f.Message, strings.Fields(f.Where)[2]) {
					t.Errorf("message %q does not name the bundle id", f.Message)
				}
				break
			}
		})
	}
}

func TestVerifyDoesNotModify(t *testing.T) {
	d := load(t, "skr-root-2017-q3-0-c_to_d.xml")
	before, _ := ksr.Marshal(d)
	Verify(d, VerifyOptions{Anchors: anchors(t), Policy: policy.Default()})
	after, _ := ksr.Marshal(d)
	if !bytes.Equal(before, after) {
		t.Error("Verify modified the document")
	}
}

func BenchmarkVerify(b *testing.B) {
	d := load(b, "skr-root-2017-q2-0.xml")
	opts := VerifyOptions{Anchors: anchors(b), KSR: load(b, "ksr-root-2017-q2-0.xml"), Policy: policy.Default()}
	b.ReportAllocs()
	for b.Loop() {
		if r := Verify(d, opts); !r.Valid() {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkParseAndVerify(b *testing.B) {
	raw, err := os.ReadFile(testdata("iana-root", "skr-root-2017-q2-0.xml"))
	if err != nil {
		b.Fatal(err)
	}
	ta := anchors(b)
	b.ReportAllocs()
	for b.Loop() {
		d, err := ksr.Parse(bytes.NewReader(raw), ksr.ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if r := Verify(d, VerifyOptions{Anchors: ta}); !r.Valid() {
			b.Fatal("invalid")
		}
	}
}
