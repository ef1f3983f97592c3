package ceremony

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ksk-dev/ksk/internal/lineread"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// StepInfo names the step an Operator is asked about.
type StepInfo struct {
	// ID is ACT.STEP; Number is "2.3"; Type is the step type.
	ID, Number, Type string
	// Actor is the participant performing the step, Role their role.
	Actor, Role string
}

// PresentedCredential is one credential file handed over at a quorum step,
// with the passphrase its holder typed.
type PresentedCredential struct {
	// Source names the file, for reports.
	Source string
	// File is the credential file's contents.
	File []byte
	// Passphrase is the holder's passphrase; the Runner wipes it.
	Passphrase []byte
}

// WitnessInput is a witness's signature over a head: either a signature
// made elsewhere (Armored, ssh-keygen -Y sign output) or, in rehearsals, a
// Signer that makes it.
type WitnessInput struct {
	Armored []byte
	Signer  ssh.Signer
}

// Operator is who answers the ceremony's questions: a person at a terminal
// (Terminal) or, in a rehearsal, an answers file (Answers). No method's
// answer is ever written to the log when it is a secret.
type Operator interface {
	// Confirm asks the actor to confirm the question; nil means yes, an
	// error wrapping ErrNotConfirmed means no.
	Confirm(x StepInfo, question string) error
	// Words asks for text typed back (the PGP words read by the zone
	// maintainer).
	Words(x StepInfo, prompt string) (string, error)
	// Credentials asks for the credentials presented at a quorum step.
	Credentials(x StepInfo, holders []string) ([]PresentedCredential, error)
	// Secret asks for a secret, such as the security officer PIN.
	Secret(x StepInfo, what string) ([]byte, error)
	// NewPassphrase asks a credential holder for the passphrase of a new
	// credential.
	NewPassphrase(x StepInfo, holder string) ([]byte, error)
	// Witness asks a witness to sign message (the head, in hex, and a
	// newline) in the namespace of attest.WitnessNamespace.
	Witness(x StepInfo, who string, message []byte) (WitnessInput, error)
	// Value asks the actor of a record step for one value, read out: id
	// names it in the log and in answers files, label is what is asked.
	Value(x StepInfo, id, label string) (string, error)
	// Repeat asks whether to repeat a step that touched the HSM, was
	// started and not recorded as done: true only on an explicit yes.
	Repeat(x StepInfo, why string) (bool, error)
	// Describe names the operator for the log: "terminal" or "answers
	// FILE (sha256 ...)".
	Describe() string
}

// Terminal is an Operator for a person at a terminal: questions go to Out,
// answers are lines read from In, and secrets are read without echo when In
// is a terminal.
type Terminal struct {
	In  io.Reader
	Out io.Writer
	// Ctx, when set, interrupts a question waiting for its answer: on
	// Ctrl-C the ceremony stops at once instead of acting on a line typed
	// afterwards.
	Ctx context.Context

	r *bufio.Reader
	// notes are what the people typed that was not an answer (slips),
	// and remarks typed with !note, since the runner last took them.
	notes []string
}

// NotePrefix starts a line a participant types at any prompt to add a
// free-text remark to the step's record instead of answering.
const NotePrefix = "!note"

// note records a slip or remark for the step being run.
func (t *Terminal) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// takeNotes implements noteTaker.
func (t *Terminal) takeNotes() []string {
	n := t.notes
	t.notes = nil
	return n
}

// interactive implements retrier: a person can answer again.
func (t *Terminal) interactive() bool { return true }

// answer reads a line at a prompt; a "!note TEXT" line is recorded as a
// remark of who, and the prompt asked again.
func (t *Terminal) answer(x StepInfo, prompt string) (string, error) {
	for {
		s, err := t.line(prompt)
		if err != nil {
			return "", err
		}
		if rest, ok := strings.CutPrefix(strings.TrimSpace(s), NotePrefix); ok {
			if text := strings.TrimSpace(rest); text != "" {
				t.note("remark at step %s (%s): %s", x.Number, x.Actor, text)
				fmt.Fprintln(t.Out, "  Noted in the record.")
			}
			continue
		}
		return s, nil
	}
}

// NewTerminal returns a Terminal on in and out.
func NewTerminal(in io.Reader, out io.Writer) *Terminal {
	return &Terminal{In: in, Out: out, r: bufio.NewReader(in)}
}

// Describe implements Operator.
func (t *Terminal) Describe() string { return "terminal" }

func (t *Terminal) line(prompt string) (string, error) {
	if t.r == nil {
		t.r = bufio.NewReader(t.In) // a Terminal made without NewTerminal
	}
	fmt.Fprint(t.Out, prompt)
	s, err := t.readLine()
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		fmt.Fprintln(t.Out)
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%w: end of input", ErrNotConfirmed)
		}
		return "", fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// readLine reads a line, or returns early with ErrInterrupted when Ctx is
// done first.
func (t *Terminal) readLine() (string, error) {
	if t.Ctx == nil {
		return lineread.ReadLine(t.r, 0)
	}
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := lineread.ReadLine(t.r, 0)
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-t.Ctx.Done():
		fmt.Fprintln(t.Out)
		return "", fmt.Errorf("%w: %w", ErrInterrupted, t.Ctx.Err())
	}
}

func (t *Terminal) secret(prompt string) ([]byte, error) {
	if f, ok := t.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		state, err := term.GetState(fd)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrEnvironment, err)
		}
		fmt.Fprint(t.Out, prompt)
		type result struct {
			b   []byte
			err error
		}
		ch := make(chan result, 1)
		go func() {
			b, err := term.ReadPassword(fd)
			ch <- result{b, err}
		}()
		var done <-chan struct{}
		if t.Ctx != nil {
			done = t.Ctx.Done()
		}
		select {
		case r := <-ch:
			fmt.Fprintln(t.Out)
			if r.err != nil {
				return nil, fmt.Errorf("%w: %w", ErrEnvironment, r.err)
			}
			return r.b, nil
		case <-done:
			_ = term.Restore(fd, state) // echo back on
			fmt.Fprintln(t.Out)
			return nil, fmt.Errorf("%w: %w", ErrInterrupted, t.Ctx.Err())
		}
	}
	s, err := t.line(prompt)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// Confirm implements Operator: "yes" (in any case) confirms, "no" records
// an exception and stops the step; anything else, an empty line
// included, is a slip: recorded as a note and asked again.
func (t *Terminal) Confirm(x StepInfo, question string) error {
	prompt := fmt.Sprintf("%s\n[%s] %s: type yes to confirm, or no to record an exception: ", question, x.Number, x.Actor)
	for {
		s, err := t.answer(x, prompt)
		if err != nil {
			return err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "yes":
			return nil
		case "no":
			return fmt.Errorf("%w: step %s: %s answered %q, not yes", ErrNotConfirmed, x.ID, x.Actor, clip(s))
		}
		t.note("%s typed %s at the confirmation, not yes or no; asked again", x.Actor, typed(s))
		prompt = fmt.Sprintf("[%s] %s: that is not an answer: type yes to confirm, or no to record an exception: ", x.Number, x.Actor)
	}
}

// Words implements Operator.
func (t *Terminal) Words(x StepInfo, prompt string) (string, error) {
	return t.answer(x, fmt.Sprintf("[%s] %s: %s: ", x.Number, x.Actor, prompt))
}

// Credentials implements Operator: one file name per line, each followed by
// its holder's passphrase, until an empty line.
func (t *Terminal) Credentials(x StepInfo, holders []string) ([]PresentedCredential, error) {
	fmt.Fprintf(t.Out, "[%s] Credential holders (%s): present your credential file and type your passphrase.\n", x.Number, strings.Join(holders, ", "))
	var out []PresentedCredential
	for {
		path, err := t.line("Credential file (empty line when done): ")
		if err != nil {
			return out, err
		}
		if strings.TrimSpace(path) == "" {
			return out, nil
		}
		data, err := readSmall(path, 64<<10)
		if err != nil {
			fmt.Fprintf(t.Out, "cannot read %s: %v\n", path, err)
			continue
		}
		pass, err := t.secret("Passphrase (not shown): ")
		if err != nil {
			return out, err
		}
		out = append(out, PresentedCredential{Source: path, File: data, Passphrase: pass})
	}
}

// CredentialFile asks for one credential file at an interactive quorum
// step; an empty line returns done.
func (t *Terminal) CredentialFile(x StepInfo) (path string, data []byte, done bool, err error) {
	for {
		path, err := t.answer(x, "Credential file (empty line when the holders present are done): ")
		if err != nil {
			return "", nil, false, err
		}
		path = strings.TrimSpace(path)
		if path == "" {
			return "", nil, true, nil
		}
		data, err := readSmall(path, 64<<10)
		if err != nil {
			t.note("credential file %q could not be read (%v); asked again", path, errors.Unwrap(err))
			fmt.Fprintf(t.Out, "  Cannot read %s: %v. Give the file again.\n", path, err)
			continue
		}
		return path, data, false, nil
	}
}

// CredentialPassphrase asks the holder of a credential for its passphrase.
func (t *Terminal) CredentialPassphrase(x StepInfo, holder string) ([]byte, error) {
	return t.secret(fmt.Sprintf("Passphrase for %s (not shown): ", holder))
}

// QuorumDone asks, at an empty line, whether the holders present are done
// although the quorum is not met.
func (t *Terminal) QuorumDone(x StepInfo, status string) (bool, error) {
	s, err := t.answer(x, fmt.Sprintf("[%s] %s. Are the holders present done? Type done to end the step without the quorum, anything else to go on: ", x.Number, status))
	if err != nil {
		return false, err
	}
	return strings.EqualFold(strings.TrimSpace(s), "done"), nil
}

// Value implements Operator: an empty answer is asked again.
func (t *Terminal) Value(x StepInfo, _, label string) (string, error) {
	for {
		s, err := t.answer(x, fmt.Sprintf("[%s] %s: %s: ", x.Number, x.Actor, label))
		if err != nil {
			return "", err
		}
		if v := strings.TrimSpace(s); v != "" {
			return v, nil
		}
		t.note("an empty answer for %q; asked again", label)
	}
}

// Secret implements Operator.
func (t *Terminal) Secret(x StepInfo, what string) ([]byte, error) {
	return t.secret(fmt.Sprintf("[%s] %s: %s (not shown): ", x.Number, x.Actor, what))
}

// NewPassphrase implements Operator: typed twice.
func (t *Terminal) NewPassphrase(x StepInfo, holder string) ([]byte, error) {
	for {
		a, err := t.secret(fmt.Sprintf("[%s] %s: new passphrase (not shown): ", x.Number, holder))
		if err != nil {
			return nil, err
		}
		b, err := t.secret(fmt.Sprintf("[%s] %s: the same again: ", x.Number, holder))
		if err != nil {
			clear(a)
			return nil, err
		}
		same := bytes.Equal(a, b)
		clear(b)
		if same && len(a) >= 8 {
			return a, nil
		}
		clear(a)
		fmt.Fprintln(t.Out, "The two differ, or are shorter than 8 characters; again.")
	}
}

// Witness implements Operator: the witness signs elsewhere and gives the
// file of the signature.
func (t *Terminal) Witness(x StepInfo, who string, message []byte) (WitnessInput, error) {
	fmt.Fprintf(t.Out, "[%s] %s: sign the head with your SSH key, for example:\n  echo %s | ssh-keygen -Y sign -n ksk-attestation -f ~/.ssh/id_ed25519 > %s.sig\n",
		x.Number, who, strings.TrimSpace(string(message)), who)
	for {
		path, err := t.answer(x, "Signature file: ")
		if err != nil {
			return WitnessInput{}, err
		}
		data, err := readSmall(strings.TrimSpace(path), 64<<10)
		if err != nil {
			t.note("%s's signature file %q could not be read (%v); asked again", who, strings.TrimSpace(path), errors.Unwrap(err))
			fmt.Fprintf(t.Out, "  Cannot read %s: %v. Give the signature file again.\n", strings.TrimSpace(path), err)
			continue
		}
		return WitnessInput{Armored: data}, nil
	}
}

// Repeat implements Operator: the answer must be the step's ID.
func (t *Terminal) Repeat(x StepInfo, why string) (bool, error) {
	s, err := t.line(fmt.Sprintf("%s\nType the step's name (%s) to repeat it, anything else to stop: ", why, x.ID))
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(s) == x.ID, nil
}

func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}

// typed describes a slip for the record: what was typed, unless it could
// be a secret typed at the wrong prompt (one word of 8 characters or
// more), which is described by its length only.
func typed(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "an empty line"
	case len(s) >= 8 && !strings.ContainsAny(s, " \t"):
		return fmt.Sprintf("a word of %d characters (not recorded: it could be a secret typed at the wrong prompt)", len(s))
	}
	return fmt.Sprintf("%q", clip(s))
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
