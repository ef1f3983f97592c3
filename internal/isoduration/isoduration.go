// Package isoduration parses and formats the ISO 8601 durations of KSR and
// SKR documents and of ksk's policy files (P21D, PT0S, P1DT2H).
//
// Parsing is strict: whole-number components in their order (W, D, then a
// T and H, M, S), at least one component, no sign. Years and months are
// refused because their length depends on the date they start from. The
// components are summed by github.com/sosodev/duration.
package isoduration

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sosodev/duration"
)

// Max is the longest duration Parse accepts: 100 years of 365 days, far
// beyond any policy limit, and well inside time.Duration's range.
const Max = 100 * 365 * 24 * time.Hour

var (
	// ErrSyntax is a value that is not an ISO 8601 duration of the
	// accepted form.
	ErrSyntax = errors.New("not an ISO 8601 duration such as P21D or PT1S")
	// ErrYearsMonths is a duration in years or months.
	ErrYearsMonths = errors.New("years and months have no fixed length; use days (P90D)")
	// ErrRange is a duration longer than Max.
	ErrRange = errors.New("longer than 100 years")
)

var syntax = regexp.MustCompile(`^P(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+W)?(?:[0-9]+D)?(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+S)?)?$`)

// Parse parses an ISO 8601 duration. Its errors name the value and wrap
// ErrSyntax, ErrYearsMonths or ErrRange.
func Parse(s string) (time.Duration, error) {
	if !syntax.MatchString(s) || s == "P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	if date, _, _ := strings.Cut(s, "T"); strings.ContainsAny(date, "YM") {
		return 0, fmt.Errorf("%q: %w", s, ErrYearsMonths)
	}
	d, err := duration.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w: %w", s, ErrSyntax, err)
	}
	secs := d.Weeks*7*86400 + d.Days*86400 + d.Hours*3600 + d.Minutes*60 + d.Seconds
	if secs > Max.Seconds() {
		return 0, fmt.Errorf("%q: %w", s, ErrRange)
	}
	return time.Duration(secs) * time.Second, nil
}

// Format formats d canonically: days, then a time part in hours, minutes
// and seconds, omitting zero components (P21D, P1DT2H, PT30M, PT1.5S); zero
// is PT0S and a negative duration has a leading "-". For whole seconds
// within Max, Parse(Format(d)) == d.
func Format(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	b.WriteByte('P')
	const day = 24 * time.Hour
	if days := d / day; days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "D")
		d -= days * day
	}
	if d == 0 {
		return b.String()
	}
	b.WriteByte('T')
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "H")
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "M")
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S")
	}
	return b.String()
}
