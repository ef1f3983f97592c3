package policy

import (
	"strconv"

	"github.com/miekg/dns"
)

// algorithmNames maps the DNSSEC algorithm mnemonics of the IANA registry,
// as kskm's approved_algorithms names them, to their numbers.
var algorithmNames = map[string]uint8{
	"RSAMD5":             dns.RSAMD5,
	"DSA":                dns.DSA,
	"RSASHA1":            dns.RSASHA1,
	"DSA_NSEC3_SHA1":     dns.DSANSEC3SHA1,
	"RSASHA1_NSEC3_SHA1": dns.RSASHA1NSEC3SHA1,
	"RSASHA256":          dns.RSASHA256,
	"RSASHA512":          dns.RSASHA512,
	"ECC_GOST":           dns.ECCGOST,
	"ECDSAP256SHA256":    dns.ECDSAP256SHA256,
	"ECDSAP384SHA384":    dns.ECDSAP384SHA384,
	"ED25519":            dns.ED25519,
	"ED448":              dns.ED448,
}

// AlgorithmNumber returns the number of the DNSSEC algorithm mnemonic name
// ("RSASHA256" is 8). kskm's spellings with underscores are used; the
// registry's hyphenated spellings ("DSA-NSEC3-SHA1") are accepted too.
func AlgorithmNumber(name string) (uint8, bool) {
	if n, ok := algorithmNames[name]; ok {
		return n, true
	}
	for k, n := range algorithmNames {
		if dns.AlgorithmToString[n] == name || k == name {
			return n, true
		}
	}
	return 0, false
}

// AlgorithmName returns the mnemonic of algorithm number n, or "ALG<n>".
func AlgorithmName(n uint8) string {
	for k, v := range algorithmNames {
		if v == n {
			return k
		}
	}
	return "ALG" + strconv.Itoa(int(n))
}

// DeprecatedAlgorithm reports whether a ZSK must not use algorithm n: the
// algorithms RFC 8624 says MUST NOT be used for signing (RSAMD5, DSA,
// DSA-NSEC3-SHA1, ECC-GOST: kskm's DEPRECATED_ALGORITHMS) and the SHA-1
// algorithms that RFC 8624 marks NOT RECOMMENDED and RFC 9905 deprecates
// (RSASHA1, RSASHA1-NSEC3-SHA1), which kskm leaves out of that list.
func DeprecatedAlgorithm(n uint8) bool {
	switch n {
	case dns.RSAMD5, dns.DSA, dns.RSASHA1, dns.DSANSEC3SHA1, dns.RSASHA1NSEC3SHA1, dns.ECCGOST:
		return true
	}
	return false
}

// SupportedAlgorithm reports whether ksk can verify and check keys of
// algorithm n: RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384
// (kskm's SUPPORTED_ALGORITHMS) and ED25519.
func SupportedAlgorithm(n uint8) bool {
	switch n {
	case dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// IsRSA reports whether algorithm n is an RSA algorithm.
func IsRSA(n uint8) bool {
	switch n {
	case dns.RSAMD5, dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		return true
	}
	return false
}

// IsECDSA reports whether algorithm n is an ECDSA algorithm.
func IsECDSA(n uint8) bool { return n == dns.ECDSAP256SHA256 || n == dns.ECDSAP384SHA384 }

// ApprovedAlgorithmNumbers returns the numbers of the request section's
// approved algorithms; names that are not known are left out (Validate
// rejects them).
func (p *Policy) ApprovedAlgorithmNumbers() []uint8 {
	var out []uint8
	for _, name := range p.Request.ApprovedAlgorithms {
		if n, ok := AlgorithmNumber(name); ok {
			out = append(out, n)
		}
	}
	return out
}
