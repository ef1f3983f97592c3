package ceremony

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ksk-dev/ksk/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// Format is the value of a script's format key.
const Format = "ksk-ceremony-v1"

// MaxScriptSize bounds the script files Load reads.
const MaxScriptSize = 1 << 20

// Modes of a ceremony.
const (
	// ModeRehearsal allows an answers file to stand in for the people.
	ModeRehearsal = "rehearsal"
	// ModeProduction requires a person at the terminal for every input.
	ModeProduction = "production"
)

// Script is a ceremony script as written in YAML.
type Script struct {
	// Format must be Format.
	Format string `yaml:"format"`
	// Ceremony is the ceremony's metadata.
	Ceremony Meta `yaml:"ceremony"`
	// Params are named strings, with their defaults, that ${name} in any
	// other value of the script refers to; ksk ceremony --param name=value
	// overrides them. They are never secrets.
	Params map[string]string `yaml:"params"`
	// Participants are the people of the ceremony and their roles.
	Participants []Participant `yaml:"participants"`
	// HSMs are the tokens the ceremony uses.
	HSMs []HSM `yaml:"hsms"`
	// Quorums are the M-of-N credential splits the ceremony uses.
	Quorums []Quorum `yaml:"quorums"`
	// Acts are the ceremony's acts, in order.
	Acts []Act `yaml:"acts"`

	// lines maps the YAML paths of the script as written to their lines,
	// for messages (set by Parse).
	lines map[string]int
}

// Meta is a ceremony's metadata.
type Meta struct {
	// Name is the ceremony's name, e.g. "KSK Ceremony 57".
	Name string `yaml:"name" json:"name"`
	// Number is the ceremony's number in the operator's series.
	Number int `yaml:"number" json:"number"`
	// Site is where it takes place.
	Site string `yaml:"site" json:"site"`
	// Date is the scheduled date, YYYY-MM-DD.
	Date string `yaml:"date" json:"date"`
	// Mode is ModeRehearsal or ModeProduction.
	Mode string `yaml:"mode" json:"mode"`
	// Description says what the ceremony is for.
	Description string `yaml:"description" json:"description"`
	// AllowOutsideDir lets steps write outputs outside the ceremony
	// directory (--dir): an absolute path or one climbing out with "..".
	// Without it such a script is refused, so that a parameter cannot
	// send an output over a file elsewhere on the machine.
	AllowOutsideDir bool `yaml:"allow_outside_dir" json:"allow_outside_dir"`
}

// Participant is one person of the ceremony.
type Participant struct {
	// ID is how steps name the participant, e.g. "co1".
	ID string `yaml:"id"`
	// Name is the person's name.
	Name string `yaml:"name"`
	// Role is one of Roles.
	Role string `yaml:"role"`
	// Holder is the participant's holder name in a quorum roster; it
	// defaults to ID for crypto officers and recovery key share holders.
	Holder string `yaml:"holder"`
	// Credential is the hex SHA-256 of the participant's credential file,
	// as ksk credentials issue prints it. When set, only that file counts
	// for the participant.
	Credential string `yaml:"credential"`
	// SSHKey is the participant's SSH public key in authorized_keys form;
	// witness steps require a signature by it.
	SSHKey string `yaml:"ssh_key"`
	// SSHKeyFile is a file holding SSHKey instead.
	SSHKeyFile string `yaml:"ssh_key_file"`
}

// HSM is a token the ceremony uses.
type HSM struct {
	// ID is how steps name the HSM.
	ID string `yaml:"id" json:"id"`
	// Description says what the HSM stands for (e.g. "KMF East tier 7").
	Description string `yaml:"description" json:"description"`
	// Module is the PKCS#11 module path; empty means $KSK_PKCS11_MODULE.
	Module string `yaml:"module" json:"module"`
	// Token is the token label.
	Token string `yaml:"token" json:"token"`
	// TokenSerial is the token serial number, instead of or besides Token.
	TokenSerial string `yaml:"token_serial" json:"token_serial"`
}

// Quorum is an M-of-N split of a secret among credential holders.
type Quorum struct {
	// ID is how steps name the quorum.
	ID string `yaml:"id"`
	// Purpose is "hsm-activation" or "key-backup".
	Purpose string `yaml:"purpose"`
	// Roster is the roster file (ksk credentials issue --roster).
	Roster string `yaml:"roster"`
	// Credentials, when set, is the JSON that ksk credentials issue -o json
	// printed: it pins each holder's credential file by SHA-256.
	Credentials string `yaml:"credentials"`
}

// Act is a group of steps.
type Act struct {
	// ID is the act's identifier; a step's full ID is ACT.STEP.
	ID string `yaml:"id"`
	// Title is the act's title.
	Title string `yaml:"title"`
	// Steps are the act's steps, in order.
	Steps []Step `yaml:"steps"`
}

// Step is one step of an act. Which fields a step takes depends on its
// Type; docs/ceremonies.md lists them and Check rejects the others.
type Step struct {
	ID    string `yaml:"id"`
	Type  string `yaml:"type"`
	Title string `yaml:"title"`
	// Actor is the participant who performs the step.
	Actor string `yaml:"actor"`
	// Text is what the actor does, read out by the administrator.
	Text string `yaml:"text"`
	// Expect is the expected result the witnesses check.
	Expect string `yaml:"expect"`
	// Ref names the numbered step of a written procedure that this step
	// carries out, as "SECTION/N" (e.g. "4.1.2A/3" of the DR procedure),
	// or several separated by commas when one script serves several
	// procedures (a follow-up ceremony that more than one variant leads
	// to); it is shown in the plan, the printed binder and the transcript.
	Ref string `yaml:"ref"`
	// Witnesses are participants who sign the log's head (type witness).
	Witnesses []string `yaml:"witnesses"`
	// Recipients are who a notify step informs (free text: "RZM",
	// "IANA", "the public").
	Recipients []string `yaml:"recipients"`

	HSM    string `yaml:"hsm"`
	Quorum string `yaml:"quorum"`
	// Attempts is how many passphrases a holder may type for one
	// credential at a quorum step at a terminal; 0 means 3.
	Attempts int `yaml:"attempts"`

	KSR         string `yaml:"ksr"`
	PreviousSKR string `yaml:"previous_skr"`
	Policy      string `yaml:"policy"`
	Legacy      bool   `yaml:"legacy"`
	At          string `yaml:"at"`
	Words       int    `yaml:"words"`

	Config string   `yaml:"config"`
	Schema string   `yaml:"schema"`
	Keys   []string `yaml:"keys"`
	Out    string   `yaml:"out"`
	Files  []string `yaml:"files"`
	To     string   `yaml:"to"`

	Label      string `yaml:"label"`
	Algorithm  string `yaml:"algorithm"`
	Bits       int    `yaml:"bits"`
	Backupable bool   `yaml:"backupable"`
	Key        string `yaml:"key"`

	// Backup is the backup file a key-restore step restores.
	Backup string `yaml:"backup"`
	// CredentialsDir is the directory a key-backup step writes the
	// recovery key share holders' credentials to.
	CredentialsDir string `yaml:"credentials_dir"`
	// Activation is the hsm-activation quorum whose crypto officers log
	// the HSM's user in again during a key-backup step, after the security
	// officer's login.
	Activation string `yaml:"activation"`
	// Start is the first day of a rollover-plan step's plan, or the date
	// from which a signer-config step's new KSK is valid: YYYY-MM-DD or
	// RFC 3339.
	Start string `yaml:"start"`

	// When, if given, says whether the step runs: a parameter such as
	// when: ${publish} turns an optional step on or off for one run. A step
	// whose when is false is recorded as skipped.
	When *bool `yaml:"when"`
	// RekorURL is the Rekor server a rekor-publish step uploads to, and
	// RekorKey the file of its pinned public key (PEM).
	RekorURL string `yaml:"rekor_url"`
	RekorKey string `yaml:"rekor_key"`

	// Values are what a record step has the actor read out and stores in
	// the log (tamper-evident bag numbers, serial numbers, the time).
	Values []RecordValue `yaml:"values"`
	// CompareLog is a previous ceremony's log: a record step compares
	// each value with the one recorded there under the same id (the bag
	// a safe was sealed in last time), and a difference is an exception
	// the witnesses acknowledge.
	CompareLog string `yaml:"compare_log"`

	// Holders are the credential holders a custody step accounts for
	// (default: every possession holder of its quorum's roster).
	Holders []string `yaml:"holders"`
	// Method is how a custody step's credentials reached the room:
	// drilled (the safe deposit boxes drilled open), courier (sent by the
	// holders in tamper-evident packaging) or holder (brought by the
	// holders themselves).
	Method string `yaml:"method"`
	// NewQuorum, on a re-issue (credentials-issue with hsm), is the
	// hsm-activation quorum whose roster receives the new credentials,
	// when it is not the quorum that activated the HSM: a new roster
	// (officers replaced, or credentials moved into sealed bags).
	NewQuorum string `yaml:"new_quorum"`
	// Observers are the participants who watched a custody step (the
	// witnesses of the drilling or of the packages' opening).
	Observers []string `yaml:"observers"`

	// set by Load
	line int
}

// RecordValue is one value a record step stores.
type RecordValue struct {
	// ID names the value in the log (value.ID) and across ceremonies:
	// the same id in the previous ceremony's log is the value compared.
	ID string `yaml:"id"`
	// Label is what the actor is asked for ("HSM bag number").
	Label string `yaml:"label"`
}

// Skipped reports whether the step's when is false.
func (s *Step) Skipped() bool { return s.When != nil && !*s.When }

// Line is the line of the step in its script.
func (s *Step) Line() int { return s.line }

// Refs returns the procedure steps a step's ref names, in the order
// written, without blanks; nil when it has none.
func (s *Step) Refs() []string {
	var out []string
	for _, r := range strings.Split(s.Ref, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

var paramRef = regexp.MustCompile(`\$\{([^}]*)\}`)
var paramName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Parse reads a script from data; params override the script's params.
// It checks the form (unknown keys, types) and the rules that need no
// file (Validate); Check does the rest.
func Parse(data []byte, params map[string]string) (*Script, error) {
	root, err := yamlpath.Parse(data, yamlpath.Sentinels(sentinels))
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, fmt.Errorf("%w: the script is empty", ErrInvalid)
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("(document) (line %d): %w: want a mapping with format, ceremony, participants and acts", root.Line, ErrInvalid)
	}
	values, err := paramValues(root, params)
	if err != nil {
		return nil, err
	}
	var errs []string
	substitute(root, "", values, &errs)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	var s Script
	if err := yamlpath.DecodeNode(root, &s, yamlpath.Sentinels(sentinels)); err != nil {
		return nil, err
	}
	s.Params = values
	s.lines = map[string]int{}
	nodeLines(root, "", s.lines)
	s.recordLines(root)
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Load reads the script at path.
func Load(path string, params map[string]string) (*Script, error) {
	data, err := yamlpath.ReadFile(path, MaxScriptSize, ErrRead)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data, params)
	if err != nil {
		return nil, fmt.Errorf("script %s: %w", path, err)
	}
	return s, nil
}

// paramValues returns the script's params with overrides applied.
func paramValues(root *yaml.Node, overrides map[string]string) (map[string]string, error) {
	values := map[string]string{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "params" {
			continue
		}
		m := root.Content[i+1]
		if m.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("params (line %d): %w: want a mapping of names to strings", m.Line, ErrInvalid)
		}
		for j := 0; j+1 < len(m.Content); j += 2 {
			k, v := m.Content[j], m.Content[j+1]
			if !paramName.MatchString(k.Value) {
				return nil, fmt.Errorf("params.%s (line %d): %w: a parameter name is lower-case letters, digits and _", k.Value, k.Line, ErrInvalid)
			}
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				return nil, fmt.Errorf("params.%s (line %d): %w: want a string", k.Value, v.Line, ErrInvalid)
			}
			if paramRef.MatchString(v.Value) {
				return nil, fmt.Errorf("params.%s (line %d): %w: a parameter's value cannot refer to another", k.Value, v.Line, ErrInvalid)
			}
			values[k.Value] = v.Value
		}
	}
	names := make([]string, 0, len(overrides))
	for k := range overrides {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, ok := values[k]; !ok {
			hint := ""
			if sug := yamlpath.Suggest(k, sortedKeys(values)); sug != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", sug)
			}
			return nil, fmt.Errorf("%w: --param %s: the script has no parameter %q%s; it has: %s", ErrInvalid, k, k, hint, strings.Join(sortedKeys(values), ", "))
		}
		values[k] = overrides[k]
	}
	return values, nil
}

// substitute replaces ${name} in every scalar outside params, and makes
// every unquoted date or time a string.
func substitute(n *yaml.Node, path string, values map[string]string, errs *[]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if path == "" && k == "params" {
				continue
			}
			substitute(n.Content[i+1], yamlpath.Join(path, k), values, errs)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			substitute(c, fmt.Sprintf("%s[%d]", path, i), values, errs)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!timestamp" {
			// A script has no time values, only strings that hold dates
			// and times (ceremony.date, at): date: 2026-11-22 is one.
			n.Tag = "!!str"
		}
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = paramRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := values[name]
			if !ok {
				*errs = append(*errs, fmt.Sprintf("%s (line %d): ${%s} is not a parameter of the script", path, n.Line, name))
				return ref
			}
			return v
		})
		if n.Style == 0 {
			// A substituted scalar keeps the type it resolves to now.
			n.Tag = ""
			var probe yaml.Node
			if yaml.Unmarshal([]byte(n.Value), &probe) == nil && len(probe.Content) == 1 && probe.Content[0].Kind == yaml.ScalarNode {
				n.Tag = probe.Content[0].Tag
			}
			if n.Tag == "" || n.Tag == "!!timestamp" {
				n.Tag = "!!str" // a date stays the string it is written as
			}
		}
	}
}

// nodeLines records the line of every path of the document (a mapping
// entry's key line, a list item's line). Aliases are not followed.
func nodeLines(n *yaml.Node, path string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := yamlpath.Join(path, n.Content[i].Value)
			if _, ok := lines[p]; !ok {
				lines[p] = n.Content[i].Line
			}
			nodeLines(n.Content[i+1], p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			lines[p] = c.Line
			nodeLines(c, p, lines)
		}
	}
}

// lineOf returns the line of path, or of its nearest enclosing path that
// the script has (a missing field is reported at its step), or 0.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// recordLines notes each step's line for messages.
func (s *Script) recordLines(root *yaml.Node) {
	acts := lookup(root, "acts")
	if acts == nil || acts.Kind != yaml.SequenceNode {
		return
	}
	for i, a := range acts.Content {
		if i >= len(s.Acts) {
			return
		}
		steps := lookup(a, "steps")
		if steps == nil || steps.Kind != yaml.SequenceNode {
			continue
		}
		for j, st := range steps.Content {
			if j < len(s.Acts[i].Steps) {
				s.Acts[i].Steps[j].line = st.Line
			}
		}
	}
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
