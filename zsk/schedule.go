package zsk

import (
	"fmt"
	"strconv"
	"strings"
)

// Schedule says which ZSKs each bundle publishes: Schedule[i] lists the
// indexes (0-based, into Options.Keys) of the keys of bundle i+1, in the
// order they are written before Marshal sorts them.
type Schedule [][]int

// DefaultSchedule returns the root zone's pattern for n keys over a given
// number of bundles:
//
//   - one key: every bundle publishes it;
//   - two keys (current, next): the current key is in every bundle and the
//     next is pre-published in the last bundle;
//   - three keys (retiring, current, next), the root's quarter: the
//     retiring key is post-published in the first bundle, the current key
//     is in every bundle and the next key is pre-published in the last, so
//     the first and last bundles hold two keys and the others one.
//
// A KSR made with keys (a, b, c) continues one made with (a, b) or with
// (x, a, b): its first bundle publishes a and b, as their last did. More
// than three keys need an explicit Schedule.
func DefaultSchedule(keys, bundles int) (Schedule, error) {
	if bundles < 1 {
		return nil, fmt.Errorf("%w: %d bundles", ErrOptions, bundles)
	}
	s := make(Schedule, bundles)
	last := bundles - 1
	switch keys {
	case 1:
		for i := range s {
			s[i] = []int{0}
		}
	case 2:
		for i := range s {
			s[i] = []int{0}
		}
		s[last] = append(s[last], 1)
	case 3:
		for i := range s {
			s[i] = []int{1}
		}
		s[0] = []int{0, 1}
		s[last] = append(s[last], 2)
	default:
		return nil, fmt.Errorf("%w: no default schedule for %d keys; give a schedule (one, two or three keys have one)", ErrOptions, keys)
	}
	return s, nil
}

// ParseSchedule parses the command-line form of a schedule: one entry per
// bundle separated by commas, each entry the 1-based numbers of its keys
// joined by "+". "1+2,2,2,2,2,2,2,2,2+3" is the root's quarter for three
// keys over nine bundles. keys is the number of keys the numbers may name.
func ParseSchedule(s string, keys int) (Schedule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty schedule", ErrOptions)
	}
	var out Schedule
	for i, entry := range strings.Split(s, ",") {
		var bundle []int
		for _, f := range strings.Split(entry, "+") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > keys {
				return nil, fmt.Errorf("%w: schedule entry %d (%q): %q is not a key number from 1 to %d", ErrOptions, i+1, entry, f, keys)
			}
			bundle = append(bundle, n-1)
		}
		out = append(out, bundle)
	}
	return out, nil
}

// String returns the schedule in the form ParseSchedule reads.
func (s Schedule) String() string {
	entries := make([]string, len(s))
	for i, b := range s {
		nums := make([]string, len(b))
		for j, k := range b {
			nums[j] = strconv.Itoa(k + 1)
		}
		entries[i] = strings.Join(nums, "+")
	}
	return strings.Join(entries, ",")
}

// check reports the first problem of s for a number of keys and bundles:
// a wrong number of entries, an empty bundle, a key index out of range or
// twice in a bundle, or a key in no bundle.
func (s Schedule) check(keys, bundles int) error {
	if len(s) != bundles {
		return fmt.Errorf("%w: the schedule has %d bundle entries for %d bundles", ErrOptions, len(s), bundles)
	}
	used := make([]bool, keys)
	for i, b := range s {
		if len(b) == 0 {
			return fmt.Errorf("%w: schedule: bundle %d publishes no key", ErrOptions, i+1)
		}
		seen := map[int]bool{}
		for _, k := range b {
			if k < 0 || k >= keys {
				return fmt.Errorf("%w: schedule: bundle %d names key %d; there are keys 1 to %d", ErrOptions, i+1, k+1, keys)
			}
			if seen[k] {
				return fmt.Errorf("%w: schedule: bundle %d names key %d twice", ErrOptions, i+1, k+1)
			}
			seen[k] = true
			used[k] = true
		}
	}
	for k, u := range used {
		if !u {
			return fmt.Errorf("%w: schedule: key %d is in no bundle", ErrOptions, k+1)
		}
	}
	return nil
}
