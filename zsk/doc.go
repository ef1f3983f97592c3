// Package zsk is the ZSK operator's side of a root-style KSK ceremony, for
// rehearsals: it builds the Key Signing Request (KSR) that a zone's ZSK
// operator sends to the KSK operator each quarter.
//
// CreateKSR takes the ZSKs as crypto.Signers (keys in an HSM through
// package hsm, or software keys in tests), a start date and a schedule of
// which keys each bundle publishes, and returns a *ksr.Document with a
// Request: the bundles at the root zone's cadence (nine bundles, ten days
// apart, each valid 21 days, by default), a RequestPolicy derived from the
// keys and the cadence, and in every bundle one proof-of-possession RRSIG
// per key over the bundle's DNSKEY RRset. With a previous SKR it continues
// that SKR's chain: the first bundle publishes the ZSKs of the previous
// SKR's last bundle, and the cycle starts one interval after that bundle.
//
// The result passes ksr.Validate with policy.Default() for three RSA-2048
// ZSKs (retiring, current, next) and the default schedule; ksr.Marshal
// writes it.
package zsk
