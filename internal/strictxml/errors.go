package strictxml

import (
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is matched by every kind of malformed input below.
var ErrMalformed = errors.New("malformed document")

// Kinds of malformed input. Each matches ErrMalformed with errors.Is.
var (
	ErrSyntax             error = &kindError{"XML syntax error"}
	ErrUnknownElement     error = &kindError{"unknown element"}
	ErrUnknownAttribute   error = &kindError{"unknown attribute"}
	ErrDuplicateElement   error = &kindError{"duplicate element"}
	ErrDuplicateAttribute error = &kindError{"duplicate attribute"}
	ErrMissingElement     error = &kindError{"missing element"}
	ErrMissingAttribute   error = &kindError{"missing attribute"}
	ErrNotUTC             error = &kindError{"timestamp not in UTC"}
	ErrBadTime            error = &kindError{"malformed timestamp"}
	ErrBadNumber          error = &kindError{"malformed number"}
	ErrRange              error = &kindError{"value out of range"}
	ErrBadValue           error = &kindError{"invalid value"}
)

// kindError is a sentinel that also matches ErrMalformed.
type kindError struct{ msg string }

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return ErrMalformed }

// NewKind returns a new sentinel error with message msg that matches
// ErrMalformed, for the kinds of malformed values a format adds.
func NewKind(msg string) error { return &kindError{msg} }

// Error is a schema or syntax violation at a line and element.
type Error struct {
	Line    int    // 1-based line, 0 if unknown
	Element string // element name, or ""
	Err     error  // wraps one of the kinds above
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ParseError is the error a format built on this package (ksr,
// trustanchor) returns for rejected input. Its message names the file, the
// line and the element; Err wraps ErrMalformed (and one of the kinds above)
// or the format's own "too large" sentinel.
type ParseError struct {
	File    string // the file name, or "" when parsing a reader
	Line    int    // 1-based line of the element, 0 if unknown
	Element string // the element's name, without brackets, or ""
	Err     error
}

// Error formats the error as "file:line: <Element>: reason", or
// "line N: <Element>: reason" without a file name.
func (e *ParseError) Error() string {
	prefix := e.File
	if e.Line > 0 {
		if prefix == "" {
			prefix = fmt.Sprintf("line %d", e.Line)
		} else {
			prefix = fmt.Sprintf("%s:%d", prefix, e.Line)
		}
	}
	msg := e.Err.Error()
	if e.Element != "" {
		msg = "<" + e.Element + ">: " + msg
	}
	if prefix == "" {
		return msg
	}
	return prefix + ": " + msg
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// ReadLimited reads all of r but refuses more than limit bytes: it reads
// at most limit+1, and on overflow returns a *ParseError for file whose Err
// wraps tooLarge. A read error is returned wrapped.
func ReadLimited(r io.Reader, file string, limit int64, tooLarge error) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		if file != "" {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		return nil, fmt.Errorf("reading: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, &ParseError{File: file, Err: fmt.Errorf("%w: more than %d bytes", tooLarge, limit)}
	}
	return data, nil
}

// ReadFile reads data with Read and returns the root node, turning its
// errors into a *ParseError for file.
func ReadFile(data []byte, file string, s *Schema) (*Node, error) {
	root, err := Read(data, s)
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return nil, &ParseError{File: file, Line: se.Line, Element: se.Element, Err: se.Err}
		}
		return nil, &ParseError{File: file, Err: err}
	}
	return root, nil
}

// Decoder records the first error met while turning a schema-checked tree
// into a format's values; format decoders embed it and keep going after a
// failure, so that their code needs no error plumbing.
type Decoder struct {
	File string      // the file name for errors
	Err  *ParseError // the first error, or nil
}

// Fail records an error at node n unless one is recorded already.
func (d *Decoder) Fail(n *Node, format string, args ...any) {
	if d.Err == nil {
		d.Err = &ParseError{File: d.File, Line: n.Line, Element: n.Name, Err: fmt.Errorf(format, args...)}
	}
}
