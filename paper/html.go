package paper

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// WriteHTML writes d as one self-contained HTML page: inline CSS with the
// fonts embedded, no script, nothing fetched. Its print stylesheet sets
// the paper size, repeats table headers, keeps each table row on one page
// and prints the footer and "page N of M" on every page.
func WriteHTML(w io.Writer, d *Document) error {
	if err := checkGlyphs(d); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, htmlPage{Doc: d, CSS: template.CSS(stylesheet(d))}); err != nil {
		return fmt.Errorf("paper: html: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type htmlPage struct {
	Doc *Document
	CSS template.CSS
}

// stylesheet returns the page's CSS: the fonts, the screen and print
// layout and the page footer, with every value from d escaped as a CSS
// string.
func stylesheet(d *Document) string {
	size := "A4"
	if d.Paper == Letter {
		size = "letter"
	}
	var b strings.Builder
	for _, f := range []struct {
		family, weight string
		data           []byte
	}{{"ksk-sans", "400", fontRegular}, {"ksk-sans", "700", fontBold}, {"ksk-mono", "400", fontMono}, {"ksk-mono", "700", fontMonoBold}} {
		fmt.Fprintf(&b, "@font-face{font-family:%q;font-weight:%s;src:url(data:font/ttf;base64,%s) format(\"truetype\")}\n",
			f.family, f.weight, base64.StdEncoding.EncodeToString(f.data))
	}
	fmt.Fprintf(&b, "@page{size:%s;margin:14mm 12mm 16mm 12mm;"+
		"@bottom-left{content:%s;font-family:\"ksk-mono\";font-size:6.5pt;color:#333}"+
		"@bottom-right{content:\"page \" counter(page) \" of \" counter(pages);font-family:\"ksk-sans\";font-size:8pt}}\n",
		size, cssString(d.Footer))
	b.WriteString(baseCSS)
	return b.String()
}

// cssString quotes s as a CSS string, escaping every character that is
// not a letter, digit, space or common punctuation.
func cssString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" .,:;-_/()#", r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "\\%06x", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

const baseCSS = `
html{font-family:"ksk-sans",sans-serif;font-size:10pt;color:#111;background:#fff}
body{margin:0 auto;max-width:190mm;padding:6mm}
h1{font-size:17pt;margin:0 0 3mm}
h2{font-size:12.5pt;margin:6mm 0 2mm;border-bottom:0.4mm solid #444}
.break{break-before:page}
code,.mono{font-family:"ksk-mono",monospace;font-size:7.4pt;word-break:keep-all;overflow-wrap:anywhere}
code.hash{white-space:nowrap}
.small{font-size:7.8pt;color:#333}
.bold{font-weight:700}
p{margin:1mm 0}
table{border-collapse:collapse;width:100%;margin:1mm 0 3mm}
thead{display:table-header-group}
tr{break-inside:avoid;page-break-inside:avoid}
th{background:#e4e4e4;text-align:left;font-weight:700;font-size:8.5pt}
th,td{border:0.3mm solid #777;padding:1.2mm 1.5mm;vertical-align:top}
table.grid td{height:5.5mm}
td div{margin:0 0 0.6mm}
table.fields td.name{width:34%;font-weight:700}
tr.exception td{background:#fde2e2}
tr.note td{background:#fff4d0}
.box{display:inline-block;width:46mm;height:5.5mm;border:0.35mm solid #000;vertical-align:middle;margin-left:2mm}
.verdict{border:1.2mm solid;padding:4mm 5mm;margin:0 0 5mm;break-inside:avoid}
.verdict .title{font-size:28pt;font-weight:700;margin:0 0 2mm}
.verdict.verified{border-color:#0a6b2f;background:#e3f5e8}
.verdict.verified .title{color:#0a6b2f}
.verdict.failed{border-color:#a30000;background:#fde2e2}
.verdict.failed .title{color:#a30000}
.verdict.not-finished{border-color:#9a6500;background:#fff4d0}
.verdict.not-finished .title{color:#7a4f00}
.sign{display:grid;grid-template-columns:40mm 1fr 1fr 34mm;gap:2mm 4mm;margin:5mm 0 8mm;break-inside:avoid}
.sign div{border-bottom:0.3mm solid #000;height:9mm;font-size:7.5pt;color:#444}
.sign div.role{border:none;font-weight:700;color:#111;font-size:10pt;padding-top:3mm}
@media print{body{max-width:none;padding:0}}
`

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"lineClass": func(l Line) string {
		var c []string
		if l.Mono {
			c = append(c, "mono")
		}
		if l.Small {
			c = append(c, "small")
		}
		if l.Bold {
			c = append(c, "bold")
		}
		return strings.Join(c, " ")
	},
	"isHash": func(l Line) bool { return l.Mono && isHexHash(l.Text) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Doc.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body data-kind="{{.Doc.Kind}}">
{{- define "lines"}}{{range .}}<div class="{{lineClass .}}">{{if isHash .}}<code class="hash">{{.Text}}</code>{{else}}{{.Text}}{{end}}{{if .Box}}<span class="box"></span>{{end}}</div>{{end}}{{end}}
{{- range .Doc.Blocks}}
{{- if eq .Kind 0}}
{{- if eq .Level 1}}<h1{{if .PageBreak}} class="break"{{end}}{{if .ID}} id="{{.ID}}"{{end}}>{{.Text}}</h1>{{else}}<h2{{if .PageBreak}} class="break"{{end}}{{if .ID}} id="{{.ID}}"{{end}}>{{.Text}}</h2>{{end}}
{{- else if eq .Kind 1}}
<div class="para"{{if .ID}} id="{{.ID}}"{{end}}>{{template "lines" .Lines}}</div>
{{- else if eq .Kind 2}}
<table class="fields"{{if .ID}} id="{{.ID}}"{{end}}><tbody>
{{- range .Fields}}
<tr><td class="name">{{.Name}}</td><td>{{template "lines" .Value}}</td></tr>
{{- end}}
</tbody></table>
{{- else if eq .Kind 3}}
<table class="grid" data-table="{{.Table.Name}}"{{if .ID}} id="{{.ID}}"{{end}}>
<colgroup>{{range .Table.Columns}}<col style="width:{{printf "%.1f" .Width}}%">{{end}}</colgroup>
<thead><tr>{{range .Table.Columns}}<th>{{.Title}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Table.Rows}}
<tr{{if .ID}} data-step="{{.ID}}"{{end}}{{if .IsLog}} data-seq="{{.Seq}}"{{end}}{{if .Class}} class="{{.Class}}"{{end}}>{{range .Cells}}<td>{{template "lines" .}}</td>{{end}}</tr>
{{- end}}
</tbody></table>
{{- else if eq .Kind 4}}
<div id="verdict" class="verdict {{.Verdict.State}}" data-state="{{.Verdict.State}}"><div class="title">{{.Verdict.Title}}</div>{{template "lines" .Verdict.Lines}}</div>
{{- else if eq .Kind 5}}
{{- range .Signatures}}
<div class="sign"><div class="role">{{.}}</div><div>name</div><div>signature</div><div>date and time (UTC)</div></div>
{{- end}}
{{- end}}
{{- end}}
</body>
</html>
`))

// isHexHash reports whether s is a SHA-256 in lower-case hex, 64 digits.
func isHexHash(s string) bool { return len(s) == 64 && hexHash64.MatchString(s) }
