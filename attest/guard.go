package attest

import (
	"fmt"
	"strings"
)

// secretWords are the words that, as a component of a details key (split on
// '_', '.', '-'), mark the key as naming a secret.
var secretWords = map[string]bool{
	"pin": true, "pins": true, "puk": true,
	"passphrase": true, "passphrases": true, "password": true, "passwords": true, "passwd": true, "pass": true,
	"secret": true, "secrets": true,
	"share": true, "shares": true,
	"private": true, "privkey": true, "seed": true, "mnemonic": true,
}

// secretMarkers are substrings that, in any value, mark a secret: private
// key encodings that tools print.
var secretMarkers = []string{
	"PRIVATE KEY-----",   // PEM: RSA, EC, PKCS#8, OpenSSH
	"AGE-SECRET-KEY-",    // age identities
	"ENCRYPTED PRIVATE ", // PKCS#8 encrypted
}

// CheckDetails reports an error wrapping ErrSecret if a details key names a
// secret (a component such as pin, passphrase, password, secret, share,
// private or seed) or a value looks like a private key. The Writer calls it
// on every entry; a ceremony records that a secret was used (for example
// "credentials_accepted": "3") and never the secret itself.
func CheckDetails(details map[string]string) error {
	for k, v := range details {
		if w := secretWordIn(k); w != "" {
			return fmt.Errorf("%w: details key %q names a secret (%q); record that it was used, not its value", ErrSecret, k, w)
		}
		if err := checkValue("details "+k, v); err != nil {
			return err
		}
	}
	return nil
}

// secretWordIn returns the first component of key (split on '_', '.', '-',
// case-insensitively) that names a secret, or "".
func secretWordIn(key string) string {
	start := 0
	for i := 0; i <= len(key); i++ {
		if i < len(key) && key[i] != '_' && key[i] != '.' && key[i] != '-' {
			continue
		}
		if w := key[start:i]; secretWords[w] {
			return w
		} else if lw := strings.ToLower(w); lw != w && secretWords[lw] {
			return lw
		}
		start = i + 1
	}
	return ""
}

func checkValue(what, v string) error {
	if !strings.Contains(v, "-") {
		return nil // every marker has a '-'
	}
	for _, m := range secretMarkers {
		if strings.Contains(v, m) {
			return fmt.Errorf("%w: %s looks like a private key (contains %q)", ErrSecret, what, m)
		}
	}
	return nil
}

// checkEntry applies the secret guard to every free-text field of e.
func checkEntry(e *Entry) error {
	if err := CheckDetails(e.Details); err != nil {
		return err
	}
	if err := checkValue("step", e.Step); err != nil {
		return err
	}
	if err := checkValue("actor", e.Actor); err != nil {
		return err
	}
	for _, f := range e.Files {
		if err := checkValue("file path", f.Path); err != nil {
			return err
		}
	}
	return nil
}
