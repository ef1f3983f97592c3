package signer

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"encoding/base64"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/skr"
	"github.com/miekg/dns"
)

// SignOptions tune Plan.Sign.
type SignOptions struct {
	// Workers is how many bundles are signed at once, each on an HSM
	// session of its own; 0 means DefaultWorkers. The output does not
	// depend on it.
	Workers int
	// Progress, when set, is called after each bundle is signed with the
	// number done and the total, from one goroutine at a time.
	Progress func(done, total int)
}

// DefaultWorkers returns the number of bundles signed at once by default:
// the number of CPUs, at most 4.
func DefaultWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// Sign builds and signs the SKR of a plan whose checks passed (Prepare,
// then BindKeys). For each bundle the DNSKEY RRset is the KSR's ZSKs plus
// the slot's KSKs (flags 257, or 385 under the revoked key tag for a
// revoked KSK) with the ksk_policy TTL; each KSK that the slot names signs
// it once through its crypto.Signer, with the bundle's inception and
// expiration, the zone's label count and ksk_policy.signers_name. Every
// signature is verified in software twice before the SKR is returned:
// once as it is made (by the signer itself when it verifies its own
// signatures, as hsm.Key does, otherwise here with miekg/dns), and once as
// an RRSIG over its bundle's DNSKEY RRset when the document is verified
// whole with skr.Verify against the KSR and the policy. The
// report returned is the plan's with skr.Verify's findings added; when it
// is not Valid the document is not returned (the error wraps
// ErrChecksFailed).
//
// A signature that does not verify as it is made wraps
// hsm.ErrSignatureInvalid and stops the run. The context stops the run
// between bundles.
func (p *Plan) Sign(ctx context.Context, opts SignOptions) (*ksr.Document, *check.Report, error) {
	if !p.bound || p.KSR.Request == nil {
		return nil, nil, ErrNotBound
	}
	if r := p.Report(); !r.Valid() {
		return nil, r, fmt.Errorf("%w: %s", ErrChecksFailed, joinIDs(r.ErrorChecks()))
	}
	for _, n := range p.keyNames {
		if !p.keys[n].ok {
			return nil, p.Report(), fmt.Errorf("%w: key %s does not match its configuration", ErrChecksFailed, n)
		}
	}
	in := p.KSR.Request.Bundles
	out := make([]ksr.Bundle, len(in))
	workers := opts.Workers
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	workers = min(workers, len(in))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(in) || ctx.Err() != nil {
					return
				}
				b, err := p.signBundle(i)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					cancel()
					mu.Unlock()
					return
				}
				out[i] = b
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(in))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	doc := &ksr.Document{
		ID:     p.KSR.ID,
		Domain: dns.Fqdn(p.KSR.Domain),
		Serial: p.KSR.Serial,
		Response: &ksr.Response{
			KSKPolicy: p.kskPolicy(),
			ZSKPolicy: cloneSigPolicy(p.KSR.Request.ZSKPolicy),
			Bundles:   out,
		},
	}
	r := p.Report()
	r.Add(skr.Verify(doc, skr.VerifyOptions{KSR: p.KSR, Policy: p.Config.Policy}).Findings...)
	if !r.Valid() {
		return nil, r, fmt.Errorf("%w: the SKR built fails %s", ErrChecksFailed, joinIDs(r.ErrorChecks()))
	}
	return doc, r, nil
}

func joinIDs(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += id
	}
	return s
}

// signBundle builds and signs bundle i.
func (p *Plan) signBundle(i int) (ksr.Bundle, error) {
	b := &p.KSR.Request.Bundles[i]
	sl := &p.Schema.Slots[i]
	ttl := p.Config.Policy.KSK.TTL
	keys := make([]ksr.Key, 0, len(b.Keys)+len(sl.Publish)+len(sl.Revoke))
	rrset := make([]dns.RR, 0, cap(keys))
	for _, z := range b.Keys {
		z.Line = 0
		keys = append(keys, z)
		rrset = append(rrset, z.DNSKEY(p.zone))
	}
	dnskeyOf := func(name string) *dns.DNSKEY {
		if slices.Contains(sl.Revoke, name) {
			return p.keys[name].revkey
		}
		return p.keys[name].dnskey
	}
	for _, n := range append(slices.Clone(sl.Publish), sl.Revoke...) {
		dk := dnskeyOf(n)
		pub, err := base64.StdEncoding.DecodeString(dk.PublicKey)
		if err != nil {
			return ksr.Bundle{}, fmt.Errorf("key %s: %w", n, err)
		}
		keys = append(keys, ksr.Key{Identifier: p.Config.Keys[n].Label, KeyTag: dk.KeyTag(), TTL: dk.Hdr.Ttl,
			Flags: dk.Flags, Protocol: dk.Protocol, Algorithm: dk.Algorithm, PublicKey: pub})
		rrset = append(rrset, dk)
	}
	sortCanonical(keys)
	sigs := make([]ksr.Signature, 0, len(sl.Sign))
	for _, n := range sl.Sign {
		bk := p.keys[n]
		dk := dnskeyOf(n)
		rrsig := &dns.RRSIG{
			Hdr:         dns.RR_Header{Name: p.zone, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: ttl},
			TypeCovered: dns.TypeDNSKEY,
			Algorithm:   dk.Algorithm,
			Labels:      uint8(dns.CountLabel(p.zone)),
			OrigTtl:     ttl,
			Expiration:  uint32(b.Expiration.Unix()),
			Inception:   uint32(b.Inception.Unix()),
			KeyTag:      dk.KeyTag(),
			SignerName:  dns.CanonicalName(p.Config.Policy.KSK.SignersName),
		}
		if err := rrsig.Sign(bk.signer, rrset); err != nil {
			return ksr.Bundle{}, fmt.Errorf("bundle #%d (%s): sign with key %s (label %q): %w", i+1, b.ID, n, bk.cfg.Label, err)
		}
		if !selfVerifying(bk.signer) {
			if err := rrsig.Verify(dk, rrset); err != nil {
				return ksr.Bundle{}, fmt.Errorf("bundle #%d (%s): the signature of key %s (label %q) does not verify: %w: %w", i+1, b.ID, n, bk.cfg.Label, hsm.ErrSignatureInvalid, err)
			}
		}
		data, err := base64.StdEncoding.DecodeString(rrsig.Signature)
		if err != nil {
			return ksr.Bundle{}, fmt.Errorf("bundle #%d (%s): %w", i+1, b.ID, err)
		}
		sigs = append(sigs, ksr.Signature{
			Identifier:  bk.cfg.Label,
			TTL:         rrsig.Hdr.Ttl,
			TypeCovered: rrsig.TypeCovered,
			Algorithm:   rrsig.Algorithm,
			Labels:      rrsig.Labels,
			OriginalTTL: rrsig.OrigTtl,
			Expiration:  b.Expiration,
			Inception:   b.Inception,
			KeyTag:      rrsig.KeyTag,
			SignersName: rrsig.SignerName,
			Data:        data,
		})
	}
	ksr.SortSignatures(sigs)
	return ksr.Bundle{ID: b.ID, Inception: b.Inception, Expiration: b.Expiration, Keys: keys, Signatures: sigs}, nil
}

// sortCanonical orders DNSKEYs canonically (RFC 4034 §6.3): by their
// RDATA, flags, protocol, algorithm and public key, as octet strings.
func sortCanonical(keys []ksr.Key) {
	slices.SortStableFunc(keys, func(a, b ksr.Key) int {
		return cmp.Or(cmp.Compare(a.Flags, b.Flags), cmp.Compare(a.Protocol, b.Protocol),
			cmp.Compare(a.Algorithm, b.Algorithm), bytes.Compare(a.PublicKey, b.PublicKey))
	})
}

// kskPolicy is the SKR's <KSK> policy: the ksk_policy limits and one
// algorithm entry per distinct (algorithm, size, exponent) of the KSKs
// that sign, in the order they first sign.
func (p *Plan) kskPolicy() ksr.SignaturePolicy {
	k := &p.Config.Policy.KSK
	sp := ksr.SignaturePolicy{
		PublishSafety:        k.PublishSafety.Std(),
		RetireSafety:         k.RetireSafety.Std(),
		MaxSignatureValidity: k.MaxSignatureValidity.Std(),
		MinSignatureValidity: k.MinSignatureValidity.Std(),
		MaxValidityOverlap:   k.MaxValidityOverlap.Std(),
		MinValidityOverlap:   k.MinValidityOverlap.Std(),
	}
	for _, sl := range p.Schema.Slots {
		for _, n := range sl.Sign {
			bk := p.keys[n]
			ap := ksr.AlgorithmPolicy{Algorithm: uint8(bk.cfg.Algorithm), Size: bk.bits}
			if bk.cfg.Algorithm.IsRSA() {
				ap.Exponent = bk.exp
			}
			if !slices.Contains(sp.Algorithms, ap) {
				sp.Algorithms = append(sp.Algorithms, ap)
			}
		}
	}
	return sp
}

func cloneSigPolicy(sp ksr.SignaturePolicy) ksr.SignaturePolicy {
	sp.Algorithms = slices.Clone(sp.Algorithms)
	return sp
}

// Sign runs a whole signing: Prepare, BindKeys with src, then Plan.Sign.
// It stops at the first step whose report is not Valid and returns that
// report with an error wrapping ErrChecksFailed; src is not used when the
// checks that need no HSM fail.
func Sign(ctx context.Context, cfg *Config, src KeySource, opts Options, sopts SignOptions) (*ksr.Document, *check.Report, error) {
	p, r, err := Prepare(cfg, opts)
	if err != nil {
		return nil, nil, err
	}
	if !r.Valid() {
		return nil, r, fmt.Errorf("%w: %s", ErrChecksFailed, joinIDs(r.ErrorChecks()))
	}
	if r, err = p.BindKeys(src); err != nil {
		return nil, nil, err
	}
	if !r.Valid() {
		return nil, r, fmt.Errorf("%w: %s", ErrChecksFailed, joinIDs(r.ErrorChecks()))
	}
	return p.Sign(ctx, sopts)
}

// selfVerifying reports whether s verifies every signature it returns
// against its public key (hsm.Key does), so that verifying it again as it
// is made would only repeat that work.
func selfVerifying(s crypto.Signer) bool {
	v, ok := s.(interface{ VerifiesSignatures() bool })
	return ok && v.VerifiesSignatures()
}
