package policy

import (
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// Validate checks that p is usable: limits in range, every minimum at most
// its maximum, known algorithm names and valid domain names. Errors wrap
// ErrInvalid and name the YAML path of the offending key.
func (p *Policy) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w: %s", path, ErrInvalid, fmt.Sprintf(format, args...)))
	}
	r := &p.Request
	if len(r.AcceptableDomains) == 0 {
		bad("request.acceptable_domains", "at least one domain is needed")
	}
	for _, d := range r.AcceptableDomains {
		if _, ok := dns.IsDomainName(d); !ok || d == "" {
			bad("request.acceptable_domains", "%q is not a domain name", d)
		}
	}
	positive := func(path string, c IntChoice, optional bool) {
		if len(c) == 0 && !optional {
			bad(path, "at least one value is needed")
		}
		for _, n := range c {
			if n < 1 {
				bad(path, "%d is not a positive integer", n)
			}
		}
	}
	positive("request.num_bundles", r.NumBundles, false)
	positive("request.num_different_keys_in_all_bundles", r.NumDifferentKeysInAllBundles, true)
	positive("request.num_keys_per_bundle", IntChoice(r.NumKeysPerBundle), true)
	positive("request.rsa_approved_exponents", IntChoice(r.RSAApprovedExponents), true)
	positive("response.num_bundles", p.Response.NumBundles, false)
	for _, n := range r.RSAApprovedKeySizes {
		if n < 1 || n > 65535 {
			bad("request.rsa_approved_key_sizes", "%d is not between 1 and 65535", n)
		}
	}
	for _, e := range r.RSAApprovedExponents {
		if e > 1<<31-1 {
			bad("request.rsa_approved_exponents", "%d is too large", e)
		}
	}
	if len(r.ApprovedAlgorithms) == 0 {
		bad("request.approved_algorithms", "at least one algorithm is needed")
	}
	for _, a := range r.ApprovedAlgorithms {
		if _, ok := AlgorithmNumber(a); !ok {
			bad("request.approved_algorithms", "%q is not a DNSSEC algorithm mnemonic such as RSASHA256", a)
		}
	}
	if r.SignatureHorizonDays < 1 || r.SignatureHorizonDays > 36500 {
		bad("request.signature_horizon_days", "%d is not between 1 and 36500", r.SignatureHorizonDays)
	}
	pair := func(minPath, maxPath string, lo, hi Duration) {
		if lo > hi {
			bad(minPath, "%s is greater than %s %s", lo, maxPath, hi)
		}
	}
	pair("request.min_cycle_inception_length", "request.max_cycle_inception_length", r.MinCycleInceptionLength, r.MaxCycleInceptionLength)
	pair("request.min_bundle_interval", "request.max_bundle_interval", r.MinBundleInterval, r.MaxBundleInterval)
	k := &p.KSK
	pair("ksk.min_signature_validity", "ksk.max_signature_validity", k.MinSignatureValidity, k.MaxSignatureValidity)
	pair("ksk.min_validity_overlap", "ksk.max_validity_overlap", k.MinValidityOverlap, k.MaxValidityOverlap)
	if k.MaxSignatureValidity == 0 {
		bad("ksk.max_signature_validity", "must be more than PT0S")
	}
	if _, ok := dns.IsDomainName(k.SignersName); !ok || k.SignersName == "" {
		bad("ksk.signers_name", "%q is not a domain name", k.SignersName)
	}
	if p.Base != "" && p.Base != BaseRoot && p.Base != BaseLegacy {
		bad("base", "%q is not %q or %q", p.Base, BaseRoot, BaseLegacy)
	}
	return errors.Join(errs...)
}
