package attest

import (
	"bufio"
	"bytes"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"
	"math/big"
	"path"
	"strings"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// WitnessNamespace is the SSH signature namespace of witness signatures
// (ssh-keygen -Y sign -n ksk-attestation).
const WitnessNamespace = "ksk-attestation"

// WitnessMessage returns the bytes a witness signs for head: the head in
// lower-case hex and a newline, as `echo HEAD` prints it, so that
//
//	echo HEAD | ssh-keygen -Y sign -n ksk-attestation -f KEY
//	echo HEAD | ssh-keygen -Y verify -f allowed_signers -I NAME -n ksk-attestation -s SIG
//
// make and check the same signature.
func WitnessMessage(head Hash) []byte { return []byte(head.String() + "\n") }

// validWitnessName reports whether name can be an allowed_signers principal.
func validWitnessName(name string) error {
	if name == "" || len(name) > 256 || strings.ContainsAny(name, " \t\r\n,\"*?!") {
		return fmt.Errorf("witness name %q: want 1-256 characters without white space, commas, quotes or wildcards", name)
	}
	return nil
}

// signWitness makes the witness record of name's SSH signature over head.
func signWitness(name string, signer ssh.Signer, head Hash) (*Witness, error) {
	if err := validWitnessName(name); err != nil {
		return nil, err
	}
	sig, err := sshsig.Sign(bytes.NewReader(WitnessMessage(head)), signer, sshsig.HashSHA512, WitnessNamespace)
	if err != nil {
		return nil, fmt.Errorf("SSH-sign head: %w", err)
	}
	return newWitness(name, signer.PublicKey(), sshsig.Armor(sig), head)
}

// newWitness checks an armored SSH signature by pub over head and returns
// the witness record.
func newWitness(name string, pub ssh.PublicKey, armored []byte, head Hash) (*Witness, error) {
	if err := validWitnessName(name); err != nil {
		return nil, err
	}
	sig, err := sshsig.Unarmor(armored)
	if err != nil {
		return nil, fmt.Errorf("%w: parse SSH signature: %w", ErrBadSignature, err)
	}
	w := &Witness{
		Head:           head,
		KeyFingerprint: ssh.FingerprintSHA256(pub),
		Name:           name,
		PublicKey:      strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
		Signature:      string(sshsig.Armor(sig)),
	}
	if err := verifyWitnessSignature(w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return w, nil
}

// verifyWitnessSignature checks w's fingerprint and SSH signature and
// returns the parsed public key.
func verifyWitnessSignature(w *Witness) error {
	_, err := parseWitnessKey(w)
	return err
}

func parseWitnessKey(w *Witness) (ssh.PublicKey, error) {
	pub, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(w.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("public_key: %w", err)
	}
	if len(rest) != 0 || strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) != w.PublicKey {
		return nil, errors.New(`public_key is not a single key in the form "TYPE BASE64"`)
	}
	if fp := ssh.FingerprintSHA256(pub); fp != w.KeyFingerprint {
		return nil, fmt.Errorf("key_fingerprint %s is not the public key's %s", w.KeyFingerprint, fp)
	}
	sig, err := sshsig.Unarmor([]byte(w.Signature))
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	if string(sshsig.Armor(sig)) != w.Signature {
		return nil, errors.New("signature is not in its one canonical armored form (as ksk writes it): re-wrapped, padded, or with other bytes around it")
	}
	if err := checkSSHLowS(sig.Signature); err != nil {
		return nil, err
	}
	if err := sshsig.Verify(bytes.NewReader(WitnessMessage(w.Head)), sig, pub, sig.HashAlgorithm, WitnessNamespace); err != nil {
		return nil, fmt.Errorf("SSH signature by %s over head %s (namespace %s) does not verify: %w", w.KeyFingerprint, w.Head, WitnessNamespace, err)
	}
	return pub, nil
}

// sshECDSACurves maps the SSH signature formats of ECDSA keys (plain and
// FIDO) to their curves.
var sshECDSACurves = map[string]elliptic.Curve{
	ssh.KeyAlgoECDSA256:   elliptic.P256(),
	ssh.KeyAlgoECDSA384:   elliptic.P384(),
	ssh.KeyAlgoECDSA521:   elliptic.P521(),
	ssh.KeyAlgoSKECDSA256: elliptic.P256(),
}

// checkSSHLowS refuses an SSH ECDSA signature whose S is above N/2 or whose
// integers are not minimally encoded: like a seal, a witness signature has
// one form, so that one witnessed content has one head.
func checkSSHLowS(sig *ssh.Signature) error {
	curve, ok := sshECDSACurves[sig.Format]
	if !ok {
		return nil
	}
	var v struct {
		R, S *big.Int
		Rest []byte `ssh:"rest"`
	}
	if err := ssh.Unmarshal(sig.Blob, &v); err != nil || len(v.Rest) != 0 {
		return fmt.Errorf("%s signature blob is not two integers", sig.Format)
	}
	if !bytes.Equal(ssh.Marshal(struct{ R, S *big.Int }{v.R, v.S}), sig.Blob) {
		return fmt.Errorf("%s signature integers are not minimally encoded", sig.Format)
	}
	if v.S.Sign() <= 0 || v.S.Cmp(new(big.Int).Rsh(curve.Params().N, 1)) > 0 {
		return fmt.Errorf("%s signature has a high S (above N/2): ssh-keygen writes the low-S form, so this one was altered", sig.Format)
	}
	return nil
}

// witness checks a witness entry during Verify.
func (v *verifier) witness(e *Entry) error {
	w := e.Witness
	signedSeq := v.witnessHeadSeq
	if w.Head == e.Prev {
		signedSeq = e.Seq - 1
	}
	if w.Head != e.Prev && w.Head != v.res.WitnessHead {
		return v.fail(e.Seq, v.line, CheckWitness, ErrBadSignature,
			"witness %s signs head %s, which is neither the head it follows (%s) nor the head the witnesses before it signed", w.Name, w.Head, e.Prev)
	}
	pub, err := parseWitnessKey(w)
	if err != nil {
		return v.fail(e.Seq, v.line, CheckWitness, ErrBadSignature, "witness %s: %v", w.Name, err)
	}
	if v.opts.AllowedSigners != nil {
		i := matchAllowed(v.opts.AllowedSigners, w.Name, pub)
		if i < 0 {
			return v.fail(e.Seq, v.line, CheckWitnessKey, ErrUnknownKey, "witness %s signed with key %s, which the allowed signers do not list for that name", w.Name, w.KeyFingerprint)
		}
		v.covered[i] = max(v.covered[i], signedSeq)
	}
	v.res.WitnessCount++
	if len(v.res.Witnesses) < maxListed {
		v.res.Witnesses = append(v.res.Witnesses, WitnessInfo{Seq: e.Seq, Line: v.line, Name: w.Name, Head: w.Head, KeyFingerprint: w.KeyFingerprint})
	}
	return nil
}

// AllowedSigner is one line of an OpenSSH allowed_signers file (see
// ssh-keygen(1), ALLOWED SIGNERS).
type AllowedSigner struct {
	Principals string        // comma-separated patterns (* and ? wildcards)
	Namespaces string        // the namespaces="..." option, empty if none
	Key        ssh.PublicKey // the signer's key
}

// Fingerprint returns the key's "SHA256:..." fingerprint.
func (a AllowedSigner) Fingerprint() string { return ssh.FingerprintSHA256(a.Key) }

// ParseAllowedSigners reads an allowed_signers file: lines of
// "principals [options] keytype base64 [comment]"; blank lines and lines
// starting with # are skipped. cert-authority lines are refused.
func ParseAllowedSigners(r io.Reader) ([]AllowedSigner, error) {
	var out []AllowedSigner
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var principals, rest string
		if strings.HasPrefix(line, `"`) {
			end := strings.Index(line[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("allowed signers line %d: unterminated quote", n)
			}
			principals, rest = line[1:1+end], line[2+end:]
		} else {
			i := strings.IndexAny(line, " \t")
			if i < 0 {
				return nil, fmt.Errorf("allowed signers line %d: no key", n)
			}
			principals, rest = line[:i], line[i:]
		}
		pub, _, options, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(rest)))
		if err != nil {
			return nil, fmt.Errorf("allowed signers line %d: %w", n, err)
		}
		a := AllowedSigner{Principals: principals, Key: pub}
		for _, o := range options {
			name, val, _ := strings.Cut(o, "=")
			switch strings.ToLower(name) {
			case "namespaces":
				a.Namespaces = strings.Trim(val, `"`)
			case "cert-authority":
				return nil, fmt.Errorf("allowed signers line %d: cert-authority is not supported", n)
			}
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read allowed signers: %w", err)
	}
	return out, nil
}

// matchAllowed returns the index of the allowed signer with key pub whose
// principals match name and whose namespaces (if any) include the witness
// namespace, or -1.
func matchAllowed(list []AllowedSigner, name string, pub ssh.PublicKey) int {
	want := pub.Marshal()
	for i, a := range list {
		if !bytes.Equal(a.Key.Marshal(), want) {
			continue
		}
		if a.Namespaces != "" && !matchList(a.Namespaces, WitnessNamespace) {
			continue
		}
		if matchList(a.Principals, name) {
			return i
		}
	}
	return -1
}

func matchList(patterns, s string) bool {
	for _, p := range strings.Split(patterns, ",") {
		if ok, err := path.Match(strings.TrimSpace(p), s); err == nil && ok {
			return true
		}
	}
	return false
}
