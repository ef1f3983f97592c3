package paper

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// The embedded fonts: the Go fonts (BSD licence, WGL4 coverage: Latin,
// Greek, Cyrillic and the usual punctuation), proportional for text and
// monospaced for hashes.
var (
	fontRegular  = goregular.TTF
	fontBold     = gobold.TTF
	fontMono     = gomono.TTF
	fontMonoBold = gomonobold.TTF
)

var (
	coverageOnce sync.Once
	coverage     []*sfnt.Font
	coverageErr  error
)

// checkGlyphs returns an error wrapping ErrGlyph for the first character of
// d that a font lacks, naming where it is.
func checkGlyphs(d *Document) error {
	coverageOnce.Do(func() {
		for _, b := range [][]byte{fontRegular, fontMono} {
			f, err := sfnt.Parse(b)
			if err != nil {
				coverageErr = err
				return
			}
			coverage = append(coverage, f)
		}
	})
	if coverageErr != nil {
		return fmt.Errorf("paper: embedded font: %w", coverageErr)
	}
	var buf sfnt.Buffer
	return d.texts(func(where, s string) error {
		for _, r := range s {
			if r == '\n' || r == '\t' {
				continue
			}
			if unicode.IsControl(r) {
				return fmt.Errorf("paper: %s: %w: control character U+%04X in %q", where, ErrGlyph, r, clip(s))
			}
			for _, f := range coverage {
				if gi, err := f.GlyphIndex(&buf, r); err != nil || gi == 0 {
					return fmt.Errorf("paper: %s: %w: %q (U+%04X) in %q; the Go fonts cover Latin, Greek and Cyrillic",
						where, ErrGlyph, r, r, clip(s))
				}
			}
		}
		return nil
	})
}

func clip(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
