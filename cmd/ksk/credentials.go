package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/internal/yamlpath"
	"github.com/ksk-dev/ksk/quorum"
	"github.com/spf13/cobra"
)

// classifyQuorumError maps the quorum package's errors to exit codes: a
// credential set that does not reach the quorum is rejected input (1), a
// bad roster or argument is a usage or configuration error (2).
func classifyQuorumError(err error) int {
	switch {
	case errors.Is(err, quorum.ErrQuorumNotMet), errors.Is(err, quorum.ErrAltered):
		return exitRejected
	case errors.Is(err, quorum.ErrInvalidRoster), errors.Is(err, quorum.ErrInvalidArgument):
		return exitUsage
	}
	return 0
}

func newCredentialsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credentials",
		Short: "Issue and check M-of-N crypto officer credentials",
		Long: `A credential holds one holder's share of an activation secret (the HSM
PIN), split M-of-N with Shamir's scheme, encrypted to the holder's
passphrase with age and bound to the roster and to the split. M distinct
valid credentials reconstruct the secret in memory; see docs/quorum.md.`,
		Example: `  ksk credentials issue --roster roster.yaml --secret-source prompt --out-dir creds/
  ksk credentials check --roster roster.yaml --passphrase-source creds/k.co1.age=prompt creds/k.co1.age`,
		Args: subcommandArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newCredentialsIssueCmd(a), newCredentialsCheckCmd(a))
	return cmd
}

// readRoster loads a roster file; any problem is a usage error (exit 2).
func readRoster(path string) (*quorum.RosterFile, error) {
	if path == "" {
		return nil, usageErrorf("--roster is required")
	}
	data, err := yamlpath.ReadFile(path, quorum.MaxRosterFileSize, errUsage)
	if err != nil {
		return nil, fmt.Errorf("%w: roster %s: %w", errUsage, path, err)
	}
	f, err := quorum.ParseRosterFile(data)
	if err != nil {
		return nil, fmt.Errorf("%w: roster %s: %w", errUsage, path, err)
	}
	return f, nil
}

// parseSource parses a secret source; what names it in errors.
func parseSource(spec, what string) (hsm.PINSource, error) {
	src, err := hsm.ParsePINSource(spec)
	if err != nil {
		return src, fmt.Errorf("%w: %s: %w", errUsage, what, err)
	}
	return src, nil
}

func newCredentialsIssueCmd(a *app) *cobra.Command {
	var (
		rosterPath, secretSource, outDir string
		force                            bool
		workFactor                       int
	)
	cmd := &cobra.Command{
		Use:   "issue --roster ROSTER.yaml --secret-source SRC --out-dir DIR",
		Short: "Split a secret M-of-N into one passphrase-encrypted credential file per holder",
		Long: `Read the secret (for example the HSM user PIN) from --secret-source
(env:NAME, file:PATH or prompt; never the command line), split it M-of-N
among the roster's holders and write one ASCII-armored age file per holder,
encrypted to the passphrase read from that holder's passphrase_source, to
DIR/ROSTER-ID.HOLDER.age (mode 0600). A holder with protection: possession
gets an unencrypted PEM file instead, to be sealed in a numbered
tamper-evident bag in the holder's safe deposit box (docs/quorum.md).
Prints each file's SHA-256 for the ceremony script's roster. Existing files
are kept unless --force.

Roster file:
  id: keygen-2026-1
  m: 3
  n: 7
  holders:
    - name: co1
      role: crypto-officer          # or recovery-key-share-holder
      passphrase_source: prompt     # or env:NAME, file:PATH
    - name: co2
      role: crypto-officer
      protection: possession        # sealed in a bag; no passphrase`,
		Example: `  ksk credentials issue --roster roster.yaml --secret-source prompt --out-dir creds/
  ksk credentials issue --roster roster.yaml --secret-source env:KSK_PIN --out-dir creds/ -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rf, err := readRoster(rosterPath)
			if err != nil {
				return err
			}
			if outDir == "" {
				return usageErrorf("--out-dir is required")
			}
			if secretSource == "" {
				return usageErrorf("--secret-source is required")
			}
			if workFactor < 10 || workFactor > quorum.MaxWorkFactor {
				return usageErrorf("--scrypt-work-factor must be between 10 and %d (what a ceremony accepts when it opens a credential)", quorum.MaxWorkFactor)
			}
			secretSrc, err := parseSource(secretSource, "--secret-source")
			if err != nil {
				return err
			}
			passSrc, err := holderPassphraseSources(rf, rosterPath)
			if err != nil {
				return err
			}
			roster := rf.Roster()
			if err := os.MkdirAll(outDir, 0o700); err != nil {
				return fmt.Errorf("%w: --out-dir: %w", errEnvironment, err)
			}
			paths := make([]string, len(roster.Holders))
			for i, h := range roster.Holders {
				paths[i] = filepath.Join(outDir, h.CredentialFileName(roster.ID))
				if _, err := os.Lstat(paths[i]); err == nil && !force {
					return fmt.Errorf("%w: %s: %w; nothing written (use --force)", errUsage, paths[i], atomicfile.ErrExists)
				}
			}

			// age takes a passphrase as a string: see docs/quorum.md on
			// what wiping can and cannot do.
			secret, err := secretSrc.Read(a.prompter(), "the secret to split")
			if err != nil {
				return err
			}
			defer clear(secret)
			passphrases, err := a.readHolderPassphrases(rf, passSrc, "")
			defer wipePassphrases(passphrases)
			if err != nil {
				return err
			}
			creds, err := quorum.Issue(secret, roster, passphrases, &quorum.IssueOptions{WorkFactor: workFactor})
			if err != nil {
				return err
			}
			for i, c := range creds {
				if err := atomicfile.Write(paths[i], c.File, 0o600, force); err != nil {
					if errors.Is(err, atomicfile.ErrExists) {
						return fmt.Errorf("%w: %w", errUsage, err)
					}
					return fmt.Errorf("%w: %w", errEnvironment, err)
				}
			}
			m := quorum.NewManifest(roster, creds, paths)
			if a.output == "json" {
				return a.writeJSON(m)
			}
			fmt.Fprintf(a.out, "Roster %s: %d of %d, digest %s\n", m.RosterID, m.M, m.N, m.RosterDigest)
			for _, c := range m.Credentials {
				fmt.Fprintf(a.out, "  %d %s (%s) %s\n    SHA-256: %s\n", c.Index, c.Holder, c.Role, c.File, c.SHA256)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&rosterPath, "roster", "", "roster YAML file: id, m, n and holders (name, role, passphrase_source)")
	fs.StringVar(&secretSource, "secret-source", "", "where the secret to split is read: env:NAME, file:PATH or prompt")
	fs.StringVar(&outDir, "out-dir", "", "directory the credential files are written to")
	fs.BoolVar(&force, "force", false, "overwrite existing credential files")
	fs.IntVar(&workFactor, "scrypt-work-factor", quorum.DefaultWorkFactor, "scrypt work factor (log2 N) of the passphrase encryption; lower only in tests")
	return cmd
}

// checkFinding is one finding of `ksk credentials check -o json`.
type checkFinding struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Where    string `json:"where"`
}

func newCredentialsCheckCmd(a *app) *cobra.Command {
	var (
		rosterPath, manifestPath string
		sources                  []string
	)
	cmd := &cobra.Command{
		Use:   "check --roster ROSTER.yaml [--manifest credentials.json] [--passphrase-source FILE=SRC]... FILE...",
		Short: "Check which credentials are valid and whether they reach the quorum",
		Long: `Open each credential FILE with its passphrase (--passphrase-source
FILE=SRC, SRC being env:NAME, file:PATH or prompt; prompt when not given),
and report which credentials count toward the roster's quorum and why the
others do not (duplicate, unknown-holder, altered, wrong-passphrase,
other-split). The secret is reconstructed in memory to check it against
the split's commitment, then wiped; it is never printed.

With --manifest (the JSON that credentials issue -o json printed), a file
whose SHA-256 is not in the manifest is reported not-pinned and is not
decrypted. A credential whose scrypt work factor is above the highest ksk
issues is refused from its header, before any scrypt work.

Exit status 0 when the quorum is met, 1 when it is not.`,
		Example: `  ksk credentials check --roster roster.yaml creds/k.co1.age creds/k.co2.age creds/k.co3.age
  ksk credentials check --roster roster.yaml --passphrase-source creds/k.co1.age=env:CO1 creds/k.co1.age -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			rf, err := readRoster(rosterPath)
			if err != nil {
				return err
			}
			roster := rf.Roster()
			srcs, err := passphraseFlags(files, sources, "files to check")
			if err != nil {
				return err
			}
			var opts quorum.OpenOptions
			if manifestPath != "" {
				data, err := yamlpath.ReadFile(manifestPath, quorum.MaxManifestSize, errUsage)
				if err != nil {
					return fmt.Errorf("%w: manifest %s: %w", errUsage, manifestPath, err)
				}
				m, err := quorum.ParseManifest(data, roster)
				if err != nil {
					return fmt.Errorf("%w: manifest %s: %w", errUsage, manifestPath, err)
				}
				opts.Pinned = m.Pins()
			}
			opened, err := a.openCredentials(files, srcs, opts)
			defer wipeCredentials(opened)
			if err != nil {
				return err
			}
			secret, res, err := roster.Combine(opened)
			clear(secret)
			if err != nil && !errors.Is(err, quorum.ErrQuorumNotMet) && !errors.Is(err, quorum.ErrAltered) {
				return err
			}
			if werr := writeCheckResult(a, res, err); werr != nil {
				return werr
			}
			if err != nil {
				return silentError{fmt.Errorf("%w: %w", errRejected, err)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rosterPath, "roster", "", "roster YAML file the credentials were issued for")
	cmd.Flags().StringVar(&manifestPath, "manifest", "", "credentials manifest (credentials issue -o json): only the files it lists are decrypted")
	cmd.Flags().StringArrayVar(&sources, "passphrase-source", nil, "FILE=SRC: where FILE's passphrase is read (env:NAME, file:PATH or prompt); repeatable")
	return cmd
}

// holderPassphraseSources parses the passphrase_source of each holder of a
// roster file; a possession holder has none (its source stays zero).
func holderPassphraseSources(rf *quorum.RosterFile, rosterPath string) ([]hsm.PINSource, error) {
	srcs := make([]hsm.PINSource, len(rf.Holders))
	for i, h := range rf.Holders {
		if h.Protection.IsPossession() {
			continue
		}
		var err error
		if srcs[i], err = parseSource(h.PassphraseSource, fmt.Sprintf("roster %s: holders[%d] (%s): passphrase_source", rosterPath, i, h.Name)); err != nil {
			return nil, err
		}
	}
	return srcs, nil
}

// readHolderPassphrases reads each holder's passphrase from its source;
// role, when not empty, names the holders in prompts. The caller wipes the
// result, also on error. Passphrases are strings in the PIN source reader
// and in age; see docs/quorum.md on what wiping can and cannot do.
func (a *app) readHolderPassphrases(rf *quorum.RosterFile, srcs []hsm.PINSource, role string) (map[string][]byte, error) {
	passphrases := make(map[string][]byte, len(rf.Holders))
	for i, h := range rf.Holders {
		if h.Protection.IsPossession() {
			continue // sealed in a bag, not encrypted
		}
		who := h.Name
		if role != "" {
			who = role + " " + h.Name
		}
		p, err := srcs[i].Read(a.prompter(), "the passphrase of "+who)
		if err != nil {
			return passphrases, fmt.Errorf("holder %s: %w", h.Name, err)
		}
		passphrases[h.Name] = p
	}
	return passphrases, nil
}

// wipePassphrases wipes passphrases read for holders.
func wipePassphrases(passphrases map[string][]byte) {
	for _, p := range passphrases {
		clear(p)
	}
}

// openCredentials reads and opens each credential file with the passphrase
// from its source in srcs (prompt when it has none). The caller wipes the
// result, also on error.
func (a *app) openCredentials(files []string, srcs map[string]hsm.PINSource, opts quorum.OpenOptions) ([]quorum.Opened, error) {
	opened := make([]quorum.Opened, 0, len(files))
	for _, f := range files {
		data, err := yamlpath.ReadFile(f, quorum.MaxFileSize, errUsage)
		if err != nil {
			return opened, fmt.Errorf("%w: credential %s: %w", errUsage, f, err)
		}
		if opts.Pinned != nil && !slices.Contains(opts.Pinned, quorum.Fingerprint(data)) || quorum.IsPossession(data) {
			// Not pinned: reported, and its passphrase not even asked.
			// A possession credential has no passphrase.
			opened = append(opened, quorum.OpenWithOptions(f, data, nil, opts))
			continue
		}
		src, ok := srcs[f]
		if !ok {
			src = hsm.PINSource{Kind: hsm.PINFromPrompt}
		}
		p, err := src.Read(a.prompter(), "the passphrase of credential "+f)
		if err != nil {
			return opened, fmt.Errorf("credential %s: %w", f, err)
		}
		opened = append(opened, quorum.OpenWithOptions(f, data, p, opts))
		clear(p)
	}
	return opened, nil
}

// wipeCredentials wipes the shares of opened credentials.
func wipeCredentials(opened []quorum.Opened) {
	for i := range opened {
		opened[i].Wipe()
	}
}

// passphraseFlags parses --passphrase-source FILE=SRC flags: each FILE must
// be one of files (described by what in errors) and given once.
func passphraseFlags(files, flags []string, what string) (map[string]hsm.PINSource, error) {
	srcs := map[string]hsm.PINSource{}
	for _, s := range flags {
		file, spec, ok := strings.Cut(s, "=")
		if !ok || file == "" {
			return nil, usageErrorf("--passphrase-source must be FILE=SRC")
		}
		if !containsString(files, file) {
			return nil, usageErrorf("--passphrase-source names %s, which is not among the %s", file, what)
		}
		if _, dup := srcs[file]; dup {
			return nil, usageErrorf("--passphrase-source given twice for %s", file)
		}
		var err error
		if srcs[file], err = parseSource(spec, "--passphrase-source "+file); err != nil {
			return nil, err
		}
	}
	return srcs, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// writeCheckResult prints a Combine result; combineErr is a commitment
// mismatch or a quorum not met.
func writeCheckResult(a *app, res *quorum.Result, combineErr error) error {
	findings := quorumFindings(res, combineErr)
	met := res.Met && combineErr == nil
	if a.output == "json" {
		return a.writeJSON(map[string]any{
			"valid": met, "quorum_met": met, "roster_id": res.RosterID, "m": res.M, "n": res.N,
			"split_id": res.SplitID, "valid_credentials": res.Valid,
			"credentials": res.Credentials, "findings": findings,
		})
	}
	writeQuorumOutcomes(a.out, res)
	if met {
		_, err := fmt.Fprintf(a.out, "Quorum met: %d valid credentials, %d required\n", res.Valid, res.M)
		return err
	}
	if combineErr != nil && !errors.Is(combineErr, quorum.ErrQuorumNotMet) {
		_, err := fmt.Fprintf(a.out, "Quorum NOT met: %v\n", combineErr)
		return err
	}
	_, err := fmt.Fprintf(a.out, "Quorum NOT met: %d valid credentials, %d required\n", res.Valid, res.M)
	return err
}
