package zonecheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Validate wraps bundle (a DNSKEY RRset and its RRSIGs, all owned by the
// zone apex) in a minimal zone, has dnssec-signzone sign the rest with zsk,
// puts back exactly the bundle's RRSIGs over the DNSKEY RRset (see final),
// and runs the validators with the validation time at:
//
//	dnssec-signzone -P -x -o <zone> -s <start> -e <end> -i 3600 -f signed.zone unsigned.zone K<zone>+<alg>+<tag>
//	ldns-verify-zone [-k anchors] -t <at> final.zone
//	kzonecheck -o <zone> -d on -t <at> final.zone
//	dnssec-verify -x -o <zone> final.zone
//
// dnssec-verify has no time option, and dnssec-signzone verifies only
// signatures that are already valid: both count only when every RRSIG of
// the bundle is valid now, and are absent from the result otherwise.
// anchors (DS or DNSKEY records) become ldns-verify-zone's trusted keys:
// the DNSKEY RRset must then be signed by one of them.
//
// The result maps each validator that ran (LDNS, Knot, BIND, SignZone) to
// nil (the zone passed) or to its failure, a *RunError with its output for
// the first three. Problems of the harness itself (zsk not in the bundle,
// dnssec-signzone failing or changing the DNSKEY RRset) fail the test.
func Validate(t testing.TB, bundle []dns.RR, zsk *ZSK, at time.Time, anchors ...dns.RR) map[string]error {
	t.Helper()
	for _, tool := range []string{SignZone, LDNS, Knot, BIND} {
		Require(t, tool)
	}
	origin, keys, sigs := split(t, bundle)
	if !slices.ContainsFunc(keys, func(k *dns.DNSKEY) bool { return sameKey(k, zsk.DNSKEY) }) {
		t.Fatalf("zonecheck: the ZSK (key tag %d) is not a key of the bundle: dnssec-signzone would add it and break the KSK signatures", zsk.DNSKEY.KeyTag())
	}
	dir := t.TempDir()
	// The key file must hold the DNSKEY exactly as the bundle publishes it.
	var zskRR *dns.DNSKEY
	for _, k := range keys {
		if sameKey(k, zsk.DNSKEY) {
			zskRR = k
		}
	}
	base, err := WriteBINDKey(dir, zskRR, zsk.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "unsigned.zone"), []byte(Zone(origin, bundle)), 0o644); err != nil {
		t.Fatal(err)
	}

	// The test ZSK's signatures cover the validation time and now, so
	// that dnssec-verify (which uses the clock) can check them too.
	now := time.Now().UTC()
	start := minTime(at, now).Add(-time.Hour)
	end := maxTime(at, now).Add(7 * 24 * time.Hour)
	if _, err := run(dir, SignZone,
		"-P", "-x", "-q",
		"-o", origin,
		"-K", dir, "-d", dir,
		"-s", dnsTime(start), "-e", dnsTime(end),
		// Re-sign interval: keep every existing signature that has not
		// expired within the hour, whatever -s and -e span.
		"-i", "3600",
		"-f", "signed.zone",
		"unsigned.zone", base); err != nil {
		t.Fatalf("zonecheck: sign the zone around the bundle: %v", err)
	}
	retained := final(t, dir, origin, keys, sigs)

	ldnsArgs := []string{}
	if len(anchors) > 0 {
		ldnsArgs = append(ldnsArgs, "-k", writeAnchors(t, dir, anchors))
	}
	ldnsArgs = append(ldnsArgs, "-t", at.UTC().Format("20060102150405"), "final.zone")
	res := map[string]error{}
	_, res[LDNS] = run(dir, LDNS, ldnsArgs...)
	_, res[Knot] = run(dir, Knot, "-o", origin, "-d", "on", "-t", strconv.FormatInt(at.Unix(), 10), "final.zone")
	if validNow(sigs, now) {
		_, res[BIND] = run(dir, BIND, "-x", "-o", origin, "final.zone")
		res[SignZone] = retained
	}
	return res
}

// ValidateDNSKEYRRset checks a bundle whose ZSKs cannot sign a zone (a
// real root zone bundle) with ldns-verify-zone alone, at time at. The
// bundle goes into the minimal zone unsigned; ldns-verify-zone reports
// every RRset separately, and the RRsets other than the DNSKEY RRset have
// no signatures by design. The result maps LDNS to nil when no finding is
// about the DNSKEY RRset and every finding is one of "no signatures for"
// another RRset and "there is no NSEC(3)", and to an error naming the
// other findings otherwise. kzonecheck reports only the first failing
// RRset of a name (here the unsigned NS), and dnssec-verify checks the
// whole zone against the clock, so neither can check the RRset alone.
func ValidateDNSKEYRRset(t testing.TB, bundle []dns.RR, at time.Time, anchors ...dns.RR) map[string]error {
	t.Helper()
	Require(t, LDNS)
	origin, _, _ := split(t, bundle)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bundle.zone"), []byte(Zone(origin, bundle)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{}
	if len(anchors) > 0 {
		args = append(args, "-k", writeAnchors(t, dir, anchors))
	}
	args = append(args, "-t", at.UTC().Format("20060102150405"), "bundle.zone")
	out, err := run(dir, LDNS, args...)
	var rerr *RunError
	if err != nil && !errors.As(err, &rerr) {
		return map[string]error{LDNS: err}
	}
	var bad []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", line == "There were errors in the zone", line == "Zone is verified and complete",
			line == "Cannot chase the root: All OK":
		case strings.HasPrefix(line, "Error: there is no NSEC(3) for "):
		case strings.HasPrefix(line, "Error: no signatures for ") && !strings.HasSuffix(line, "\tDNSKEY"):
		default:
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		return map[string]error{LDNS: &RunError{Tool: LDNS, Args: args, Output: out, Err: fmt.Errorf("findings about the DNSKEY RRset: %s", strings.Join(bad, "; "))}}
	}
	return map[string]error{LDNS: nil}
}

// split returns the zone of a bundle and its DNSKEY and RRSIG records,
// failing the test on anything else or on records of several owners.
func split(t testing.TB, bundle []dns.RR) (string, []*dns.DNSKEY, []*dns.RRSIG) {
	t.Helper()
	var (
		origin string
		keys   []*dns.DNSKEY
		sigs   []*dns.RRSIG
	)
	for _, rr := range bundle {
		name := dns.CanonicalName(rr.Header().Name)
		if origin == "" {
			origin = name
		} else if name != origin {
			t.Fatalf("zonecheck: the bundle has records of %s and %s", origin, name)
		}
		switch r := rr.(type) {
		case *dns.DNSKEY:
			keys = append(keys, r)
		case *dns.RRSIG:
			sigs = append(sigs, r)
		default:
			t.Fatalf("zonecheck: the bundle holds a %s record; only DNSKEY and RRSIG belong in it", dns.TypeToString[rr.Header().Rrtype])
		}
	}
	if len(keys) == 0 {
		t.Fatal("zonecheck: the bundle has no DNSKEY record")
	}
	return origin, keys, sigs
}

// final writes final.zone: the zone dnssec-signzone signed, with exactly
// the bundle's RRSIGs over the DNSKEY RRset, so that the validators judge
// the bundle's signatures as given. dnssec-signzone verifies the existing
// signatures of the keys it knows only by their DNSKEY before it keeps
// them, and drops those that fail; with -x it may also add a ZSK signature
// to the DNSKEY RRset (when no KSK of the ZSK's algorithm has a private
// key). final returns nil when dnssec-signzone kept every signature of the
// bundle, and an error naming those it dropped otherwise. It fails the
// test when the DNSKEY RRset itself changed.
func final(t testing.TB, dir, origin string, keys []*dns.DNSKEY, sigs []*dns.RRSIG) error {
	t.Helper()
	file := filepath.Join(dir, "signed.zone")
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out     strings.Builder
		gotKeys []*dns.DNSKEY
	)
	kept := map[string]bool{}
	zp := dns.NewZoneParser(f, origin, file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch r := rr.(type) {
		case *dns.DNSKEY:
			gotKeys = append(gotKeys, r)
		case *dns.RRSIG:
			if r.TypeCovered == dns.TypeDNSKEY {
				kept[sigID(r)] = true
				continue
			}
		}
		out.WriteString(rr.String())
		out.WriteString("\n")
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zonecheck: read the signed zone: %v", err)
	}
	if len(gotKeys) != len(keys) {
		t.Fatalf("zonecheck: dnssec-signzone changed the DNSKEY RRset: %d keys, the bundle has %d", len(gotKeys), len(keys))
	}
	for _, k := range keys {
		if !slices.ContainsFunc(gotKeys, func(g *dns.DNSKEY) bool { return sameKey(g, k) && g.Hdr.Ttl == k.Hdr.Ttl }) {
			t.Fatalf("zonecheck: dnssec-signzone changed or dropped DNSKEY %d", k.KeyTag())
		}
	}
	var dropped []string
	for _, s := range sigs {
		out.WriteString(s.String())
		out.WriteString("\n")
		if !kept[sigID(s)] {
			dropped = append(dropped, strconv.Itoa(int(s.KeyTag)))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "final.zone"), []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(dropped) > 0 {
		return fmt.Errorf("dnssec-signzone dropped the DNSKEY RRSIG of key %s: it did not verify", strings.Join(dropped, ", "))
	}
	return nil
}

func sigID(s *dns.RRSIG) string {
	return fmt.Sprintf("%d/%d/%d/%d/%s", s.KeyTag, s.Algorithm, s.Inception, s.Expiration, s.Signature)
}

func sameKey(a, b *dns.DNSKEY) bool {
	return a.Flags == b.Flags && a.Protocol == b.Protocol && a.Algorithm == b.Algorithm &&
		strings.EqualFold(dns.CanonicalName(a.Hdr.Name), dns.CanonicalName(b.Hdr.Name)) && a.PublicKey == b.PublicKey
}

// validNow reports whether every signature is valid at now.
func validNow(sigs []*dns.RRSIG, now time.Time) bool {
	for _, s := range sigs {
		if !s.ValidityPeriod(now) {
			return false
		}
	}
	return true
}

// writeAnchors writes trusted keys for ldns-verify-zone -k.
func writeAnchors(t testing.TB, dir string, anchors []dns.RR) string {
	t.Helper()
	var b strings.Builder
	for _, rr := range anchors {
		b.WriteString(rr.String())
		b.WriteString("\n")
	}
	p := filepath.Join(dir, "anchors")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dnsTime formats a time as dnssec-signzone's absolute YYYYMMDDHHMMSS (UTC).
func dnsTime(t time.Time) string { return t.UTC().Format("20060102150405") }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
