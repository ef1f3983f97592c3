package ksr

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func benchFile(b *testing.B, name string) []byte {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "iana-root", name))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkParse parses a 9-bundle SKR.
func BenchmarkParse(b *testing.B) {
	raw := benchFile(b, "skr-root-2017-q2-0.xml")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(raw), ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshal writes a 9-bundle SKR.
func BenchmarkMarshal(b *testing.B) {
	d, err := Parse(bytes.NewReader(benchFile(b, "skr-root-2017-q2-0.xml")), ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}
