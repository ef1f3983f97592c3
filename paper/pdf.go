package paper

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Page geometry of the PDF, in millimetres.
const (
	marginLeft   = 12.0
	marginRight  = 12.0
	marginTop    = 14.0
	marginBottom = 18.0 // the footer sits in it
	cellPad      = 1.5
)

// fontSpec is a font family, style and size in points.
type fontSpec struct {
	family, style string
	size          float64
}

var (
	fontText    = fontSpec{"sans", "", 9.5}
	fontTextB   = fontSpec{"sans", "B", 9.5}
	fontSmall   = fontSpec{"sans", "", 7.5}
	fontHash    = fontSpec{"mono", "", 7}
	fontHashB   = fontSpec{"mono", "B", 7}
	fontHeader  = fontSpec{"sans", "B", 8.5}
	fontH1      = fontSpec{"sans", "B", 17}
	fontH2      = fontSpec{"sans", "B", 12.5}
	fontVerdict = fontSpec{"sans", "B", 26}
)

// lineHeight is the height of a line set in f.
func (f fontSpec) lineHeight() float64 { return f.size * 0.3528 * 1.3 }

func lineFont(l Line) fontSpec {
	switch {
	case l.Mono && l.Bold:
		return fontHashB
	case l.Mono:
		return fontHash
	case l.Small:
		return fontSmall
	case l.Bold:
		return fontTextB
	}
	return fontText
}

// WritePDF writes d as a PDF made by ksk itself: the Go fonts embedded
// (subset), the footer and "page N of M" on every page, table headers
// repeated on each page and no table row split across pages unless it is
// taller than a page. The same Document gives the same bytes.
func WritePDF(w io.Writer, d *Document) error {
	if err := checkGlyphs(d); err != nil {
		return err
	}
	size := "A4"
	if d.Paper == Letter {
		size = "Letter"
	}
	p := fpdf.New("P", "mm", size, "")
	p.SetMargins(marginLeft, marginTop, marginRight)
	p.SetAutoPageBreak(false, marginBottom)
	p.AddUTF8FontFromBytes("sans", "", fontRegular)
	p.AddUTF8FontFromBytes("sans", "B", fontBold)
	p.AddUTF8FontFromBytes("mono", "", fontMono)
	p.AddUTF8FontFromBytes("mono", "B", fontMonoBold)
	p.AliasNbPages("{nb}")
	p.SetTitle(d.Title, true)
	p.SetCreator("ksk", true)
	p.SetProducer("ksk", true)
	created := d.Created
	if created.IsZero() {
		created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	p.SetCreationDate(created.UTC())
	p.SetModificationDate(created.UTC())
	p.SetCatalogSort(true)
	r := &pdfRenderer{p: p}
	pw, ph := p.GetPageSize()
	r.width = pw - marginLeft - marginRight
	r.bottom = ph - marginBottom
	p.SetFooterFunc(func() {
		p.SetY(-marginBottom + 6)
		r.font(fontSpec{"mono", "", 6.5})
		p.SetTextColor(51, 51, 51)
		p.CellFormat(r.width-32, 4, d.Footer, "", 0, "L", false, 0, "")
		r.font(fontSpec{"sans", "", 8})
		p.SetTextColor(0, 0, 0)
		p.CellFormat(32, 4, fmt.Sprintf("page %d of {nb}", p.PageNo()), "", 0, "R", false, 0, "")
	})
	p.AddPage()
	for i := range d.Blocks {
		r.block(&d.Blocks[i])
	}
	if err := p.Error(); err != nil {
		return fmt.Errorf("paper: pdf: %w", err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return fmt.Errorf("paper: pdf: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type pdfRenderer struct {
	p      *fpdf.Fpdf
	width  float64 // usable width
	bottom float64 // lowest y a line may reach
	cur    fontSpec
}

func (r *pdfRenderer) font(f fontSpec) {
	if f != r.cur {
		r.p.SetFont(f.family, f.style, f.size)
		r.cur = f
	}
}

// ensure starts a new page unless h millimetres fit above the footer.
func (r *pdfRenderer) ensure(h float64) bool {
	if r.p.GetY()+h > r.bottom {
		r.p.AddPage()
		return true
	}
	return false
}

func (r *pdfRenderer) atTop() bool { return r.p.GetY() <= marginTop+0.01 }

func (r *pdfRenderer) block(b *Block) {
	p := r.p
	switch b.Kind {
	case KindHeading:
		f, gap := fontH2, 4.0
		if b.Level == 1 {
			f, gap = fontH1, 2.0
		}
		if b.PageBreak && !r.atTop() {
			p.AddPage()
		} else {
			// keep a heading with at least a few lines of what follows
			r.ensure(f.lineHeight() + 45)
		}
		if !r.atTop() {
			p.Ln(gap)
		}
		r.font(f)
		for _, s := range r.split(b.Text, r.width) {
			p.CellFormat(r.width, f.lineHeight(), s, "", 2, "L", false, 0, "")
		}
		if b.Level == 2 {
			y := p.GetY()
			p.SetLineWidth(0.4)
			p.Line(marginLeft, y, marginLeft+r.width, y)
			p.SetLineWidth(0.2)
		}
		p.Ln(2)
	case KindParagraph:
		for _, ll := range r.lay(b.Lines, r.width) {
			r.ensure(ll.h)
			r.drawLine(ll, marginLeft, p.GetY())
			p.SetY(p.GetY() + ll.h)
		}
		p.Ln(1.5)
	case KindFields:
		cols := []float64{r.width * 0.32, r.width * 0.68}
		for _, f := range b.Fields {
			r.row(cols, [][]Line{{B(f.Name)}, f.Value}, "", nil)
		}
		p.Ln(3)
	case KindTable:
		t := b.Table
		total := 0.0
		for _, c := range t.Columns {
			total += c.Width
		}
		cols := make([]float64, len(t.Columns))
		header := make([][]Line, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = r.width * c.Width / total
			header[i] = []Line{{Text: c.Title}}
		}
		r.header(cols, header)
		for _, row := range t.Rows {
			r.row(cols, row.Cells, row.Class, func() { r.header(cols, header) })
		}
		p.Ln(3)
	case KindVerdict:
		r.verdict(b.Verdict)
	case KindSignatures:
		for _, role := range b.Signatures {
			r.ensure(16)
			y := p.GetY() + 4
			r.font(fontTextB)
			p.SetXY(marginLeft, y)
			p.CellFormat(40, 8, role, "", 0, "L", false, 0, "")
			x := marginLeft + 42
			for _, part := range []struct {
				label string
				w     float64
			}{{"name", 52}, {"signature", 52}, {"date and time (UTC)", r.width - 42 - 104 - 8}} {
				p.Line(x, y+8, x+part.w-3, y+8)
				r.font(fontSmall)
				p.SetXY(x, y+8.3)
				p.CellFormat(part.w, 3.5, part.label, "", 0, "L", false, 0, "")
				x += part.w + 4
			}
			p.SetY(y + 13)
		}
	}
}

// laid is a line laid out to a width.
type laid struct {
	text string
	f    fontSpec
	h    float64
	box  bool
}

// split breaks s into lines that fit width w in the current font.
func (r *pdfRenderer) split(s string, w float64) []string {
	if s == "" {
		return []string{""}
	}
	return r.p.SplitText(s, w)
}

func (r *pdfRenderer) lay(lines []Line, w float64) []laid {
	var out []laid
	for _, l := range lines {
		f := lineFont(l)
		r.font(f)
		parts := r.split(l.Text, w)
		for i, s := range parts {
			ll := laid{text: s, f: f, h: f.lineHeight()}
			if l.Box && i == len(parts)-1 {
				ll.box, ll.h = true, 7.5
			}
			out = append(out, ll)
		}
	}
	return out
}

func (r *pdfRenderer) drawLine(ll laid, x, y float64) {
	p := r.p
	r.font(ll.f)
	p.SetXY(x, y)
	tw := p.GetStringWidth(ll.text)
	p.CellFormat(tw+0.5, ll.f.lineHeight(), ll.text, "", 0, "L", false, 0, "")
	if ll.box {
		p.SetLineWidth(0.35)
		p.Rect(x+tw+2, y, 46, 6, "D")
		p.SetLineWidth(0.2)
	}
}

func height(ls []laid) float64 {
	h := 0.0
	for _, l := range ls {
		h += l.h
	}
	return h
}

func (r *pdfRenderer) header(cols []float64, cells [][]Line) {
	r.p.SetFillColor(228, 228, 228)
	laidCells := make([][]laid, len(cells))
	for i, c := range cells {
		for _, ll := range r.lay(c, cols[i]-2*cellPad) {
			ll.f = fontHeader
			laidCells[i] = append(laidCells[i], ll)
		}
	}
	r.drawRow(cols, laidCells, true)
}

// row draws one table row, on a new page (after again()) when it does not
// fit; a row taller than a page is split into parts that each fit.
func (r *pdfRenderer) row(cols []float64, cells [][]Line, class string, again func()) {
	laidCells := make([][]laid, len(cells))
	h := 0.0
	for i, c := range cells {
		laidCells[i] = r.lay(c, cols[i]-2*cellPad)
		h = max(h, height(laidCells[i]))
	}
	switch class {
	case "exception":
		r.p.SetFillColor(253, 226, 226)
	case "note":
		r.p.SetFillColor(255, 244, 208)
	}
	fill := class != ""
	for {
		avail := r.bottom - r.p.GetY() - 2*cellPad
		if h <= avail {
			r.drawRow(cols, laidCells, fill)
			return
		}
		fresh := r.bottom - marginTop - 2*cellPad - 8 // a header row above
		if h <= fresh || avail < 20 {
			r.p.AddPage()
			if again != nil {
				again()
			}
			if h <= fresh {
				continue
			}
			avail = r.bottom - r.p.GetY() - 2*cellPad
		}
		// taller than a page: draw what fits and continue on the next
		head := make([][]laid, len(laidCells))
		rest := make([][]laid, len(laidCells))
		for i, c := range laidCells {
			sum, k := 0.0, 0
			for k < len(c) && sum+c[k].h <= avail {
				sum += c[k].h
				k++
			}
			head[i], rest[i] = c[:k], c[k:]
		}
		r.drawRow(cols, head, fill)
		laidCells, h = rest, 0
		for _, c := range rest {
			h = max(h, height(c))
		}
		r.p.AddPage()
		if again != nil {
			again()
		}
		if h == 0 {
			return
		}
	}
}

func (r *pdfRenderer) drawRow(cols []float64, cells [][]laid, fill bool) {
	p := r.p
	h := 0.0
	for _, c := range cells {
		h = max(h, height(c))
	}
	h += 2 * cellPad
	y := p.GetY()
	x := marginLeft
	style := "D"
	if fill {
		style = "FD"
	}
	p.SetDrawColor(119, 119, 119)
	for i, c := range cells {
		p.Rect(x, y, cols[i], h, style)
		ly := y + cellPad
		for _, ll := range c {
			r.drawLine(ll, x+cellPad, ly)
			ly += ll.h
		}
		x += cols[i]
	}
	p.SetDrawColor(0, 0, 0)
	p.SetXY(marginLeft, y+h)
}

func (r *pdfRenderer) verdict(v *Verdict) {
	p := r.p
	lines := r.lay(v.Lines, r.width-10)
	h := fontVerdict.lineHeight() + height(lines) + 10
	r.ensure(h)
	y := p.GetY()
	switch v.State {
	case Verified:
		p.SetDrawColor(10, 107, 47)
		p.SetFillColor(227, 245, 232)
		p.SetTextColor(10, 107, 47)
	case NotFinished:
		p.SetDrawColor(154, 101, 0)
		p.SetFillColor(255, 244, 208)
		p.SetTextColor(122, 79, 0)
	default:
		p.SetDrawColor(163, 0, 0)
		p.SetFillColor(253, 226, 226)
		p.SetTextColor(163, 0, 0)
	}
	p.SetLineWidth(1.2)
	p.Rect(marginLeft, y, r.width, h, "FD")
	p.SetLineWidth(0.2)
	r.font(fontVerdict)
	p.SetXY(marginLeft+5, y+4)
	p.CellFormat(r.width-10, fontVerdict.lineHeight(), v.Title, "", 0, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.SetDrawColor(0, 0, 0)
	ly := y + 5 + fontVerdict.lineHeight()
	for _, ll := range lines {
		r.drawLine(ll, marginLeft+5, ly)
		ly += ll.h
	}
	p.SetXY(marginLeft, y+h+4)
}
