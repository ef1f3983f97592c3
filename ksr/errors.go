package ksr

import (
	"errors"

	"github.com/ksk-dev/ksk/internal/strictxml"
)

// ErrMalformed is matched (with errors.Is) by every error that Parse returns
// for an input it read completely but rejected. The more specific sentinels
// below all wrap it.
var ErrMalformed = strictxml.ErrMalformed

// ErrTooLarge is returned when the input exceeds ParseOptions.MaxSize.
var ErrTooLarge = errors.New("document too large")

// Specific kinds of malformed input. Each matches ErrMalformed too.
var (
	// ErrSyntax is an XML syntax error, including a truncated document, a
	// DTD or an encoding other than UTF-8.
	ErrSyntax = strictxml.ErrSyntax
	// ErrUnknownElement is an element the format does not define at that
	// place, or text where the format has elements.
	ErrUnknownElement = strictxml.ErrUnknownElement
	// ErrUnknownAttribute is an attribute the format does not define on that element.
	ErrUnknownAttribute = strictxml.ErrUnknownAttribute
	// ErrDuplicateElement is a second occurrence of an element that may
	// occur once, or both <Request> and <Response>.
	ErrDuplicateElement = strictxml.ErrDuplicateElement
	// ErrDuplicateAttribute is an attribute given twice on one element.
	ErrDuplicateAttribute = strictxml.ErrDuplicateAttribute
	// ErrMissingElement is a required element that is absent.
	ErrMissingElement = strictxml.ErrMissingElement
	// ErrMissingAttribute is a required attribute that is absent.
	ErrMissingAttribute = strictxml.ErrMissingAttribute
	// ErrNotUTC is a timestamp with a UTC offset other than zero.
	ErrNotUTC = strictxml.ErrNotUTC
	// ErrBadTime is a timestamp not of the form YYYY-MM-DDTHH:MM:SS[Z|+00:00].
	ErrBadTime = strictxml.ErrBadTime
	// ErrBadNumber is a value that is not an unsigned decimal number.
	ErrBadNumber = strictxml.ErrBadNumber
	// ErrRange is a number or duration outside the range of its field.
	ErrRange = strictxml.ErrRange
	// ErrBadValue is any other invalid value: an empty identifier, a bad
	// domain name, an unknown RR type or an algorithm without a key
	// parameter element.
	ErrBadValue = strictxml.ErrBadValue
	// ErrBadDuration is a value that is not an ISO 8601 duration.
	ErrBadDuration = strictxml.NewKind("malformed duration")
	// ErrUnsupportedDuration is a duration in years or months, whose length
	// depends on the date it starts from.
	ErrUnsupportedDuration = strictxml.NewKind("duration in years or months not supported")
	// ErrBadBase64 is malformed base64 in <PublicKey> or <SignatureData>.
	ErrBadBase64 = strictxml.NewKind("malformed base64")
)

// ParseError is the error Parse returns for rejected input. Its message
// names the file, the line and the element; Err wraps ErrMalformed (and one
// of the more specific sentinels of this package) or ErrTooLarge. It is the
// same type as trustanchor.ParseError.
type ParseError = strictxml.ParseError
