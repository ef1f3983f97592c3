package ksr

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, reads at most MaxSize bytes,
// fails only with its documented errors, and that whatever it accepts
// survives a Marshal/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	for _, file := range realFiles(f, "*.xml") {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("<KSR id=\"a\" domain=\".\" serial=\"1\">" + minimalRequest + "</KSR>"))
	const maxSize = 64 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(bytes.NewReader(data), ParseOptions{MaxSize: maxSize})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("undocumented error %T: %v", err, err)
			}
			if len(data) > maxSize && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d bytes accepted past the limit: %v", len(data), err)
			}
			return
		}
		out, err := Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of a parsed document: %v", err)
		}
		back, err := Parse(bytes.NewReader(out), ParseOptions{MaxSize: 1 << 30})
		if err != nil {
			t.Fatalf("reparse of Marshal output: %v\n%s", err, out)
		}
		clearLines(d)
		clearLines(back)
		canonical(d)
		if !reflect.DeepEqual(d, back) {
			t.Fatalf("round trip differs:\n%+v\n%+v", d, back)
		}
	})
}
