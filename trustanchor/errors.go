package trustanchor

import (
	"errors"

	"github.com/ksk-dev/ksk/internal/strictxml"
)

// ErrMalformed is matched by every error that Parse, ParseDS and Load
// return for input they read but rejected; it is the same value as
// ksr.ErrMalformed.
var ErrMalformed = strictxml.ErrMalformed

// ErrTooLarge is returned when the input exceeds ParseOptions.MaxSize.
var ErrTooLarge = errors.New("trust anchor file too large")

// Specific kinds of malformed input; each matches ErrMalformed. The
// structural ones are the same values as package ksr's.
var (
	// ErrSyntax is an XML or zone file syntax error.
	ErrSyntax = strictxml.ErrSyntax
	// ErrUnknownElement is an element RFC 9718 does not define there.
	ErrUnknownElement = strictxml.ErrUnknownElement
	// ErrUnknownAttribute is an attribute RFC 9718 does not define there.
	ErrUnknownAttribute = strictxml.ErrUnknownAttribute
	// ErrDuplicateElement is a second <Zone>, <KeyTag>, ... in one parent.
	ErrDuplicateElement = strictxml.ErrDuplicateElement
	// ErrMissingElement is a required element that is absent.
	ErrMissingElement = strictxml.ErrMissingElement
	// ErrMissingAttribute is a required attribute that is absent.
	ErrMissingAttribute = strictxml.ErrMissingAttribute
	// ErrNotUTC is a validFrom or validUntil with a non-zero UTC offset.
	ErrNotUTC = strictxml.ErrNotUTC
	// ErrBadTime is a malformed validFrom or validUntil.
	ErrBadTime = strictxml.ErrBadTime
	// ErrRange is a number that does not fit its field.
	ErrRange = strictxml.ErrRange
	// ErrBadValue is any other invalid value: bad hex or base64, a digest
	// of the wrong length for its type, a bad zone name, a record that is
	// not a DS, validUntil not after validFrom.
	ErrBadValue = strictxml.ErrBadValue
	// ErrInconsistent is a KeyDigest whose digest or key tag does not match
	// its own <PublicKey> and <Flags>.
	ErrInconsistent = strictxml.NewKind("key digest does not match its public key")
)

// ParseError is the error for a rejected trust anchor file. Its message
// names the file, the line and the element (always "" for a DS file); Err
// wraps ErrMalformed or ErrTooLarge. It is the same type as ksr.ParseError.
type ParseError = strictxml.ParseError
