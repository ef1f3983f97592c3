package ceremony

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/internal/secmem"
	"github.com/ksk-dev/ksk/internal/yamlpath"
	"github.com/ksk-dev/ksk/quorum"
)

// runQuorum: holders present their credentials; M distinct valid ones
// rebuild the quorum's secret in memory. Every credential presented is
// recorded with its SHA-256 and whether it counted, and why not.
func runQuorum(r *Runner, x *stepRun) error {
	pq := r.plan.quorums[x.st.Quorum]
	opened, err := r.presentCredentials(x, pq)
	defer wipeOpened(opened)
	if err != nil {
		return err
	}
	secret, res, err := pq.roster.Combine(opened)
	x.details["quorum"] = pq.ID
	x.details["roster_id"] = pq.roster.ID
	x.details["m"] = strconv.Itoa(res.M)
	x.details["n"] = strconv.Itoa(res.N)
	r.recordCredentials(x, "", res, opened)
	if err != nil {
		if errors.Is(err, quorum.ErrQuorumNotMet) || errors.Is(err, quorum.ErrAltered) {
			return fmt.Errorf("%w: quorum %s: %w", ErrStepFailed, pq.ID, err)
		}
		return err
	}
	if old := r.secrets[pq.ID]; old != nil {
		clear(old)
	}
	secmem.Lock(secret)
	r.secrets[pq.ID] = secret
	r.printf("  Quorum met: %d valid credentials of %d required. The secret is held in memory only.\n", res.Valid, res.M)
	return nil
}

// presentCredentials asks the holders of a quorum for their credentials,
// opens them and applies the script's pins. The caller wipes the result.
func (r *Runner) presentCredentials(x *stepRun, pq *plannedQuorum) ([]quorum.Opened, error) {
	if err := r.logQuorumFiles(x, pq); err != nil {
		return nil, err
	}
	holders := make([]string, len(pq.roster.Holders))
	for i, h := range pq.roster.Holders {
		holders[i] = h.Name
	}
	r.printf("  Quorum %s: %d of %d (%s), roster %s\n", pq.ID, pq.roster.M, pq.roster.N, pq.Purpose, pq.roster.ID)
	// With every holder's credential pinned (a manifest, or a pin per
	// participant), a file that is none of them is refused unopened.
	var opts quorum.OpenOptions
	if len(pq.pins) == len(pq.roster.Holders) {
		opts.Pinned = slices.Collect(maps.Values(pq.pins))
	}
	if ca, ok := r.opts.Operator.(credentialAsker); ok {
		return r.askCredentials(x, pq, ca, opts)
	}
	presented, err := r.opts.Operator.Credentials(x.info, holders)
	defer func() {
		for i := range presented {
			clear(presented[i].Passphrase)
		}
	}()
	if err != nil {
		return nil, err
	}
	opened := make([]quorum.Opened, len(presented))
	for i, c := range presented {
		opened[i] = quorum.OpenWithOptions(c.Source, c.File, c.Passphrase, opts)
		clear(presented[i].Passphrase)
		r.vetOpened(pq, &opened[i])
	}
	return opened, nil
}

// vetOpened applies to an opened credential what the ceremony knows and
// the file cannot: the script's pin for its holder, and for a possession
// credential the custody step that found it in its bag as sealed.
func (r *Runner) vetOpened(pq *plannedQuorum, o *quorum.Opened) {
	if o.Err == nil {
		if pin, ok := pq.pins[o.Holder]; ok && pin != o.Fingerprint {
			o.Err = fmt.Errorf("%w: %s is not the credential the script registers for %s (sha256 %s)", quorum.ErrUnknownHolder, o.Fingerprint, o.Holder, pin)
		}
	}
	r.checkCustody(o)
}

// credentialAsker is an Operator with people at the keyboard, asked for
// one credential at a time so that each gets its verdict at once.
type credentialAsker interface {
	CredentialFile(x StepInfo) (path string, data []byte, done bool, err error)
	CredentialPassphrase(x StepInfo, holder string) ([]byte, error)
	QuorumDone(x StepInfo, status string) (bool, error)
}

// defaultPassphraseAttempts is how many passphrases a holder may type for
// one credential file before it is recorded as not counted, unless the
// quorum step says otherwise (attempts).
const defaultPassphraseAttempts = 3

// askCredentials runs a quorum step with people: one credential at a
// time, opened at once, with its verdict (whose it is, counted or why
// not, how many more are needed); a wrong passphrase is asked again (3
// attempts by default), a duplicate or a stranger's file is said so; an empty line
// ends the step when the quorum is met, and otherwise only once the
// holders say they are done. Slips are noted, never a passphrase.
func (r *Runner) askCredentials(x *stepRun, pq *plannedQuorum, ca credentialAsker, opts quorum.OpenOptions) ([]quorum.Opened, error) {
	byPin := map[string]string{}
	for h, fp := range pq.pins {
		byPin[fp] = h
	}
	m := pq.roster.M
	maxPassphraseAttempts := defaultPassphraseAttempts
	if x.st.Attempts > 0 {
		maxPassphraseAttempts = x.st.Attempts
	}
	var opened []quorum.Opened
	counted := map[string]bool{} // holders whose credential is in
	for {
		path, data, done, err := ca.CredentialFile(x.info)
		if err != nil {
			return opened, err
		}
		if done {
			if len(counted) >= m {
				return opened, nil
			}
			stop, err := ca.QuorumDone(x.info, fmt.Sprintf("%d of %d needed valid credentials are in", len(counted), m))
			if err != nil {
				return opened, err
			}
			if stop {
				return opened, nil
			}
			r.notef(x, "an empty line with %d of %d valid credentials in; the holders went on", len(counted), m)
			continue
		}
		who := byPin[quorum.Fingerprint(data)]
		if who == "" {
			who = "the holder of " + filepath.Base(path)
		}
		var o quorum.Opened
		if quorum.IsPossession(data) {
			// Sealed in a bag, not encrypted: no passphrase to ask.
			o = quorum.OpenWithOptions(path, data, nil, opts)
		}
		for attempt := 1; !quorum.IsPossession(data); attempt++ {
			pass, err := ca.CredentialPassphrase(x.info, who)
			if err != nil {
				clear(pass)
				return opened, err
			}
			o = quorum.OpenWithOptions(path, data, pass, opts)
			clear(pass)
			if !errors.Is(o.Err, quorum.ErrWrongPassphrase) || attempt == maxPassphraseAttempts {
				break
			}
			r.notef(x, "wrong passphrase for %s's credential (attempt %d of %d)", who, attempt, maxPassphraseAttempts)
			r.printf("  Wrong passphrase for %s's credential (attempt %d of %d); type it again.\n", who, attempt, maxPassphraseAttempts)
		}
		r.vetOpened(pq, &o)
		var verdict string
		switch {
		case o.Err == nil && o.RosterID != pq.roster.ID:
			verdict = fmt.Sprintf("NOT counted: issued for roster %s, not %s", o.RosterID, pq.roster.ID)
		case o.Err == nil && counted[o.Holder]:
			verdict = fmt.Sprintf("NOT counted: %s's credential is already in (duplicate)", o.Holder)
		case o.Err == nil:
			counted[o.Holder] = true
			verdict = fmt.Sprintf("valid, %s's", o.Holder)
		case errors.Is(o.Err, quorum.ErrWrongPassphrase):
			verdict = fmt.Sprintf("NOT counted: wrong passphrase %d times", maxPassphraseAttempts)
		default:
			verdict = fmt.Sprintf("NOT counted: %v", o.Err)
		}
		if strings.HasPrefix(verdict, "NOT") {
			r.notef(x, "credential %s: %s", filepath.Base(path), verdict)
		}
		opened = append(opened, o)
		r.printf("  Credential %d (%s): %s. %d of %d needed are in", len(opened), filepath.Base(path), verdict, len(counted), m)
		if more := m - len(counted); more > 0 {
			r.printf("; %d more needed.\n", more)
		} else {
			r.printf(": the quorum is met (an empty line ends the step).\n")
		}
	}
}

// notef adds a note to the step being run.
func (r *Runner) notef(x *stepRun, format string, args ...any) {
	i := 1
	for x.details[fmt.Sprintf("note.%d", i)] != "" {
		i++
	}
	x.details[fmt.Sprintf("note.%d", i)] = fmt.Sprintf(format, args...)
}

// logQuorumFiles records the files that define a quorum as read by the
// step: the roster and, when the script names one, the credentials
// manifest, each with its SHA-256. The roster and a manifest from before
// the ceremony must be byte for byte what Check parsed when the ceremony
// began (or resumed): a file swapped since is refused, not used.
func (r *Runner) logQuorumFiles(x *stepRun, pq *plannedQuorum) error {
	type file struct {
		path string
		sum  attest.Hash // zero: no earlier reading to compare with
	}
	files := []file{{pq.rosterF, pq.rosterSum}}
	switch {
	case pq.manifestF != "":
		files = append(files, file{pq.manifestF, pq.manifestSum})
	case pq.Credentials != "":
		// Written earlier in this ceremony: logged then, logged again
		// as read here, if it is there.
		if _, err := os.Lstat(r.plan.File(pq.Credentials)); err == nil {
			files = append(files, file{path: r.plan.File(pq.Credentials)})
		}
	}
	for _, f := range files {
		ref, err := r.fileRef(f.path, attest.Read)
		if err != nil {
			return err
		}
		if f.sum != (attest.Hash{}) && ref.SHA256 != f.sum {
			return fmt.Errorf("%w: quorum %s: %s changed since the ceremony's plan was checked (sha256 %s then, %s now); nothing was used", ErrStepFailed, pq.ID, ref.Path, f.sum, ref.SHA256)
		}
		x.files = append(x.files, ref)
	}
	return nil
}

// recordCredentials records each credential's outcome in the step's
// details as the quorum step does: its SHA-256, holder, and whether it
// counted or why not. Without a result (the credentials were never
// combined) each is recorded as presented.
func (r *Runner) recordCredentials(x *stepRun, prefix string, res *quorum.Result, opened []quorum.Opened) {
	if res == nil {
		for i, o := range opened {
			x.details[fmt.Sprintf("%scredential.%d", prefix, i+1)] = "sha256=" + o.Fingerprint + " not-combined"
		}
		return
	}
	x.details[prefix+"valid"] = strconv.Itoa(res.Valid)
	for i, o := range res.Credentials {
		v := "sha256=" + o.Fingerprint
		if o.Holder != "" {
			v += " holder=" + o.Holder
		}
		if o.Counted {
			v += " counted"
			r.printf("  credential %d: %s (%s): counted\n", i+1, o.Holder, o.Source)
		} else {
			v += " not-counted=" + o.Reason
			r.printf("  credential %d: %s: NOT counted: %v\n", i+1, o.Source, o.Err)
		}
		x.details[fmt.Sprintf("%scredential.%d", prefix, i+1)] = v
	}
}

// recordIssued records credentials just written to paths: it pins them for
// the rest of the ceremony, records each one's SHA-256 and every file in
// the step, and writes the manifest mpath (what ksk credentials issue -o
// json prints) beside them.
func (r *Runner) recordIssued(x *stepRun, pq *plannedQuorum, creds []quorum.Credential, paths []string, mpath string, overwrite bool) error {
	m := quorum.NewManifest(pq.roster, creds, paths)
	for i, c := range creds {
		pq.pins[c.Holder] = c.Fingerprint
		r.issuedHere[c.Fingerprint] = true
		x.details["credential."+c.Holder] = c.Fingerprint
		if err := x.addFile(r, paths[i], attest.Written); err != nil {
			return err
		}
		r.printf("  %d %s: %s\n    SHA-256: %s\n", c.Index, c.Holder, paths[i], c.Fingerprint)
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(mpath, append(js, '\n'), 0o644, overwrite); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	if err := x.addFile(r, mpath, attest.Written); err != nil {
		return err
	}
	x.details["quorum"] = pq.ID
	x.details["roster_id"] = pq.roster.ID
	x.details["m"], x.details["n"] = strconv.Itoa(pq.roster.M), strconv.Itoa(pq.roster.N)
	return nil
}

// newPassphrases asks each holder of a roster for the passphrase of their
// new credential. The caller wipes the result, also on error.
func (r *Runner) newPassphrases(x *stepRun, roster quorum.Roster) (map[string][]byte, error) {
	passphrases := map[string][]byte{}
	for _, h := range roster.Holders {
		if h.Protection.IsPossession() {
			continue // sealed in a bag, not encrypted
		}
		p, err := r.opts.Operator.NewPassphrase(x.info, h.Name)
		if err != nil {
			return passphrases, err
		}
		passphrases[h.Name] = p
	}
	return passphrases, nil
}

// wipeAll wipes every secret of a map.
func wipeAll(secrets map[string][]byte) {
	for _, s := range secrets {
		clear(s)
	}
}

// wipeOpened wipes the shares of opened credentials.
func wipeOpened(opened []quorum.Opened) {
	for i := range opened {
		opened[i].Wipe()
	}
}

// module opens (once) the PKCS#11 module of an HSM of the script.
func (r *Runner) module(h *HSM) (*hsm.Module, error) {
	path := h.Module
	if path == "" {
		path = os.Getenv("KSK_PKCS11_MODULE")
	}
	if path == "" {
		return nil, fmt.Errorf("%w: HSM %s: no module: set hsms[].module in the script or $KSK_PKCS11_MODULE", ErrEnvironment, h.ID)
	}
	if m := r.modules[path]; m != nil {
		return m, nil
	}
	m, err := hsm.OpenModule(path)
	if err != nil {
		return nil, fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, h.ID, err)
	}
	r.modules[path] = m
	return m, nil
}

func (r *Runner) counter() (*hsm.FailureCounter, error) {
	if r.opts.Counter != nil {
		return r.opts.Counter, nil
	}
	c, err := hsm.DefaultFailureCounter()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	r.opts.Counter = c
	return c, nil
}

// runHSMActivate: log in to the token with the secret the quorum rebuilt,
// then wipe the secret.
func runHSMActivate(r *Runner, x *stepRun) error {
	h := r.plan.hsms[x.st.HSM]
	secret := r.secrets[x.st.Quorum]
	if len(secret) == 0 {
		return fmt.Errorf("%w: quorum %s holds no secret now: a quorum step must come first", ErrStepFailed, x.st.Quorum)
	}
	defer func() {
		clear(secret)
		delete(r.secrets, x.st.Quorum)
	}()
	m, err := r.module(h)
	if err != nil {
		return err
	}
	if old := r.tokens[h.ID]; old != nil {
		_ = old.Close()
		delete(r.tokens, h.ID)
	}
	tok, err := m.OpenToken(hsm.TokenSelector{Label: h.Token, Serial: h.TokenSerial})
	if err != nil {
		return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, h.ID, err)
	}
	c, err := r.counter()
	if err != nil {
		_ = tok.Close()
		return err
	}
	if err := tok.Login(hsm.LoginOptions{Secret: secret, Counter: c}); err != nil {
		_ = tok.Close()
		return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, h.ID, err)
	}
	r.tokens[h.ID] = tok
	if old := r.activePINs[h.ID]; old != nil {
		clear(old)
		delete(r.activePINs, h.ID)
	}
	if r.reissueAhead(x.ps) {
		r.activePINs[h.ID] = slices.Clone(secret)
	}
	info := tok.Info()
	x.details["hsm"] = h.ID
	x.details["token_label"] = info.Label
	x.details["token_serial"] = info.Serial
	x.details["token_model"] = info.Model
	x.details["token_manufacturer"] = info.Manufacturer
	r.printf("  HSM %s activated: token %q serial %s (%s %s)\n", h.ID, info.Label, info.Serial, info.Manufacturer, info.Model)
	return nil
}

// reissueAhead reports whether a credentials-issue step re-issues the
// credentials of the HSM that activate (an hsm-activate step) logs in,
// before any other step activates or initialises it again: the PIN is
// then kept for C_SetPIN.
func (r *Runner) reissueAhead(activate *PlannedStep) bool {
	i := slices.Index(r.plan.Steps, activate)
	if i < 0 {
		return false
	}
	h := activate.Step.HSM
	for _, ps := range r.plan.Steps[i+1:] {
		st := ps.Step
		switch {
		case st.HSM != h:
		case st.Type == TypeHSMActivate || st.Type == TypeTokenInit:
			return false
		case st.Type == TypeCredentialsIssue && st.Quorum == activate.Step.Quorum:
			return true
		}
	}
	return false
}

// randomPIN draws a user PIN no one sees: 16 random bytes in hex.
func randomPIN() ([]byte, error) {
	raw := make([]byte, 16)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	pin := make([]byte, hex.EncodedLen(len(raw)))
	secmem.Lock(pin)
	hex.Encode(pin, raw)
	return pin, nil
}

// runTokenInit: initialise a token with the security officer PIN the actor
// types and a new random user PIN that only the quorum's credentials will
// hold.
func runTokenInit(r *Runner, x *stepRun) error {
	h := r.plan.hsms[x.st.HSM]
	if h.Token == "" {
		return fmt.Errorf("%w: HSM %s: token-init needs the token's label (hsms[].token)", ErrStepFailed, h.ID)
	}
	m, err := r.module(h)
	if err != nil {
		return err
	}
	so, err := r.opts.Operator.Secret(x.info, fmt.Sprintf("security officer PIN for the new token %q", h.Token))
	if err != nil {
		return err
	}
	defer clear(so)
	user, err := randomPIN()
	if err != nil {
		return err
	}
	info, err := m.InitToken(h.Token, so, user)
	if err != nil {
		clear(user)
		return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, h.ID, err)
	}
	if old := r.secrets[x.st.Quorum]; old != nil {
		clear(old)
	}
	r.secrets[x.st.Quorum] = user
	x.details["hsm"] = h.ID
	x.details["token_label"] = info.Label
	x.details["token_serial"] = info.Serial
	x.details["activation_quorum"] = x.st.Quorum
	r.printf("  Token %q initialised (serial %s). Its new user PIN is held in memory for quorum %s and never shown.\n", info.Label, info.Serial, x.st.Quorum)
	return nil
}

// runCredentialsIssue: split the quorum's new secret among the roster's
// holders, one credential file each, encrypted to the passphrase each
// holder types; then wipe the secret, so that only a quorum brings it back.
func runCredentialsIssue(r *Runner, x *stepRun) error {
	pq := r.plan.quorums[x.st.Quorum]
	if x.st.HSM != "" {
		return runReissue(r, x, pq, r.issuedQuorum(x.st))
	}
	secret := r.secrets[x.st.Quorum]
	if len(secret) == 0 {
		return fmt.Errorf("%w: quorum %s holds no secret now: a token-init step must come first", ErrStepFailed, pq.ID)
	}
	if err := r.issueCredentials(x, pq, secret, nil); err != nil {
		return err
	}
	clear(secret)
	delete(r.secrets, pq.ID)
	return nil
}

// restoreCredentialsIssue pins, when a ceremony resumes, the credentials a
// done credentials-issue step wrote: its manifest, which the resume has
// checked is unchanged since the step logged it.
func restoreCredentialsIssue(r *Runner, x *stepRun) error {
	pq := r.issuedQuorum(x.st)
	path := filepath.Join(r.plan.File(x.st.Out), credentialsManifest)
	data, err := yamlpath.ReadFile(path, quorum.MaxManifestSize, ErrRead)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrResume, err)
	}
	m, err := quorum.ParseManifest(data, pq.roster)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrResume, path, err)
	}
	for _, c := range m.Credentials {
		pq.pins[c.Holder] = c.SHA256
		r.issuedHere[c.SHA256] = true
	}
	return nil
}

// issuedQuorum is the quorum a credentials-issue step issues for: its
// new_quorum on a re-issue that names one, else its quorum.
func (r *Runner) issuedQuorum(st *Step) *plannedQuorum {
	if st.NewQuorum != "" {
		return r.plan.quorums[st.NewQuorum]
	}
	return r.plan.quorums[st.Quorum]
}

// runReissue: re-issue the credentials of an HSM's activation quorum pq,
// for the roster of quorum to (pq itself, or a new roster). A new random
// PIN is split into new credentials, written, and only then set on the
// HSM (C_SetPIN from the PIN its hsm-activate used), so that a failure
// before leaves the old PIN and credentials in force and the new files are
// removed; after it only the new credentials open the HSM.
func runReissue(r *Runner, x *stepRun, pq, to *plannedQuorum) error {
	h := x.st.HSM
	tok, old := r.tokens[h], r.activePINs[h]
	if tok == nil || len(old) == 0 {
		return fmt.Errorf("%w: HSM %s is not activated by quorum %s in this session: an hsm-activate step must come first", ErrStepFailed, h, pq.ID)
	}
	defer func() {
		clear(old)
		delete(r.activePINs, h)
	}()
	pin, err := randomPIN()
	if err != nil {
		return err
	}
	defer clear(pin)
	err = r.issueCredentials(x, to, pin, func() error {
		if err := tok.ChangePIN(old, pin); err != nil {
			return fmt.Errorf("%w: HSM %s: %w", ErrEnvironment, h, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	x.details["hsm"] = h
	x.details["reissue"] = "the HSM user login changed (C_SetPIN): the earlier credentials of quorum " + pq.ID + " are revoked"
	if to != pq {
		x.details["revoked_roster_id"] = pq.roster.ID
	}
	r.printf("  HSM %s: user PIN changed (C_SetPIN). The old credentials of quorum %s open nothing any more.\n", h, pq.ID)
	return nil
}

// issueCredentials splits secret among the quorum's holders into
// credential files in the step's out directory, with a passphrase each
// holder types, and records them. commit, when not nil, runs once the
// files are written and before they are recorded; if it fails, the files
// are removed again.
func (r *Runner) issueCredentials(x *stepRun, pq *plannedQuorum, secret []byte, commit func() error) error {
	if err := r.logQuorumFiles(x, pq); err != nil {
		return err
	}
	dir := r.plan.File(x.st.Out)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: %w", ErrEnvironment, err)
	}
	paths := make([]string, len(pq.roster.Holders))
	for i, h := range pq.roster.Holders {
		paths[i] = filepath.Join(dir, h.CredentialFileName(pq.roster.ID))
		if _, err := os.Lstat(paths[i]); err == nil {
			return fmt.Errorf("%w: %s: %w; nothing written", ErrStepFailed, paths[i], atomicfile.ErrExists)
		}
	}
	passphrases, err := r.newPassphrases(x, pq.roster)
	defer wipeAll(passphrases)
	if err != nil {
		return err
	}
	wf := r.opts.WorkFactor
	creds, err := quorum.Issue(secret, pq.roster, passphrases, &quorum.IssueOptions{WorkFactor: wf, Progress: r.progress("credentials issued")})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	var written []string
	removeWritten := func(cause error) error {
		for _, p := range written {
			if rerr := os.Remove(p); rerr != nil {
				return fmt.Errorf("%w; and removing the credential %s failed: %w", cause, p, rerr)
			}
		}
		return cause
	}
	for i, c := range creds {
		if err := atomicfile.Write(paths[i], c.File, 0o600, false); err != nil {
			return removeWritten(fmt.Errorf("%w: %w", ErrEnvironment, err))
		}
		written = append(written, paths[i])
	}
	if commit != nil {
		if err := commit(); err != nil {
			return removeWritten(err)
		}
	}
	if err := r.recordIssued(x, pq, creds, paths, filepath.Join(dir, credentialsManifest), false); err != nil {
		return err
	}
	r.printf("  %d credentials issued (%d of %d). The secret is wiped from memory: only a quorum brings it back.\n", len(creds), pq.roster.M, pq.roster.N)
	return nil
}
