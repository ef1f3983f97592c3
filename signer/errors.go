package signer

import (
	"errors"
	"fmt"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrRead: the configuration file cannot be read.
	ErrRead = errors.New("cannot read signer configuration")
	// ErrSyntax: the configuration is not well-formed YAML, not one
	// mapping, or has a key given twice.
	ErrSyntax = errors.New("malformed signer configuration")
	// ErrUnknownKey: the configuration has a key that ksk does not know.
	ErrUnknownKey = errors.New("unknown configuration key")
	// ErrInvalid: a value of the wrong type, out of range, or inconsistent
	// with another (a schema naming an undefined key, a revoked key also
	// published, a slot without a signer).
	ErrInvalid = errors.New("invalid configuration value")
	// ErrUnknownSchema: the schema asked for is not in the configuration.
	ErrUnknownSchema = errors.New("unknown schema")
	// ErrChecksFailed: a check before signing failed; the report says
	// which. Nothing is signed.
	ErrChecksFailed = errors.New("checks before signing failed")
	// ErrNotBound: Plan.Sign was called before Plan.BindKeys succeeded.
	ErrNotBound = errors.New("KSKs not bound to the plan")
)

// ConfigError is one problem of a configuration: the YAML path of the
// offending key ("schemas.rollover.2.sign"), its line (0 when unknown) and
// the reason, which wraps one of the sentinel errors. LoadConfig returns
// every problem it finds, joined with errors.Join.
type ConfigError struct {
	Path string
	Line int
	Err  error
}

// Error formats the problem as "path (line N): reason".
func (e *ConfigError) Error() string {
	path := e.Path
	if path == "" {
		path = "configuration"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %v", path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", path, e.Err)
}

// Unwrap returns the reason, which wraps a sentinel error.
func (e *ConfigError) Unwrap() error { return e.Err }

// cerr builds a ConfigError whose reason wraps sentinel.
func cerr(path string, line int, sentinel error, format string, args ...any) *ConfigError {
	if format == "" {
		return &ConfigError{Path: path, Line: line, Err: sentinel}
	}
	return &ConfigError{Path: path, Line: line, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}
