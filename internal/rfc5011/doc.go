// Package rfc5011 simulates the trust anchor state machine of an RFC 5011
// resolver ("Automated Updates of DNSSEC Trust Anchors") over a timeline of
// DNSKEY RRsets, such as the bundles of a series of SKRs, to show whether a
// KSK rollover is safe for resolvers that follow RFC 5011: the new KSK must
// be accepted (after the 30-day add hold-down) before the old one stops
// signing, and the resolver must never be left without a trusted key that
// validates the DNSKEY RRset being served.
//
// The package lives under internal/ because it is a verification tool for
// ksk's own tests and, possibly, for a future ksk subcommand (which can
// import it from cmd/ksk); it is not a resolver library, and keeping it
// internal leaves its API free to change with those uses.
//
// # What is modelled
//
// Each tracked key is in one of the states of RFC 5011 §4: Start, AddPend,
// Valid, Missing, Revoked, Removed. Keys are identified by algorithm and
// public key, ignoring the REVOKE bit (a revoked key has another key tag
// but is the same key). Configured trust anchors start Valid.
//
// At every query (Resolver.Query) the resolver, in this order:
//
//  0. accepts, on time alone, every AddPend key whose add hold-down of
//     MAX(30 days, original TTL) (RFC 5011 §2.4.1) has passed and that was
//     seen in at least two validated RRsets (AddTime). As the key was in
//     every validated RRset seen since it was first seen (an absence
//     sends it back to Start), this is the RFC's condition; unbound
//     applies it the same way, before validating, so the new key can
//     validate the very RRset in which it starts to sign;
//  1. accepts revocations (RevBit): a SEP key of the RRset with the REVOKE
//     bit whose unrevoked form is Valid or Missing, and which signs the
//     RRset itself with a signature valid at the query time, becomes
//     Revoked. The self-signature is enough, as RFC 5011 §2.1 requires; the
//     RRset need not be validated otherwise;
//  2. validates the RRset: it is valid when an RRSIG made by a trusted key
//     (Valid or Missing, never Revoked) verifies with miekg/dns and the
//     query time lies within its inception and expiration. If it does not
//     validate, the query has failed: trust is lost at that time, nothing
//     else changes and the resolver retries after the retry time;
//  3. applies the events of a validated RRset to every SEP key: NewKey
//     (an unknown key enters AddPend, its add hold-down starting now),
//     AddTime (as in step 0, for a key whose second sighting is this
//     one), KeyPres (Missing back to Valid), KeyRem (an absent AddPend key goes
//     back to Start and is forgotten; an absent Valid key becomes Missing,
//     which is still trusted) and RemTime (a Revoked key becomes Removed
//     once the remove hold-down of 30 days has passed since its
//     revocation).
//
// The next query comes after the active refresh time of RFC 5011 §2.3,
// MAX(1 hour, MIN(15 days, 1/2 OrigTTL, 1/2 RRSIG expiration interval)),
// where the expiration interval is the time left until the earliest RRSIG
// of the RRset expires; after a failed query, or when nothing is served,
// after the retry time MAX(1 hour, MIN(1 day, 1/10 OrigTTL, 1/10
// expiration interval)) of the last successful query.
//
// Run drives a Resolver over a Timeline and returns a Trace: every state
// transition, every time trust was lost (at a query, or at the start of a
// newly served RRset between two queries, when the keys trusted at that
// moment do not validate it), and the intervals in which nothing was
// served. FromSKRs builds the timeline from SKRs: each bundle is served
// from its inception until the next bundle's inception, or its own
// expiration if that comes first.
//
// # What is not modelled
//
// Query jitter (unbound draws each interval from 90-100% of the refresh
// time; the simulation always waits the full time, the slowest a compliant
// resolver may be), caching of the DNSKEY RRset between queries, DS-based
// anchors, the "keep missing" clean-up of long-Missing keys, algorithm
// downgrade protection and network failures other than the gaps of the
// timeline. See docs/rfc5011.md.
package rfc5011
