package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/pgpwords"
	"github.com/ksk-dev/ksk/signer"
	"github.com/ksk-dev/ksk/trustanchor"
	"github.com/spf13/cobra"
)

// trustAnchorFlags are the flags of ksk trust-anchor.
type trustAnchorFlags struct {
	config string
	out    string
	keys   []string
	id     string
	source string
	force  bool
	hsm    hsmFlags
}

// trustAnchorKey is one KeyDigest in the JSON output of ksk trust-anchor.
type trustAnchorKey struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	ID         string `json:"id"`
	KeyTag     uint16 `json:"key_tag"`
	Algorithm  uint8  `json:"algorithm"`
	DigestType uint8  `json:"digest_type"`
	Digest     string `json:"digest"`
	ValidFrom  string `json:"valid_from"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// trustAnchorResult is the JSON output of ksk trust-anchor.
type trustAnchorResult struct {
	Valid    bool             `json:"valid"`
	Findings []check.Finding  `json:"findings"`
	Written  bool             `json:"written"`
	Config   string           `json:"config"`
	Out      string           `json:"out"`
	DSFile   string           `json:"ds_file"`
	DNSKEY   string           `json:"dnskey_file"`
	ID       string           `json:"id,omitempty"`
	Source   string           `json:"source,omitempty"`
	Zone     string           `json:"zone,omitempty"`
	SHA256   string           `json:"sha256,omitempty"`
	PGPWords string           `json:"pgp_words,omitempty"`
	Keys     []trustAnchorKey `json:"keys"`
}

func newTrustAnchorCmd(a *app) *cobra.Command {
	f := &trustAnchorFlags{}
	cmd := &cobra.Command{
		Use:   "trust-anchor --config FILE --out root-anchors.xml [--keys NAME,...] [--id ID] [--source URL] [--force]",
		Short: "Write the RFC 9718 trust anchor file of the configured KSKs, checked against the HSM",
		Long: `Write the trust anchors of the KSKs a signer configuration names (all of
them, or those --keys lists) as IANA publishes the root's: an RFC 9718
root-anchors.xml with one KeyDigest per key (id, validFrom, validUntil, key
tag, algorithm, SHA-256 digest, PublicKey and Flags 257), and beside it the
same keys as DS records (<out-basename>.ds) and DNSKEY records
(<out-basename>.dnskey), in zone file format.

Each key is read from the HSM under its configured label and checked as "ksk
sign" checks it (SIGN-KSK-MATCH): the algorithm ksk recorded for it, its size
and RSA exponent, and the key tag and SHA-256 DS of its DNSKEY against the
configuration's key_tag and ds_sha256. Any mismatch is reported naming the
key, exits 1 and writes nothing.

The KeyDigest id is the key's HSM label, as IANA's and kskm's ("Klajeyz" is
KSK-2017's label); validFrom and validUntil are the key's valid_from and
valid_until. The TrustAnchor id is a fresh UUID unless --id gives one, and its
source is --source (default: the base name of --out). The zone is the
configuration's ksk_policy.signers_name ("." by default), the records' TTL its
ksk_policy.ttl.

The three files are written atomically, and none is written when any of them
exists, unless --force. The XML file is read by "ksk skr verify --anchors".

The HSM comes from the configuration's hsm section; --module, --token,
--token-serial and --pin-source override it, and $KSK_PKCS11_MODULE,
$KSK_TOKEN, $KSK_TOKEN_SERIAL and $KSK_PIN_SOURCE fill what neither gives.

` + hsmFlagsHelp + `

Exit status: 0 written, 1 a key does not match its configuration, 2 bad
flags, configuration, or an output file that exists, 3 HSM error (module,
token, PIN, key missing).`,
		Example: `  ksk trust-anchor --config ksrsigner.yaml --out root-anchors.xml
  ksk trust-anchor --config ksrsigner.yaml --keys ksk_next --out ksk-2024.xml \
      --source https://data.iana.org/root-anchors/root-anchors.xml -o json
  ksk skr verify --anchors root-anchors.xml skr-root-2026-q3-0.xml`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			return runTrustAnchor(a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "signer configuration, YAML (required)")
	fl.StringVar(&f.out, "out", "", "where to write the trust anchor file; .ds and .dnskey files go beside it (required)")
	fl.StringSliceVar(&f.keys, "keys", nil, "names of the configured keys to include (default: all)")
	fl.StringVar(&f.id, "id", "", "TrustAnchor id (default: a fresh UUID)")
	fl.StringVar(&f.source, "source", "", "TrustAnchor source, the URL the file is published at (default: the base name of --out)")
	fl.BoolVar(&f.force, "force", false, "overwrite the output files if they exist")
	f.hsm.register(cmd)
	return cmd
}

func runTrustAnchor(a *app, f *trustAnchorFlags) error {
	for _, req := range []struct{ flag, v string }{{"--config", f.config}, {"--out", f.out}} {
		if req.v == "" {
			return usageErrorf("%s is required", req.flag)
		}
	}
	xmlPath, dsPath, keyPath := trustanchor.FilePaths(f.out)
	res := &trustAnchorResult{Config: f.config, Out: xmlPath, DSFile: dsPath, DNSKEY: keyPath, Keys: []trustAnchorKey{}, Findings: []check.Finding{}}
	paths := []string{xmlPath, dsPath, keyPath}
	if !f.force {
		for _, p := range paths {
			if err := atomicfile.CheckFree(p); err != nil {
				return fmt.Errorf("%w: %w; nothing written", errUsage, err)
			}
		}
	}
	if st, err := os.Stat(filepath.Dir(xmlPath)); err != nil || !st.IsDir() {
		return usageErrorf("--out %s: directory %s does not exist", f.out, filepath.Dir(xmlPath))
	}
	cfg, err := signer.LoadConfig(f.config)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	names, err := trustAnchorKeyNames(cfg, f.keys, f.config)
	if err != nil {
		return err
	}
	id := f.id
	if id == "" {
		if id, err = trustanchor.NewID(); err != nil {
			return fmt.Errorf("%w: TrustAnchor id: %w", errEnvironment, err)
		}
	}
	source := f.source
	if source == "" {
		source = filepath.Base(xmlPath)
	}

	s, err := openSignerHSM(a, f.hsm, cfg, f.config)
	if err != nil {
		return err
	}
	defer s.close()
	ta, keys, report, err := signer.BuildTrustAnchor(cfg, names, signer.TokenKeys(s.tok), id, source)
	if err != nil {
		return err
	}
	for _, k := range keys {
		anchor := k.Anchor
		res.Keys = append(res.Keys, trustAnchorKey{Name: k.Name, Label: k.Label, ID: anchor.ID, KeyTag: anchor.KeyTag,
			Algorithm: anchor.Algorithm, DigestType: anchor.DigestType, Digest: strings.ToUpper(hex.EncodeToString(anchor.Digest)),
			ValidFrom: anchor.ValidFrom.Format(time.RFC3339), ValidUntil: formatOptionalTime(anchor.ValidUntil)})
	}
	if !report.Valid() {
		return a.trustAnchorRejected(res, report)
	}

	xmlData, dsData, keyData, err := trustanchor.Files(ta, cfg.Policy.KSK.TTL)
	if err != nil {
		return err
	}
	files := [][]byte{xmlData, dsData, keyData}
	if err := atomicfile.WriteAll(paths, files, 0o644, f.force); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	sum := sha256.Sum256(files[0])
	res.Valid, res.Written, res.Findings = true, true, report.Findings
	res.ID, res.Source, res.Zone = ta.ID, ta.Source, ta.Zone
	res.SHA256, res.PGPWords = hex.EncodeToString(sum[:]), pgpwords.String(sum[:])
	if a.output == "json" {
		return a.writeJSON(res)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Wrote trust anchors %s: id %s, source %s, zone %s, %s\n", xmlPath, ta.ID, ta.Source, ta.Zone, plural(len(ta.Anchors), "key"))
	for _, k := range res.Keys {
		until := ""
		if k.ValidUntil != "" {
			until = " until " + k.ValidUntil
		}
		fmt.Fprintf(&b, "  %s (id %s): %s IN DS %d %d %d %s, valid from %s%s\n", k.Name, k.ID, ta.Zone, k.KeyTag, k.Algorithm, k.DigestType, k.Digest, k.ValidFrom, until)
	}
	fmt.Fprintf(&b, "Wrote DS records %s and DNSKEY records %s\nSHA-256: %s\nPGP Words: %s\n", dsPath, keyPath, res.SHA256, res.PGPWords)
	_, err = fmt.Fprint(a.out, b.String())
	return err
}

// trustAnchorKeyNames returns the configured keys --keys names, in its
// order, or all of them, sorted.
func trustAnchorKeyNames(cfg *signer.Config, keys []string, config string) ([]string, error) {
	if len(keys) == 0 {
		names := cfg.KeyNames()
		if len(names) == 0 {
			return nil, usageErrorf("%s configures no keys", config)
		}
		return names, nil
	}
	seen := map[string]bool{}
	var names []string
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if _, ok := cfg.Keys[k]; !ok {
			return nil, usageErrorf("--keys: %q is not a key of %s (it has %s)", k, config, strings.Join(cfg.KeyNames(), ", "))
		}
		if !seen[k] {
			seen[k] = true
			names = append(names, k)
		}
	}
	return names, nil
}

// trustAnchorRejected reports keys that do not match their configuration:
// every finding, then a line naming the checks; nothing was written. It
// returns a silent errRejected (exit 1).
func (a *app) trustAnchorRejected(res *trustAnchorResult, rep *check.Report) error {
	res.Valid, res.Written, res.Findings = false, false, rep.Findings
	ids := strings.Join(rep.ErrorChecks(), ", ")
	if a.output == "json" {
		if err := a.writeJSON(res); err != nil {
			return err
		}
	} else {
		for _, fd := range rep.Findings {
			fmt.Fprintln(a.out, fd.String())
		}
		fmt.Fprintf(a.out, "%s: REJECTED: failed %s; nothing written (%s, %s, %s)\n", res.Config, ids, res.Out, res.DSFile, res.DNSKEY)
	}
	return silentError{fmt.Errorf("%w: checks failed: %s", errRejected, ids)}
}

func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
