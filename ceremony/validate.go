package ceremony

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"golang.org/x/crypto/ssh"
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// validator collects the problems of a script, each naming its path and,
// when the script was parsed, its line.
type validator struct {
	errs  []error
	lines map[string]int
}

func (v *validator) fail(path string, format string, args ...any) {
	if l := lineOf(v.lines, path); l > 0 {
		path = fmt.Sprintf("%s (line %d)", path, l)
	}
	v.errs = append(v.errs, fmt.Errorf("%s: %w: %s", path, ErrInvalid, fmt.Sprintf(format, args...)))
}

// Validate checks the rules of a script that need no file: the format,
// the metadata, unique identifiers, roles, the fields each step type takes,
// references to participants, HSMs and quorums, and the order of steps (an
// HSM is activated before it is used, a quorum is presented before it
// activates an HSM, a KSR is loaded before it is hashed or signed).
// refPattern is the form of a step's ref: a section such as 4.1.2A, a
// slash and the number of the procedure's step.
var refPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*[A-Z]?/[0-9]{1,3}$`)

func (s *Script) Validate() error {
	v := &validator{lines: s.lines}
	if s.Format != Format {
		v.fail("format", "want %q, got %q", Format, s.Format)
	}
	m := s.Ceremony
	if strings.TrimSpace(m.Name) == "" {
		v.fail("ceremony.name", "the ceremony needs a name")
	}
	if m.Mode != ModeRehearsal && m.Mode != ModeProduction {
		v.fail("ceremony.mode", "want %q or %q, got %q", ModeRehearsal, ModeProduction, m.Mode)
	}
	if m.Date != "" {
		if _, err := time.Parse(time.DateOnly, m.Date); err != nil {
			v.fail("ceremony.date", "want YYYY-MM-DD, got %q", m.Date)
		}
	}
	if m.Number < 0 {
		v.fail("ceremony.number", "must not be negative")
	}

	people := map[string]*Participant{}
	for i := range s.Participants {
		p := &s.Participants[i]
		path := fmt.Sprintf("participants[%d]", i)
		switch {
		case !idPattern.MatchString(p.ID):
			v.fail(path+".id", "want lower-case letters, digits, - and _ (at most 64), got %q", p.ID)
		case people[p.ID] != nil:
			v.fail(path+".id", "participant %q is defined twice", p.ID)
		default:
			people[p.ID] = p
		}
		if !slices.Contains(Roles, p.Role) {
			v.fail(path+".role", "want one of %s, got %q", strings.Join(Roles, ", "), p.Role)
		}
		if p.Credential != "" && !isHexSHA256(p.Credential) {
			v.fail(path+".credential", "want the credential file's SHA-256 in 64 hex digits")
		}
		if p.SSHKey != "" && p.SSHKeyFile != "" {
			v.fail(path, "give ssh_key or ssh_key_file, not both")
		}
		if p.SSHKey != "" {
			if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(p.SSHKey)); err != nil {
				v.fail(path+".ssh_key", "not an SSH public key in authorized_keys form: %v", err)
			}
		}
		if p.Holder != "" && p.Role != RoleCryptoOfficer && p.Role != RoleRecoveryKeyShareHolder {
			v.fail(path+".holder", "only crypto officers and recovery key share holders hold credentials")
		}
	}
	if len(s.Participants) == 0 {
		v.fail("participants", "a ceremony needs participants")
	}
	if !slices.ContainsFunc(s.Participants, func(p Participant) bool { return p.Role == RoleCeremonyAdministrator }) {
		v.fail("participants", "a ceremony needs a %s", RoleCeremonyAdministrator)
	}

	hsms := map[string]bool{}
	for i, h := range s.HSMs {
		path := fmt.Sprintf("hsms[%d]", i)
		if !idPattern.MatchString(h.ID) {
			v.fail(path+".id", "want lower-case letters, digits, - and _, got %q", h.ID)
		} else if hsms[h.ID] {
			v.fail(path+".id", "HSM %q is defined twice", h.ID)
		}
		hsms[h.ID] = true
		if h.Token == "" && h.TokenSerial == "" {
			v.fail(path, "give token (label) or token_serial: ksk never selects a token by slot")
		}
	}
	quorums := map[string]*Quorum{}
	for i := range s.Quorums {
		q := &s.Quorums[i]
		path := fmt.Sprintf("quorums[%d]", i)
		if !idPattern.MatchString(q.ID) {
			v.fail(path+".id", "want lower-case letters, digits, - and _, got %q", q.ID)
		} else if quorums[q.ID] != nil {
			v.fail(path+".id", "quorum %q is defined twice", q.ID)
		}
		quorums[q.ID] = q
		if q.Purpose != "hsm-activation" && q.Purpose != "key-backup" {
			v.fail(path+".purpose", "want hsm-activation or key-backup, got %q", q.Purpose)
		}
		if q.Roster == "" {
			v.fail(path+".roster", "a quorum needs its roster file")
		}
	}

	if len(s.Acts) == 0 {
		v.fail("acts", "a ceremony needs at least one act")
	}
	v.steps(s, people, hsms, quorums)
	return errors.Join(v.errs...)
}

// order tracks what earlier steps provide, for the order rules.
type order struct {
	// presented: quorums whose secret a quorum or token-init step holds
	// in memory; an hsm-activate or credentials-issue step uses it up.
	presented map[string]bool
	used      map[string]string // quorum -> the step that last used its secret
	activated map[string]bool   // HSMs activated
	// activatedBy: the quorum whose secret last activated each HSM.
	activatedBy map[string]string
	ksrLoaded   bool
	ksrHashed   bool
	mode        string
}

func (v *validator) steps(s *Script, people map[string]*Participant, hsms map[string]bool, quorums map[string]*Quorum) {
	acts := map[string]bool{}
	ids := map[string]bool{}
	o := order{presented: map[string]bool{}, used: map[string]string{}, activated: map[string]bool{}, activatedBy: map[string]string{}, mode: s.Ceremony.Mode}
	for i := range s.Acts {
		a := &s.Acts[i]
		apath := fmt.Sprintf("acts[%d]", i)
		if !idPattern.MatchString(a.ID) {
			v.fail(apath+".id", "want lower-case letters, digits, - and _, got %q", a.ID)
		} else if acts[a.ID] {
			v.fail(apath+".id", "act %q is defined twice", a.ID)
		}
		acts[a.ID] = true
		if len(a.Steps) == 0 {
			v.fail(apath+".steps", "an act needs at least one step")
		}
		for j := range a.Steps {
			st := &a.Steps[j]
			path := fmt.Sprintf("%s.steps[%d]", apath, j)
			full := a.ID + "." + st.ID
			if !idPattern.MatchString(st.ID) {
				v.fail(path+".id", "want lower-case letters, digits, - and _, got %q", st.ID)
			} else if ids[full] {
				v.fail(path+".id", "step %q is defined twice", full)
			}
			ids[full] = true
			v.step(st, path, people, hsms, quorums, &o)
		}
	}
}

func (v *validator) step(st *Step, path string, people map[string]*Participant, hsms map[string]bool, quorums map[string]*Quorum, o *order) {
	k, ok := kinds[st.Type]
	if !ok {
		v.fail(path+".type", "unknown step type %q; want one of %s", st.Type, strings.Join(StepTypes(), ", "))
		return
	}
	for _, f := range setFields(st) {
		if !slices.Contains(commonFields, f) && !slices.Contains(k.fields, f) {
			v.fail(path+"."+f, "a %s step does not take %s (it takes %s)", st.Type, f, strings.Join(append(slices.Clone(commonFields), k.fields...), ", "))
		}
	}
	set := setFields(st)
	for _, f := range k.required {
		if !slices.Contains(set, f) {
			v.fail(path+"."+f, "a %s step needs %s", st.Type, f)
		}
	}
	for _, ref := range strings.Split(st.Ref, ",") {
		if st.Ref != "" && !refPattern.MatchString(strings.TrimSpace(ref)) {
			v.fail(path+".ref", "want SECTION/N, the numbered step of the written procedure (e.g. \"4.1.2A/3\"), or several separated by commas, got %q", st.Ref)
			break
		}
	}
	if st.Actor == "" {
		v.fail(path+".actor", "every step names the participant who performs it")
	} else if people[st.Actor] == nil {
		v.fail(path+".actor", "%q is not a participant", st.Actor)
	}
	if st.HSM != "" && !hsms[st.HSM] {
		v.fail(path+".hsm", "%q is not an HSM of the script (hsms)", st.HSM)
	}
	var q *Quorum
	if st.Quorum != "" {
		if q = quorums[st.Quorum]; q == nil {
			v.fail(path+".quorum", "%q is not a quorum of the script (quorums)", st.Quorum)
		}
	}
	switch st.Type {
	case TypeQuorum:
		o.presented[st.Quorum] = true
		if st.Attempts < 0 || st.Attempts > 10 {
			v.fail(path+".attempts", "want 1 to 10 passphrase attempts per credential (0: the default, 3)")
		}
	case TypeTokenInit:
		if q != nil && q.Purpose != "hsm-activation" {
			v.fail(path+".quorum", "token-init makes a new HSM activation secret: quorum %q is for %s", q.ID, q.Purpose)
		}
		o.presented[st.Quorum] = true
	case TypeCredentialsIssue:
		if st.HSM != "" {
			// A re-issue: the HSM logged in with this quorum's current
			// credentials gets a new PIN, split into new credentials.
			// Steps on the HSM after it need an hsm-activate with the
			// new ones, which proves them and keeps a resume honest.
			if !o.activated[st.HSM] || o.activatedBy[st.HSM] != st.Quorum {
				v.fail(path+".hsm", "a re-issue changes the PIN of an HSM activated by quorum %q: no earlier hsm-activate step activates HSM %q with it", st.Quorum, st.HSM)
			}
			o.activated[st.HSM] = false
			o.used[st.Quorum] = path
			if st.NewQuorum != "" {
				switch nq := quorums[st.NewQuorum]; {
				case nq == nil:
					v.fail(path+".new_quorum", "%q is not a quorum of the script (quorums)", st.NewQuorum)
				case nq.Purpose != "hsm-activation" || nq.ID == st.Quorum:
					v.fail(path+".new_quorum", "the new credentials of a re-issue are for another hsm-activation quorum than %q", st.Quorum)
				}
			}
			break
		}
		if st.NewQuorum != "" {
			v.fail(path+".new_quorum", "new_quorum is for a re-issue, a credentials-issue step with hsm")
		}
		if !o.presented[st.Quorum] {
			v.fail(path+".quorum", "no earlier token-init or quorum step holds the secret of quorum %q%s", st.Quorum, o.usedUp(st.Quorum))
		}
		o.presented[st.Quorum] = false
		o.used[st.Quorum] = path
	case TypeHSMActivate:
		if q != nil && q.Purpose != "hsm-activation" {
			v.fail(path+".quorum", "quorum %q is for %s, not hsm-activation", q.ID, q.Purpose)
		}
		if !o.presented[st.Quorum] {
			v.fail(path+".quorum", "no earlier quorum step presents quorum %q%s", st.Quorum, o.usedUp(st.Quorum))
		}
		o.presented[st.Quorum] = false
		o.used[st.Quorum] = path
		o.activated[st.HSM] = true
		o.activatedBy[st.HSM] = st.Quorum
	case TypeKSRLoad:
		o.ksrLoaded, o.ksrHashed = true, false
		if st.At != "" {
			if _, err := time.Parse(time.RFC3339, st.At); err != nil {
				v.fail(path+".at", "want an RFC 3339 time, got %q", st.At)
			}
		}
	case TypeKSRHash:
		o.ksrHashed = true
		if !o.ksrLoaded {
			v.fail(path, "no earlier ksr-load step loads the KSR")
		}
		if st.Words < 0 || st.Words > 32 {
			v.fail(path+".words", "want 1 to 32 (0: the default, 4)")
		}
	case TypeSign:
		if !o.ksrLoaded {
			v.fail(path, "no earlier ksr-load step loads the KSR")
		}
		if o.mode == ModeProduction && !o.ksrHashed {
			v.fail(path, "a production ceremony compares the KSR's hash with the zone maintainer's (a ksr-hash step) before it signs")
		}
		if st.At != "" {
			if _, err := time.Parse(time.RFC3339, st.At); err != nil {
				v.fail(path+".at", "want an RFC 3339 time, got %q", st.At)
			}
		}
	case TypeKeygen:
		alg, err := hsm.ParseAlgorithm(st.Algorithm)
		if err != nil {
			v.fail(path+".algorithm", "%v", err)
		} else if st.Bits != 0 && !slices.Contains(hsm.RSABits, st.Bits) || st.Bits != 0 && !alg.IsRSA() {
			v.fail(path+".bits", "bits is for RSA keys only, and one of %v", hsm.RSABits)
		}
	case TypeRecord:
		ids := map[string]bool{}
		for i, rv := range st.Values {
			vp := fmt.Sprintf("%s.values[%d]", path, i)
			switch {
			case !idPattern.MatchString(rv.ID):
				v.fail(vp+".id", "want lower-case letters, digits, - and _, got %q", rv.ID)
			case ids[rv.ID]:
				v.fail(vp+".id", "value %q is recorded twice in this step", rv.ID)
			}
			ids[rv.ID] = true
		}
	case TypeCustody:
		v.validateCustody(st, path, people)
	case TypeWitness:
		seen := map[string]bool{}
		for i, w := range st.Witnesses {
			p := people[w]
			wp := fmt.Sprintf("%s.witnesses[%d]", path, i)
			switch {
			case p == nil:
				v.fail(wp, "%q is not a participant", w)
			case p.SSHKey == "" && p.SSHKeyFile == "":
				v.fail(wp, "participant %q has no ssh_key or ssh_key_file to check a signature with", w)
			case seen[w]:
				v.fail(wp, "%q is listed twice", w)
			}
			seen[w] = true
		}
	}
	v.drStep(st, path, quorums)
	if k.touchesHSM && st.Type != TypeHSMActivate && st.Type != TypeTokenInit && st.Type != TypeCredentialsIssue && st.HSM != "" && !o.activated[st.HSM] {
		v.fail(path+".hsm", "no earlier hsm-activate step activates HSM %q", st.HSM)
	}
	if st.Type == TypeTokenInit {
		o.activated[st.HSM] = false
	}
}

// usedUp explains, when a step used up a quorum's secret, why it is gone.
func (o *order) usedUp(q string) string {
	if at := o.used[q]; at != "" {
		return fmt.Sprintf(" since %s used its secret, which is wiped once used", at)
	}
	return ""
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
