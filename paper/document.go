package paper

import (
	"errors"
	"time"
)

// ErrGlyph is wrapped by the renderers' error for a character that the
// embedded fonts have no glyph for.
var ErrGlyph = errors.New("character not in the embedded font")

// Paper sizes.
const (
	A4     = "a4"
	Letter = "letter"
)

// Document is a printable document: a title, a footer on every page and
// its blocks in order.
type Document struct {
	// Kind is "binder", "transcript" or "report"; the HTML body carries it
	// as data-kind.
	Kind string
	// Title is the document's title (HTML <title>, PDF title).
	Title string
	// Footer is printed on every page beside "page N of M": the script's
	// or the log's SHA-256, so that a page from another document is seen.
	Footer string
	// Created is the date the PDF records as its creation date (the
	// ceremony's date or the log's first entry), so that the same input
	// gives the same file; zero means 2000-01-01.
	Created time.Time
	// Paper is A4 (default) or Letter.
	Paper string
	// Blocks are the document's contents.
	Blocks []Block
}

// BlockKind says what a Block is.
type BlockKind int

// Kinds of Block.
const (
	KindHeading    BlockKind = iota // Text at Level, on a new page when PageBreak
	KindParagraph                   // Lines
	KindFields                      // Fields: name and value pairs
	KindTable                       // Table
	KindVerdict                     // Verdict
	KindSignatures                  // Signatures: one line to sign per label
)

// Block is one part of a Document.
type Block struct {
	Kind BlockKind
	// Text is a heading's text.
	Text string
	// Level is a heading's level: 1 (a part) or 2 (a section).
	Level int
	// PageBreak starts a heading on a new page.
	PageBreak bool
	// ID, when set, is the HTML element's id.
	ID string
	// Lines are a paragraph's lines.
	Lines []Line
	// Fields are a fields block's rows.
	Fields []Field
	// Table is a table block's table.
	Table *Table
	// Verdict is a verdict block's verdict.
	Verdict *Verdict
	// Signatures are the roles that sign a signatures block.
	Signatures []string
}

// Field is a name and its value, one row of a fields block.
type Field struct {
	Name  string
	Value []Line
}

// Line is one line of text. A hash line is set in the monospaced font and
// never broken inside a word; a box line draws an empty box to write in
// after its text.
type Line struct {
	Text  string
	Mono  bool
	Small bool
	Bold  bool
	// Box draws an empty box to write in after Text (a bag number).
	Box bool
}

// Table is a table with a header row that is repeated on every page; its
// rows are never split across pages unless a row is taller than a page.
type Table struct {
	// Name is the table's data-table attribute in HTML ("act1", "entries").
	Name    string
	Columns []Column
	Rows    []Row
}

// Column is a table column: its title and its share of the width.
type Column struct {
	Title string
	Width float64
}

// Row is a table row. ID and Seq mark a script step's row (data-step) and
// a log entry's row (data-seq); Class is "exception" or "note" for a row
// that needs attention.
type Row struct {
	ID    string
	Seq   int64
	IsLog bool
	Class string
	Cells [][]Line
}

// Verdict states.
const (
	Verified    = "verified"
	Failed      = "failed"
	NotFinished = "not-finished"
)

// Verdict is the result of a verification, shown first and large.
type Verdict struct {
	// State is Verified, Failed or NotFinished.
	State string
	// Title is the verdict in one or two words ("VERIFIED").
	Title string
	// Lines say why: the head, or the first bad entry and the rule.
	Lines []Line
}

// Helpers to build lines.

// T is a line of text.
func T(s string) Line { return Line{Text: s} }

// B is a line of bold text.
func B(s string) Line { return Line{Text: s, Bold: true} }

// H is a hash or other value set in the monospaced font.
func H(s string) Line { return Line{Text: s, Mono: true} }

// S is a line of small text.
func S(s string) Line { return Line{Text: s, Small: true} }

// Ls makes lines of texts.
func Ls(texts ...string) []Line {
	out := make([]Line, len(texts))
	for i, s := range texts {
		out[i] = T(s)
	}
	return out
}

// Heading returns a heading block.
func Heading(level int, text string, pageBreak bool) Block {
	return Block{Kind: KindHeading, Level: level, Text: text, PageBreak: pageBreak}
}

// Paragraph returns a paragraph block.
func Paragraph(lines ...Line) Block { return Block{Kind: KindParagraph, Lines: lines} }

// texts calls f with every text of d, for the glyph check.
func (d *Document) texts(f func(where, s string) error) error {
	if err := f("title", d.Title); err != nil {
		return err
	}
	if err := f("footer", d.Footer); err != nil {
		return err
	}
	lines := func(where string, ls []Line) error {
		for _, l := range ls {
			if err := f(where, l.Text); err != nil {
				return err
			}
		}
		return nil
	}
	for _, b := range d.Blocks {
		where := b.Text
		if err := f("heading", b.Text); err != nil {
			return err
		}
		if err := lines(where, b.Lines); err != nil {
			return err
		}
		for _, fl := range b.Fields {
			if err := f(where, fl.Name); err != nil {
				return err
			}
			if err := lines(where+": "+fl.Name, fl.Value); err != nil {
				return err
			}
		}
		if t := b.Table; t != nil {
			for _, c := range t.Columns {
				if err := f(where, c.Title); err != nil {
					return err
				}
			}
			for _, r := range t.Rows {
				for _, c := range r.Cells {
					if err := lines(where+" "+r.ID, c); err != nil {
						return err
					}
				}
			}
		}
		if v := b.Verdict; v != nil {
			if err := f("verdict", v.Title); err != nil {
				return err
			}
			if err := lines("verdict", v.Lines); err != nil {
				return err
			}
		}
		for _, s := range b.Signatures {
			if err := f("signatures", s); err != nil {
				return err
			}
		}
	}
	return nil
}
