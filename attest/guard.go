package attest

import (
	"fmt"
	"strconv"
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

// isControl reports whether r may not appear in a logged value: a C0 or C1
// control character or DEL (ESC among them, which a terminal obeys), a
// line or paragraph separator, or a bidirectional formatting character
// (which reorders what a reader sees, "Trojan Source").
func isControl(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x2028, r == 0x2029, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// controlIn returns the first control character in s and true, or false.
func controlIn(s string) (rune, bool) {
	for _, r := range s {
		if isControl(r) {
			return r, true
		}
	}
	return 0, false
}

// CheckText reports an error wrapping ErrControl if s holds a character
// that a log may not carry (see Sanitize); what names the value.
func CheckText(what, s string) error {
	if r, ok := controlIn(s); ok {
		return fmt.Errorf("%w: %s holds %U (%s); escape it with attest.Sanitize before logging", ErrControl, what, r, strconv.QuoteRune(r))
	}
	return nil
}

// Sanitize returns s with every character that a log may not carry (C0
// and C1 controls, DEL, line separators, bidirectional formatting
// characters) replaced by its Go escape (\n, \x1b, \u202e), so that an
// error message or a script title can be logged and reads unambiguously.
func Sanitize(s string) string {
	if _, ok := controlIn(s); !ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkControl refuses control characters in every free-text field of e.
// The armored witness signature, whose newlines are its form, is checked
// for canonical form elsewhere.
func checkControl(e *Entry) error {
	if err := CheckText("step", e.Step); err != nil {
		return err
	}
	if err := CheckText("actor", e.Actor); err != nil {
		return err
	}
	for k, v := range e.Details {
		if err := CheckText("details "+k, v); err != nil {
			return err
		}
	}
	for _, f := range e.Files {
		if err := CheckText("file path", f.Path); err != nil {
			return err
		}
	}
	if w := e.Witness; w != nil {
		for _, s := range []string{w.Name, w.KeyFingerprint, w.PublicKey} {
			if err := CheckText("witness", s); err != nil {
				return err
			}
		}
	}
	if s := e.Seal; s != nil {
		if err := CheckText("seal alg", s.Alg); err != nil {
			return err
		}
	}
	return nil
}
