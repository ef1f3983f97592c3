package hsm

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/ksk-dev/ksk/internal/secmem"
	"io"
	"io/fs"
	"os"
	"strings"
)

// PINSourceKind says where a PIN is read from.
type PINSourceKind int

// The PIN source kinds. A PIN never comes from the command line.
const (
	// PINFromEnv reads the PIN from an environment variable (env:NAME).
	PINFromEnv PINSourceKind = iota + 1
	// PINFromFile reads the PIN from a file's first line (file:PATH).
	PINFromFile
	// PINFromPrompt asks for the PIN on the terminal without echo (prompt).
	PINFromPrompt
)

// DefaultPINSource is used when neither a flag nor KSK_PIN_SOURCE names one.
const DefaultPINSource = "env:KSK_PIN"

// MaxPINFileSize bounds what a file: source reads.
const MaxPINFileSize = 4096

// PINSource is a parsed PIN source specification. Its zero value is invalid.
type PINSource struct {
	// Kind is where the PIN comes from.
	Kind PINSourceKind
	// Name is the environment variable (PINFromEnv) or the file path
	// (PINFromFile); empty for PINFromPrompt.
	Name string
}

// A parse error never repeats the specification it rejects: an operator
// who typed a PIN where a source belongs must not see it echoed into a
// terminal log.
var errPINSourceSyntax = fmt.Errorf("%w: PIN source must be env:NAME, file:PATH or prompt", ErrInvalidArgument)

// ParsePINSource parses "env:NAME", "file:PATH" or "prompt". NAME is a
// portable environment variable name ([A-Za-z_][A-Za-z0-9_]*); PATH is any
// non-empty path without NUL. Errors wrap ErrInvalidArgument and never
// contain s.
func ParsePINSource(s string) (PINSource, error) {
	switch {
	case s == "prompt":
		return PINSource{Kind: PINFromPrompt}, nil
	case strings.HasPrefix(s, "env:"):
		name := s[len("env:"):]
		if !validEnvName(name) {
			return PINSource{}, fmt.Errorf("%w (env: needs a variable name of letters, digits and _)", errPINSourceSyntax)
		}
		return PINSource{Kind: PINFromEnv, Name: name}, nil
	case strings.HasPrefix(s, "file:"):
		path := s[len("file:"):]
		if path == "" || strings.ContainsRune(path, 0) {
			return PINSource{}, fmt.Errorf("%w (file: needs a path)", errPINSourceSyntax)
		}
		return PINSource{Kind: PINFromFile, Name: path}, nil
	}
	return PINSource{}, errPINSourceSyntax
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// String returns the specification ParsePINSource accepts.
func (s PINSource) String() string {
	switch s.Kind {
	case PINFromEnv:
		return "env:" + s.Name
	case PINFromFile:
		return "file:" + s.Name
	case PINFromPrompt:
		return "prompt"
	}
	return "invalid"
}

// Prompter asks the operator for a secret without echoing it. prompt is
// shown before reading, e.g. `PIN for token "ksk" (serial 1a2b): `. The
// caller of a Prompter wipes the slice it returns.
type Prompter func(prompt string) ([]byte, error)

// Read returns the PIN in a new slice that the caller wipes (clear) once
// used. For env: and file: sources one trailing newline (LF or CRLF) is
// removed; an empty PIN is an error. A file readable or writable by other
// users, or owned by another user, is refused, and so is a FIFO or other
// non-regular file unless it is the caller's own with mode 0600 (as a
// shell's <(...) pipe is). prompt needs a Prompter; what is asked for is
// described by what. Errors wrap ErrPINSource, name the source and never
// contain the PIN.
//
// An env: PIN is a string in the process environment, which ksk cannot
// wipe; prompt and file: sources never make the PIN a Go string here.
func (s PINSource) Read(p Prompter, what string) ([]byte, error) {
	var pin []byte
	switch s.Kind {
	case PINFromEnv:
		v, ok := os.LookupEnv(s.Name)
		if !ok {
			return nil, fmt.Errorf("%w: PIN source env:%s: environment variable %s is not set", ErrPINSource, s.Name, s.Name)
		}
		pin = []byte(v)
	case PINFromFile:
		b, err := readPINFile(s.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: PIN source file:%s: %w", ErrPINSource, s.Name, err)
		}
		pin = b
	case PINFromPrompt:
		if p == nil {
			return nil, fmt.Errorf("%w: PIN source prompt: no terminal to prompt on", ErrPINSource)
		}
		v, err := p(fmt.Sprintf("PIN for %s: ", what))
		if err != nil {
			clear(v)
			return nil, fmt.Errorf("%w: PIN source prompt: %w", ErrPINSource, err)
		}
		pin = v
	default:
		return nil, fmt.Errorf("%w: no PIN source", ErrPINSource)
	}
	n := len(pin)
	if n > 0 && pin[n-1] == '\n' {
		n--
	}
	if n > 0 && pin[n-1] == '\r' {
		n--
	}
	clear(pin[n:])
	pin = pin[:n]
	if len(pin) == 0 {
		return nil, fmt.Errorf("%w: PIN source %s gave an empty PIN", ErrPINSource, s)
	}
	secmem.Lock(pin)
	return pin, nil
}

func pinFileError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("file not found")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied")
	}
	return err
}

// checkSecretFile refuses a secret file that is not the caller's alone: a
// regular file with group or other permissions or of another owner; a
// FIFO or other non-regular file (a device, a socket) unless owned by the
// caller with mode 0600 exactly.
func checkSecretFile(st fs.FileInfo) error {
	uid, owned := fileOwner(st)
	mine := !owned || uid == os.Getuid()
	switch {
	case st.Mode().IsRegular():
		if st.Mode().Perm()&0o077 != 0 {
			return fmt.Errorf("file mode %04o lets other users read or change it; chmod 600 it", st.Mode().Perm())
		}
		if !mine {
			return fmt.Errorf("owned by uid %d, not by this user (uid %d)", uid, os.Getuid())
		}
	case !mine || st.Mode().Perm() != 0o600:
		return fmt.Errorf("not a regular file (%s, mode %04o, uid %d): a pipe or device is read only when it is this user's with mode 0600", st.Mode().Type(), st.Mode().Perm(), uid)
	}
	return nil
}

func readPINFile(path string) ([]byte, error) {
	// Checked before opening, so that a FIFO that is refused is never
	// opened (opening one blocks until a writer comes), and again on the
	// open file, so that what was checked is what is read.
	before, err := os.Stat(path)
	if err != nil {
		return nil, pinFileError(err)
	}
	if err := checkSecretFile(before); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, pinFileError(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(before, st) {
		return nil, errors.New("the file changed while it was opened")
	}
	if err := checkSecretFile(st); err != nil {
		return nil, err
	}
	// One buffer, never grown, so that no copy of the PIN is left behind
	// in memory that is not wiped.
	b := make([]byte, MaxPINFileSize+1)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		clear(b)
		return nil, err
	}
	if n > MaxPINFileSize {
		clear(b)
		return nil, fmt.Errorf("longer than %d bytes", MaxPINFileSize)
	}
	// The PIN is the first line: a trailing newline or a comment line
	// after it is not part of it.
	if i := bytes.IndexByte(b[:n], '\n'); i >= 0 {
		n = i
	}
	if n > 0 && b[n-1] == '\r' {
		n--
	}
	clear(b[n:])
	return b[:n:n], nil
}
