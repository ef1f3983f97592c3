// Package backup backs a KSK up from one HSM and restores it into another
// under a recovery quorum.
//
// Create wraps a key that was generated backup-able (hsm.GenerateOptions.
// Backupable) with CKM_AES_KEY_WRAP_PAD (RFC 5649) under a fresh AES-256
// key-encryption key (KEK) drawn from the token's random number generator.
// The KEK exists in the clear only in ksk's memory, for as long as it takes
// to import it into the token as a trusted, wrap-only session object and
// to split it M-of-N among recovery key share holders with package quorum;
// then it is wiped. The backup File holds the wrapped key, the public key,
// DNSKEY, key tag and DS, the roster and split the KEK was shared under, a
// commitment to the KEK, a reference signature by the key and a MAC keyed
// from the KEK over all of it.
//
// Restore reconstructs the KEK from M credentials (quorum.Roster.Combine),
// checks that they are this backup's, that the commitment and the MAC hold,
// imports the KEK into the target token as an unwrap-only session object,
// unwraps the key as a non-extractable, sensitive, sign-only token object,
// recreates its public key and ksk metadata objects, destroys the KEK and
// proves the restored key: the same DNSKEY and key tag, and a reference
// signature byte-identical to the backup's (RSA, Ed25519) or verifying
// with the backup's public key (ECDSA). A restore that fails after the
// unwrap destroys everything it created.
//
// The token is reached through the Source and Target interfaces, so that
// every error path can be tested without an HSM; NewHSMSource and
// NewHSMTarget adapt an *hsm.Token. See docs/backup.md.
package backup
