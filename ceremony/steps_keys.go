package ceremony

import (
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/signer"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/miekg/dns"
)

// runKeygen: generate a key pair in the HSM and record its DNSKEY, key tag
// and DS; out, when given, receives the DNSKEY and DS records, or for a
// name ending in .pem the public key (SubjectPublicKeyInfo), as an
// attestation key is pinned. A key with the label that a repeated step finds is adopted, not
// made twice.
func runKeygen(r *Runner, x *stepRun) error {
	st := x.st
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	alg, _ := hsm.ParseAlgorithm(st.Algorithm)
	var key *hsm.Key
	if x.details["repeat_of_seq"] != "" {
		if k, err := tok.FindKey(st.Label); err == nil {
			key = k
			r.printf("  The interrupted run had already generated %q; it is adopted, not generated again.\n", st.Label)
			x.details["adopted"] = "true"
		}
	}
	if key == nil {
		key, err = tok.GenerateKey(hsm.GenerateOptions{Label: st.Label, Algorithm: alg, Bits: st.Bits, Backupable: st.Backupable})
		if err != nil {
			return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, st.HSM, err)
		}
		fault(x.ps.ID, "effect")
	}
	if key.Algorithm() != alg {
		return fmt.Errorf("%w: key %q is %s, the step asks for %s", ErrStepFailed, st.Label, key.Algorithm(), alg)
	}
	dk, err := key.DNSKEY(hsm.DNSKEYOptions{})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	ds, err := hsm.DS(dk, dns.SHA256)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	attrs := key.Attributes()
	x.details["label"] = st.Label
	x.details["algorithm"] = alg.String()
	x.details["key_tag"] = strconv.Itoa(int(dk.KeyTag()))
	x.details["dnskey"] = dk.String()
	x.details["ds"] = ds.String()
	x.details["backupable"] = strconv.FormatBool(st.Backupable)
	x.details["attributes"] = fmt.Sprintf("%+v", attrs)
	if fp, _, err := attest.KeyFingerprint(key.Public()); err == nil {
		x.details["public_key_sha256"] = fp.String()
	}
	r.printf("  Generated %s key %q, key tag %d\n  %s\n  %s\n", alg, st.Label, dk.KeyTag(), dk.String(), ds.String())
	if st.Out != "" {
		out := r.plan.File(st.Out)
		data := []byte(dk.String() + "\n" + ds.String() + "\n")
		if strings.HasSuffix(out, ".pem") {
			// A key that seals logs is pinned by its public key, in PEM.
			_, der, err := attest.KeyFingerprint(key.Public())
			if err != nil {
				return fmt.Errorf("%w: %w", ErrStepFailed, err)
			}
			data = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		}
		if err := atomicfile.Write(out, data, 0o644, x.details["adopted"] == "true"); err != nil {
			return fmt.Errorf("%w: %w", ErrEnvironment, err)
		}
		if err := x.addFile(r, out, attest.Written); err != nil {
			return err
		}
	}
	return nil
}

// runTrustAnchor: write the RFC 9718 trust anchor file, with DS and DNSKEY
// files beside it, for the configured KSKs, each read from the HSM and
// checked against its configured key tag and DS.
func runTrustAnchor(r *Runner, x *stepRun) error {
	st := x.st
	cfgPath := r.plan.File(st.Config)
	cfg, err := signer.LoadConfig(cfgPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	if err := x.addFile(r, cfgPath, attest.Read); err != nil {
		return err
	}
	names := st.Keys
	if len(names) == 0 {
		names = cfg.KeyNames()
	}
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	xmlPath, dsPath, keyPath := trustanchor.FilePaths(r.plan.File(st.Out))
	id, err := trustanchor.NewID()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	ta, keys, rep, err := signer.BuildTrustAnchor(cfg, names, signer.TokenKeys(tok), id, r.plan.Script.Ceremony.Name)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	if !rep.Valid() {
		return reportError("trust anchor keys", rep)
	}
	xmlData, dsData, keyData, err := trustanchor.Files(ta, cfg.Policy.KSK.TTL)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	paths := []string{xmlPath, dsPath, keyPath}
	if err := atomicfile.WriteAll(paths, [][]byte{xmlData, dsData, keyData}, 0o644, false); err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	for _, p := range paths {
		if err := x.addFile(r, p, attest.Written); err != nil {
			return err
		}
	}
	var tags []string
	for _, k := range keys {
		tags = append(tags, fmt.Sprintf("%s=%d", k.Name, k.Anchor.KeyTag))
	}
	x.details["trust_anchor_id"] = ta.ID
	x.details["keys"] = strings.Join(tags, " ")
	r.printf("  Wrote %s (id %s) with %s, and %s, %s\n", st.Out, ta.ID, strings.Join(tags, ", "), dsPath, keyPath)
	return nil
}

// runKeyDestroy: destroy a key pair in the HSM (a compromised or retired
// KSK). The log records the key's label, algorithm, key tag and public key
// hash before it is destroyed, and that it is gone after.
func runKeyDestroy(r *Runner, x *stepRun) error {
	st := x.st
	tok, err := r.token(st.HSM)
	if err != nil {
		return err
	}
	key, err := tok.FindKey(st.Label)
	if err != nil {
		if x.details["repeat_of_seq"] != "" && errors.Is(err, hsm.ErrKeyNotFound) {
			r.printf("  %q is not in the HSM: the interrupted run destroyed it.\n", st.Label)
			x.details["label"] = st.Label
			x.details["destroyed"] = "before the interruption"
			return nil
		}
		return fmt.Errorf("%w: HSM %s: %w", ErrStepFailed, st.HSM, err)
	}
	x.details["label"] = st.Label
	x.details["algorithm"] = key.Algorithm().String()
	if fp, _, err := attest.KeyFingerprint(key.Public()); err == nil {
		x.details["public_key_sha256"] = fp.String()
	}
	if dk, err := key.DNSKEY(hsm.DNSKEYOptions{}); err == nil {
		x.details["key_tag"] = strconv.Itoa(int(dk.KeyTag()))
		x.details["dnskey"] = dk.String()
	}
	if err := tok.DeleteKey(st.Label); err != nil {
		return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, st.HSM, err)
	}
	if _, err := tok.FindKey(st.Label); !errors.Is(err, hsm.ErrKeyNotFound) {
		return fmt.Errorf("%w: HSM %s: key %q is still found after its destruction (%v)", ErrEnvironment, st.HSM, st.Label, err)
	}
	x.details["destroyed"] = "true"
	r.printf("  Destroyed %s key %q (key tag %s); the HSM no longer finds it.\n", x.details["algorithm"], st.Label, x.details["key_tag"])
	return nil
}
