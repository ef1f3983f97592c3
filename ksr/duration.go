package ksr

import (
	"errors"
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/internal/isoduration"
)

// MaxDuration is the longest duration Parse accepts (100 years of 365 days).
const MaxDuration = isoduration.Max

// parseDuration parses an ISO 8601 duration such as P21D, PT0S or P1DT2H
// (package isoduration) and maps its errors to this package's sentinels:
// years and months are ErrUnsupportedDuration, too long ErrRange, anything
// else malformed ErrBadDuration.
func parseDuration(s string) (time.Duration, error) {
	d, err := isoduration.Parse(s)
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, isoduration.ErrYearsMonths):
		return 0, fmt.Errorf("%w: %w", ErrUnsupportedDuration, err)
	case errors.Is(err, isoduration.ErrRange):
		return 0, fmt.Errorf("%w: %w", ErrRange, err)
	}
	return 0, fmt.Errorf("%w: %w", ErrBadDuration, err)
}

// formatDuration formats d canonically (P21D, P1DT2H, PT0S), truncated to
// whole seconds so that what Marshal writes always parses again.
func formatDuration(d time.Duration) string { return isoduration.Format(d.Truncate(time.Second)) }
