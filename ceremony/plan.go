package ceremony

import (
	"fmt"
	"golang.org/x/crypto/ssh"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ksk-dev/ksk/attest"
)

// PlanSummary is the plan as ksk ceremony check -o json prints it.
type PlanSummary struct {
	Valid        bool                `json:"valid"`
	Script       string              `json:"script"`
	SHA256       string              `json:"sha256"`
	Ceremony     Meta                `json:"ceremony"`
	Params       map[string]string   `json:"params"`
	Participants []ParticipantReport `json:"participants"`
	HSMs         []HSM               `json:"hsms"`
	Quorums      []QuorumReport      `json:"quorums"`
	Steps        []StepReport        `json:"steps"`
	// Resolvers says what validating resolvers will see of the SKRs the
	// ceremony signs (Plan.Resolvers).
	Resolvers []string `json:"resolvers"`
}

// ParticipantReport is a participant in a PlanSummary.
type ParticipantReport struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	Role       string `json:"role"`
	Credential string `json:"credential_sha256,omitempty"`
	SSHKey     string `json:"ssh_key_fingerprint,omitempty"`
}

// QuorumReport is a quorum in a PlanSummary.
type QuorumReport struct {
	ID           string `json:"id"`
	Purpose      string `json:"purpose"`
	RosterID     string `json:"roster_id"`
	RosterDigest string `json:"roster_digest"`
	M            int    `json:"m"`
	N            int    `json:"n"`
	Pinned       int    `json:"credentials_pinned"`
}

// StepReport is a step in a PlanSummary.
type StepReport struct {
	ID         string   `json:"id"`
	Number     string   `json:"number"`
	Type       string   `json:"type"`
	Title      string   `json:"title,omitempty"`
	Ref        string   `json:"ref,omitempty"`
	Actor      string   `json:"actor"`
	Role       string   `json:"role"`
	TouchesHSM bool     `json:"touches_hsm"`
	HSM        string   `json:"hsm,omitempty"`
	Reads      []string `json:"reads"`
	Writes     []string `json:"writes"`
}

// Summary describes the plan.
func (p *Plan) Summary() PlanSummary {
	s := PlanSummary{Valid: true, Script: p.Path, SHA256: p.SHA256, Ceremony: p.Script.Ceremony, Params: p.Script.Params,
		HSMs: p.Script.HSMs, Participants: []ParticipantReport{}, Quorums: []QuorumReport{}, Steps: []StepReport{}}
	if s.Params == nil {
		s.Params = map[string]string{}
	}
	if s.HSMs == nil {
		s.HSMs = []HSM{}
	}
	for _, pp := range p.Script.Participants {
		r := ParticipantReport{ID: pp.ID, Name: pp.Name, Role: pp.Role, Credential: pp.Credential}
		if k := p.sshKeys[pp.ID]; k != nil {
			r.SSHKey = fingerprint(k)
		}
		for _, q := range p.quorums {
			if pin, ok := q.pins[p.holderName(&pp)]; ok && r.Credential == "" {
				r.Credential = pin
			}
		}
		s.Participants = append(s.Participants, r)
	}
	for _, q := range p.Script.Quorums {
		pq := p.quorums[q.ID]
		if pq == nil {
			continue
		}
		d := pq.roster.Digest()
		s.Quorums = append(s.Quorums, QuorumReport{ID: q.ID, Purpose: q.Purpose, RosterID: pq.roster.ID, RosterDigest: fmt.Sprintf("%x", d),
			M: pq.roster.M, N: pq.roster.N, Pinned: len(pq.pins)})
	}
	for _, ps := range p.Steps {
		role := ""
		if pp := p.people[ps.Step.Actor]; pp != nil {
			role = pp.Role
		}
		r := StepReport{ID: ps.ID, Number: ps.Number, Type: ps.Step.Type, Title: ps.Step.Title, Ref: ps.Step.Ref, Actor: ps.Step.Actor, Role: role,
			TouchesHSM: ps.TouchesHSM, HSM: ps.Step.HSM, Reads: ps.Inputs, Writes: ps.Outputs}
		if r.Reads == nil {
			r.Reads = []string{}
		}
		if r.Writes == nil {
			r.Writes = []string{}
		}
		s.Steps = append(s.Steps, r)
	}
	s.Resolvers = p.Resolvers()
	return s
}

// WriteText writes the plan for people: the ceremony, its participants,
// HSMs and quorums, and every step with who performs it and the files it
// reads and writes.
func (p *Plan) WriteText(w io.Writer) error {
	s := p.Summary()
	m := s.Ceremony
	fmt.Fprintf(w, "Ceremony: %s", m.Name)
	if m.Number > 0 {
		fmt.Fprintf(w, " (no. %d)", m.Number)
	}
	fmt.Fprintf(w, ", %s", m.Mode)
	if m.Site != "" {
		fmt.Fprintf(w, ", %s", m.Site)
	}
	if m.Date != "" {
		fmt.Fprintf(w, ", %s", m.Date)
	}
	fmt.Fprintf(w, "\nScript: %s\nSHA-256: %s\n", s.Script, s.SHA256)
	for _, k := range sortedKeys(s.Params) {
		fmt.Fprintf(w, "Param %s = %s\n", k, s.Params[k])
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPARTICIPANT\tNAME\tROLE\tCREDENTIAL / SSH KEY")
	for _, pp := range s.Participants {
		id := pp.Credential
		if pp.SSHKey != "" {
			id = pp.SSHKey
		}
		if pp.SSHKey != "" {
			// The key's SHA256 fingerprint, in full, as ssh-keygen -l
			// prints it; a credential pin is shown whole.
			if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pp.SSHKey)); err == nil {
				id = ssh.FingerprintSHA256(k)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", pp.ID, pp.Name, pp.Role, orDash(id))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range s.HSMs {
		fmt.Fprintf(w, "HSM %s: token %q%s %s\n", h.ID, h.Token, serialText(h.TokenSerial), h.Description)
	}
	for _, q := range s.Quorums {
		fmt.Fprintf(w, "Quorum %s (%s): %d of %d, roster %s (digest %s), %d credentials pinned\n", q.ID, q.Purpose, q.M, q.N, q.RosterID, q.RosterDigest, q.Pinned)
	}
	act := ""
	for _, st := range s.Steps {
		ps := p.stepByID(st.ID)
		if ps.Act.ID != act {
			act = ps.Act.ID
			fmt.Fprintf(w, "\nAct %s: %s\n", strings.Split(st.Number, ".")[0], ps.Act.Title)
		}
		hsmMark := ""
		if st.TouchesHSM {
			hsmMark = " [HSM " + st.HSM + "]"
		}
		fmt.Fprintf(w, "  %-5s %-28s %-17s %s (%s)%s", st.Number, st.ID, st.Type, st.Actor, st.Role, hsmMark)
		if st.Title != "" {
			fmt.Fprintf(w, ": %s", st.Title)
		}
		if st.Ref != "" {
			fmt.Fprintf(w, " [ref %s]", st.Ref)
		}
		fmt.Fprintln(w)
		for _, f := range st.Reads {
			fmt.Fprintf(w, "          reads  %s\n", f)
		}
		for _, f := range st.Writes {
			fmt.Fprintf(w, "          writes %s\n", f)
		}
	}
	fmt.Fprintf(w, "\nWhat validating resolvers will see:\n")
	for _, r := range s.Resolvers {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	_, err := fmt.Fprintf(w, "\n%d steps in %d acts; %d touch an HSM. Checked without touching any HSM.\n", len(s.Steps), len(p.Script.Acts), countHSM(s.Steps))
	return err
}

func (p *Plan) stepByID(id string) *PlannedStep {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func countHSM(steps []StepReport) int {
	n := 0
	for _, s := range steps {
		if s.TouchesHSM {
			n++
		}
	}
	return n
}

func serialText(s string) string {
	if s == "" {
		return ""
	}
	return " serial " + s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Attestation says what attests the log of a run of the plan, as its open
// entry records it (attest.OpenAttestation): attest.AttestationSeal when a
// seal step runs, else attest.AttestationWitnesses when witnesses sign,
// else attest.AttestationNone (such a log is never finished).
func (p *Plan) Attestation() string {
	witnesses := false
	for _, ps := range p.Steps {
		if ps.Step.Skipped() {
			continue
		}
		switch ps.Step.Type {
		case TypeSeal:
			return attest.AttestationSeal
		case TypeWitness:
			witnesses = true
		}
	}
	if witnesses {
		return attest.AttestationWitnesses
	}
	return attest.AttestationNone
}
