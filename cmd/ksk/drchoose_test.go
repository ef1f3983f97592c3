package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDRChoose: ksk dr choose names the variant and its scripts, marks
// what the variant's script needs as present or missing in --dir (exit 1
// when something is missing, 0 when not), and refuses an incomplete
// situation or no disaster with exit 2 naming the flag.
func TestDRChoose(t *testing.T) {
	dir := t.TempDir()
	scripts, _ := filepath.Abs(drDir)
	base := []string{"dr", "choose", "--scripts", scripts, "--dir", dir}
	tests := []struct {
		args    []string
		code    int
		section string
		first   string
		inText  string
	}{
		{[]string{"--disaster", "signing", "--kmf", "no", "--cos", "yes"}, 1, "4.1.1", "4.1.1-kmfs-unavailable-temporary-ksk.yaml", "Alternative: "},
		{[]string{"--disaster", "signing", "--kmf", "YES", "--cos", "n"}, 1, "4.1.2A", "4.1.2A-cos-unavailable-kmf-drill.yaml", "MISSING  logs/dr-west-boxes.log  (act2.drill)"},
		{[]string{"--disaster", "compromise", "--kmf", "yes", "--cos", "yes"}, 1, "4.2.1A", "4.2.1A-compromise-cos-kmf-new-ksk.yaml", "rollover by revocation"},
		{[]string{"--disaster", "lost", "--kmf", "yes", "--rkshs", "yes", "--backup", "no"}, 1, "4.3.1B", "4.3.1B-lost-ksk-no-backup-new-ksk.yaml", "MISSING  roster-east2-co.yaml  (quorum activation)"},
		{[]string{"--disaster", "signing", "--prolonged"}, 1, "4.1.3", "4.1.3-prepare-extended-signing.yaml", "2. then "},
		{[]string{"--disaster", "lost", "--kmf", "yes"}, 2, "", "", "give --rkshs yes|no"},
		{[]string{"--disaster", "signing", "--kmf", "yes", "--cos", "yes"}, 2, "", "", "not a disaster"},
		{[]string{"--disaster", "signing", "--kmf", "maybe", "--cos", "yes"}, 2, "", "", `--kmf "maybe": want yes or no`},
		{[]string{"--disaster", "flood"}, 2, "", "", "want one of signing, compromise, lost"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runKSK(t, "", append(base, tt.args...)...)
			if code != tt.code || !strings.Contains(out+errOut, tt.inText) {
				t.Fatalf("exit %d, want %d and %q\n%s%s", code, tt.code, tt.inText, out, errOut)
			}
			if tt.section == "" {
				return
			}
			code, out, _ = runKSK(t, "", append(append(base, tt.args...), "-o", "json")...)
			var j struct {
				Variant struct {
					Section string `json:"section"`
				} `json:"variant"`
				Scripts []struct {
					File          string `json:"file"`
					Missing       int    `json:"missing"`
					Prerequisites []struct {
						Path    string `json:"path"`
						Present bool   `json:"present"`
					} `json:"prerequisites"`
				} `json:"scripts"`
				Ready bool `json:"ready"`
			}
			if err := json.Unmarshal([]byte(out), &j); err != nil || code != tt.code {
				t.Fatalf("exit %d, JSON %v\n%s", code, err, out)
			}
			if j.Variant.Section != tt.section || j.Scripts[0].File != tt.first || j.Ready || j.Scripts[0].Missing == 0 {
				t.Errorf("JSON %+v", j)
			}
		})
	}

	// With what 4.1.2A's script needs in the directory, it is ready.
	e := stageCeremony(t)
	for _, f := range []string{"roster-west-boxes.yaml", "west-box-credentials/credentials.json", "logs/dr-west-boxes.log", "ksr.xml", "dr-signer.yaml"} {
		writeFileAt(t, e.path(f), "x\n", 0o644)
	}
	code, out, errOut := runKSK(t, "", "dr", "choose", "--scripts", scripts, "--dir", e.work, "--disaster", "signing", "--kmf", "yes", "--cos", "no")
	if code != 0 || !strings.Contains(out, "(8 files, 0 missing)") || strings.Contains(out, "NOT READY") {
		t.Errorf("a prepared directory: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDRChoosePTY: at a terminal, the questions the flags leave open are
// asked, a slip is asked again, and the answer chooses the variant.
func TestDRChoosePTY(t *testing.T) {
	bin := buildFaultKSK(t)
	scripts, _ := filepath.Abs(drDir)
	cmd := exec.Command(bin, "dr", "choose", "--scripts", scripts, "--dir", t.TempDir())
	s := startPTY(t, cmd)
	answers := []struct{ want, type_ string }{
		{"What happened", "earthquake"},
		{"type signing, compromise or lost", "Lost"},
		{"Can a key management facility hold a ceremony in time? [yes/no]:", "perhaps"},
		{"type yes or no", "YES"},
		{"Can enough recovery key share holders attend", "no"},
	}
	for _, a := range answers {
		text, ok := s.prompt()
		if !ok || !strings.Contains(text, a.want) {
			t.Fatalf("want a prompt with %q, got (ended %t):\n%s", a.want, !ok, text)
		}
		s.send(a.type_)
	}
	_ = cmd.Wait() // exit 1: nothing is prepared in the empty directory
	<-s.done
	s.mu.Lock()
	text := s.buf.String()[s.seen:]
	s.mu.Unlock()
	if !strings.Contains(text, "Variant:        4.3.2A") || !strings.Contains(text, "4.3.2A-6-followup-distribute-rksh-credentials.yaml") {
		t.Errorf("the choice after the answers:\n%s", text)
	}
}
