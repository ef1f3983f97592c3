package zonecheck

import (
	"crypto"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/zsk"
	"github.com/miekg/dns"
)

// KSK is a key-signing key for SignSKR: a crypto.Signer (an *hsm.Key on a
// SoftHSM token, or a software key) and its DNSKEY (flags 257).
type KSK struct {
	Signer crypto.Signer
	DNSKEY *dns.DNSKEY
}

// SignSKR turns a KSR into an SKR the simplest way a KSK operator could,
// for tests that must not depend on package signer: every bundle publishes
// the KSR's ZSKs and the KSKs (TTL of the root's KSK policy), and each KSK
// signs the bundle's DNSKEY RRset from its inception to its expiration.
// The ResponsePolicy is the root policy's KSK section and the KSR's ZSK
// policy. It fails the test on any error.
func SignSKR(t testing.TB, req *ksr.Document, ksks ...KSK) *ksr.Document {
	t.Helper()
	d, err := signSKR(req, ksks)
	if err != nil {
		t.Fatalf("zonecheck: sign the KSR: %v", err)
	}
	return d
}

func signSKR(req *ksr.Document, ksks []KSK) (*ksr.Document, error) {
	if req.Request == nil {
		return nil, fmt.Errorf("document %s is not a KSR", req.ID)
	}
	kp := policy.Default().KSK
	zone := dns.CanonicalName(req.Domain)
	resp := &ksr.Response{
		KSKPolicy: ksr.SignaturePolicy{
			PublishSafety:        kp.PublishSafety.Std(),
			RetireSafety:         kp.RetireSafety.Std(),
			MaxSignatureValidity: kp.MaxSignatureValidity.Std(),
			MinSignatureValidity: kp.MinSignatureValidity.Std(),
			MaxValidityOverlap:   kp.MaxValidityOverlap.Std(),
			MinValidityOverlap:   kp.MinValidityOverlap.Std(),
		},
		ZSKPolicy: req.Request.ZSKPolicy,
	}
	kskKeys := make([]ksr.Key, len(ksks))
	for i, k := range ksks {
		pub, err := base64.StdEncoding.DecodeString(k.DNSKEY.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("KSK %d: %w", k.DNSKEY.KeyTag(), err)
		}
		kskKeys[i] = ksr.Key{
			Identifier: fmt.Sprintf("ksk-%d", k.DNSKEY.KeyTag()),
			KeyTag:     k.DNSKEY.KeyTag(),
			TTL:        kp.TTL,
			Flags:      k.DNSKEY.Flags,
			Protocol:   3,
			Algorithm:  k.DNSKEY.Algorithm,
			PublicKey:  pub,
		}
		resp.KSKPolicy.Algorithms = append(resp.KSKPolicy.Algorithms, zsk.AlgorithmPolicy(&kskKeys[i]))
	}
	for _, rb := range req.Request.Bundles {
		b := ksr.Bundle{ID: rb.ID, Inception: rb.Inception, Expiration: rb.Expiration}
		b.Keys = append(append(b.Keys, rb.Keys...), kskKeys...)
		rrset := b.DNSKEYs(zone)
		for i, k := range ksks {
			key := &kskKeys[i]
			rrsig := &dns.RRSIG{
				Hdr:        dns.RR_Header{Name: zone, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: key.TTL},
				Algorithm:  key.Algorithm,
				KeyTag:     key.KeyTag,
				SignerName: zone,
				Inception:  uint32(b.Inception.Unix()),
				Expiration: uint32(b.Expiration.Unix()),
			}
			if err := rrsig.Sign(k.Signer, rrset); err != nil {
				return nil, fmt.Errorf("bundle %s, KSK %d: %w", b.ID, key.KeyTag, err)
			}
			if err := rrsig.Verify(key.DNSKEY(zone), rrset); err != nil {
				return nil, fmt.Errorf("bundle %s, KSK %d: signature does not verify: %w", b.ID, key.KeyTag, err)
			}
			data, err := base64.StdEncoding.DecodeString(rrsig.Signature)
			if err != nil {
				return nil, err
			}
			b.Signatures = append(b.Signatures, ksr.Signature{
				Identifier: key.Identifier, TTL: key.TTL, TypeCovered: dns.TypeDNSKEY,
				Algorithm: rrsig.Algorithm, Labels: rrsig.Labels, OriginalTTL: rrsig.OrigTtl,
				Inception: time.Unix(int64(rrsig.Inception), 0).UTC(), Expiration: time.Unix(int64(rrsig.Expiration), 0).UTC(),
				KeyTag: rrsig.KeyTag, SignersName: zone, Data: data,
			})
		}
		resp.Bundles = append(resp.Bundles, b)
	}
	return &ksr.Document{ID: req.ID, Domain: req.Domain, Serial: req.Serial, Response: resp}, nil
}

// FlipSignature returns a copy of the records with one bit flipped in the
// middle of the signature of every RRSIG made by the key with tag keyTag:
// the tampering every validator must catch.
func FlipSignature(rrs []dns.RR, keyTag uint16) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		s, ok := out[i].(*dns.RRSIG)
		if !ok || s.KeyTag != keyTag {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(s.Signature)
		if err != nil || len(raw) == 0 {
			continue
		}
		raw[len(raw)/2] ^= 0x01
		s.Signature = base64.StdEncoding.EncodeToString(raw)
	}
	return out
}
