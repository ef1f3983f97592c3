package ksr

import (
	"path/filepath"
	"testing"
)

// realFiles returns the real IANA KSRs and SKRs under testdata/iana-root.
func realFiles(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "iana-root", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files %s: %v", pattern, err)
	}
	return files
}

func TestParseRealFiles(t *testing.T) {
	for _, f := range realFiles(t, "*.xml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d, err := ParseFile(f, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Domain != "." {
				t.Errorf("domain %q", d.Domain)
			}
			bs := d.Bundles()
			if len(bs) < 6 {
				t.Errorf("%d bundles", len(bs))
			}
			for _, b := range bs {
				if len(b.Keys) == 0 || len(b.Signatures) == 0 || b.Line == 0 {
					t.Errorf("bundle %s: %d keys, %d signatures, line %d", b.ID, len(b.Keys), len(b.Signatures), b.Line)
				}
			}
		})
	}
}
