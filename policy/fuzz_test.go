package policy

import (
	"os"
	"testing"
)

func FuzzLoadPolicy(f *testing.F) {
	for _, file := range []string{"testdata/root.yaml", "testdata/legacy.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("request:\n  num_bundles: [6, 9]\n  min_bundle_interval: P1DT2H3M4.5S\n"))
	f.Add([]byte("ksk: {ttl: 1, retire_safety: P1M}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, nil)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted a policy that does not validate: %v", err)
		}
	})
}
