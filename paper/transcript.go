package paper

import (
	"fmt"
	"github.com/ksk-dev/ksk/ceremony"
	"regexp"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// LogEntry is one log entry that verified, with its hash and line.
type LogEntry struct {
	Entry attest.Entry
	Hash  attest.Hash
	Line  int
}

// CopyEntry returns a LogEntry holding a deep copy of e, which
// attest.Verify reuses between calls of OnEntry.
func CopyEntry(e *attest.Entry, h attest.Hash, line int) LogEntry {
	c := *e
	c.Details = make(map[string]string, len(e.Details))
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Files = append([]attest.FileRef(nil), e.Files...)
	if e.Seal != nil {
		s := *e.Seal
		c.Seal = &s
	}
	if e.Witness != nil {
		w := *e.Witness
		c.Witness = &w
	}
	return LogEntry{Entry: c, Hash: h, Line: line}
}

// Check is one check of a TCR's report and its outcome.
type Check struct {
	Name   string
	OK     bool
	Detail []Line
}

// LogInput is what the transcript and the report are made of: the entries
// of a log that verified (all of them, or up to the first bad one), the
// result of the verification and, when found beside the log, the SKR the
// ceremony wrote.
type LogInput struct {
	// Log is the log's name as shown, and LogSHA256 the SHA-256 of the
	// file as read.
	Log       string
	LogSHA256 attest.Hash
	Entries   []LogEntry
	Result    *attest.Result
	// SKR is the SKR a sign step wrote, when it was found and its SHA-256
	// equals the log's record; SKRNote says why it is not shown otherwise.
	SKR     *ksr.Document
	SKRPath string
	SKRNote string
	// Checks are the checks the report lists (chain, seals, witnesses,
	// Rekor).
	Checks []Check
	// Steps, when the script is known, give each step ID its number and
	// act, so that the transcript is laid out as the binder is.
	Steps map[string]StepInfo
}

// StepInfo is a script step's place, for the transcript.
type StepInfo struct {
	Number   string // "2.1"
	ActTitle string // "Act 2: Bring the HSM and the credentials out of the safes"
}

// ScriptSteps returns the StepInfo of every step of s.
func ScriptSteps(s *ceremony.Script) map[string]StepInfo {
	m := map[string]StepInfo{}
	for ai, a := range s.Acts {
		for si, st := range a.Steps {
			m[a.ID+"."+st.ID] = StepInfo{Number: fmt.Sprintf("%d.%d", ai+1, si+1), ActTitle: fmt.Sprintf("Act %d: %s", ai+1, a.Title)}
		}
	}
	return m
}

// verdict returns the verification's verdict.
func (in *LogInput) verdict() *Verdict {
	r := in.Result
	head := []Line{S("head"), H(r.Head.String()), S(r.Head.Words())}
	switch r.Status() {
	case "VALID":
		return &Verdict{State: Verified, Title: "VERIFIED", Lines: append([]Line{
			T(fmt.Sprintf("All %d entries verify; the log ends with its seal and is signed off by the witnesses.", r.Entries))}, head...)}
	case "NOT FINISHED":
		return &Verdict{State: NotFinished, Title: "NOT FINISHED", Lines: append([]Line{T(r.AttestedSummary())}, head...)}
	}
	v := &Verdict{State: Failed, Title: "NOT VERIFIED"}
	for _, f := range r.Findings {
		if f.Severity == check.Error {
			v.Lines = append(v.Lines, B(attest.Sanitize(f.Check)+" "+attest.Sanitize(f.Where)), T(attest.Sanitize(f.Message)))
			break
		}
	}
	v.Lines = append(v.Lines, T(fmt.Sprintf("%d entries verified before it; the transcript below stops there. Do not accept this log.", r.Entries)))
	return v
}

// Transcript lays out the annotated transcript of a log: the verdict and
// the ceremony, the key hashes (script, KSR, SKR, log, head) in hex and
// PGP words, the witnesses with their key fingerprints, the quorum (which
// credentials counted), the SKR's bundles, one table per act with a row
// per entry (who, when, result, values, notes and exceptions in place),
// every file read or written, and lines for the reviewers.
func Transcript(in *LogInput) *Document {
	d := &Document{Kind: "transcript"}
	d.Blocks = in.transcriptBlocks(d, false)
	return d
}

// Report lays out a TCR's report: the verdict first, then every check
// made, then the transcript.
func Report(in *LogInput) *Document {
	d := &Document{Kind: "report"}
	blocks := in.transcriptBlocks(d, true)
	d.Title = "Verification report: " + d.Title
	d.Blocks = blocks
	return d
}

func (in *LogInput) transcriptBlocks(d *Document, report bool) []Block {
	open := map[string]string{}
	if len(in.Entries) > 0 && in.Entries[0].Entry.Type == attest.TypeOpen {
		open = in.Entries[0].Entry.Details
		d.Created = in.Entries[0].Entry.Time
	}
	name := open["ceremony"]
	if name == "" {
		name = in.Log
	}
	d.Title = name + ": annotated transcript"
	d.Footer = fmt.Sprintf("%s · log sha256 %s", clip(attest.Sanitize(name)), in.LogSHA256)
	var bs []Block
	if report {
		bs = append(bs, Heading(1, "Verification report", false),
			Paragraph(T("Attestation log "+attest.Sanitize(in.Log))),
			Block{Kind: KindVerdict, Verdict: in.verdict()})
		ct := &Table{Name: "checks", Columns: []Column{{"Check", 30}, {"Result", 10}, {"Detail", 60}}}
		for _, c := range in.Checks {
			res, class := "passed", ""
			if !c.OK {
				res, class = "FAILED", "exception"
			}
			ct.Rows = append(ct.Rows, Row{Class: class, Cells: [][]Line{{B(c.Name)}, {B(res)}, c.Detail}})
		}
		bs = append(bs, Heading(2, "Checks made", false), Block{Kind: KindTable, Table: ct})
		if len(in.Result.Findings) > 0 {
			var ls []Line
			for _, f := range in.Result.Findings {
				ls = append(ls, T(attest.Sanitize(f.String())))
			}
			bs = append(bs, Heading(2, "Findings", false), Paragraph(ls...))
		}
		bs = append(bs, Heading(1, "Annotated transcript", true))
	} else {
		bs = append(bs, Heading(1, attest.Sanitize(name)+": annotated transcript", false), Block{Kind: KindVerdict, Verdict: in.verdict()})
	}
	hashes := []Field{{"Attestation log", []Line{T(attest.Sanitize(in.Log)), S("file sha256"), H(in.LogSHA256.String()), S(in.LogSHA256.Words())}}}
	for _, k := range []string{"ceremony", "number", "site", "date", "mode", "ksk_version", "operator"} {
		if v, ok := open[k]; ok && v != "" {
			hashes = append(hashes, Field{strings.ReplaceAll(k, "_", " "), valueLines(attest.Sanitize(v))})
		}
	}
	if s := open["script_sha256"]; s != "" {
		hashes = append(hashes, Field{"Script SHA-256", []Line{H(attest.Sanitize(s)), S(words(s))}})
	}
	for _, e := range in.Entries {
		if s := e.Entry.Details["ksr_sha256"]; s != "" && e.Entry.Details["type"] == "ksr-load" {
			hashes = append(hashes, Field{"KSR SHA-256 (" + attest.Sanitize(e.Entry.Step) + ")", []Line{H(attest.Sanitize(s)), S(words(s))}})
		}
		if e.Entry.Details["type"] == "sign" && e.Entry.Details["status"] == "done" {
			for _, f := range e.Entry.Files {
				if f.Role == attest.Written {
					hashes = append(hashes, Field{"SKR SHA-256 (" + attest.Sanitize(f.Path) + ")", []Line{H(f.SHA256.String()), S(f.SHA256.Words())}})
				}
			}
		}
	}
	r := in.Result
	hashes = append(hashes, Field{"Head (last entry verified)", []Line{H(r.Head.String()), S(r.Head.Words())}},
		Field{"Entries", Ls(fmt.Sprintf("%d verified; %d seals, %d witness signatures", r.Entries, r.SealCount, r.WitnessCount))})
	bs = append(bs, Heading(2, "Ceremony and hashes", false), Block{Kind: KindFields, ID: "hashes", Fields: hashes})

	// Witnesses and quorum.
	wt := &Table{Name: "witnesses", Columns: []Column{{"Entry", 8}, {"Witness", 14}, {"Step", 16}, {"Key fingerprint and signed head", 62}}}
	qt := &Table{Name: "quorum", Columns: []Column{{"Step", 18}, {"Credential", 62}, {"Holder and result", 20}}}
	for _, e := range in.Entries {
		if w := e.Entry.Witness; w != nil {
			wt.Rows = append(wt.Rows, Row{IsLog: true, Seq: e.Entry.Seq, Cells: [][]Line{Ls(fmt.Sprintf("#%d", e.Entry.Seq)), {B(attest.Sanitize(w.Name))},
				Ls(attest.Sanitize(e.Entry.Step)), {H(attest.Sanitize(w.KeyFingerprint)), S("signed head"), H(w.Head.String())}}})
		}
		for _, k := range sortedKeys(e.Entry.Details) {
			if !strings.HasPrefix(k, "credential.") {
				continue
			}
			sum, rest := credentialParts(e.Entry.Details[k])
			qt.Rows = append(qt.Rows, Row{Cells: [][]Line{Ls(fmt.Sprintf("#%d %s", e.Entry.Seq, attest.Sanitize(e.Entry.Step))), {H(sum)}, Ls(rest)}})
		}
	}
	if len(wt.Rows) > 0 {
		bs = append(bs, Heading(2, "Witness signatures", false), Block{Kind: KindTable, Table: wt})
	}
	if len(qt.Rows) > 0 {
		bs = append(bs, Heading(2, "Quorum: credentials presented", false), Block{Kind: KindTable, Table: qt})
	}
	if in.SKR != nil {
		bt := &Table{Name: "bundles", Columns: []Column{{"No.", 5}, {"Bundle", 31}, {"Inception", 16}, {"Expiration", 16}, {"DNSKEY (key tag, flags)", 16}, {"Signed by", 16}}}
		for i, b := range in.SKR.Bundles() {
			var keys, sigs []Line
			for _, k := range b.Keys {
				keys = append(keys, T(fmt.Sprintf("%d %s", k.KeyTag, flagName(k.Flags))))
			}
			for _, s := range b.Signatures {
				sigs = append(sigs, T(fmt.Sprintf("%d (%s)", s.KeyTag, dns.AlgorithmToString[s.Algorithm])))
			}
			bt.Rows = append(bt.Rows, Row{Cells: [][]Line{Ls(fmt.Sprint(i + 1)), {S(attest.Sanitize(b.ID))},
				Ls(b.Inception.UTC().Format("2006-01-02 15:04Z")), Ls(b.Expiration.UTC().Format("2006-01-02 15:04Z")), keys, sigs}})
		}
		bs = append(bs, Heading(2, "SKR bundles ("+attest.Sanitize(in.SKRPath)+")", false), Block{Kind: KindTable, Table: bt})
	} else if in.SKRNote != "" {
		bs = append(bs, Heading(2, "SKR bundles", false), Paragraph(T(in.SKRNote)))
	}

	// The entries, one table per act.
	var t *Table
	act := "\x00"
	var files []Field
	for _, le := range in.Entries {
		e := &le.Entry
		a, _, _ := strings.Cut(e.Step, ".")
		if a != act || t == nil {
			act = a
			t = &Table{Name: "entries-" + a, Columns: []Column{{"Entry", 12}, {"Step", 24}, {"By", 9}, {"Result, values, files and entry hash", 55}}}
			title := "Log entries: " + attest.Sanitize(a)
			if si, ok := in.Steps[e.Step]; ok {
				title = attest.Sanitize(si.ActTitle)
			}
			if e.Type == attest.TypeOpen {
				title = "Log entries: opening"
			}
			bs = append(bs, Heading(2, title, false), Block{Kind: KindTable, Table: t})
		}
		t.Rows = append(t.Rows, entryRow(le, in.Steps[e.Step].Number))
		for _, f := range e.Files {
			files = append(files, Field{fmt.Sprintf("#%d %s %s", e.Seq, f.Role, attest.Sanitize(f.Path)), []Line{H(f.SHA256.String()), S(f.SHA256.Words())}})
		}
	}
	if len(files) > 0 {
		bs = append(bs, Heading(2, "Files read and written", true), Block{Kind: KindFields, ID: "files", Fields: files})
	}
	bs = append(bs, Heading(2, "Reviewed", false),
		Paragraph(T("We compared this transcript with the ceremony and the head read out at its end.")),
		Block{Kind: KindSignatures, Signatures: []string{"Internal witness", "Auditor", "TCR"}})
	return bs
}

// entryRow is the row of one log entry.
func entryRow(le LogEntry, number string) Row {
	e := &le.Entry
	det := e.Details
	status := det["status"]
	row := Row{IsLog: true, Seq: e.Seq}
	switch {
	case status == "failed" || status == "exception" || det["exception"] != "":
		row.Class = "exception"
	case hasPrefix(det, "note."):
		row.Class = "note"
	}
	step := []Line{B(strings.TrimSpace(number + " " + attest.Sanitize(e.Step)))}
	if t := det["title"]; t != "" {
		step = append(step, T(attest.Sanitize(t)))
	}
	if ty := det["type"]; ty != "" {
		step = append(step, S(attest.Sanitize(ty)))
	}
	if ref := det["ref"]; ref != "" {
		step = append(step, S("procedure step "+attest.Sanitize(ref)))
	}
	var res []Line
	switch {
	case e.Type == attest.TypeSeal && e.Seal != nil:
		res = append(res, B("SEAL by the attestation key ("+attest.Sanitize(e.Seal.Alg)+")"), S("key fingerprint"), H(e.Seal.KeyFingerprint.String()), S("signed head"), H(e.Seal.Head.String()))
	case e.Type == attest.TypeWitness && e.Witness != nil:
		res = append(res, B("WITNESS "+attest.Sanitize(e.Witness.Name)), H(attest.Sanitize(e.Witness.KeyFingerprint)), S("signed head"), H(e.Witness.Head.String()))
	case status != "":
		res = append(res, B(strings.ToUpper(attest.Sanitize(status))))
	}
	for _, k := range sortedKeys(det) {
		switch k {
		case "status", "title", "type", "ref":
			continue
		}
		v := attest.Sanitize(det[k])
		label := attest.Sanitize(k)
		switch {
		case isHexHash(v):
			res = append(res, S(label), H(v))
		case strings.HasPrefix(k, "note."):
			res = append(res, B("Note "+strings.TrimPrefix(label, "note.")+": "+v))
		case strings.HasPrefix(k, "value."):
			res = append(res, B(strings.TrimPrefix(label, "value.")+": "+v))
		case strings.HasPrefix(k, "credential."):
			sum, rest := credentialParts(v)
			res = append(res, S(label+": "+rest), H(sum))
		default:
			res = append(res, valueLines(label+": "+v)...)
		}
	}
	for _, f := range e.Files {
		res = append(res, S(string(f.Role)+" "+attest.Sanitize(f.Path)), H(f.SHA256.String()))
	}
	res = append(res, S("entry hash"), H(le.Hash.String()))
	row.Cells = [][]Line{{B(fmt.Sprintf("#%d", e.Seq)), S(e.Time.UTC().Format("2006-01-02")), S(e.Time.UTC().Format("15:04:05.000Z")), S(fmt.Sprintf("line %d", le.Line))}, step, Ls(attest.Sanitize(e.Actor)), res}
	return row
}

// hexHash64 finds SHA-256 values in hex inside a text.
var hexHash64 = regexp.MustCompile(`[0-9a-f]{64}`)

// valueLines is a text whose SHA-256 values are taken out onto lines of
// their own in the monospaced font, so that no hash is broken across
// lines.
func valueLines(s string) []Line {
	found := hexHash64.FindAllString(s, -1)
	if len(found) == 0 {
		return []Line{T(s)}
	}
	out := []Line{T(hexHash64.ReplaceAllString(s, "[hash below]"))}
	for _, h := range found {
		out = append(out, H(h))
	}
	return out
}

// credentialParts splits a quorum entry's credential value
// ("sha256=HEX holder=co1 counted") into the hash and the rest.
func credentialParts(v string) (sum, rest string) {
	var others []string
	for _, w := range strings.Fields(v) {
		if s, ok := strings.CutPrefix(w, "sha256="); ok && sum == "" {
			sum = s
			continue
		}
		others = append(others, w)
	}
	return sum, strings.Join(others, " ")
}

func hasPrefix(m map[string]string, p string) bool {
	for k := range m {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func flagName(f uint16) string {
	var s []string
	if f&dns.SEP != 0 {
		s = append(s, "KSK")
	} else {
		s = append(s, "ZSK")
	}
	if f&dns.REVOKE != 0 {
		s = append(s, "REVOKED")
	}
	return strings.Join(s, " ")
}
