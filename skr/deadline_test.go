package skr

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/ksr"
)

// TestDeadlineRealSKRs: for every real root SKR, Deadline is the latest
// <SignatureExpiration> of the file, read here with a regexp, not the
// parser.
func TestDeadlineRealSKRs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "iana-root", "skr-root-*.xml"))
	if len(files) < 4 {
		t.Fatalf("only %d real SKRs", len(files))
	}
	re := regexp.MustCompile(`<SignatureExpiration>([^<]+)</SignatureExpiration>`)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, m := range re.FindAllSubmatch(data, -1) {
				ts, err := time.Parse(time.RFC3339, string(m[1]))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, ts.UTC().Format(time.RFC3339))
			}
			sort.Strings(all)
			d, err := ksr.ParseFile(f, ksr.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			end, idx, err := Deadline(d)
			if err != nil || end.Format(time.RFC3339) != all[len(all)-1] || idx < 0 {
				t.Errorf("Deadline = %s, bundle %d, %v; want %s", end.Format(time.RFC3339), idx, err, all[len(all)-1])
			}
		})
	}
}

func TestDeadlineNoSignatures(t *testing.T) {
	for _, d := range []*ksr.Document{{Request: &ksr.Request{}}, {Response: &ksr.Response{Bundles: []ksr.Bundle{{ID: "x"}}}}} {
		if _, _, err := Deadline(d); !errors.Is(err, ErrNoSignatures) {
			t.Errorf("Deadline: %v, want ErrNoSignatures", err)
		}
	}
}
