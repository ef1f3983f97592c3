package hsm

import (
	"crypto"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Algorithm is a DNSSEC algorithm number (IANA registry, RFC 8624).
type Algorithm uint8

// The DNSSEC algorithms ksk can generate, hold and sign with.
const (
	RSASHA256       Algorithm = Algorithm(dns.RSASHA256)       // 8
	RSASHA512       Algorithm = Algorithm(dns.RSASHA512)       // 10
	ECDSAP256SHA256 Algorithm = Algorithm(dns.ECDSAP256SHA256) // 13
	ECDSAP384SHA384 Algorithm = Algorithm(dns.ECDSAP384SHA384) // 14
	ED25519         Algorithm = Algorithm(dns.ED25519)         // 15
)

// Algorithms returns the supported algorithms in registry order.
func Algorithms() []Algorithm {
	return []Algorithm{RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384, ED25519}
}

// RSABits are the RSA modulus sizes GenerateKey accepts.
var RSABits = []int{2048, 3072, 4096}

// DefaultRSABits is the modulus size used when none is given.
const DefaultRSABits = 2048

// String returns the mnemonic, e.g. "ECDSAP256SHA256", or the number.
func (a Algorithm) String() string {
	if s, ok := dns.AlgorithmToString[uint8(a)]; ok {
		return s
	}
	return strconv.Itoa(int(a))
}

// Supported reports whether ksk handles the algorithm.
func (a Algorithm) Supported() bool {
	switch a {
	case RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384, ED25519:
		return true
	}
	return false
}

// IsRSA reports whether the algorithm uses RSA keys.
func (a Algorithm) IsRSA() bool { return a == RSASHA256 || a == RSASHA512 }

// Hash returns the hash the algorithm signs, or 0 for pure Ed25519.
func (a Algorithm) Hash() crypto.Hash {
	switch a {
	case RSASHA256, ECDSAP256SHA256:
		return crypto.SHA256
	case RSASHA512:
		return crypto.SHA512
	case ECDSAP384SHA384:
		return crypto.SHA384
	}
	return 0
}

// ParseAlgorithm accepts a mnemonic (case-insensitive, e.g. "rsasha256",
// "ED25519") or a number ("13").
func ParseAlgorithm(s string) (Algorithm, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		if a := Algorithm(n); a.Supported() {
			return a, nil
		}
	}
	for _, a := range Algorithms() {
		if strings.EqualFold(s, a.String()) {
			return a, nil
		}
	}
	return 0, invalidf("unknown or unsupported algorithm %q (want one of %s)", s, algorithmNames())
}

func algorithmNames() string {
	names := make([]string, 0, 5)
	for _, a := range Algorithms() {
		names = append(names, a.String())
	}
	return strings.Join(names, ", ")
}
