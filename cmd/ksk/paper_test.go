package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/internal/testenv"
	"golang.org/x/net/html"
)

// chromium runs headless Chromium with args and the page url, and returns
// its standard output.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := testenv.RequireTool(t, "chromium", "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(), "--no-pdf-header-footer"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, lastLines(stderr.String(), 10))
	}
	return out
}

// renderedDOM is the DOM of an HTML file after Chromium has loaded it.
func renderedDOM(t *testing.T, path string) *html.Node {
	t.Helper()
	out := chromium(t, "--dump-dom", "file://"+path)
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%s: rendered DOM does not parse: %v", path, err)
	}
	return doc
}

// walk calls f for every element of n.
func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	return b.String()
}

var hexRun = regexp.MustCompile(`[0-9a-f]+`)

// noShortHashes fails the test if text holds a run of 20 to 63 hex digits:
// a hash cut short.
func noShortHashes(t *testing.T, what, text string) {
	t.Helper()
	for _, m := range hexRun.FindAllString(text, -1) {
		if len(m) >= 20 && len(m) < 64 || len(m) > 64 {
			t.Errorf("%s: hex run of %d digits %q: a hash cut or run together", what, len(m), m)
		}
	}
}

// notBlank fails the test unless the PNG at path has ink on it.
func notBlank(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl < 3*0x8000 {
				dark++
			}
		}
	}
	if total := b.Dx() * b.Dy() / 4; dark < total/200 {
		t.Errorf("%s looks blank: %d dark samples of %d", path, dark, total)
	}
}

func pdfText(t *testing.T, path string) string {
	t.Helper()
	bin := testenv.RequireTool(t, "pdftotext", "poppler-utils")
	out, err := exec.Command(bin, "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return string(out)
}

func pdfPages(t *testing.T, path string) int {
	t.Helper()
	bin := testenv.RequireTool(t, "pdfinfo", "poppler-utils")
	out, err := exec.Command(bin, path).Output()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v", path, err)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo %s: no page count", path)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// checkPageFooters checks that a PDF's text has "page N of M" for every
// page and that M is its page count, and that footer is on every page.
func checkPageFooters(t *testing.T, path, text, footer string) {
	t.Helper()
	n := pdfPages(t, path)
	pages := strings.Split(text, "\f")
	for i := 1; i <= n; i++ {
		p := pages[i-1]
		if !strings.Contains(p, "page "+strconv.Itoa(i)+" of "+strconv.Itoa(n)) {
			t.Errorf("%s page %d: no \"page %d of %d\" footer", path, i, i, n)
		}
		if !strings.Contains(p, footer) {
			t.Errorf("%s page %d: footer lacks %s", path, i, footer)
		}
	}
}

// pagePNG turns a page of a PDF into a PNG and returns its path.
func pagePNG(t *testing.T, pdf string, page int) string {
	t.Helper()
	bin := testenv.RequireTool(t, "pdftoppm", "poppler-utils")
	n := strconv.Itoa(page)
	prefix := strings.TrimSuffix(pdf, ".pdf") + "-page" + n
	if out, err := exec.Command(bin, "-png", "-r", "60", "-f", n, "-l", n, "-singlefile", pdf, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm %s: %v\n%s", pdf, err, out)
	}
	return prefix + ".png"
}

// docsImage copies a screenshot to docs/img when KSK_DOCS_IMG is set
// (make docs-img), so that the pictures in the guides are the tests'.
func docsImage(t *testing.T, src, name string) {
	t.Helper()
	if os.Getenv("KSK_DOCS_IMG") == "" {
		return
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPaper prints the binder of the quarterly script, the annotated
// transcript of its rehearsal and the TCR's report, as HTML rendered in a
// real headless Chromium and as PDF read back with poppler, and checks
// what a reader sees: every step once and in order, every log entry,
// every hash in full, the verdict, page numbers and footers on every page.
func TestPaper(t *testing.T) {
	room := newAttackRoom(t)
	e := room.e
	out := t.TempDir()
	f := func(name string) string { return filepath.Join(out, name) }

	// The plan's steps, in order, as ceremony check lists them.
	code, js, errOut := runKSK(t, "", append([]string{"ceremony", "check", "-o", "json", quarterlyScript, "--dir", e.work}, e.params...)...)
	if code != 0 {
		t.Fatalf("ceremony check: exit %d %s", code, errOut)
	}
	var plan struct {
		SHA256 string `json:"sha256"`
		Steps  []struct {
			ID string `json:"id"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(js), &plan); err != nil {
		t.Fatal(err)
	}
	var stepIDs []string
	for _, s := range plan.Steps {
		stepIDs = append(stepIDs, s.ID)
	}
	// The log's entries and their hashes.
	code, js, _ = runKSK(t, "", "log", "show", "-o", "json", room.log)
	var shown struct {
		Entries []struct {
			Seq   int64 `json:"seq"`
			Hash  string
			Files []struct{ SHA256 string }
		}
		Head string
	}
	if code != 0 || json.Unmarshal([]byte(js), &shown) != nil {
		t.Fatalf("log show -o json: exit %d", code)
	}
	logSum := sha256.Sum256([]byte(readFileT(t, room.log)))
	hashes := []string{shown.Head, plan.SHA256, hex.EncodeToString(logSum[:])}
	for _, en := range shown.Entries {
		hashes = append(hashes, en.Hash)
		for _, fl := range en.Files {
			hashes = append(hashes, fl.SHA256)
		}
	}

	for _, format := range []string{"html", "pdf"} {
		mustRun(t, nil, append([]string{"ceremony", "print", quarterlyScript, "--dir", e.work, "--format", format, "--out", f("binder." + format)}, e.params...)...)
		mustRun(t, nil, "log", "show", room.log, "--format", format, "--out", f("transcript."+format))
	}
	mustRun(t, nil, "log", "verify", room.log, "--attestation-key", room.attestPEM, "--allowed-signers", room.allowed,
		"--script", quarterlyScript, "--report", f("report.html"))
	// An existing output is never overwritten without --force.
	if code, _, errOut := runKSK(t, "", append([]string{"ceremony", "print", quarterlyScript, "--dir", e.work, "--format", "pdf", "--out", f("binder.pdf")}, e.params...)...); code != exitUsage || !strings.Contains(errOut, "exists") {
		t.Errorf("print over an existing file: exit %d %s", code, errOut)
	}

	t.Run("binder html", func(t *testing.T) {
		dom := renderedDOM(t, f("binder.html"))
		var rows []string
		walk(dom, func(n *html.Node) {
			if id, ok := attr(n, "data-step"); ok && n.Data == "tr" {
				rows = append(rows, id)
			}
			if n.Data == "script" || (n.Data == "link" || n.Data == "img") {
				t.Errorf("binder has a <%s> element: it must be self-contained", n.Data)
			}
		})
		if strings.Join(rows, " ") != strings.Join(stepIDs, " ") {
			t.Errorf("binder step rows %v, want the script's steps once each in order %v", rows, stepIDs)
		}
		text := textOf(dom)
		noShortHashes(t, "binder", text)
		for _, want := range []string{plan.SHA256, "Participants: sign-in sheet", "Exceptions", "Sign-off", "Internal witness", "Auditor",
			"compare the KSR's PGP words with the zone maintainer's", "HSM tamper-evident bag number"} {
			if !strings.Contains(text, want) {
				t.Errorf("binder lacks %q", want)
			}
		}
		// Printed by Chromium, every page has its number and the hash.
		pdf := f("binder-chromium.pdf")
		chromium(t, "--print-to-pdf="+pdf, "file://"+f("binder.html"))
		checkPageFooters(t, pdf, pdfText(t, pdf), plan.SHA256)
		shot := f("binder.png")
		chromium(t, "--screenshot="+shot, "--window-size=1100,1500", "file://"+f("binder.html"))
		notBlank(t, shot)
		docsImage(t, shot, "binder-html.png")
	})

	t.Run("binder pdf", func(t *testing.T) {
		text := pdfText(t, f("binder.pdf"))
		checkPageFooters(t, f("binder.pdf"), text, plan.SHA256)
		at := 0
		for _, id := range stepIDs {
			i := strings.Index(text[at:], "· "+id)
			if i < 0 {
				t.Errorf("binder.pdf: step %s missing or out of order", id)
				continue
			}
			at += i
		}
		noShortHashes(t, "binder.pdf", text)
		png := pagePNG(t, f("binder.pdf"), 1)
		notBlank(t, png)
		docsImage(t, png, "binder-pdf-page1.png")
		act := pagePNG(t, f("binder.pdf"), 4)
		notBlank(t, act)
		docsImage(t, act, "binder-pdf-page4.png")
	})

	checkTranscriptDOM := func(t *testing.T, path, state string, wantEntries int) *html.Node {
		dom := renderedDOM(t, path)
		var seqs []int64
		verdicts := 0
		walk(dom, func(n *html.Node) {
			if name, _ := attr(n, "data-table"); strings.HasPrefix(name, "entries-") {
				walk(n, func(r *html.Node) {
					if s, ok := attr(r, "data-seq"); ok && r.Data == "tr" {
						v, _ := strconv.ParseInt(s, 10, 64)
						seqs = append(seqs, v)
					}
				})
			}
			if id, _ := attr(n, "id"); id == "verdict" {
				verdicts++
				if st, _ := attr(n, "data-state"); st != state {
					t.Errorf("%s: verdict state %q, want %q", path, st, state)
				}
			}
			if n.Data == "script" {
				t.Errorf("%s has a <script>", path)
			}
		})
		if verdicts != 1 {
			t.Errorf("%s: %d verdict elements, want 1", path, verdicts)
		}
		if len(seqs) != wantEntries {
			t.Errorf("%s: %d entry rows, want %d", path, len(seqs), wantEntries)
		}
		for i, s := range seqs {
			if s != int64(i) {
				t.Errorf("%s: entry row %d is #%d", path, i, s)
				break
			}
		}
		noShortHashes(t, path, textOf(dom))
		return dom
	}

	t.Run("transcript", func(t *testing.T) {
		dom := checkTranscriptDOM(t, f("transcript.html"), "verified", len(shown.Entries))
		text := textOf(dom)
		for _, h := range hashes {
			if !strings.Contains(text, h) {
				t.Errorf("transcript.html lacks the hash %s", h)
			}
		}
		for _, want := range []string{"SKR bundles", "Quorum: credentials presented", "holder=co1 counted", "Witness signatures", "SHA256:"} {
			if !strings.Contains(text, want) {
				t.Errorf("transcript.html lacks %q", want)
			}
		}
		pdfT := pdfText(t, f("transcript.pdf"))
		checkPageFooters(t, f("transcript.pdf"), pdfT, "log sha256")
		for _, h := range hashes {
			if !strings.Contains(pdfT, h) {
				t.Errorf("transcript.pdf lacks the hash %s", h)
			}
		}
		noShortHashes(t, "transcript.pdf", pdfT)
		tp := pagePNG(t, f("transcript.pdf"), 4)
		notBlank(t, tp)
		docsImage(t, tp, "transcript-pdf-page4.png")
	})

	t.Run("report", func(t *testing.T) {
		dom := checkTranscriptDOM(t, f("report.html"), "verified", len(shown.Entries))
		text := textOf(dom)
		for _, want := range []string{"VERIFIED", shown.Head, "Seal by the attestation key", "Witness signatures", "Ceremony binding", "Act 1: ", "4.3 act4.sign"} {
			if !strings.Contains(text, want) {
				t.Errorf("report lacks %q", want)
			}
		}
		if strings.Contains(text, "FAILED") {
			t.Error("a good log's report shows a failed check")
		}
		raw := readFileT(t, f("report.html"))
		for _, bad := range []string{"<script", "<link", "<img", "<iframe", " src=", " href=", "url(http", "@import"} {
			if strings.Contains(raw, bad) {
				t.Errorf("report.html holds %q: it must be readable offline, self-contained, with nothing fetched", bad)
			}
		}
		shot := f("report.png")
		chromium(t, "--screenshot="+shot, "--window-size=1000,1300", "file://"+f("report.html"))
		notBlank(t, shot)
		docsImage(t, shot, "tcr-report.png")
	})

	t.Run("tampered", func(t *testing.T) {
		// The sign step's entry changed: the chain breaks at the entry
		// after it, whose prev no longer matches, so the entries up to
		// and including the changed one are shown, and no more.
		lines := append([]string(nil), room.lines...)
		lines[room.signSeq] = strings.Replace(lines[room.signSeq], `"status":"done"`, `"status":"dome"`, 1)
		bad := f("tampered.log")
		writeFileAt(t, bad, strings.Join(lines, ""), 0o644)
		code, _, _ := runKSK(t, "", "log", "verify", bad, "--attestation-key", room.attestPEM, "--allowed-signers", room.allowed, "--report", f("tampered.html"))
		if code != exitRejected {
			t.Fatalf("tampered log verify: exit %d, want 1", code)
		}
		dom := checkTranscriptDOM(t, f("tampered.html"), "failed", room.signSeq+1)
		text := textOf(dom)
		if !strings.Contains(text, "NOT VERIFIED") || strings.Contains(text, "VERIFIED All") || !strings.Contains(text, "LOG-CHAIN") ||
			!strings.Contains(text, "FAILED") {
			t.Errorf("tampered report: verdict text wrong:\n%s", text[:min(len(text), 600)])
		}
		if code, _, _ := runKSK(t, "", "log", "show", bad, "--format", "pdf", "--out", f("tampered.pdf")); code != exitRejected {
			t.Errorf("log show --format pdf of a tampered log: exit %d, want 1", code)
		}
		if pt := pdfText(t, f("tampered.pdf")); !strings.Contains(pt, "NOT VERIFIED") {
			t.Error("tampered transcript PDF does not say NOT VERIFIED")
		}
	})
}

// TestPaperFlags: wrong flags are refused with exit 2 before the script
// or log is read, and nothing is written.
func TestPaperFlags(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.pdf")
	existing := filepath.Join(dir, "existing.html")
	writeFileAt(t, existing, "keep", 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"ceremony", "print", quarterlyScript, "--format", "docx", "--out", out}, `--format "docx": want html or pdf`},
		{"no format", []string{"ceremony", "print", quarterlyScript, "--out", out}, `want html or pdf`},
		{"no out", []string{"ceremony", "print", quarterlyScript, "--format", "pdf"}, "needs --out FILE"},
		{"paper size", []string{"ceremony", "print", quarterlyScript, "--format", "pdf", "--out", out, "--paper", "a3"}, `--paper "a3"`},
		{"existing out", []string{"ceremony", "print", quarterlyScript, "--format", "html", "--out", existing}, "exists"},
		{"show format", []string{"log", "show", "no.log", "--format", "png", "--out", out}, `--format "png"`},
		{"show existing", []string{"log", "show", "no.log", "--out", existing}, "exists"},
		{"report existing", []string{"log", "verify", "no.log", "--report", existing}, "exists"},
		{"report paper", []string{"log", "verify", "no.log", "--report", out, "--paper", "tabloid"}, `--paper "tabloid"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runKSK(t, "", tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, %q; want 2 and %q", code, errOut, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output was written")
			}
			if readFileT(t, existing) != "keep" {
				t.Error("an existing file was overwritten")
			}
		})
	}
}
