package rfc5011

import (
	"fmt"
	"time"
)

// State is the RFC 5011 §4 state of a key at a resolver.
type State int

// The states of RFC 5011 §4.
const (
	// Start: the key is not (or no longer) known to the resolver.
	Start State = iota
	// AddPend: the key was seen in a validated RRset; its add hold-down
	// is running. It is not trusted yet.
	AddPend
	// Valid: the key is a trust anchor.
	Valid
	// Missing: a trust anchor absent from the last validated RRset. It is
	// still trusted.
	Missing
	// Revoked: the key was seen with the REVOKE bit and a valid
	// self-signature. It is never trusted again.
	Revoked
	// Removed: a revoked key after the remove hold-down. Terminal.
	Removed
)

var stateNames = [...]string{"Start", "AddPend", "Valid", "Missing", "Revoked", "Removed"}

// String returns the state's name as RFC 5011 spells it.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Trusted reports whether a key in state s validates RRsets: Valid and
// Missing keys do (RFC 5011 §4.2), the others do not.
func (s State) Trusted() bool { return s == Valid || s == Missing }

// Event is an RFC 5011 §4.1 event.
type Event int

// The events of RFC 5011 §4.1.
const (
	// NewKey: a validated RRset holds a SEP key the resolver does not know.
	NewKey Event = iota
	// AddTime: the key has been in every validated RRset for the add
	// hold-down.
	AddTime
	// KeyPres: a Missing key is back in a validated RRset.
	KeyPres
	// KeyRem: a validated RRset lacks the key.
	KeyRem
	// RevBit: the key appears with the REVOKE bit, signing the RRset.
	RevBit
	// RemTime: the remove hold-down of a revoked key has passed.
	RemTime
)

var eventNames = [...]string{"NewKey", "AddTime", "KeyPres", "KeyRem", "RevBit", "RemTime"}

// String returns the event's name as RFC 5011 spells it.
func (e Event) String() string {
	if e >= 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// Default timers of RFC 5011 §2.3 and §2.4.
const (
	// DefaultAddHoldDown is the add hold-down time (RFC 5011 §2.4.1).
	DefaultAddHoldDown = 30 * 24 * time.Hour
	// DefaultRemoveHoldDown is the remove hold-down time (RFC 5011 §2.4.2).
	DefaultRemoveHoldDown = 30 * 24 * time.Hour
	// MinQueryInterval is the floor of the active refresh and retry times
	// (RFC 5011 §2.3).
	MinQueryInterval = time.Hour
	// MaxRefresh caps the active refresh time (RFC 5011 §2.3).
	MaxRefresh = 15 * 24 * time.Hour
	// MaxRetry caps the retry time (RFC 5011 §2.3).
	MaxRetry = 24 * time.Hour
)

// Params are the resolver's timers. The zero value is RFC 5011's.
type Params struct {
	// AddHoldDown is the minimum add hold-down; the hold-down of a key is
	// MAX(AddHoldDown, original TTL of the first RRset that held it). Zero
	// means DefaultAddHoldDown.
	AddHoldDown time.Duration
	// RemoveHoldDown is the remove hold-down. Zero means
	// DefaultRemoveHoldDown.
	RemoveHoldDown time.Duration
	// FixedInterval, when set, replaces both the active refresh and the
	// retry time: the resolver queries every FixedInterval. For tests
	// that need few, predictable queries.
	FixedInterval time.Duration
	// Strict accepts a pending key only from a validated RRset, as RFC
	// 5011 §2.4.1 words it ("added as a trust anchor the next time the
	// validated RRSet with the new key is seen") and BIND's named does.
	// Without it the resolver follows Unbound, which accepts a key whose
	// hold-down has passed before it validates the RRset, so that a new
	// KSK signing alone is trusted once its hold-down is over.
	Strict bool
}

func (p Params) addHoldDown() time.Duration {
	if p.AddHoldDown > 0 {
		return p.AddHoldDown
	}
	return DefaultAddHoldDown
}

func (p Params) removeHoldDown() time.Duration {
	if p.RemoveHoldDown > 0 {
		return p.RemoveHoldDown
	}
	return DefaultRemoveHoldDown
}

// RefreshTime is the active refresh time of RFC 5011 §2.3:
// MAX(1 hour, MIN(15 days, origTTL/2, expiration/2)), where expiration is
// the time left until the earliest RRSIG expires.
func RefreshTime(origTTL, expiration time.Duration) time.Duration {
	return max(MinQueryInterval, min(MaxRefresh, origTTL/2, expiration/2))
}

// RetryTime is the retry time of RFC 5011 §2.3 after a failed query:
// MAX(1 hour, MIN(1 day, origTTL/10, expiration/10)).
func RetryTime(origTTL, expiration time.Duration) time.Duration {
	return max(MinQueryInterval, min(MaxRetry, origTTL/10, expiration/10))
}

// Transition is one change of a key's state.
type Transition struct {
	At        time.Time
	KeyTag    uint16 // key tag of the unrevoked key
	Algorithm uint8
	From, To  State
	Event     Event
	Source    string // what was served at the time (Served.Source)
}

// String renders the transition on one line.
func (t Transition) String() string {
	s := fmt.Sprintf("%s  key %d (alg %d)  %s -> %s  (%s)",
		t.At.UTC().Format(time.RFC3339), t.KeyTag, t.Algorithm, t.From, t.To, t.Event)
	if t.Source != "" {
		s += "  [" + t.Source + "]"
	}
	return s
}

// KeyStatus is a key's state at a resolver.
type KeyStatus struct {
	KeyTag    uint16 // key tag of the unrevoked key
	Algorithm uint8
	State     State
	// Since is when the key entered State; zero for a configured anchor
	// that has not changed state.
	Since time.Time
	// Configured reports a trust anchor given to NewResolver.
	Configured bool
}
