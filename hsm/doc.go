// Package hsm holds DNSSEC Key Signing Keys in a PKCS#11 token.
//
// It talks to the module through raw github.com/miekg/pkcs11 (not
// crypto11: see docs/hsm.md for why) and offers what a KSK ceremony needs
// and nothing more:
//
//   - OpenModule loads a PKCS#11 module by path; Module.OpenToken selects a
//     token by label or serial number, never by slot number.
//   - Token.Login reads the user PIN from a PINSource (env:NAME, file:PATH
//     or prompt, never the command line) and counts failed logins itself in
//     a FailureCounter, because SoftHSM never locks a PIN.
//   - Token.GenerateKey makes a sign-only key pair (sensitive,
//     non-extractable, no decrypt/unwrap/derive) for RSASHA256, RSASHA512,
//     ECDSAP256SHA256, ECDSAP384SHA384 or ED25519.
//   - Token.FindKey finds exactly one key by label; Token.Keys lists them.
//   - Key is a crypto.Signer whose signatures github.com/miekg/dns accepts
//     in RRSIGs, each re-verified in software before it is returned.
//   - Key.DNSKEY, DS and DSSet give the records that publish the key.
//
// A Token is safe for concurrent use: each PKCS#11 operation runs on a
// session taken from a small pool, and a session is never used by two
// goroutines at once.
//
// Errors wrap sentinel errors (ErrModule, ErrTokenNotFound,
// ErrPINIncorrect, ErrPINLocked, ErrKeyNotFound, ErrKeyAmbiguous,
// ErrLabelExists, ErrMechanism, ...) to be tested with errors.Is. They name
// what was asked for (module path, token label and serial, key label) and
// never contain a PIN.
package hsm
