package ksr

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/policy"
)

// FuzzValidate: whatever Parse accepts, Validate reports on without
// panicking, alone and chained to a real previous SKR or to itself, with
// well-formed findings, and gives the same report twice. Validation is
// costly (RSA), so fuzz with a short -fuzzminimizetime.
func FuzzValidate(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(vtDir, "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no real files: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(0))
	}
	prev := vtLoad(f, "skr-root-2017-q1-0.xml")
	f.Fuzz(func(t *testing.T, data []byte, at int64) {
		d, err := Parse(bytes.NewReader(data), ParseOptions{MaxSize: 256 << 10})
		if err != nil {
			return
		}
		opts := ValidateOptions{At: time.Unix(at%(1<<33), 0)}
		if d.Request != nil && len(d.Request.Bundles) > 0 && at == 0 {
			opts.At = d.Request.Bundles[0].Inception
		}
		alone := Validate(d, policy.Legacy(), opts)
		for _, fd := range alone.Findings {
			if fd.Check == "" || fd.Message == "" || (fd.Severity != check.Error && fd.Severity != check.Warning) {
				t.Fatalf("malformed finding: %+v", fd)
			}
		}
		opts.PreviousSKR = prev
		chained := Validate(d, policy.Default(), opts)
		if !reflect.DeepEqual(chained, Validate(d, policy.Default(), opts)) {
			t.Fatal("Validate is not deterministic")
		}
		opts.PreviousSKR = d // a document as its own predecessor
		Validate(d, nil, opts)
	})
}

// BenchmarkValidate validates the real 9-bundle ksr-root-2017-q2-0.xml
// (eleven RSA-2048 signatures), alone and chained to
// skr-root-2017-q1-0.xml (nine more).
func BenchmarkValidate(b *testing.B) {
	d := vtLoad(b, "ksr-root-2017-q2-0.xml")
	prev := vtLoad(b, "skr-root-2017-q1-0.xml")
	p := policy.Default()
	b.Run("ksr", func(b *testing.B) {
		opts := ValidateOptions{At: vtAt(d)}
		b.ReportAllocs()
		for b.Loop() {
			if r := Validate(d, p, opts); !r.Valid() {
				b.Fatal(r.ErrorChecks())
			}
		}
	})
	b.Run("ksr+previous-skr", func(b *testing.B) {
		opts := ValidateOptions{At: vtAt(d), PreviousSKR: prev}
		b.ReportAllocs()
		for b.Loop() {
			if r := Validate(d, p, opts); !r.Valid() {
				b.Fatal(r.ErrorChecks())
			}
		}
	})
}
