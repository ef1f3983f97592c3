package ksr

import "github.com/ksk-dev/ksk/internal/strictxml"

// The element vocabulary of IANA's KSR/SKR format, as kskm reads it. Every
// element's content depends only on its own name.

var (
	policySpec = &strictxml.Spec{Children: []strictxml.Child{
		{Name: "PublishSafety", Min: 1, Max: 1},
		{Name: "RetireSafety", Min: 1, Max: 1},
		{Name: "MaxSignatureValidity", Min: 1, Max: 1},
		{Name: "MinSignatureValidity", Min: 1, Max: 1},
		{Name: "MaxValidityOverlap", Min: 1, Max: 1},
		{Name: "MinValidityOverlap", Min: 1, Max: 1},
		{Name: "SignatureAlgorithm", Min: 1, Max: -1},
	}}
	responseBundleChildren = []strictxml.Child{
		{Name: "Inception", Min: 1, Max: 1},
		{Name: "Expiration", Min: 1, Max: 1},
		{Name: "Key", Min: 1, Max: -1},
		{Name: "Signature", Min: 0, Max: -1},
	}
	requestBundleChildren = append(append([]strictxml.Child{}, responseBundleChildren...),
		strictxml.Child{Name: "Signer", Min: 0, Max: -1})
)

// schema is the KSR/SKR format.
var schema = &strictxml.Schema{
	Root: "KSR",
	Elements: map[string]*strictxml.Spec{
		"KSR": {
			Children: []strictxml.Child{{Name: "Request", Min: 0, Max: 1}, {Name: "Response", Min: 0, Max: 1}},
			Required: []string{"id", "domain", "serial"},
			Optional: []string{"timestamp"},
		},
		"Request":        {Children: []strictxml.Child{{Name: "RequestPolicy", Min: 1, Max: 1}, {Name: "RequestBundle", Min: 0, Max: -1}}},
		"RequestPolicy":  {Children: []strictxml.Child{{Name: "ZSK", Min: 1, Max: 1}}},
		"Response":       {Children: []strictxml.Child{{Name: "ResponsePolicy", Min: 1, Max: 1}, {Name: "ResponseBundle", Min: 0, Max: -1}}},
		"ResponsePolicy": {Children: []strictxml.Child{{Name: "KSK", Min: 1, Max: 1}, {Name: "ZSK", Min: 1, Max: 1}}},
		"KSK":            policySpec,
		"ZSK":            policySpec,
		"SignatureAlgorithm": {
			Children: []strictxml.Child{{Name: familyRSA, Min: 0, Max: 1}, {Name: familyECDSA, Min: 0, Max: 1}, {Name: familyEdDSA, Min: 0, Max: 1}},
			Required: []string{"algorithm"},
		},
		familyRSA:        {Empty: true, Required: []string{"size", "exponent"}},
		familyECDSA:      {Empty: true, Required: []string{"size"}},
		familyEdDSA:      {Empty: true, Required: []string{"size"}},
		"RequestBundle":  {Children: requestBundleChildren, Required: []string{"id"}},
		"ResponseBundle": {Children: responseBundleChildren, Required: []string{"id"}},
		"Signer":         {Empty: true, Required: []string{"keyIdentifier"}},
		"Key": {
			Children: []strictxml.Child{
				{Name: "TTL", Min: 1, Max: 1}, {Name: "Flags", Min: 1, Max: 1}, {Name: "Protocol", Min: 1, Max: 1},
				{Name: "Algorithm", Min: 1, Max: 1}, {Name: "PublicKey", Min: 1, Max: 1},
			},
			Required: []string{"keyIdentifier", "keyTag"},
		},
		"Signature": {
			Children: []strictxml.Child{
				{Name: "TTL", Min: 1, Max: 1}, {Name: "TypeCovered", Min: 1, Max: 1}, {Name: "Algorithm", Min: 1, Max: 1},
				{Name: "Labels", Min: 1, Max: 1}, {Name: "OriginalTTL", Min: 1, Max: 1},
				{Name: "SignatureExpiration", Min: 1, Max: 1}, {Name: "SignatureInception", Min: 1, Max: 1},
				{Name: "KeyTag", Min: 1, Max: 1}, {Name: "SignersName", Min: 1, Max: 1}, {Name: "SignatureData", Min: 1, Max: 1},
			},
			Required: []string{"keyIdentifier"},
		},
	},
}

// Algorithm families, named by the policy element that gives their key size.
const (
	familyRSA   = "RSA"
	familyECDSA = "ECDSA"
	familyEdDSA = "EdDSA"
)
