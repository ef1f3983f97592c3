package skr

import (
	"bytes"
	"os"
	"testing"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
)

// FuzzVerify parses arbitrary input as an SKR (bounded by MaxSize) and
// verifies whatever parses, with anchors, a KSR and a policy: Verify must
// not panic, and a document it accepts must have bundles.
func FuzzVerify(f *testing.F) {
	for name := range realSKRs {
		b, err := os.ReadFile(testdata("iana-root", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ta := anchors(f)
	k := load(f, "ksr-root-2017-q2-0.xml")
	p := policy.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ksr.Parse(bytes.NewReader(data), ksr.ParseOptions{MaxSize: 64 << 10})
		if err != nil {
			return
		}
		r := Verify(d, VerifyOptions{Anchors: ta, KSR: k, Policy: p})
		if r.Valid() && (d.Response == nil || len(d.Response.Bundles) == 0) {
			t.Fatal("a document without bundles is valid")
		}
		Verify(d, VerifyOptions{})
	})
}
