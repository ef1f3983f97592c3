package hsm

import (
	"bytes"
	"errors"
	"fmt"
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
// shown before reading, e.g. `PIN for token "ksk" (serial 1a2b): `.
type Prompter func(prompt string) (string, error)

// Read returns the PIN. For env: and file: sources one trailing newline
// (LF or CRLF) is removed; an empty PIN is an error. A file readable or
// writable by other users is refused. prompt needs a Prompter; what is
// asked for is described by what. Errors wrap ErrPINSource, name the
// source and never contain the PIN.
func (s PINSource) Read(p Prompter, what string) (string, error) {
	var pin string
	switch s.Kind {
	case PINFromEnv:
		v, ok := os.LookupEnv(s.Name)
		if !ok {
			return "", fmt.Errorf("%w: PIN source env:%s: environment variable %s is not set", ErrPINSource, s.Name, s.Name)
		}
		pin = v
	case PINFromFile:
		b, err := readPINFile(s.Name)
		if err != nil {
			return "", fmt.Errorf("%w: PIN source file:%s: %w", ErrPINSource, s.Name, err)
		}
		pin = string(b)
	case PINFromPrompt:
		if p == nil {
			return "", fmt.Errorf("%w: PIN source prompt: no terminal to prompt on", ErrPINSource)
		}
		v, err := p(fmt.Sprintf("PIN for %s: ", what))
		if err != nil {
			return "", fmt.Errorf("%w: PIN source prompt: %w", ErrPINSource, err)
		}
		pin = v
	default:
		return "", fmt.Errorf("%w: no PIN source", ErrPINSource)
	}
	pin = strings.TrimSuffix(pin, "\n")
	pin = strings.TrimSuffix(pin, "\r")
	if pin == "" {
		return "", fmt.Errorf("%w: PIN source %s gave an empty PIN", ErrPINSource, s)
	}
	return pin, nil
}

func readPINFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("file not found")
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, errors.New("permission denied")
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() && st.Mode()&fs.ModeNamedPipe == 0 {
		return nil, errors.New("not a regular file or pipe")
	}
	if st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("file mode %04o lets other users read or change it; chmod 600 it", st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPINFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPINFileSize {
		return nil, fmt.Errorf("longer than %d bytes", MaxPINFileSize)
	}
	// The PIN is the first line: a trailing newline or a comment line
	// after it is not part of it.
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSuffix(b, []byte("\r")), nil
}
