package ceremony

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/yamlpath"
	"github.com/ksk-dev/ksk/quorum"
	"golang.org/x/crypto/ssh"
)

// AnswersFormat is the value of an answers file's format key.
const AnswersFormat = "ksk-answers-v1"

// AnswersFile is the YAML of an answers file: every operator input of a
// rehearsal, by step ID. Secrets (passphrases, the security officer PIN)
// are given by file, never inline; file names are relative to the answers
// file.
type AnswersFile struct {
	Format string `yaml:"format"`
	// ConfirmAll answers yes to every confirmation not given per step.
	ConfirmAll bool `yaml:"confirm_all"`
	// Steps are the answers of each step, by ACT.STEP.
	Steps map[string]StepAnswers `yaml:"steps"`
}

// StepAnswers are the answers of one step.
type StepAnswers struct {
	// Confirm answers the step's confirmation (default ConfirmAll).
	Confirm *bool `yaml:"confirm"`
	// Words is what the actor types back at a ksr-hash step.
	Words string `yaml:"words"`
	// Credentials are the credential files presented at a quorum step.
	Credentials []CredentialAnswer `yaml:"credentials"`
	// SOPINFile holds the security officer PIN of a token-init step.
	SOPINFile string `yaml:"so_pin_file"`
	// PassphraseFiles hold the holders' new passphrases at a
	// credentials-issue step, by holder.
	PassphraseFiles map[string]string `yaml:"passphrase_files"`
	// SSHKeys are witnesses' private SSH key files (rehearsals only), by
	// participant.
	SSHKeys map[string]string `yaml:"ssh_keys"`
	// Signatures are witnesses' signature files made beforehand, by
	// participant.
	Signatures map[string]string `yaml:"signatures"`
	// Values are the values of a record step, by value id.
	Values map[string]string `yaml:"values"`
	// Repeat says to repeat this step if it touched the HSM and was left
	// unfinished by an interrupted run.
	Repeat bool `yaml:"repeat"`
}

// CredentialAnswer is one credential presented with its passphrase file.
type CredentialAnswer struct {
	File           string `yaml:"file"`
	PassphraseFile string `yaml:"passphrase_file"`
}

// Answers is an Operator that answers from an answers file.
type Answers struct {
	path, sha string
	sum       attest.Hash
	dir       string
	f         AnswersFile
}

// MaxAnswersSize bounds the answers files LoadAnswers reads.
const MaxAnswersSize = 1 << 20

// LoadAnswers reads an answers file; the file names in it are relative to
// its directory.
func LoadAnswers(path string) (*Answers, error) {
	data, err := yamlpath.ReadFile(path, MaxAnswersSize, ErrRead)
	if err != nil {
		return nil, err
	}
	a, err := ParseAnswers(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("answers %s: %w", path, err)
	}
	a.path = path
	return a, nil
}

// ParseAnswers reads an answers file from data, strictly (errors wrap
// ErrSyntax, ErrUnknownKey or ErrInvalid and name the YAML path); its file
// names are relative to dir.
func ParseAnswers(data []byte, dir string) (*Answers, error) {
	var f AnswersFile
	if err := yamlpath.Decode(data, &f, yamlpath.Sentinels(sentinels)); err != nil {
		return nil, err
	}
	if f.Format != AnswersFormat {
		return nil, fmt.Errorf("format: %w: want %q, got %q", ErrInvalid, AnswersFormat, f.Format)
	}
	sum := sha256.Sum256(data)
	return &Answers{path: filepath.Join(dir, "(answers)"), sha: hex.EncodeToString(sum[:]), sum: sum, dir: dir, f: f}, nil
}

// CheckSteps reports answers for steps the plan does not have, so that a
// typo does not go unnoticed.
func (a *Answers) CheckSteps(p *Plan) error {
	known := map[string]bool{}
	var ids []string
	for _, s := range p.Steps {
		known[s.ID] = true
		ids = append(ids, s.ID)
	}
	var bad []string
	for _, id := range sortedKeys(a.f.Steps) {
		if !known[id] {
			msg := id
			if s := yamlpath.Suggest(id, ids); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			bad = append(bad, msg)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("answers %s: steps: %w: no such step in the script: %s", a.path, ErrAnswers, strings.Join(bad, ", "))
	}
	return nil
}

// Describe implements Operator.
func (a *Answers) Describe() string {
	return fmt.Sprintf("answers %s (sha256 %s)", filepath.Base(a.path), a.sha)
}

// operatorFile is the answers file as the log records it when a ceremony
// opens or resumes: its path and the SHA-256 of the bytes parsed.
func (a *Answers) operatorFile() attest.FileRef {
	return attest.FileRef{Path: a.path, Role: attest.Read, SHA256: a.sum}
}

func (a *Answers) file(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(a.dir, name)
}

func (a *Answers) missing(x StepInfo, what string) error {
	return fmt.Errorf("%w %s: steps.%s.%s: no answer for step %s (%s)", ErrAnswers, a.path, x.ID, what, x.Number, x.Type)
}

// readSecretFile reads a secret from a file with the PIN file rules (one
// line, not readable by others).
func (a *Answers) readSecretFile(name, what string) ([]byte, error) {
	src, err := hsm.ParsePINSource("file:" + a.file(name))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s: %w", ErrAnswers, a.path, what, err)
	}
	s, err := src.Read(nil, what)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s: %w", ErrAnswers, a.path, what, err)
	}
	return s, nil
}

// Confirm implements Operator.
func (a *Answers) Confirm(x StepInfo, _ string) error {
	yes := a.f.ConfirmAll
	if s, ok := a.f.Steps[x.ID]; ok && s.Confirm != nil {
		yes = *s.Confirm
	}
	if !yes {
		return fmt.Errorf("%w: step %s: the answers file does not confirm it", ErrNotConfirmed, x.ID)
	}
	return nil
}

// Words implements Operator.
func (a *Answers) Words(x StepInfo, _ string) (string, error) {
	s := a.f.Steps[x.ID]
	if s.Words == "" {
		return "", a.missing(x, "words")
	}
	return s.Words, nil
}

// Value implements Operator: the step's values.ID.
func (a *Answers) Value(x StepInfo, id, _ string) (string, error) {
	v := strings.TrimSpace(a.f.Steps[x.ID].Values[id])
	if v == "" {
		return "", a.missing(x, "values."+id)
	}
	return v, nil
}

// Credentials implements Operator.
func (a *Answers) Credentials(x StepInfo, _ []string) ([]PresentedCredential, error) {
	s := a.f.Steps[x.ID]
	if len(s.Credentials) == 0 {
		return nil, a.missing(x, "credentials")
	}
	var out []PresentedCredential
	for i, c := range s.Credentials {
		if c.File == "" {
			return out, fmt.Errorf("%w %s: steps.%s.credentials[%d]: give file and passphrase_file", ErrAnswers, a.path, x.ID, i)
		}
		data, err := readSmall(a.file(c.File), 64<<10)
		if err != nil {
			return out, fmt.Errorf("%w %s: steps.%s.credentials[%d].file: %w", ErrAnswers, a.path, x.ID, i, err)
		}
		if quorum.IsPossession(data) && c.PassphraseFile == "" {
			out = append(out, PresentedCredential{Source: c.File, File: data}) // a possession credential has no passphrase
			continue
		}
		if c.PassphraseFile == "" {
			return out, fmt.Errorf("%w %s: steps.%s.credentials[%d]: give file and passphrase_file", ErrAnswers, a.path, x.ID, i)
		}
		pass, err := a.readSecretFile(c.PassphraseFile, fmt.Sprintf("steps.%s.credentials[%d].passphrase_file", x.ID, i))
		if err != nil {
			return out, err
		}
		out = append(out, PresentedCredential{Source: c.File, File: data, Passphrase: pass})
	}
	return out, nil
}

// Secret implements Operator.
func (a *Answers) Secret(x StepInfo, what string) ([]byte, error) {
	s := a.f.Steps[x.ID]
	if s.SOPINFile == "" {
		return nil, a.missing(x, "so_pin_file")
	}
	return a.readSecretFile(s.SOPINFile, fmt.Sprintf("steps.%s.so_pin_file (%s)", x.ID, what))
}

// NewPassphrase implements Operator.
func (a *Answers) NewPassphrase(x StepInfo, holder string) ([]byte, error) {
	s := a.f.Steps[x.ID]
	name, ok := s.PassphraseFiles[holder]
	if !ok {
		return nil, a.missing(x, "passphrase_files."+holder)
	}
	return a.readSecretFile(name, fmt.Sprintf("steps.%s.passphrase_files.%s", x.ID, holder))
}

// Witness implements Operator.
func (a *Answers) Witness(x StepInfo, who string, _ []byte) (WitnessInput, error) {
	s := a.f.Steps[x.ID]
	if name, ok := s.Signatures[who]; ok {
		data, err := readSmall(a.file(name), 64<<10)
		if err != nil {
			return WitnessInput{}, fmt.Errorf("%w %s: steps.%s.signatures.%s: %w", ErrAnswers, a.path, x.ID, who, err)
		}
		return WitnessInput{Armored: data}, nil
	}
	name, ok := s.SSHKeys[who]
	if !ok {
		return WitnessInput{}, a.missing(x, "ssh_keys."+who)
	}
	data, err := readSmall(a.file(name), 64<<10)
	if err != nil {
		return WitnessInput{}, fmt.Errorf("%w %s: steps.%s.ssh_keys.%s: %w", ErrAnswers, a.path, x.ID, who, err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	clear(data)
	if err != nil {
		return WitnessInput{}, fmt.Errorf("%w %s: steps.%s.ssh_keys.%s: not an unencrypted SSH private key", ErrAnswers, a.path, x.ID, who)
	}
	return WitnessInput{Signer: signer}, nil
}

// Repeat implements Operator.
func (a *Answers) Repeat(x StepInfo, _ string) (bool, error) {
	return a.f.Steps[x.ID].Repeat, nil
}
