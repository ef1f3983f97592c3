// Package policy holds the KSK operator's policy: what a Key Signing Request
// must satisfy before ksk signs it (the request section), what an SKR must
// satisfy when ksk verifies one (the response section), and the KSK's own
// signature limits (the ksk section).
//
// The YAML file mirrors IANA's kskm configuration (request_policy,
// response_policy and ksk_policy of ksrsigner.yaml) under the keys request,
// response and ksk, with the same field names, so that an operator familiar
// with kskm recognises every switch. Unknown keys are rejected, durations are
// ISO 8601 (P21D, PT1S) without months or years, and every error names the
// YAML path and line.
//
// Default returns today's DNS root zone policy; Legacy returns a documented
// policy that accepts the root zone's 2009-2016 KSRs (RSA-1024 ZSKs, policies
// claiming exponent 3, six-bundle pre-launch requests, bundles ending at
// 23:59:59). A file may start from either with "base: root" or
// "base: legacy"; keys it leaves out keep the base's value.
//
// A boolean switch set to false does not silence its check: the check still
// runs and its findings are reported as warnings, which do not reject the
// input. kskm instead skips a disabled check and logs that it did.
package policy
