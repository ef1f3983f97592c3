package zsk

import (
	"crypto"
	"io"
	"time"

	"github.com/ksk-dev/ksk/ksr"
)

// The root zone's cadence, CreateKSR's defaults.
const (
	// DefaultBundles is the number of bundles of a root zone KSR.
	DefaultBundles = 9
	// DefaultInterval is the time between two bundles' inceptions.
	DefaultInterval = 10 * 24 * time.Hour
	// DefaultValidity is each bundle's validity, inception to expiration.
	DefaultValidity = 21 * 24 * time.Hour
	// DefaultTTL is the TTL of the root zone's DNSKEY records.
	DefaultTTL = 172800
	// DefaultDomain is the zone of the KSR: the root.
	DefaultDomain = "."
)

// Key is one ZSK of the KSR.
type Key struct {
	// Signer holds the private key: an *hsm.Key, or a software key
	// (*rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey) in tests.
	Signer crypto.Signer
	// Algorithm is the key's DNSSEC algorithm number. 0 means RSASHA256
	// for an RSA key and the curve's algorithm for ECDSA (P-256, P-384)
	// and Ed25519 keys.
	Algorithm uint8
	// Identifier is the key's keyIdentifier in the KSR, the same in every
	// bundle. Empty means "zsk-" and the key tag. It must be non-empty
	// without surrounding space; the HSM label is a good choice.
	Identifier string
}

// Options are the inputs of CreateKSR. Zero fields take the root zone's
// values.
type Options struct {
	// Keys are the ZSKs, in the order the Schedule numbers them. For the
	// default schedule: (current), (current, next) or (retiring, current,
	// next).
	Keys []Key
	// Start is the first bundle's inception, truncated to the second. It
	// is required unless PreviousSKR is set; then it defaults to one
	// Interval after the previous SKR's last inception.
	Start time.Time
	// Bundles is the number of bundles; DefaultBundles if 0.
	Bundles int
	// Interval is the time between consecutive inceptions;
	// DefaultInterval if 0.
	Interval time.Duration
	// Validity is each bundle's validity; DefaultValidity if 0. It must
	// exceed Interval, so that consecutive bundles overlap.
	Validity time.Duration
	// Schedule says which keys each bundle publishes; DefaultSchedule if
	// nil.
	Schedule Schedule
	// Domain is the zone; the previous SKR's domain, else DefaultDomain,
	// if empty.
	Domain string
	// TTL is the TTL of the DNSKEY records; DefaultTTL if 0.
	TTL uint32
	// Serial is the KSR's serial attribute, written as given (IANA's root
	// zone KSRs use 1 or 0).
	Serial uint32
	// Policy, when set, is the RequestPolicy's ZSK element to claim;
	// when its Algorithms are empty they are derived from the keys. When
	// nil the whole policy is derived (see RequestPolicy).
	Policy *ksr.SignaturePolicy
	// IDSeed, when not empty, makes the KSR and bundle ids deterministic:
	// UUIDs derived from the seed, for golden tests. Otherwise they are
	// random version 4 UUIDs.
	IDSeed string
	// Rand is the source of random ids; crypto/rand if nil.
	Rand io.Reader
	// PreviousSKR, when set, is the last SKR signed: the KSR continues it
	// (see CreateKSR).
	PreviousSKR *ksr.Document
}
