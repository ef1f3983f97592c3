package paper

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/internal/testenv"
)

func sample() *Document {
	rows := []Row{{ID: "a.one", Cells: [][]Line{Ls("1.1"), {B("Open the safe"), {Text: "HSM bag number", Box: true}}}}}
	return &Document{Kind: "binder", Title: "T", Footer: "script sha256 " + strings.Repeat("ab", 32), Blocks: []Block{
		Heading(1, "Ceremony", false),
		{Kind: KindFields, Fields: []Field{{"Script SHA-256", []Line{H(strings.Repeat("0f", 32))}}}},
		{Kind: KindTable, Table: &Table{Name: "act1", Columns: []Column{{"Step", 10}, {"Activity", 90}}, Rows: rows}},
		{Kind: KindVerdict, Verdict: &Verdict{State: Verified, Title: "VERIFIED", Lines: Ls("ok")}},
		{Kind: KindSignatures, Signatures: []string{"Auditor"}},
	}}
}

func TestGlyphs(t *testing.T) {
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"ascii", "KSK Ceremony 57", true},
		{"latin", "Zoë Ångström, Łódź", true},
		{"greek and cyrillic", "Αθήνα Москва", true},
		{"dash and quotes", "a – b “c” …", true},
		{"check mark", "done ✓", false},
		{"cjk", "東京", false},
		{"emoji", "🔑", false},
		{"control", "a\x1bb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sample()
			d.Blocks = append(d.Blocks, Paragraph(T(tt.text)))
			for _, write := range []func(*bytes.Buffer, *Document) error{
				func(b *bytes.Buffer, d *Document) error { return WriteHTML(b, d) },
				func(b *bytes.Buffer, d *Document) error { return WritePDF(b, d) },
			} {
				var b bytes.Buffer
				err := write(&b, d)
				if got := err == nil; got != tt.ok {
					t.Fatalf("%q: err %v, want ok=%v", tt.text, err, tt.ok)
				}
				if err != nil && (!errors.Is(err, ErrGlyph) || b.Len() != 0) {
					t.Errorf("%q: err %v (want ErrGlyph) and %d bytes written (want none)", tt.text, err, b.Len())
				}
			}
		})
	}
}

// TestHTMLEscapes: values from a script or log are text, never markup,
// in the page and in the stylesheet's footer.
func TestHTMLEscapes(t *testing.T) {
	d := sample()
	d.Footer = `x"}body{display:none}</style><script>alert(1)</script>`
	d.Blocks = append(d.Blocks, Paragraph(T(`<script>alert(1)</script>`)), Block{Kind: KindTable, Table: &Table{Name: `"><b>`,
		Columns: []Column{{"<i>", 1}}, Rows: []Row{{ID: `"onmouseover="x`, Cells: [][]Line{Ls("<img src=x>")}}}}})
	var b bytes.Buffer
	if err := WriteHTML(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script", "<img", "<b>", "<i>", `"onmouseover`, "</style><", "display:none}"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML holds %q unescaped", bad)
		}
	}
}

func TestPDFDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WritePDF(&a, sample()); err != nil {
		t.Fatal(err)
	}
	if err := WritePDF(&b, sample()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same document gave two different PDFs")
	}
	if !bytes.HasPrefix(a.Bytes(), []byte("%PDF-")) {
		t.Error("not a PDF")
	}
}

// TestPDFTallRow: a row taller than a page is split over pages rather
// than lost or looping; a long table repeats its header.
func TestPDFTallRow(t *testing.T) {
	var lines []Line
	for range 400 {
		lines = append(lines, T("a line of a very long cell"))
	}
	d := sample()
	tb := &Table{Name: "long", Columns: []Column{{"A", 1}, {"B", 1}}}
	tb.Rows = append(tb.Rows, Row{Cells: [][]Line{lines, Ls("short")}})
	for range 200 {
		tb.Rows = append(tb.Rows, Row{Cells: [][]Line{Ls("x"), Ls("y")}})
	}
	d.Blocks = append(d.Blocks, Block{Kind: KindTable, Table: tb})
	var b bytes.Buffer
	if err := WritePDF(&b, d); err != nil {
		t.Fatal(err)
	}
	bin := testenv.RequireTool(t, "pdftotext", "poppler-utils")
	cmd := exec.Command(bin, "-", "-")
	cmd.Stdin = &b
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if n := strings.Count(text, "a line of a very long cell"); n != 400 {
		t.Errorf("%d lines of the tall cell in the PDF, want all 400", n)
	}
	pages := strings.Count(text, "\f")
	if pages < 8 || !strings.Contains(text, fmt.Sprintf("page %d of %d", pages, pages)) {
		t.Errorf("%d pages; want at least 8, the last saying page %d of %d", pages, pages, pages)
	}
}

func TestCSSString(t *testing.T) {
	for in, want := range map[string]string{
		"abc 12":  `"abc 12"`,
		`a"b`:     `"a\000022b"`,
		"a\\b":    `"a\00005cb"`,
		"x·y":     `"x\0000b7y"`,
		"a\nb</s": `"a\00000ab\00003c/s"`,
	} {
		if got := cssString(in); got != want {
			t.Errorf("cssString(%q) = %s, want %s", in, got, want)
		}
	}
}
