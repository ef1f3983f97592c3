// Package rollover answers the KSK operator's question before a rollover
// is signed: will validating resolvers follow it?
//
// Check takes a sequence of SKRs (in any order; it sorts them by their
// first bundle), checks that each continues the one before (ROLL-CHAIN-*:
// no gap, no overlap, the same keys at the quarter boundary), and replays
// their bundles, with package internal/rfc5011, to resolver populations:
//
//   - PopOnline, an RFC 5011 resolver online throughout, starting from the
//     trust anchors in force at the first bundle (from a root-anchors.xml
//     when given, otherwise the KSKs that sign the first bundle), with
//     Unbound's acceptance rule (a pending key is trusted once its
//     hold-down has passed);
//   - PopStrict, the same resolver with RFC 5011 §2.4.1's rule to the
//     letter, as BIND's named has it: a pending key is trusted only from
//     a DNSKEY RRset that the keys already trusted validate;
//   - for each offline span, the same resolver offline for that long from
//     every bundle boundary in turn (PopOfflinePrefix + "60d");
//   - PopNewestAnchors, a resolver configured from the newest trust
//     anchor file, then following RFC 5011;
//   - PopStatic, a resolver with the anchors in force at the start as a
//     static trust anchor and no RFC 5011.
//
// The Result gives each population's verdict and its outages: the spans
// in which it cannot validate the DNSKEY RRset, each with its cause
// (rfc5011.Cause: the new KSK not yet trusted, never seen, the trusted KSK
// revoked first, RRSIGs expired, nothing served). It also gives each
// KSK's lane: its phases (published, signing, revoked, removed) and the
// online resolver's hold-downs and state transitions. WriteText,
// WriteHTML (a self-contained page with a timeline picture drawn as
// inline SVG) and encoding/json render it; "ksk rollover check" is the
// command.
//
// The simulation is the model documented in internal/rfc5011 and
// docs/rfc5011.md; the resolver test (make test-resolvers) checks it
// against real resolvers.
package rollover
