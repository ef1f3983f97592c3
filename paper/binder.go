package paper

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/ceremony"
)

// ExceptionRows is the number of blank rows of the binder's exceptions
// page.
const ExceptionRows = 14

// Binder lays out the ceremony binder of a checked plan, to print before
// the day: the cover (the ceremony, the script's SHA-256 in hex and PGP
// words, ksk's version), the participant sign-in sheet, the HSMs and
// quorums, one table per act with a row per step (who, what, the expected
// result, what ksk will show, blank Initial and Time columns, a box for
// every value a record step takes), the exceptions page and the sign-off
// page. Every page's footer carries the script's SHA-256.
func Binder(plan *ceremony.Plan, version string) *Document {
	s := plan.Summary()
	m := s.Ceremony
	d := &Document{Kind: "binder", Title: m.Name + ": ceremony script",
		Footer: fmt.Sprintf("%s · script sha256 %s", m.Name, s.SHA256)}
	if t, err := time.Parse(time.DateOnly, m.Date); err == nil {
		d.Created = t
	}
	d.Blocks = append(d.Blocks, Heading(1, m.Name, false), Paragraph(T("Ceremony script, printed from the file that ksk ceremony run executes.")))
	cover := []Field{
		{"Ceremony", Ls(m.Name)},
		{"Number", Ls(numberText(m.Number))},
		{"Site", Ls(orBlank(m.Site))},
		{"Date", Ls(orBlank(m.Date))},
		{"Mode", Ls(m.Mode)},
	}
	if m.Description != "" {
		cover = append(cover, Field{"Purpose", Ls(m.Description)})
	}
	cover = append(cover,
		Field{"Script", Ls(filepath.Base(s.Script))},
		Field{"Script SHA-256", []Line{H(s.SHA256), S(words(s.SHA256))}},
		Field{"ksk version", Ls(orBlank(version))},
	)
	for _, k := range sortedKeys(s.Params) {
		cover = append(cover, Field{"Parameter " + k, []Line{H(orBlank(s.Params[k]))}})
	}
	d.Blocks = append(d.Blocks, Block{Kind: KindFields, ID: "cover", Fields: cover},
		Paragraph(S("Before the ceremony, compare the script SHA-256 above with the one ksk ceremony check prints, and with the footer of every page.")))

	// Sign-in sheet, then who is identified by what (full width, so
	// that no hash is broken).
	sheet := &Table{Name: "sign-in", Columns: []Column{{"Participant", 13}, {"Name", 22}, {"Role", 19}, {"Signature", 22}, {"Time in", 12}, {"Time out", 12}}}
	ids := &Table{Name: "identities", Columns: []Column{{"Participant", 15}, {"Identified by (credential SHA-256 or SSH key fingerprint)", 85}}}
	for _, pp := range s.Participants {
		sheet.Rows = append(sheet.Rows, Row{Cells: [][]Line{{B(pp.ID)}, Ls(orBlank(pp.Name)), Ls(pp.Role), nil, nil, nil}})
		switch {
		case pp.SSHKey != "":
			ids.Rows = append(ids.Rows, Row{Cells: [][]Line{{B(pp.ID)}, {S("SSH key"), H(pp.SSHKey)}}})
		case pp.Credential != "":
			ids.Rows = append(ids.Rows, Row{Cells: [][]Line{{B(pp.ID)}, {S("credential file SHA-256"), H(pp.Credential), S(words(pp.Credential))}}})
		}
	}
	for range 3 { // for visitors and late changes
		sheet.Rows = append(sheet.Rows, Row{Cells: [][]Line{{T(" ")}, nil, nil, nil, nil, nil}})
	}
	d.Blocks = append(d.Blocks, Heading(2, "Participants: sign-in sheet", true), Block{Kind: KindTable, Table: sheet})
	if len(ids.Rows) > 0 {
		d.Blocks = append(d.Blocks, Heading(2, "How participants are identified", false), Block{Kind: KindTable, Table: ids})
	}

	if len(s.HSMs) > 0 || len(s.Quorums) > 0 {
		var fs []Field
		for _, h := range s.HSMs {
			v := []Line{T("token " + orBlank(h.Token))}
			if h.TokenSerial != "" {
				v = append(v, H("serial "+h.TokenSerial))
			}
			if h.Description != "" {
				v = append(v, S(h.Description))
			}
			fs = append(fs, Field{"HSM " + h.ID, v})
		}
		for _, q := range s.Quorums {
			fs = append(fs, Field{"Quorum " + q.ID, []Line{
				T(fmt.Sprintf("%s: %d of %d, roster %s, %d credentials pinned", q.Purpose, q.M, q.N, q.RosterID, q.Pinned)),
				S("roster digest"), H(q.RosterDigest)}})
		}
		d.Blocks = append(d.Blocks, Heading(2, "Equipment and quorums", false), Block{Kind: KindFields, ID: "equipment", Fields: fs})
	}

	// One table per act.
	var t *Table
	act := ""
	for _, ps := range plan.Steps {
		if ps.Act.ID != act {
			act = ps.Act.ID
			n, _, _ := strings.Cut(ps.Number, ".")
			d.Blocks = append(d.Blocks, Heading(2, fmt.Sprintf("Act %s: %s", n, ps.Act.Title), false))
			t = &Table{Name: act, Columns: []Column{{"Step", 7.5}, {"Actor", 14}, {"Activity", 37.5}, {"ksk shows", 25}, {"Initial", 8}, {"Time", 8}}}
			d.Blocks = append(d.Blocks, Block{Kind: KindTable, Table: t})
		}
		t.Rows = append(t.Rows, Row{ID: ps.ID, Cells: [][]Line{{B(ps.Number)}, actorCell(plan, ps), activity(ps), shows(ps), nil, nil}})
	}

	// Exceptions and sign-off.
	ex := &Table{Name: "exceptions", Columns: []Column{{"No.", 6}, {"Step", 10}, {"What happened", 38}, {"What was done", 30}, {"Initials", 8}, {"Time", 8}}}
	for i := 1; i <= ExceptionRows; i++ {
		ex.Rows = append(ex.Rows, Row{Cells: [][]Line{Ls(fmt.Sprint(i)), nil, {T(" ")}, nil, nil, nil}})
	}
	d.Blocks = append(d.Blocks, Heading(2, "Exceptions", true),
		Paragraph(S("Every departure from the script: a step answered no, a value that differs from the last ceremony's, a restart. ksk records each in the log; write it here too, with the step number.")),
		Block{Kind: KindTable, Table: ex},
		Heading(2, "Sign-off", true),
		Paragraph(T("We attest that the ceremony was carried out as this script says, with the exceptions listed on the exceptions page, and that the head of the attestation log read out at the end was:")),
		Block{Kind: KindFields, ID: "head", Fields: []Field{{"Log head (hex)", []Line{{Text: " ", Box: true}}}, {"Log head (last PGP words)", []Line{{Text: " ", Box: true}}}}},
		Block{Kind: KindSignatures, Signatures: []string{"Ceremony administrator", "Internal witness", "Auditor"}},
	)
	return d
}

func actorCell(plan *ceremony.Plan, ps *ceremony.PlannedStep) []Line {
	out := []Line{B(ps.Step.Actor)}
	for _, p := range plan.Script.Participants {
		if p.ID == ps.Step.Actor {
			if p.Name != "" {
				out = append(out, S(p.Name))
			}
			out = append(out, S(p.Role))
		}
	}
	return out
}

// activity is the Activity cell: title, text, expected result, the
// procedure step it carries out, and the files it reads and writes.
func activity(ps *ceremony.PlannedStep) []Line {
	st := ps.Step
	var out []Line
	if st.Title != "" {
		out = append(out, B(st.Title))
	}
	for _, l := range strings.Split(strings.TrimSpace(st.Text), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, T(l))
		}
	}
	if st.Expect != "" {
		out = append(out, T("Expected: "+strings.TrimSpace(st.Expect)))
	}
	for _, v := range st.Values {
		label := v.Label
		if label == "" {
			label = v.ID
		}
		out = append(out, Line{Text: label, Box: true})
	}
	if st.Ref != "" {
		out = append(out, S("procedure step "+st.Ref))
	}
	if st.Skipped() {
		out = append(out, B("Skipped in this run (when: false)."))
	}
	for _, f := range ps.Inputs {
		out = append(out, S("reads "+f))
	}
	for _, f := range ps.Outputs {
		out = append(out, S("writes "+f))
	}
	out = append(out, S(st.Type+" · "+ps.ID))
	return out
}

// shows says what ksk shows or asks at the step, for the binder's reader
// to compare with the screen.
func shows(ps *ceremony.PlannedStep) []Line {
	st := ps.Step
	switch st.Type {
	case ceremony.TypeNarrative:
		return Ls("The text above; the actor confirms it is done.")
	case ceremony.TypeConfirm:
		return Ls("Asks: result as expected? Type yes, or no to record an exception.")
	case ceremony.TypeQuorum:
		return Ls("Asks each holder for their credential and passphrase, one at a time, and shows how many valid credentials are in (k of M needed). A refused credential is shown with its reason.")
	case ceremony.TypeHSMActivate:
		return Ls("Logs in to HSM "+st.HSM+" with the quorum's secret; shows the token's label, serial and model.", "Compare them with the HSM's label.")
	case ceremony.TypeKSRLoad:
		return Ls("The KSR's id, serial, bundles and validity; every check it passed.")
	case ceremony.TypeKSRHash:
		return Ls("The KSR's SHA-256 as PGP words: compare the KSR's PGP words with the zone maintainer's, who reads them aloud; type back the words heard.")
	case ceremony.TypeSign:
		return Ls("Signs the KSR with HSM "+st.HSM+" (schema "+st.Schema+"); shows the SKR's bundles and its SHA-256 in hex and PGP words.", "Compare the SHA-256 with the SKR copied out.")
	case ceremony.TypeWriteOutputs:
		return Ls("Copies the outputs to " + st.To + " and shows each copy's SHA-256, read back from the media.")
	case ceremony.TypeKeygen:
		return Ls("Generates " + st.Label + " (" + st.Algorithm + ") in HSM " + st.HSM + "; shows its DNSKEY, key tag and DS.")
	case ceremony.TypeTrustAnchor:
		return Ls("Writes the trust anchor file; shows each KSK's key tag and DS, checked against the HSM.")
	case ceremony.TypeWitness:
		return Ls("The log's head in hex and PGP words; each witness ("+strings.Join(st.Witnesses, ", ")+") signs it with their SSH key.", "Write the last PGP words in the Time column.")
	case ceremony.TypeSeal:
		return Ls("Seals the log with the attestation key " + st.Key + "; shows the head in hex and PGP words.")
	case ceremony.TypeRecord:
		return Ls("Asks for each value in turn and shows it back; with a previous log, shows whether each equals last time's.")
	case ceremony.TypeNotify:
		return Ls("Records that " + strings.Join(st.Recipients, ", ") + " were informed.")
	}
	if s := ceremony.TypeSummary(st.Type); s != "" {
		return Ls(strings.ToUpper(s[:1]) + s[1:] + ".")
	}
	return nil
}

func numberText(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func orBlank(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// words returns the PGP words of a hex SHA-256, or "" if it is not one.
func words(hexHash string) string {
	if !isHexHash(hexHash) {
		return ""
	}
	h, err := attest.ParseHash(hexHash)
	if err != nil {
		return ""
	}
	return h.Words()
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
