package policy

import (
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/internal/isoduration"
	"gopkg.in/yaml.v3"
)

// Duration is a non-negative length of time written in YAML as an ISO 8601
// duration without months or years ("P21D", "P10DT12H", "PT1S"): a month or
// a year has no fixed length, and a policy limit must have one.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d as an ISO 8601 duration in days, hours, minutes and
// seconds, for example "P21D" or "P14DT23H59M59S".
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// ParseDuration parses an ISO 8601 duration such as P21D or PT1S with
// package isoduration: whole-number weeks, days, hours, minutes and
// seconds; years, months, signs and fractions are refused. Errors wrap
// ErrDuration.
func ParseDuration(s string) (time.Duration, error) {
	d, err := isoduration.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrDuration, err)
	}
	return d, nil
}

// FormatDuration formats d canonically: P21D, P14DT23H59M59S, PT0S.
func FormatDuration(d time.Duration) string { return isoduration.Format(d) }

// UnmarshalYAML reads an ISO 8601 duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return fmt.Errorf("%w: want an ISO 8601 duration string such as P21D", ErrDuration)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as an ISO 8601 duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
