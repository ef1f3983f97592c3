package ceremony

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/internal/yamlpath"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/quorum"
	"github.com/ksk-dev/ksk/signer"
	"github.com/ksk-dev/ksk/trustanchor"
	"golang.org/x/crypto/ssh"
)

// CheckOptions are the inputs of Check besides the script.
type CheckOptions struct {
	// Dir is the directory relative file names of the script are resolved
	// against; "" means the script's own directory.
	Dir string
	// Params override the script's params.
	Params map[string]string
}

// Plan is a checked script: every participant, HSM, quorum and file it
// names resolved, ready to run. Building it touches no HSM.
type Plan struct {
	// Script is the script.
	Script *Script
	// Path is the script's path and SHA256 the hex SHA-256 of its bytes.
	Path, SHA256 string
	// Dir is the directory relative file names are resolved against.
	Dir string
	// Steps are the steps in order.
	Steps []*PlannedStep

	people  map[string]*Participant
	sshKeys map[string]ssh.PublicKey
	hsms    map[string]*HSM
	quorums map[string]*plannedQuorum
}

// PlannedStep is one step of a Plan.
type PlannedStep struct {
	// ID is ACT.STEP, the step's name in the log.
	ID string
	// Number is "act-number.step-number", from 1, for people.
	Number string
	// Act is the step's act.
	Act *Act
	// Step is the step as written.
	Step *Step
	// TouchesHSM reports that the step changes or uses the HSM: it is
	// recorded as started before and done after, and never silently
	// repeated.
	TouchesHSM bool
	// Inputs and Outputs are the files the step reads and writes,
	// resolved.
	Inputs, Outputs []string

	kind *kind
	path string // acts[i].steps[j], for messages
}

// plannedQuorum is a quorum with its roster.
type plannedQuorum struct {
	*Quorum
	roster  quorum.Roster
	pins    map[string]string // holder -> credential SHA-256
	rosterF string            // resolved roster path
	// rosterSum and manifestSum are the SHA-256 of the roster and of the
	// credentials manifest as Check read and parsed them; a step that
	// uses the quorum logs them and refuses if the files changed since.
	rosterSum, manifestSum attest.Hash
	manifestF              string // resolved manifest path, when Check read one
}

// Check loads the script at path and resolves everything it names: the
// files each step reads exist (or an earlier step writes them) and parse,
// rosters and credential pins agree with the participants, signer
// configurations name their schemas. It touches no HSM. Errors wrap
// ErrRead, ErrSyntax, ErrUnknownKey or ErrInvalid and name the path in the
// script.
func Check(path string, opts CheckOptions) (*Plan, error) {
	data, err := yamlpath.ReadFile(path, MaxScriptSize, ErrRead)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data, opts.Params)
	if err != nil {
		return nil, fmt.Errorf("script %s: %w", path, err)
	}
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	sum := sha256.Sum256(data)
	p := &Plan{Script: s, Path: path, SHA256: hex.EncodeToString(sum[:]), Dir: dir,
		people: map[string]*Participant{}, sshKeys: map[string]ssh.PublicKey{}, hsms: map[string]*HSM{}, quorums: map[string]*plannedQuorum{}}
	if err := p.resolve(); err != nil {
		return nil, fmt.Errorf("script %s: %w", path, err)
	}
	return p, nil
}

// File resolves a file name of the script.
func (p *Plan) File(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(p.Dir, name)
}

// inside reports whether path is in the plan's directory.
func (p *Plan) inside(path string) bool {
	absPath, err1 := filepath.Abs(path)
	absDir, err2 := filepath.Abs(p.Dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(absDir, absPath)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (p *Plan) resolve() error {
	s := p.Script
	v := &validator{lines: s.lines}
	for i := range s.Participants {
		pp := &s.Participants[i]
		p.people[pp.ID] = pp
		if pp.SSHKeyFile != "" {
			data, err := yamlpath.ReadFile(p.File(pp.SSHKeyFile), 64<<10, ErrRead)
			if err != nil {
				v.fail(fmt.Sprintf("participants[%d].ssh_key_file", i), "%v", err)
				continue
			}
			pp.SSHKey = strings.TrimSpace(string(data))
		}
		if pp.SSHKey != "" {
			k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pp.SSHKey))
			if err != nil {
				v.fail(fmt.Sprintf("participants[%d]", i), "ssh key of %s: %v", pp.ID, err)
				continue
			}
			p.sshKeys[pp.ID] = k
		}
	}
	for i := range s.HSMs {
		p.hsms[s.HSMs[i].ID] = &s.HSMs[i]
	}

	// Steps, in order, with the files each reads and writes.
	written := map[string]string{} // resolved output -> step that writes it
	for ai := range s.Acts {
		a := &s.Acts[ai]
		for si := range a.Steps {
			st := &a.Steps[si]
			ps := &PlannedStep{ID: a.ID + "." + st.ID, Number: fmt.Sprintf("%d.%d", ai+1, si+1), Act: a, Step: st, kind: kinds[st.Type]}
			// A re-issue changes the HSM's PIN.
			ps.TouchesHSM = ps.kind.touchesHSM || st.Type == TypeCredentialsIssue && st.HSM != ""
			ps.Inputs, ps.Outputs = p.stepFiles(st)
			ps.path = fmt.Sprintf("acts[%d].steps[%d]", ai, si)
			for _, in := range ps.Inputs {
				if _, ok := written[in]; ok {
					continue
				}
				if _, err := os.Stat(in); err != nil {
					v.fail(ps.path, "step %s: input %s: %v", ps.ID, in, errors.Unwrap(err))
				}
			}
			for _, out := range ps.Outputs {
				if !s.Ceremony.AllowOutsideDir && !p.inside(out) {
					v.fail(ps.path, "step %s: output %s is outside the ceremony directory %s; a script that writes there says so with ceremony.allow_outside_dir: true", ps.ID, out, p.Dir)
				}
				if w, ok := written[out]; ok {
					v.fail(ps.path, "step %s: output %s is also written by step %s", ps.ID, out, w)
				}
				written[out] = ps.ID
			}
			p.Steps = append(p.Steps, ps)
		}
	}

	for i := range s.Quorums {
		q := &s.Quorums[i]
		pq, err := p.loadQuorum(q, written)
		if err != nil {
			v.fail(fmt.Sprintf("quorums[%d]", i), "quorum %s: %v", q.ID, err)
			continue
		}
		p.quorums[q.ID] = pq
	}

	// What can be checked of the inputs that exist now.
	for _, ps := range p.Steps {
		st := ps.Step
		path, id := ps.path, ps.ID
		if st.Config != "" {
			if _, ok := written[p.File(st.Config)]; !ok {
				cfg, err := signer.LoadConfig(p.File(st.Config))
				switch {
				case err != nil:
					v.fail(path+".config", "step %s: %v", id, err)
				case st.Schema != "":
					if _, err := cfg.Schema(st.Schema); err != nil {
						v.fail(path+".schema", "step %s: %s: %v", id, st.Config, err)
					}
				}
				for i, k := range st.Keys {
					if st.Type == TypeSignerConfig && i > 0 {
						continue // the step adds it
					}
					if cfg != nil && cfg.Keys[k] == nil {
						v.fail(path+".keys", "step %s: %s has no key %q", id, st.Config, k)
					}
				}
			}
		}
		for _, f := range []struct{ field, name string }{{"ksr", st.KSR}, {"previous_skr", st.PreviousSKR}} {
			if f.name == "" {
				continue
			}
			if _, ok := written[p.File(f.name)]; ok {
				continue
			}
			if _, err := parseKSRFile(p.File(f.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				v.fail(path+"."+f.field, "step %s: %v", id, err)
			}
		}
		if st.Type == TypeCustody && !st.Skipped() {
			if pq := p.quorums[st.Quorum]; pq != nil {
				if _, err := custodyHolders(st, pq.roster); err != nil {
					v.fail(path+".holders", "step %s: %v", id, err)
				}
			}
		}
		for _, w := range st.Witnesses {
			if p.people[w] != nil && p.sshKeys[w] == nil && p.people[w].SSHKeyFile == "" && p.people[w].SSHKey == "" {
				v.fail(path+".witnesses", "step %s: %s has no SSH key", id, w)
			}
		}
	}
	return errors.Join(v.errs...)
}

// stepFiles returns the resolved files a step reads and writes.
func (p *Plan) stepFiles(st *Step) (in, out []string) {
	add := func(list *[]string, names ...string) {
		for _, n := range names {
			if n != "" {
				*list = append(*list, p.File(n))
			}
		}
	}
	if st.Skipped() {
		return nil, nil // reads and writes nothing this run
	}
	switch st.Type {
	case TypeRekorPublish:
		add(&in, st.RekorKey)
	case TypeRecord, TypeCustody:
		add(&in, st.CompareLog)
	case TypeKSRLoad:
		add(&in, st.KSR, st.PreviousSKR, st.Policy)
	case TypeSign:
		add(&in, st.Config)
		add(&out, st.Out)
	case TypeTrustAnchor:
		add(&in, st.Config)
		x, ds, key := trustanchor.FilePaths(p.File(st.Out))
		out = append(out, x, ds, key)
	case TypeWriteOutputs:
		add(&in, st.Files...)
		for _, f := range st.Files {
			out = append(out, filepath.Join(p.File(st.To), filepath.Base(f)))
		}
	case TypeKeygen:
		add(&out, st.Out)
	case TypeCredentialsIssue:
		dir := p.File(st.Out)
		out = append(out, filepath.Join(dir, credentialsManifest))
	default:
		return p.drStepFiles(st, add)
	}
	return in, out
}

// credentialsManifest is the file a credentials-issue step writes beside
// the credentials: the same JSON as ksk credentials issue -o json.
const credentialsManifest = "credentials.json"

func (p *Plan) loadQuorum(q *Quorum, written map[string]string) (*plannedQuorum, error) {
	pq := &plannedQuorum{Quorum: q, rosterF: p.File(q.Roster), pins: map[string]string{}}
	data, err := yamlpath.ReadFile(pq.rosterF, quorum.MaxRosterFileSize, ErrRead)
	if err != nil {
		return nil, err
	}
	rf, err := quorum.ParseRosterFile(data)
	if err != nil {
		return nil, fmt.Errorf("roster %s: %w", q.Roster, err)
	}
	pq.rosterSum = sha256.Sum256(data)
	pq.roster = rf.Roster()
	want := quorum.RoleCryptoOfficer
	if q.Purpose == "key-backup" {
		want = quorum.RoleRecoveryKeyShareHolder
	}
	var problems []string
	for _, h := range pq.roster.Holders {
		if h.Role != want {
			problems = append(problems, fmt.Sprintf("roster holder %s is a %s; a %s quorum is held by %ss", h.Name, h.Role, q.Purpose, want))
		}
		if p.holder(h.Name, string(h.Role)) == nil {
			problems = append(problems, fmt.Sprintf("roster holder %s is not a participant with role %s (participants: id or holder)", h.Name, h.Role))
		}
	}
	for _, pp := range p.Script.Participants {
		if pp.Credential != "" && p.holderName(&pp) != "" && slices.ContainsFunc(pq.roster.Holders, func(h quorum.Holder) bool { return h.Name == p.holderName(&pp) }) {
			pq.pins[p.holderName(&pp)] = pp.Credential
		}
	}
	if q.Credentials != "" {
		if _, ok := written[p.File(q.Credentials)]; !ok {
			if err := pq.loadManifest(p.File(q.Credentials)); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return pq, nil
}

// loadManifest pins the credentials that ksk credentials issue -o json
// listed; a pin in the participants must agree.
func (pq *plannedQuorum) loadManifest(path string) error {
	data, err := yamlpath.ReadFile(path, quorum.MaxManifestSize, ErrRead)
	if err != nil {
		return err
	}
	m, err := quorum.ParseManifest(data, pq.roster)
	if err != nil {
		return fmt.Errorf("credentials %s: %w", path, err)
	}
	pq.manifestF, pq.manifestSum = path, sha256.Sum256(data)
	for _, c := range m.Credentials {
		if pin, ok := pq.pins[c.Holder]; ok && pin != c.SHA256 {
			return fmt.Errorf("credentials %s: holder %s's credential %s differs from the participant's credential %s", path, c.Holder, c.SHA256, pin)
		}
		pq.pins[c.Holder] = c.SHA256
	}
	return nil
}

// holderName is a participant's name in a roster.
func (p *Plan) holderName(pp *Participant) string {
	if pp.Role != RoleCryptoOfficer && pp.Role != RoleRecoveryKeyShareHolder {
		return ""
	}
	if pp.Holder != "" {
		return pp.Holder
	}
	return pp.ID
}

// holder returns the participant holding a roster name with a role.
func (p *Plan) holder(name, role string) *Participant {
	for i := range p.Script.Participants {
		pp := &p.Script.Participants[i]
		if pp.Role == role && p.holderName(pp) == name {
			return pp
		}
	}
	return nil
}

// parseKSRFile parses a KSR or SKR file.
func parseKSRFile(path string) (*ksr.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ksr.Parse(f, ksr.ParseOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Prerequisite is a file a script needs before it runs: one that a step
// or quorum reads and no earlier step writes.
type Prerequisite struct {
	// Path is the file, resolved against the ceremony directory.
	Path string `json:"path"`
	// For says what needs it: a step id, "quorum ID" or "participant ID".
	For string `json:"for"`
	// Present reports whether the file exists now.
	Present bool `json:"present"`
}

// Prerequisites lists what the script at path needs from the ceremony
// directory before it runs, in the order the script needs it, whether or
// not it is there: what a disaster recovery must have prepared. Unlike
// Check it does not fail on a missing file; it fails only on a script
// that cannot be parsed.
func Prerequisites(path string, opts CheckOptions) ([]Prerequisite, error) {
	s, err := Load(path, opts.Params)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	p := &Plan{Script: s, Path: path, Dir: dir}
	var out []Prerequisite
	seen, written := map[string]bool{}, map[string]bool{}
	add := func(file, what string) {
		if file == "" {
			return
		}
		f := p.File(file)
		if seen[f] || written[f] {
			return
		}
		seen[f] = true
		_, err := os.Stat(f)
		out = append(out, Prerequisite{Path: f, For: what, Present: err == nil})
	}
	for _, pp := range s.Participants {
		add(pp.SSHKeyFile, "participant "+pp.ID)
	}
	quorumsAdded := map[string]bool{}
	for _, a := range s.Acts {
		for i := range a.Steps {
			st := &a.Steps[i]
			if q := s.quorum(st.Quorum); q != nil && !quorumsAdded[q.ID] && !st.Skipped() {
				quorumsAdded[q.ID] = true
				add(q.Roster, "quorum "+q.ID)
				add(q.Credentials, "quorum "+q.ID)
			}
			in, outs := p.stepFiles(st)
			for _, f := range in {
				if !seen[f] && !written[f] {
					seen[f] = true
					_, err := os.Stat(f)
					out = append(out, Prerequisite{Path: f, For: a.ID + "." + st.ID, Present: err == nil})
				}
			}
			for _, f := range outs {
				written[f] = true
			}
			if st.Type == TypeCredentialsIssue && st.Out != "" {
				written[filepath.Join(p.File(st.Out), credentialsManifest)] = true
			}
		}
	}
	return out, nil
}

// quorum returns the script's quorum with this id, nil if none.
func (s *Script) quorum(id string) *Quorum {
	for i := range s.Quorums {
		if s.Quorums[i].ID == id {
			return &s.Quorums[i]
		}
	}
	return nil
}
