package ksr

import (
	"fmt"
	"slices"

	"github.com/ksk-dev/ksk/policy"
)

// algorithmProblem returns why algorithm a may not be used at all, whatever
// the approved list says: deprecated, unsupported, or ECDSA without
// request.enable_unsupported_ecdsa.
func (v *validator) algorithmProblem(a uint8) string {
	switch {
	case policy.DeprecatedAlgorithm(a):
		return "is deprecated (RFC 8624, RFC 9905)"
	case !policy.SupportedAlgorithm(a):
		return "is not supported"
	case policy.IsECDSA(a) && !v.rp.EnableUnsupportedECDSA:
		return "is ECDSA, which request.enable_unsupported_ecdsa does not enable"
	}
	return ""
}

// checkPolicyAlg: KSR-POLICY-ALG.
func (v *validator) checkPolicyAlg() {
	on, sw := v.rp.SignatureAlgorithmsMatchZSKPolicy, "request.signature_algorithms_match_zsk_policy"
	approved := v.p.ApprovedAlgorithmNumbers()
	if len(v.req.ZSKPolicy.Algorithms) == 0 {
		v.errorf(CheckPolicyAlg, "RequestPolicy", "the KSR's ZSK policy names no <SignatureAlgorithm>")
	}
	for _, a := range v.req.ZSKPolicy.Algorithms {
		if why := v.algorithmProblem(a.Algorithm); why != "" {
			v.errorf(CheckPolicyAlg, "RequestPolicy", "the KSR's ZSK policy claims algorithm %s, which %s", algName(a.Algorithm), why)
		} else if !slices.Contains(approved, a.Algorithm) {
			v.fail(CheckPolicyAlg, on, sw, "RequestPolicy", "the KSR's ZSK policy claims algorithm %s; request.approved_algorithms is %v", algName(a.Algorithm), v.rp.ApprovedAlgorithms)
		}
	}
	for _, ki := range v.keys {
		k, b := ki.key, &v.req.Bundles[ki.bundle]
		if why := v.algorithmProblem(k.Algorithm); why != "" {
			v.errorf(CheckPolicyAlg, keyWhere(ki.bundle, b, k), "%s: %s uses algorithm %s, which %s", v.bundleRef(ki.bundle), keyRef(k), algName(k.Algorithm), why)
		} else if !slices.Contains(approved, k.Algorithm) {
			v.fail(CheckPolicyAlg, on, sw, keyWhere(ki.bundle, b, k), "%s: %s uses algorithm %s; request.approved_algorithms is %v", v.bundleRef(ki.bundle), keyRef(k), algName(k.Algorithm), v.rp.ApprovedAlgorithms)
		}
	}
	for i := range v.req.Bundles {
		b := &v.req.Bundles[i]
		for j := range b.Signatures {
			s := &b.Signatures[j]
			if v.byID[s.Identifier] != nil && v.byID[s.Identifier].key.Algorithm == s.Algorithm {
				continue // reported with its key
			}
			if why := v.algorithmProblem(s.Algorithm); why != "" {
				v.errorf(CheckPolicyAlg, sigWhere(i, b, s), "%s: the signature by %s uses algorithm %s, which %s", v.bundleRef(i), shortID(s.Identifier), algName(s.Algorithm), why)
			}
		}
	}
}

// checkPolicyParams: KSR-POLICY-PARAMS.
func (v *validator) checkPolicyParams() {
	on, sw := v.rp.SignatureAlgorithmsMatchZSKPolicy, "request.signature_algorithms_match_zsk_policy"
	for _, a := range v.req.ZSKPolicy.Algorithms {
		name := policy.AlgorithmName(a.Algorithm)
		if policy.IsRSA(a.Algorithm) {
			if !slices.Contains(v.rp.RSAApprovedKeySizes, a.Size) {
				v.fail(CheckPolicyParams, on, sw, "RequestPolicy", "the KSR's ZSK policy claims %s-%d; request.rsa_approved_key_sizes is %v", name, a.Size, v.rp.RSAApprovedKeySizes)
			}
			if !slices.Contains(v.rp.RSAApprovedExponents, a.Exponent) {
				v.fail(CheckPolicyParams, on, sw, "RequestPolicy", "the KSR's ZSK policy claims RSA exponent %d for %s-%d; request.rsa_approved_exponents is %v", a.Exponent, name, a.Size, v.rp.RSAApprovedExponents)
			}
		} else if want := curveSize(a.Algorithm); want != 0 && a.Size != want {
			v.errorf(CheckPolicyParams, "RequestPolicy", "the KSR's ZSK policy claims size %d for %s, whose keys have %d bits", a.Size, name, want)
		}
	}
	for _, ki := range v.keys {
		k, b := ki.key, &v.req.Bundles[ki.bundle]
		if ki.params.err != nil || !policy.IsRSA(k.Algorithm) {
			continue
		}
		where := keyWhere(ki.bundle, b, k)
		if !slices.Contains(v.rp.RSAApprovedKeySizes, ki.params.bits) {
			v.fail(CheckPolicyParams, on, sw, where, "%s: %s is RSA-%d; request.rsa_approved_key_sizes is %v", v.bundleRef(ki.bundle), keyRef(k), ki.params.bits, v.rp.RSAApprovedKeySizes)
		}
		if !slices.Contains(v.rp.RSAApprovedExponents, ki.params.exponent) {
			v.fail(CheckPolicyParams, on, sw, where, "%s: %s has RSA exponent %d; request.rsa_approved_exponents is %v", v.bundleRef(ki.bundle), keyRef(k), ki.params.exponent, v.rp.RSAApprovedExponents)
		}
	}
}

func sigWhere(i int, b *Bundle, s *Signature) string {
	w := fmt.Sprintf("bundle #%d %s signature by %s", i+1, b.ID, shortID(s.Identifier))
	if s.Line > 0 {
		w += fmt.Sprintf(" line %d", s.Line)
	}
	return w
}
