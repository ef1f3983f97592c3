package skr

import (
	"errors"
	"time"

	"github.com/ksk-dev/ksk/ksr"
)

// ErrNoSignatures is returned by Deadline for a document without a KSK
// signature: a KSR, or an SKR whose bundles carry none.
var ErrNoSignatures = errors.New("no DNSKEY RRSIG in the SKR")

// Deadline returns when the zone goes dark if no new SKR arrives: the
// latest expiration of the SKR's DNSKEY RRSIGs, and the index of the
// bundle that carries it (its last bundle, in a well-formed SKR).
func Deadline(d *ksr.Document) (time.Time, int, error) {
	if d.Response == nil {
		return time.Time{}, -1, ErrNoSignatures
	}
	var last time.Time
	idx := -1
	for i, b := range d.Response.Bundles {
		for _, s := range b.Signatures {
			if s.Expiration.After(last) {
				last, idx = s.Expiration, i
			}
		}
	}
	if idx < 0 {
		return time.Time{}, -1, ErrNoSignatures
	}
	return last.UTC(), idx, nil
}
