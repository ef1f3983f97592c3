package skr

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/miekg/dns"
)

// ErrNoBundle is returned by SelectBundles when the selector names no
// bundle of the document.
var ErrNoBundle = errors.New("no such bundle")

// ErrNotCanonical is returned by BundleRRs and WriteZone when a record of
// the DNSKEY RRset cannot be packed to wire format, so the RRset cannot be
// put in canonical order (RFC 4034 §6.3).
var ErrNotCanonical = errors.New("DNSKEY RRset cannot be put in canonical order")

// SelectBundles returns the indexes (0-based) of the bundles of d that sel
// names: "all" (or "") for every bundle in document order, a 1-based
// bundle number ("1" to the number of bundles), or a bundle id (compared
// case-insensitively, as bundle ids are unique regardless of case).
func SelectBundles(d *ksr.Document, sel string) ([]int, error) {
	bundles := d.Bundles()
	sel = strings.TrimSpace(sel)
	if sel == "" || strings.EqualFold(sel, "all") {
		out := make([]int, len(bundles))
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	for i := range bundles {
		if strings.EqualFold(bundles[i].ID, sel) {
			return []int{i}, nil
		}
	}
	if n, err := strconv.Atoi(sel); err == nil {
		if n >= 1 && n <= len(bundles) {
			return []int{n - 1}, nil
		}
		return nil, fmt.Errorf("%w: bundle number %d: the document has bundles 1 to %d", ErrNoBundle, n, len(bundles))
	}
	return nil, fmt.Errorf("%w: %q is neither a bundle number, a bundle id nor \"all\"", ErrNoBundle, sel)
}

// BundleRRs returns bundle b of a document for zone as DNS records: its
// DNSKEY RRset in canonical order (RFC 4034 §6.3) followed by its RRSIGs in
// document order. These are the records a zone's signer publishes at the
// apex for the bundle's validity period. A key that cannot be packed to
// wire format gives ErrNotCanonical.
func BundleRRs(zone string, b *ksr.Bundle) ([]dns.RR, error) {
	keys := b.DNSKEYs(zone)
	if err := sortCanonical(keys); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", b.ID, err)
	}
	out := make([]dns.RR, 0, len(keys)+len(b.Signatures))
	out = append(out, keys...)
	for i := range b.Signatures {
		out = append(out, b.Signatures[i].RRSIG(zone))
	}
	return out, nil
}

// sortCanonical sorts the records of one RRset by their RDATA in wire
// format (RFC 4034 §6.3), the order in which a signature covers them.
func sortCanonical(rrs []dns.RR) error {
	type keyed struct {
		rr    dns.RR
		rdata []byte
	}
	ks := make([]keyed, len(rrs))
	for i, rr := range rrs {
		data, err := rdata(rr)
		if err != nil {
			return fmt.Errorf("%w: record %d (%s): %w", ErrNotCanonical, i+1, dns.TypeToString[rr.Header().Rrtype], err)
		}
		ks[i] = keyed{rr, data}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return bytes.Compare(a.rdata, b.rdata) })
	for i := range ks {
		rrs[i] = ks[i].rr
	}
	return nil
}

// rdata returns the RDATA of rr in uncompressed wire format.
func rdata(rr dns.RR) ([]byte, error) {
	buf := make([]byte, dns.Len(rr)+1)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	name := make([]byte, 256)
	n, err := dns.PackDomainName(dns.CanonicalName(rr.Header().Name), name, 0, nil, false)
	if err != nil {
		return nil, err
	}
	if n+10 > off {
		return nil, fmt.Errorf("packed record of %d bytes is shorter than its header", off)
	}
	// The owner name is followed by type, class, TTL and RDLENGTH.
	return buf[n+10 : off], nil
}

// WriteZone writes the selected bundles of d (indexes from SelectBundles)
// to w in DNS presentation format (RFC 1035 §5): a comment header naming
// the document, then for each bundle a comment block with its number, id,
// inception, expiration and keys, its DNSKEY records in canonical order and
// its RRSIG records. Owner names are absolute, so the output can be
// appended to a zone file or read by ldns, Knot and BIND tools as is.
//
// A single bundle is the DNSKEY RRset and signatures a zone's signer
// publishes during the bundle's validity; several bundles in one output
// are several versions of the same RRset and are meant to be split at the
// comment headers, not loaded as one zone.
func WriteZone(w io.Writer, d *ksr.Document, bundles []int) error {
	all := d.Bundles()
	zone := dns.Fqdn(d.Domain)
	bw := bufio.NewWriter(w)
	kind := "SKR"
	if d.Response == nil {
		kind = "KSR"
	}
	fmt.Fprintf(bw, "; %s %s, domain %s, serial %d: %d of %d bundles\n", kind, d.ID, zone, d.Serial, len(bundles), len(all))
	for n, i := range bundles {
		if i < 0 || i >= len(all) {
			return fmt.Errorf("%w: index %d of %d bundles", ErrNoBundle, i, len(all))
		}
		b := &all[i]
		if n > 0 {
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, ";\n; bundle %d/%d id %s\n", i+1, len(all), b.ID)
		fmt.Fprintf(bw, "; inception %s expiration %s\n", b.Inception.UTC().Format(time.RFC3339), b.Expiration.UTC().Format(time.RFC3339))
		fmt.Fprintf(bw, "; keys %s\n", keySummary(zone, b))
		rrs, err := BundleRRs(zone, b)
		if err != nil {
			return err
		}
		for _, rr := range rrs {
			bw.WriteString(rr.String())
			bw.WriteString("\n")
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write zone: %w", err)
	}
	return nil
}

// keySummary lists a bundle's keys as "20326 KSK, 14796 ZSK, ..." with the
// signing keys marked.
func keySummary(zone string, b *ksr.Bundle) string {
	signers := map[uint16]bool{}
	for i := range b.Signatures {
		signers[b.Signatures[i].KeyTag] = true
	}
	parts := make([]string, 0, len(b.Keys))
	for i := range b.Keys {
		k := &b.Keys[i]
		tag := k.DNSKEY(zone).KeyTag()
		role := "ZSK"
		switch {
		case k.IsKSK() && k.IsRevoked():
			role = "KSK revoked"
		case k.IsKSK():
			role = "KSK"
		}
		if signers[tag] {
			role += " signing"
		}
		parts = append(parts, fmt.Sprintf("%d %s %s", tag, dns.AlgorithmToString[k.Algorithm], role))
	}
	return strings.Join(parts, ", ")
}

// BundleAt returns the index of the bundle a zone publishes at time t: of
// the bundles valid at t (inception <= t < expiration), the one that
// started last. It fails with ErrNoBundle when no bundle is valid at t.
func BundleAt(d *ksr.Document, t time.Time) (int, error) {
	best := -1
	for i, b := range d.Bundles() {
		if b.Inception.After(t) || !b.Expiration.After(t) {
			continue
		}
		if best < 0 || !b.Inception.Before(d.Bundles()[best].Inception) {
			best = i
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("%w: no bundle is valid at %s", ErrNoBundle, t.UTC().Format(time.RFC3339))
	}
	return best, nil
}
