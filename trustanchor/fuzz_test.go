package trustanchor

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzParseAnchors checks that Parse and ParseDS never panic, fail only
// with their documented errors, and that Marshal output of an accepted
// XML document parses back to the same output.
func FuzzParseAnchors(f *testing.F) {
	raw, err := os.ReadFile(rootAnchors)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"))
	const maxSize = 16 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := ParseOptions{MaxSize: maxSize}
		ta, err := Parse(bytes.NewReader(data), opts)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("undocumented error: %v", err)
			}
		} else {
			out := Marshal(ta)
			back, err := Parse(bytes.NewReader(out), ParseOptions{MaxSize: 1 << 30})
			if err != nil {
				t.Fatalf("reparse of Marshal output: %v\n%s", err, out)
			}
			if !bytes.Equal(Marshal(back), out) {
				t.Fatal("Marshal is not stable")
			}
		}
		if _, err := ParseDS(bytes.NewReader(data), opts); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("undocumented DS error: %v", err)
		}
	})
}
