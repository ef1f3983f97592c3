package ceremony

import (
	"slices"
	"testing"
)

// drSteps adds a step of each disaster recovery type to the base script,
// after its HSM activation.
const drSteps = `      - id: backup
        type: key-backup
        actor: ca
        hsm: kmf
        quorum: recovery
        activation: activation
        label: new-ksk
        out: backup/new-ksk.backup
        credentials_dir: backup-credentials
      - id: restore
        type: key-restore
        actor: ca
        hsm: kmf
        quorum: recovery
        backup: backup/new-ksk.backup
        out: out/restored.dnskey-ds
      - id: configure
        type: signer-config
        actor: ca
        hsm: kmf
        config: signer.yaml
        keys: [ksk, ksk_new]
        label: new-ksk
        start: "2026-01-02"
        out: out/new.yaml
      - id: plan
        type: rollover-plan
        actor: ca
        config: out/new.yaml
        keys: [ksk, ksk_new]
        start: 2026-04-01T00:00:00Z
        out: out/rollover.yaml
`

func drDoc(t testing.TB) string {
	return edit(t, baseDoc(t), "  - id: sign\n    title: Sign\n    steps:\n", "  - id: sign\n    title: Sign\n    steps:\n"+drSteps)
}

// TestDRStepsParse: the disaster recovery step types take their fields,
// and their files are planned: the backup and its credentials' manifest,
// the restored key's records, the configurations and the schedule.
func TestDRStepsParse(t *testing.T) {
	s, err := Parse([]byte(drDoc(t)), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p := &Plan{Script: s, Dir: "/w"}
	want := map[string][2][]string{
		"backup":    {nil, {"/w/backup/new-ksk.backup", "/w/backup-credentials/credentials.json"}},
		"restore":   {{"/w/backup/new-ksk.backup"}, {"/w/out/restored.dnskey-ds"}},
		"configure": {{"/w/signer.yaml"}, {"/w/out/new.yaml"}},
		"plan":      {{"/w/out/new.yaml"}, {"/w/out/rollover.yaml", "/w/out/rollover.schedule.yaml"}},
	}
	for _, st := range s.Acts[2].Steps {
		w, ok := want[st.ID]
		if !ok {
			continue
		}
		in, out := p.stepFiles(&st)
		if !slices.Equal(in, w[0]) || !slices.Equal(out, w[1]) {
			t.Errorf("%s: reads %v writes %v, want %v %v", st.ID, in, out, w[0], w[1])
		}
		delete(want, st.ID)
	}
	if len(want) != 0 {
		t.Errorf("steps not found: %v", want)
	}
	if k := kinds[TypeKeyBackup]; !k.touchesHSM || kinds[TypeKeyRestore] == nil || !kinds[TypeSignerConfig].touchesHSM || kinds[TypeRolloverPlan].touchesHSM {
		t.Error("key-backup, key-restore and signer-config touch the HSM; rollover-plan does not")
	}
	for _, typ := range []string{TypeKeyBackup, TypeKeyRestore, TypeSignerConfig, TypeRolloverPlan} {
		if kinds[typ].summary == "" || kinds[typ].run == nil {
			t.Errorf("%s: no summary or no run", typ)
		}
	}
}

// TestDRStepsReject: each rule of the disaster recovery step types, named
// by path and line.
func TestDRStepsReject(t *testing.T) {
	type change struct{ old, new string }
	tests := []struct {
		name    string
		changes []change
		path    string
		lineAt  string
		text    string
	}{
		{"backup under an activation quorum", []change{{"        quorum: recovery\n        activation: activation", "        quorum: activation\n        activation: activation"}},
			"acts[2].steps[0].quorum", "quorum: activation\n        activation", "quorum \"activation\" is for hsm-activation, not key-backup"},
		{"backup re-activated by a key-backup quorum", []change{{"activation: activation", "activation: recovery"}},
			"acts[2].steps[0].activation", "activation: recovery", "hsm-activation quorum"},
		{"backup re-activated by an unknown quorum", []change{{"activation: activation", "activation: officers"}},
			"acts[2].steps[0].activation", "activation: officers", `"officers" is not a quorum`},
		{"backup without activation", []change{{"        activation: activation\n", ""}},
			"acts[2].steps[0].activation", "", "a key-backup step needs activation"},
		{"backup without credentials_dir", []change{{"        credentials_dir: backup-credentials\n", ""}},
			"acts[2].steps[0].credentials_dir", "", "needs credentials_dir"},
		{"backup before the HSM is activated", []change{{"        hsm: kmf\n        quorum: recovery\n        activation", "        hsm: other\n        quorum: recovery\n        activation"},
			{"  - id: kmf\n    token: ksk\n", "  - id: kmf\n    token: ksk\n  - id: other\n    token: other\n"}},
			"acts[2].steps[0].hsm", "hsm: other", "no earlier hsm-activate step activates HSM \"other\""},
		{"restore under an activation quorum", []change{{"        quorum: recovery\n        backup:", "        quorum: activation\n        backup:"}},
			"acts[2].steps[1].quorum", "quorum: activation\n        backup:", "not key-backup"},
		{"restore without backup", []change{{"        backup: backup/new-ksk.backup\n", ""}},
			"acts[2].steps[1].backup", "", "a key-restore step needs backup"},
		{"restore takes no activation", []change{{"        backup: backup/new-ksk.backup\n", "        backup: backup/new-ksk.backup\n        activation: activation\n"}},
			"acts[2].steps[1].activation", "activation: activation\n        out: out/restored", "a key-restore step does not take activation"},
		{"plan with one key", []change{{"        keys: [ksk, ksk_new]\n        start: 2026-04-01", "        keys: [ksk]\n        start: 2026-04-01"}},
			"acts[2].steps[3].keys", "keys: [ksk]", "want [current, next]"},
		{"plan with the same key twice", []change{{"        keys: [ksk, ksk_new]\n        start: 2026-04-01", "        keys: [ksk, ksk]\n        start: 2026-04-01"}},
			"acts[2].steps[3].keys", "keys: [ksk, ksk]", "two different names"},
		{"plan with a bad start", []change{{"start: 2026-04-01T00:00:00Z", "start: next spring"}},
			"acts[2].steps[3].start", "start: next spring", "want a date"},
		{"plan takes no hsm", []change{{"        config: out/new.yaml\n", "        config: out/new.yaml\n        hsm: kmf\n"}},
			"acts[2].steps[3].hsm", "hsm: kmf\n        keys", "a rollover-plan step does not take hsm"},
		{"plan without start", []change{{"        start: 2026-04-01T00:00:00Z\n", ""}},
			"acts[2].steps[3].start", "", "a rollover-plan step needs start"},
		{"signer-config without label", []change{{"        label: new-ksk\n        start:", "        start:"}},
			"acts[2].steps[2].label", "", "a signer-config step needs label"},
		{"signer-config with three keys", []change{{"        keys: [ksk, ksk_new]\n        label", "        keys: [ksk, ksk_new, x]\n        label"}},
			"acts[2].steps[2].keys", "keys: [ksk, ksk_new, x]", "want [current, next]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := drDoc(t)
			for _, c := range tc.changes {
				doc = edit(t, doc, c.old, c.new)
			}
			_, err := Parse([]byte(doc), nil)
			line := 0
			if tc.lineAt != "" {
				line = lineOfText(t, doc, tc.lineAt)
			}
			wantErr(t, err, ErrInvalid, tc.path, line, tc.text)
		})
	}
}

func TestParseStart(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"2027-04-01", "2027-04-01T00:00:00Z", true},
		{"2027-04-01T12:00:00+02:00", "2027-04-01T10:00:00Z", true},
		{"2027-4-1", "", false},
		{"", "", false},
	} {
		got, err := parseStart(tc.in)
		if (err == nil) != tc.ok || tc.ok && got.Format("2006-01-02T15:04:05Z07:00") != tc.want {
			t.Errorf("parseStart(%q) = %v, %v", tc.in, got, err)
		}
	}
}
