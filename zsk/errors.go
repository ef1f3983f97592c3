package zsk

import "errors"

var (
	// ErrOptions is wrapped by every error about the options of CreateKSR:
	// no keys, a bad schedule, durations that cannot make bundles.
	ErrOptions = errors.New("invalid KSR options")
	// ErrChain is wrapped by CreateKSR's errors when the KSR cannot
	// continue the previous SKR: a different zone, or a first bundle that
	// does not publish the ZSKs of the previous SKR's last bundle.
	ErrChain = errors.New("KSR does not continue the previous SKR")
	// ErrSign is wrapped when a ZSK fails to sign its bundle's DNSKEY RRset
	// or its signature does not verify with its public key.
	ErrSign = errors.New("proof-of-possession signature failed")
)
