package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ksk-dev/ksk/backup"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/quorum"
	"github.com/spf13/cobra"
)

// classifyBackupError maps the backup package's errors to exit codes: a
// backup or credentials refused are rejected input (1), a token that does
// not honour the restored key's template an HSM error (3), a malformed
// request a usage error (2).
func classifyBackupError(err error) int {
	switch {
	case errors.Is(err, backup.ErrUnsafeAttributes):
		return exitEnvironment
	case errors.Is(err, backup.ErrMalformed), errors.Is(err, backup.ErrAltered),
		errors.Is(err, backup.ErrOtherBackup), errors.Is(err, backup.ErrMismatch),
		errors.Is(err, backup.ErrNotBackupable),
		errors.Is(err, hsm.ErrPublicKeyMismatch), errors.Is(err, hsm.ErrNotExtractable):
		return exitRejected
	case errors.Is(err, backup.ErrInvalidArgument):
		return exitUsage
	}
	return 0
}

func newKeysBackupCmd(a *app, hf *hsmFlags, df *dnskeyFlags) *cobra.Command {
	var (
		label, out, rosterPath, credDir, soSource string
		force                                     bool
		workFactor                                int
	)
	cmd := &cobra.Command{
		Use:   "backup --label L --out BACKUP --roster ROSTER.yaml --credentials-dir DIR",
		Short: "Back up a backup-able KSK, wrapped under a KEK split among recovery key share holders",
		Long: `Wrap the key labelled L (generated with "ksk keys generate --backupable")
with CKM_AES_KEY_WRAP_PAD (RFC 5649) under a fresh AES-256 key-encryption key
(KEK) from the token's random number generator, and split the KEK M-of-N among
the roster's recovery key share holders (5 of 7 recommended).

The KEK never leaves ksk's memory except into the token, as a session object,
and as the holders' credentials: DIR/ROSTER-ID.HOLDER.age, each encrypted to
the passphrase read from that holder's passphrase_source (env:NAME, file:PATH
or prompt). Every holder of the roster must have the role
recovery-key-share-holder.

Backup-able keys may only be wrapped by a key the token trusts (CKA_TRUSTED),
which only the security officer can create: ksk logs in as security officer
(--so-pin-source, else $KSK_SO_PIN_SOURCE, else prompt) to import the KEK,
logs out, then logs the user in to wrap the key. The backup file (JSON,
mode 0600) holds the wrapped key, the public key, DNSKEY, key tag and DS, the
roster and split, a commitment to the KEK, a reference signature and a MAC.

Nothing is written unless everything succeeded. DIR must be new or empty:
the credentials and a copy of the backup file are written into a temporary
directory that is renamed to DIR in one step, so a crash leaves none of them
or all of them; then BACKUP is written. Existing files are kept unless
--force, which replaces DIR as a whole. See docs/backup.md.`,
		Example: `  ksk keys backup --label ksk-2026 --out ksk-2026.backup --roster recovery.yaml --credentials-dir creds/
  KSK_SO_PIN_SOURCE=file:/run/ksk/so.pin ksk keys backup --label ksk-2026 --out ksk-2026.backup \
      --roster recovery.yaml --credentials-dir creds/ -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case label == "":
				return usageErrorf("--label is required")
			case out == "":
				return usageErrorf("--out is required")
			case credDir == "":
				return usageErrorf("--credentials-dir is required")
			case workFactor < 10 || workFactor > backup.MaxWorkFactor:
				return usageErrorf("--scrypt-work-factor must be between 10 and %d", backup.MaxWorkFactor)
			}
			rf, err := readRoster(rosterPath)
			if err != nil {
				return err
			}
			roster := rf.Roster()
			if err := backup.ValidateRoster(roster); err != nil {
				return fmt.Errorf("%w: roster %s: %w", errUsage, rosterPath, err)
			}
			passSrc, err := holderPassphraseSources(rf, rosterPath)
			if err != nil {
				return err
			}
			paths := make([]string, 0, len(roster.Holders)+1)
			for _, h := range roster.Holders {
				paths = append(paths, filepath.Join(credDir, h.CredentialFileName(roster.ID)))
			}
			if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
				return usageErrorf("%s is not a directory: create it first", filepath.Dir(out))
			}
			if st, err := os.Stat(filepath.Dir(filepath.Clean(credDir))); err != nil || !st.IsDir() {
				return usageErrorf("%s is not a directory: create it first", filepath.Dir(filepath.Clean(credDir)))
			}
			if !force {
				if entries, err := os.ReadDir(credDir); err == nil && len(entries) > 0 {
					return fmt.Errorf("%w: --credentials-dir %s: %w: it holds %d files; nothing written", errUsage, credDir, atomicfile.ErrExists, len(entries))
				}
				if err := atomicfile.CheckFree(out); err != nil {
					return fmt.Errorf("%w: %w; nothing written", errUsage, err)
				}
			}
			userPIN, err := hf.pin()
			if err != nil {
				return err
			}
			soPIN, err := soPINSource(soSource)
			if err != nil {
				return err
			}
			counter, err := hf.counter()
			if err != nil {
				return err
			}

			passphrases, err := a.readHolderPassphrases(rf, passSrc, "recovery key share holder")
			defer wipePassphrases(passphrases)
			if err != nil {
				return err
			}

			s, err := hf.open(a, false)
			if err != nil {
				return err
			}
			defer s.close()
			src := backup.NewHSMSource(s.tok,
				hsm.LoginOptions{PIN: userPIN, Prompter: a.prompter(), Counter: counter},
				hsm.LoginOptions{PIN: soPIN, Prompter: a.prompter(), Counter: counter})
			res, err := backup.Create(src, backup.CreateOptions{
				Label: label, Roster: roster, Passphrases: passphrases, WorkFactor: workFactor, DNSKEY: df.options(),
			})
			if err != nil {
				return err
			}
			// The credentials and a copy of the backup file become the
			// credentials directory in one rename: a crash leaves none of
			// them or all of them. The backup file at --out is written
			// after, atomically; should that fail, the copy is complete.
			names := make([]string, 0, len(paths))
			data := make([][]byte, 0, len(paths))
			for i, c := range res.Credentials {
				names = append(names, filepath.Base(paths[i]))
				data = append(data, c.File)
			}
			names = append(names, filepath.Base(out))
			data = append(data, res.Data)
			if err := atomicfile.WriteDir(credDir, names, data, 0o600, force); err != nil {
				if errors.Is(err, atomicfile.ErrExists) {
					return fmt.Errorf("%w: %w", errUsage, err)
				}
				return fmt.Errorf("%w: %w", errEnvironment, err)
			}
			if filepath.Clean(filepath.Dir(out)) != filepath.Clean(credDir) {
				if err := atomicfile.Write(out, res.Data, 0o600, force); err != nil {
					return fmt.Errorf("%w: %w (the backup's copy in %s is complete)", errEnvironment, err, credDir)
				}
			}
			return writeBackupResult(a, s.tok.Info(), out, res, paths)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&label, "label", "", "CKA_LABEL of the key to back up (required)")
	fs.StringVar(&out, "out", "", "backup file to write (required)")
	fs.StringVar(&rosterPath, "roster", "", "roster YAML of the recovery key share holders: id, m, n, holders (name, role, passphrase_source)")
	fs.StringVar(&credDir, "credentials-dir", "", "directory the holders' credential files are written to (required)")
	fs.StringVar(&soSource, "so-pin-source", "", "security officer PIN source: env:NAME, file:PATH or prompt (default $"+envSOPINSource+", else prompt)")
	fs.BoolVar(&force, "force", false, "overwrite existing backup and credential files")
	fs.IntVar(&workFactor, "scrypt-work-factor", quorum.DefaultWorkFactor, fmt.Sprintf("scrypt work factor (log2 N) of the credentials, 10 to %d; lower only in tests", backup.MaxWorkFactor))
	return cmd
}

// backupKeyView is the key part of backup and restore output.
type backupKeyView struct {
	Label     string   `json:"label"`
	ID        string   `json:"id"`
	Algorithm string   `json:"algorithm"`
	KeyTag    uint16   `json:"key_tag"`
	DNSKEY    string   `json:"dnskey"`
	DS        []string `json:"ds"`
}

func newBackupKeyView(f *backup.File) backupKeyView {
	return backupKeyView{Label: f.Key.Label, ID: f.Key.ID, Algorithm: f.Key.AlgorithmName, KeyTag: f.Key.KeyTag, DNSKEY: f.Key.DNSKEY, DS: f.Key.DS}
}

func writeBackupResult(a *app, ti hsm.TokenInfo, out string, res *backup.Created, paths []string) error {
	f := res.File
	sum := sha256.Sum256(res.Data)
	creds := quorum.ManifestEntries(res.Credentials, paths)
	if a.output == "json" {
		return a.writeJSON(map[string]any{
			"backup": out, "sha256": hex.EncodeToString(sum[:]), "token": ti, "key": newBackupKeyView(f),
			"roster_id": f.Quorum.RosterID, "m": f.Quorum.M, "n": f.Quorum.N, "roster_digest": f.Quorum.RosterDigest,
			"split_id": f.Quorum.SplitID, "credentials": creds,
		})
	}
	w := a.out
	fmt.Fprintf(w, "Backed up key %q (%s, key tag %d) from %s\n", f.Key.Label, f.Key.AlgorithmName, f.Key.KeyTag, ti)
	fmt.Fprintf(w, "Backup file: %s\n  SHA-256: %x\n", out, sum)
	fmt.Fprintf(w, "DNSKEY: %s\n", f.Key.DNSKEY)
	for _, ds := range f.Key.DS {
		fmt.Fprintf(w, "DS:     %s\n", ds)
	}
	fmt.Fprintf(w, "KEK split %d of %d among roster %s (digest %s), split %s:\n", f.Quorum.M, f.Quorum.N, f.Quorum.RosterID, f.Quorum.RosterDigest, f.Quorum.SplitID)
	for _, c := range creds {
		fmt.Fprintf(w, "  %d %s (%s) %s\n    SHA-256: %s\n", c.Index, c.Holder, c.Role, c.File, c.SHA256)
	}
	_, err := fmt.Fprintf(w, "Give each holder their credential file; any %d of them restore the key (ksk keys restore).\n", f.Quorum.M)
	return err
}

// readBackupFile reads a backup file: unreadable is a usage error (2),
// malformed or inconsistent is rejected input (1).
func readBackupFile(path string) (*backup.File, error) {
	if path == "" {
		return nil, usageErrorf("--in is required")
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, backup.MaxFileSize+1))
	if err != nil {
		return nil, usageErrorf("%s: %v", path, err)
	}
	f, err := backup.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("backup file %s: %w", path, err)
	}
	return f, nil
}

func newKeysRestoreCmd(a *app, hf *hsmFlags) *cobra.Command {
	var (
		in, rosterPath string
		files, sources []string
	)
	cmd := &cobra.Command{
		Use:   "restore --in BACKUP --roster ROSTER.yaml --credential FILE... [--passphrase-source FILE=SRC]...",
		Short: "Restore a backed-up KSK into the token from M recovery key share holders' credentials",
		Long: `Reconstruct the backup's KEK in memory from M valid credentials, import it
into the token (the HSM flags select the TARGET token) as a session object,
unwrap the key as a sensitive, non-extractable, sign-only key with its label
and CKA_ID, recreate its public key and ksk metadata objects, destroy the KEK,
and prove the restored key: the same DNSKEY and key tag as the backup, and a
reference signature identical to the backup's (RSA, Ed25519) or verifying with
its public key (ECDSA).

A credential's passphrase comes from --passphrase-source FILE=SRC, else from
the roster's passphrase_source of the holder the file is named after
(ROSTER-ID.HOLDER.age), else a prompt. Each credential's outcome is reported
as by "ksk credentials check".

Refused with exit 1, creating nothing in the token: fewer than M valid
credentials, credentials or a roster of another backup, a damaged or altered
backup file, a restored key that does not match the backup. A label already
used on the token is exit 3, as for "ksk keys generate". See docs/backup.md.`,
		Example: `  ksk keys restore --in ksk-2026.backup --roster recovery.yaml \
      --credential creds/dr-2026.rksh1.age --credential creds/dr-2026.rksh3.age ...
  ksk keys restore --in ksk-2026.backup --roster recovery.yaml --credential a.age \
      --passphrase-source a.age=prompt ... -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := readBackupFile(in)
			if err != nil {
				return err
			}
			rf, err := readRoster(rosterPath)
			if err != nil {
				return err
			}
			if err := f.CheckRoster(rf.Roster()); err != nil {
				return fmt.Errorf("backup file %s: %w", in, err)
			}
			if len(files) == 0 {
				return usageErrorf("--credential is required (at least m of the roster's credential files)")
			}
			srcs, err := restorePassphraseSources(rf, rosterPath, files, sources)
			if err != nil {
				return err
			}
			s, err := hf.open(a, true)
			if err != nil {
				return err
			}
			defer s.close()
			target := backup.NewHSMTarget(s.tok)
			// Refuse an occupied label before anyone types a passphrase.
			if err := target.CheckFree(f.Key.Label, f.KeyID()); err != nil {
				return err
			}
			opened, err := a.openCredentials(files, srcs, quorum.OpenOptions{})
			defer wipeCredentials(opened)
			if err != nil {
				return err
			}
			rep, rerr := backup.Restore(f, target, backup.RestoreOptions{Roster: rf.Roster(), Credentials: opened})
			if werr := writeRestoreResult(a, s.tok, f, rep, rerr); werr != nil {
				if rerr != nil {
					return fmt.Errorf("%w; and reporting it failed: %w", rerr, werr)
				}
				return werr
			}
			return rerr
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&in, "in", "", "backup file made by ksk keys backup (required)")
	fs.StringVar(&rosterPath, "roster", "", "roster YAML the backup's KEK was split for")
	fs.StringArrayVar(&files, "credential", nil, "a recovery key share holder's credential file; repeat for each")
	fs.StringArrayVar(&sources, "passphrase-source", nil, "FILE=SRC: where FILE's passphrase is read (env:NAME, file:PATH or prompt); repeatable")
	return cmd
}

// restorePassphraseSources returns the passphrase source of each
// credential file: --passphrase-source FILE=SRC, else the roster's
// passphrase_source of the holder whose credential file name it has.
// Files with neither are prompted for.
func restorePassphraseSources(rf *quorum.RosterFile, rosterPath string, files, flags []string) (map[string]hsm.PINSource, error) {
	srcs, err := passphraseFlags(files, flags, "--credential files")
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		if _, ok := srcs[file]; ok {
			continue
		}
		for i, h := range rf.Holders {
			if h.PassphraseSource == "" || filepath.Base(file) != quorum.CredentialFileName(rf.ID, h.Name) {
				continue
			}
			src, err := parseSource(h.PassphraseSource, fmt.Sprintf("roster %s: holders[%d] (%s): passphrase_source", rosterPath, i, h.Name))
			if err != nil {
				return nil, err
			}
			srcs[file] = src
		}
	}
	return srcs, nil
}

// writeRestoreResult reports a restore, successful or not: each
// credential's outcome when they were combined, and the restored key.
func writeRestoreResult(a *app, tok *hsm.Token, f *backup.File, rep *backup.Restored, rerr error) error {
	var k *hsm.Key
	if rerr == nil {
		var err error
		if k, err = tok.FindKey(f.Key.Label); err != nil {
			return err
		}
	}
	if a.output == "json" {
		v := map[string]any{"restored": rerr == nil, "backup": newBackupKeyView(f), "token": tok.Info()}
		var findings []checkFinding
		if rep != nil && rep.Quorum != nil {
			var qerr error
			if errors.Is(rerr, quorum.ErrQuorumNotMet) {
				qerr = rerr
			}
			findings = quorumFindings(rep.Quorum, qerr)
			v["quorum_met"], v["valid_credentials"], v["credentials"] = rep.Quorum.Met, rep.Quorum.Valid, rep.Quorum.Credentials
		}
		if rerr != nil && !errors.Is(rerr, quorum.ErrQuorumNotMet) {
			findings = append(findings, checkFinding{Check: "restore", Severity: "error", Message: rerr.Error(), Where: f.Key.Label})
		}
		v["findings"] = findings
		if k != nil {
			kv, err := newKeyView(k, f.DNSKEYOptions())
			if err != nil {
				return err
			}
			v["key"], v["signature_check"] = kv, rep.Signature
		}
		return a.writeJSON(v)
	}
	if rep != nil && rep.Quorum != nil {
		writeQuorumOutcomes(a.out, rep.Quorum)
		if rep.Quorum.Met {
			fmt.Fprintf(a.out, "Quorum met: %d valid credentials, %d required\n", rep.Quorum.Valid, rep.Quorum.M)
		} else {
			fmt.Fprintf(a.out, "Quorum NOT met: %d valid credentials, %d required\n", rep.Quorum.Valid, rep.Quorum.M)
		}
	}
	if k == nil {
		return nil
	}
	v, err := newKeyView(k, f.DNSKEYOptions())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Restored key %q (%s, key tag %d) into %s\n", v.Label, v.Algorithm, v.KeyTag, tok.Info())
	fmt.Fprintf(a.out, "DNSKEY: the backup's: %s\n", v.DNSKEY)
	switch rep.Signature {
	case backup.SignatureIdentical:
		fmt.Fprintln(a.out, "Reference signature: byte-identical to the backup's")
	default:
		fmt.Fprintln(a.out, "Reference signature: verified with the backup's public key (ECDSA signatures are randomised)")
	}
	at := v.Attributes
	_, err = fmt.Fprintf(a.out, "CKA_SENSITIVE %t, CKA_EXTRACTABLE %t, CKA_SIGN %t, CKA_DECRYPT %t, CKA_LOCAL %t (unwrapped, not generated here)\n",
		at.Sensitive, at.Extractable, at.Sign, at.Decrypt, at.Local)
	return err
}

// quorumFindings are the findings of a Combine, as "ksk credentials
// check" reports them: one per credential that does not count, and one
// for the quorum when quorumErr is set.
func quorumFindings(res *quorum.Result, quorumErr error) []checkFinding {
	findings := []checkFinding{}
	for _, o := range res.Credentials {
		if !o.Counted {
			findings = append(findings, checkFinding{Check: "credential." + o.Reason, Severity: "error", Message: o.Err.Error(), Where: o.Source})
		}
	}
	if quorumErr != nil {
		findings = append(findings, checkFinding{Check: "quorum", Severity: "error", Message: quorumErr.Error(), Where: res.RosterID})
	}
	return findings
}

// writeQuorumOutcomes prints the roster and each credential's outcome in
// the lines of "ksk credentials check".
func writeQuorumOutcomes(w io.Writer, res *quorum.Result) {
	fmt.Fprintf(w, "Roster %s: %d of %d\n", res.RosterID, res.M, res.N)
	for _, o := range res.Credentials {
		if o.Counted {
			fmt.Fprintf(w, "  valid     %s: %d %s (%s)\n", o.Source, o.Index, o.Holder, o.Role)
		} else {
			fmt.Fprintf(w, "  rejected  %s: %s: %v\n", o.Source, o.Reason, o.Err)
		}
	}
}
