package strictxml

import (
	"fmt"
	"strconv"
	"time"
)

// TimeLayout is the layout IANA's files write timestamps in:
// 2017-01-01T00:00:00+00:00.
const TimeLayout = "2006-01-02T15:04:05+00:00"

// ParseTime parses a timestamp of the form YYYY-MM-DDTHH:MM:SS followed by
// nothing, "Z", "+00:00" or "-00:00"; all of these are UTC. A space may
// stand for the "T", as Python's str(datetime) writes it. Other offsets are
// ErrNotUTC; fractional seconds and any other form are ErrBadTime.
func ParseTime(s string) (time.Time, error) {
	const base = "2006-01-02T15:04:05"
	bad := func() (time.Time, error) { return time.Time{}, fmt.Errorf("%w: %q", ErrBadTime, abbrev(s)) }
	if len(s) < len(base) {
		return bad()
	}
	main, zone := []byte(s[:len(base)]), s[len(base):]
	switch zone {
	case "", "Z", "+00:00", "-00:00":
	default:
		if len(zone) == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' {
			if _, err := time.Parse("-07:00", zone); err == nil {
				return time.Time{}, fmt.Errorf("%w: offset %s in %q", ErrNotUTC, zone, s)
			}
		}
		return bad()
	}
	if main[10] == ' ' {
		main[10] = 'T'
	}
	for i, c := range main {
		switch i {
		case 4, 7:
			if c != '-' {
				return bad()
			}
		case 10:
			if c != 'T' {
				return bad()
			}
		case 13, 16:
			if c != ':' {
				return bad()
			}
		default:
			if c < '0' || c > '9' {
				return bad()
			}
		}
	}
	t, err := time.ParseInLocation(base, string(main), time.UTC)
	if err != nil {
		return bad()
	}
	return t, nil
}

// FormatTime formats t, converted to UTC, in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseUint parses an unsigned decimal number (digits only) of at most bits
// bits: ErrBadNumber if it is not one, ErrRange if it is too large.
func ParseUint(s string, bits int) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrBadNumber)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %q", ErrBadNumber, abbrev(s))
		}
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: %s does not fit in %d bits", ErrRange, abbrev(s), bits)
	}
	return v, nil
}
