package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/internal/lineread"
	"github.com/miekg/dns"
	"github.com/spf13/cobra"
)

// dnskeyFlags shape the DNSKEY and DS records that keys commands print.
type dnskeyFlags struct {
	zone  string
	ttl   uint32
	flags uint16
}

func (d *dnskeyFlags) register(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringVar(&d.zone, "zone", hsm.DefaultDNSKEYOwner, "owner name (zone apex) of the DNSKEY and DS records")
	fs.Uint32Var(&d.ttl, "ttl", hsm.DefaultDNSKEYTTL, "TTL of the DNSKEY and DS records")
	fs.Uint16Var(&d.flags, "flags", hsm.DefaultDNSKEYFlags, "DNSKEY flags (257: KSK)")
}

func (d *dnskeyFlags) options() hsm.DNSKEYOptions {
	return hsm.DNSKEYOptions{Owner: d.zone, TTL: d.ttl, Flags: d.flags}
}

func newKeysCmd(a *app) *cobra.Command {
	var hf hsmFlags
	var df dnskeyFlags
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Generate, list, delete, back up and restore KSKs in the HSM and print their DS records",
		Long: `Manage the Key Signing Keys on a PKCS#11 token.

` + hsmFlagsHelp,
		Example: `  export KSK_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so KSK_TOKEN=ksk
  export KSK_PIN_SOURCE=file:/run/ksk/user.pin
  ksk keys generate --label ksk-2026 --algorithm RSASHA256 --bits 2048
  ksk keys list
  ksk keys ds --label ksk-2026`,
		Args: subcommandArgs,
		RunE: needSubcommand,
	}
	hf.register(cmd)
	df.register(cmd)
	cmd.AddCommand(
		newKeysGenerateCmd(a, &hf, &df),
		newKeysListCmd(a, &hf, &df),
		newKeysDeleteCmd(a, &hf, &df),
		newKeysDSCmd(a, &hf, &df),
		newKeysBackupCmd(a, &hf, &df),
		newKeysRestoreCmd(a, &hf),
		newKeysRestrictCmd(a, &hf, &df),
	)
	return cmd
}

func newKeysGenerateCmd(a *app, hf *hsmFlags, df *dnskeyFlags) *cobra.Command {
	var (
		label, algName string
		bits           int
		backupable     bool
	)
	cmd := &cobra.Command{
		Use:   "generate --label L --algorithm ALG [--bits N] [--backupable]",
		Short: "Generate a sign-only KSK in the HSM and print its DNSKEY, key tag and DS",
		Long: `Generate a key pair on the token: private, sensitive, non-extractable and
sign-only (no decrypt, unwrap or derive), with an HSM-random CKA_ID. The label
must not be in use. It prints the DNSKEY, the key tag, the SHA-256 and SHA-384
DS records, and the attributes the token reports (CKA_LOCAL,
CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE).

ALG is RSASHA256, RSASHA512 (--bits 2048, 3072 or 4096; default 2048),
ECDSAP256SHA256, ECDSAP384SHA384 or ED25519.

--backupable makes the key extractable, but only under a trusted wrapping key
(CKA_WRAP_WITH_TRUSTED), so it can later be backed up to another HSM.`,
		Example: `  ksk keys generate --label ksk-2026 --algorithm RSASHA256 --bits 2048
  ksk keys generate --label ksk-ec --algorithm ECDSAP256SHA256 -o json
  KSK_PIN_SOURCE=prompt ksk keys generate --label ksk-ed --algorithm ED25519 --backupable`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if label == "" {
				return usageErrorf("--label is required")
			}
			if algName == "" {
				return usageErrorf("--algorithm is required")
			}
			alg, err := hsm.ParseAlgorithm(algName)
			if err != nil {
				return err
			}
			s, err := hf.open(a, true)
			if err != nil {
				return err
			}
			defer s.close()
			k, err := s.tok.GenerateKey(hsm.GenerateOptions{Label: label, Algorithm: alg, Bits: bits, Backupable: backupable})
			if err != nil {
				return err
			}
			v, err := newKeyView(k, df.options())
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.writeJSON(struct {
					Token hsm.TokenInfo `json:"token"`
					Key   keyView       `json:"key"`
				}{s.tok.Info(), v})
			}
			fmt.Fprintf(a.out, "Generated key %q on %s\n", k.Label(), s.tok.Info())
			return v.writeText(a.out, true)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&label, "label", "", "CKA_LABEL of the new key (required)")
	fs.StringVar(&algName, "algorithm", "", "DNSSEC algorithm (required): RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384, ED25519")
	fs.IntVar(&bits, "bits", 0, "RSA modulus size: 2048, 3072 or 4096 (default 2048)")
	fs.BoolVar(&backupable, "backupable", false, "allow wrapping the key out under a trusted key (CKA_WRAP_WITH_TRUSTED) for backup")
	return cmd
}

func newKeysListCmd(a *app, hf *hsmFlags, df *dnskeyFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys on the token with their algorithm, key tag and attributes",
		Example: `  ksk keys list
  ksk keys list --token ksk --pin-source file:/run/ksk/user.pin -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			s, err := hf.open(a, true)
			if err != nil {
				return err
			}
			defer s.close()
			keys, err := s.tok.Keys()
			if err != nil {
				return err
			}
			views := make([]keyView, 0, len(keys))
			// A key whose attributes were changed away from sign-only
			// is listed, and then fails the command (exit 3): an
			// operator running keys list before a ceremony must not
			// miss it in a table.
			var changed []error
			for _, k := range keys {
				v, err := newKeyView(k, df.options())
				if err != nil {
					return err
				}
				if errors.Is(k.Err(), hsm.ErrKeyAttributes) {
					changed = append(changed, k.Err())
				}
				views = append(views, v)
			}
			if a.output == "json" {
				if err := a.writeJSON(struct {
					Token hsm.TokenInfo `json:"token"`
					Keys  []keyView     `json:"keys"`
				}{s.tok.Info(), views}); err != nil {
					return err
				}
				return errors.Join(changed...)
			}
			fmt.Fprintf(a.out, "%s: %d key(s)\n", s.tok.Info(), len(views))
			if len(views) == 0 {
				return nil
			}
			defer func() {
				if err == nil {
					err = errors.Join(changed...)
				}
			}()
			tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "LABEL\tALGORITHM\tBITS\tKEY TAG\tLOCAL\tNEVER_EXTRACTABLE\tEXTRACTABLE\tCKA_ID")
			for _, v := range views {
				if v.Error != "" {
					fmt.Fprintf(tw, "%s\t-\t-\t-\t%t\t%t\t%t\t%s\t(unusable: %s)\n", v.Label,
						v.Attributes.Local, v.Attributes.NeverExtractable, v.Attributes.Extractable, v.ID, v.Error)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%t\t%t\t%t\t%s\n", v.Label, v.Algorithm, v.Bits, v.KeyTag,
					v.Attributes.Local, v.Attributes.NeverExtractable, v.Attributes.Extractable, v.ID)
			}
			return tw.Flush()
		},
	}
}

func newKeysDeleteCmd(a *app, hf *hsmFlags, df *dnskeyFlags) *cobra.Command {
	var (
		label string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "delete --label L [--force]",
		Short: "Delete a key pair from the token (asks for confirmation unless --force)",
		Long: `Destroy the private key labelled L, its public key and ksk's metadata object.
This cannot be undone. Unless --force is given, ksk shows the key and asks the
operator to type its label on standard input.`,
		Example: `  ksk keys delete --label ksk-old
  ksk keys delete --label ksk-test --force -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if label == "" {
				return usageErrorf("--label is required")
			}
			s, err := hf.open(a, true)
			if err != nil {
				return err
			}
			defer s.close()
			tag := uint16(0)
			desc := fmt.Sprintf("key %q on %s", label, s.tok.Info())
			k, err := s.tok.FindKey(label)
			switch {
			case err == nil:
				if v, err := newKeyView(k, df.options()); err == nil {
					tag = v.KeyTag
					desc = fmt.Sprintf("key %q (%s, key tag %d) on %s", label, v.Algorithm, v.KeyTag, s.tok.Info())
				}
			case errors.Is(err, hsm.ErrUnsupportedKey):
				desc = fmt.Sprintf("unusable key %q on %s", label, s.tok.Info())
			default:
				return err
			}
			if !force {
				fmt.Fprintf(a.errOut, "Delete %s?\nThis cannot be undone. Type the key label to confirm: ", desc)
				line, _ := lineread.ReadLine(bufio.NewReader(a.in), 0)
				if strings.TrimRight(line, "\r\n") != label {
					fmt.Fprintln(a.errOut)
					return fmt.Errorf("%w: deletion of key %q not confirmed", errRejected, label)
				}
			}
			if err := s.tok.DeleteKey(label); err != nil {
				return err
			}
			if a.output == "json" {
				return a.writeJSON(struct {
					Deleted bool          `json:"deleted"`
					Label   string        `json:"label"`
					KeyTag  uint16        `json:"key_tag,omitempty"`
					Token   hsm.TokenInfo `json:"token"`
				}{true, label, tag, s.tok.Info()})
			}
			_, err = fmt.Fprintf(a.out, "Deleted %s\n", desc)
			return err
		},
	}
	cmd.Flags().StringVar(&label, "label", "", "CKA_LABEL of the key to delete (required)")
	cmd.Flags().BoolVar(&force, "force", false, "do not ask for confirmation")
	return cmd
}

func newKeysDSCmd(a *app, hf *hsmFlags, df *dnskeyFlags) *cobra.Command {
	var (
		label, digest, out string
		force              bool
	)
	cmd := &cobra.Command{
		Use:   "ds --label L [--digest sha256|sha384|all] [--out FILE]",
		Short: "Print the DS records (SHA-256, SHA-384) of a key",
		Example: `  ksk keys ds --label ksk-2026
  ksk keys ds --label ksk-2026 --digest sha256 --out ksk-2026.ds
  ksk keys ds --label ksk-2026 --zone example. -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if label == "" {
				return usageErrorf("--label is required")
			}
			var types []uint8
			switch strings.ToLower(digest) {
			case "sha256", "sha-256", "2":
				types = []uint8{dns.SHA256}
			case "sha384", "sha-384", "4":
				types = []uint8{dns.SHA384}
			case "all", "":
				types = []uint8{dns.SHA256, dns.SHA384}
			default:
				return usageErrorf("--digest must be sha256, sha384 or all, not %q", digest)
			}
			s, err := hf.open(a, true)
			if err != nil {
				return err
			}
			defer s.close()
			k, err := s.tok.FindKey(label)
			if err != nil {
				return err
			}
			v, err := newKeyView(k, df.options())
			if err != nil {
				return err
			}
			var keep []dsView
			for _, d := range v.DS {
				for _, t := range types {
					if d.DigestType == t {
						keep = append(keep, d)
					}
				}
			}
			v.DS = keep
			if out != "" {
				var b strings.Builder
				for _, d := range v.DS {
					fmt.Fprintln(&b, d.RR)
				}
				if err := atomicfile.Write(out, []byte(b.String()), 0o644, force); err != nil {
					if errors.Is(err, atomicfile.ErrExists) {
						return fmt.Errorf("%w: %w", errUsage, err)
					}
					return fmt.Errorf("%w: %w", errEnvironment, err)
				}
			}
			if a.output == "json" {
				return a.writeJSON(struct {
					Label  string   `json:"label"`
					KeyTag uint16   `json:"key_tag"`
					DNSKEY string   `json:"dnskey"`
					DS     []dsView `json:"ds"`
					Out    string   `json:"out,omitempty"`
				}{v.Label, v.KeyTag, v.DNSKEY, v.DS, out})
			}
			for _, d := range v.DS {
				fmt.Fprintln(a.out, d.RR)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&label, "label", "", "CKA_LABEL of the key (required)")
	fs.StringVar(&digest, "digest", "all", "DS digest: sha256, sha384 or all")
	fs.StringVar(&out, "out", "", "also write the DS records to this file (atomically)")
	fs.BoolVar(&force, "force", false, "overwrite --out if it exists")
	return cmd
}

// keyView is how keys commands show a key, in text and JSON.
type keyView struct {
	Label           string            `json:"label"`
	ID              string            `json:"id"`
	Algorithm       string            `json:"algorithm,omitempty"`
	AlgorithmNumber uint8             `json:"algorithm_number,omitempty"`
	Bits            int               `json:"bits,omitempty"`
	KeyTag          uint16            `json:"key_tag,omitempty"`
	DNSKEY          string            `json:"dnskey,omitempty"`
	DS              []dsView          `json:"ds,omitempty"`
	Attributes      hsm.KeyAttributes `json:"attributes"`
	Created         string            `json:"created,omitempty"`
	Error           string            `json:"error,omitempty"`
}

// dsView is one DS record.
type dsView struct {
	DigestType uint8  `json:"digest_type"`
	Digest     string `json:"digest"`
	RR         string `json:"rr"`
}

func newKeyView(k *hsm.Key, opts hsm.DNSKEYOptions) (keyView, error) {
	v := keyView{Label: k.Label(), ID: hex.EncodeToString(k.ID()), Attributes: k.Attributes()}
	if !k.Created().IsZero() {
		v.Created = k.Created().UTC().Format(time.RFC3339)
	}
	if err := k.Err(); err != nil {
		v.Error = err.Error()
		return v, nil
	}
	v.Algorithm, v.AlgorithmNumber, v.Bits = k.Algorithm().String(), uint8(k.Algorithm()), k.Bits()
	dk, err := k.DNSKEY(opts)
	if err != nil {
		return v, err
	}
	v.KeyTag, v.DNSKEY = dk.KeyTag(), rrString(dk)
	dss, err := hsm.DSSet(dk)
	if err != nil {
		return v, err
	}
	for _, d := range dss {
		v.DS = append(v.DS, dsView{DigestType: d.DigestType, Digest: strings.ToUpper(d.Digest), RR: rrString(d)})
	}
	return v, nil
}

// rrString renders a record on one line with single spaces.
func rrString(rr dns.RR) string {
	return strings.Join(strings.Fields(rr.String()), " ")
}

func (v keyView) writeText(w io.Writer, attrs bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Algorithm:\t%s (%d), %d bits\n", v.Algorithm, v.AlgorithmNumber, v.Bits)
	fmt.Fprintf(tw, "CKA_ID:\t%s\n", v.ID)
	fmt.Fprintf(tw, "Key tag:\t%d\n", v.KeyTag)
	fmt.Fprintf(tw, "DNSKEY:\t%s\n", v.DNSKEY)
	for _, d := range v.DS {
		name := map[uint8]string{dns.SHA256: "SHA-256", dns.SHA384: "SHA-384"}[d.DigestType]
		fmt.Fprintf(tw, "DS (%s):\t%s\n", name, d.RR)
	}
	if attrs {
		at := v.Attributes
		fmt.Fprintf(tw, "CKA_LOCAL:\t%t\n", at.Local)
		fmt.Fprintf(tw, "CKA_ALWAYS_SENSITIVE:\t%t\n", at.AlwaysSensitive)
		fmt.Fprintf(tw, "CKA_NEVER_EXTRACTABLE:\t%t\n", at.NeverExtractable)
		fmt.Fprintf(tw, "CKA_EXTRACTABLE:\t%t\n", at.Extractable)
		fmt.Fprintf(tw, "CKA_WRAP_WITH_TRUSTED:\t%t\n", at.WrapWithTrusted)
	}
	return tw.Flush()
}

func newKeysRestrictCmd(a *app, hf *hsmFlags, df *dnskeyFlags) *cobra.Command {
	var label string
	cmd := &cobra.Command{
		Use:   "restrict --label L",
		Short: "Turn off every use but signing on a key made by another tool, so ksk accepts it",
		Long: `ksk refuses a key whose attributes allow more than signing (CKA_DECRYPT,
CKA_UNWRAP, CKA_DERIVE, CKA_SIGN_RECOVER), as keys imported with
softhsm2-util --import or made by other tools often do. restrict turns
those uses off on the key labelled L (C_SetAttributeValue), which only
ever removes uses, then reads the key back and shows it. A key that is
extractable without CKA_WRAP_WITH_TRUSTED, or not sensitive, stays refused;
a key that is not modifiable cannot be changed (the token says so, exit 3).
Keys ksk generates need none of this.`,
		Example: `  ksk keys restrict --label ksk-rehearsal-1`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if label == "" {
				return usageErrorf("--label is required")
			}
			s, err := hf.open(a, true)
			if err != nil {
				return err
			}
			defer s.close()
			k, err := s.tok.RestrictToSigning(label)
			if err != nil {
				return err
			}
			v, err := newKeyView(k, df.options())
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.writeJSON(struct {
					Key keyView `json:"key"`
				}{v})
			}
			fmt.Fprintf(a.out, "Key %q is now sign-only.\n", label)
			return v.writeText(a.out, true)
		},
	}
	cmd.Flags().StringVar(&label, "label", "", "CKA_LABEL of the key (required)")
	return cmd
}
