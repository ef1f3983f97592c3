package zsk_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/zsk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestCreateKSRGolden: with the fixed public test keys and an id seed, the
// KSR is the same, byte for byte, on every machine and every run (RSA
// PKCS#1 v1.5 signatures are deterministic). Run with -update to rewrite
// testdata/ksr-golden.xml after a deliberate change.
func TestCreateKSRGolden(t *testing.T) {
	d, err := zsk.CreateKSR(zsk.Options{
		Keys:   rsaZSKs(t, 0, 1), // rsa-2048-1 (current), rsa-2048-2 (next)
		Start:  testStart,
		Serial: 1,
		IDSeed: "ksk golden KSR",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ksr.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "ksr-golden.xml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./zsk -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the KSR differs from %s; if the change is deliberate, rerun with -update", path)
	}
}
