package hsm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/ksk-dev/ksk/internal/atomicfile"
)

// DefaultPINFailureLimit is how many failed logins in a row ksk allows on a
// token before it refuses to try again.
const DefaultPINFailureLimit = 3

// Environment variables read by DefaultFailureCounter.
const (
	// EnvStateDir names a directory that counts failed logins too, besides
	// DefaultStateDir: it can make the counter stricter, never reset it.
	EnvStateDir = "KSK_STATE_DIR"
	// EnvPINFailureLimit lowers DefaultPINFailureLimit; it cannot raise it.
	EnvPINFailureLimit = "KSK_PIN_FAILURE_LIMIT"
)

// UserType is whose PIN a login uses.
type UserType int

// The PKCS#11 user types ksk logs in as.
const (
	// User is the normal user (CKU_USER) that signs.
	User UserType = iota
	// SecurityOfficer is the token's security officer (CKU_SO).
	SecurityOfficer
)

// String returns "user" or "so".
func (u UserType) String() string {
	if u == SecurityOfficer {
		return "so"
	}
	return "user"
}

// FailureCounter counts failed logins per token and user type in files
// under Dir, because SoftHSM (unlike a hardware HSM) never locks a PIN.
// Once Limit failures are recorded in a row, Token.Login refuses to call
// C_Login at all and returns ErrPINLocked until a success by the security
// officer resets the count (Token.Unlock, "ksk hsm unlock").
//
// Each attempt is recorded before C_Login is called, under an exclusive
// lock on the token's counter file, so neither a crash nor a parallel ksk
// process can get a guess past the count. The counter guards against
// operator mistakes and scripted guessing through ksk; whoever can write
// Dir can reset it, so it does not replace an HSM's own lockout.
type FailureCounter struct {
	// Dir holds the counter files; it is created with mode 0700 and must
	// be the user's own with no group or other permissions.
	Dir string
	// Also are more directories that count the same failures: a login is
	// refused when any of them reached the limit, and every attempt is
	// recorded in all of them. A directory given for one call (--state-dir,
	// $KSK_STATE_DIR) is added here, so that it can only make the counter
	// stricter, never start it afresh.
	Also []string
	// Limit is the number of failures in a row after which logins are
	// refused; 0 or less means DefaultPINFailureLimit.
	Limit int
}

// DefaultStateDir returns the user's own state directory for ksk:
// $XDG_STATE_HOME/ksk, else ~/.local/state/ksk. $KSK_STATE_DIR does not
// replace it: DefaultFailureCounter counts in both.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ksk"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%w: no directory for the failed-login counter (set XDG_STATE_HOME or HOME): %w", ErrState, err)
	}
	return filepath.Join(home, ".local", "state", "ksk"), nil
}

// DefaultFailureCounter returns a counter in DefaultStateDir, also
// counting in $KSK_STATE_DIR when it is set, with the limit from
// $KSK_PIN_FAILURE_LIMIT, which may only lower DefaultPINFailureLimit.
func DefaultFailureCounter() (*FailureCounter, error) {
	c := &FailureCounter{}
	dir, err := DefaultStateDir()
	extra := os.Getenv(EnvStateDir)
	switch {
	case err == nil:
		c.Dir = dir
		if extra != "" {
			c.Also = []string{extra}
		}
	case extra != "":
		c.Dir = extra
	default:
		return nil, err
	}
	if c.Limit, err = StricterLimit(DefaultPINFailureLimit, os.Getenv(EnvPINFailureLimit), EnvPINFailureLimit); err != nil {
		return nil, err
	}
	return c, nil
}

// StricterLimit returns the failure limit v asks for, which may only be
// lower than limit: "" keeps limit, a higher or non-positive value is an
// error wrapping ErrInvalidArgument, named by what.
func StricterLimit(limit int, v, what string) (int, error) {
	if v == "" {
		return limit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalidf("%s must be a positive integer", what)
	}
	if n > limit {
		return 0, invalidf("%s is %d: it may only make the failed-login limit stricter, at most %d", what, n, limit)
	}
	return n, nil
}

func (c *FailureCounter) limit() int {
	if c.Limit <= 0 {
		return DefaultPINFailureLimit
	}
	return c.Limit
}

// dirs returns the directories that count, the first being Dir (or
// DefaultStateDir), without repeats.
func (c *FailureCounter) dirs() []string {
	dir := c.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultStateDir(); err != nil {
			dir = ".ksk-state"
		}
	}
	out := []string{filepath.Clean(dir)}
	for _, d := range c.Also {
		if d = filepath.Clean(d); d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func counterPath(dir string, tok TokenInfo, u UserType) string {
	sum := sha256.Sum256([]byte(tok.Serial + "\x00" + tok.Label))
	return filepath.Join(dir, "pin-failures", fmt.Sprintf("%s-%s.json", hex.EncodeToString(sum[:8]), u))
}

// FailureState is what a counter file holds.
type FailureState struct {
	TokenLabel  string    `json:"token_label"`
	TokenSerial string    `json:"token_serial"`
	User        string    `json:"user"`
	Failures    int       `json:"failures"`
	Limit       int       `json:"limit"`
	Updated     time.Time `json:"updated,omitzero"`
	Path        string    `json:"path"`
}

// Locked reports whether the recorded failures reached the limit.
func (s FailureState) Locked() bool { return s.Failures >= s.Limit }

// Path returns the counter file of a token and user type in the first
// directory that counts. Its name hashes the token's label and serial, so
// labels need no escaping. An empty Dir means DefaultStateDir(), or the
// working directory's .ksk-state if even that is unknown.
func (c *FailureCounter) Path(tok TokenInfo, u UserType) string {
	return counterPath(c.dirs()[0], tok, u)
}

// State returns the recorded failures of a token and user type.
func (c *FailureCounter) State(tok TokenInfo, u UserType) (FailureState, error) {
	return c.read(tok, u)
}

// Reset sets the count of a token and user type to zero.
func (c *FailureCounter) Reset(tok TokenInfo, u UserType) error {
	return c.update(tok, u, func(st *FailureState) { st.Failures = 0 })
}

func (c *FailureCounter) read(tok TokenInfo, u UserType) (FailureState, error) {
	st := FailureState{TokenLabel: tok.Label, TokenSerial: tok.Serial, User: u.String(), Limit: c.limit(), Path: c.Path(tok, u)}
	for _, dir := range c.dirs() {
		path := counterPath(dir, tok, u)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
		}
		var onDisk FailureState
		if err := json.Unmarshal(b, &onDisk); err != nil {
			// A damaged counter must not reopen the door: treat it as locked.
			st.Failures, st.Path = st.Limit, path
			continue
		}
		if onDisk.Failures > st.Failures {
			st.Failures, st.Updated, st.Path = onDisk.Failures, onDisk.Updated, path
		}
	}
	return st, nil
}

// update changes a counter under its lock file.
func (c *FailureCounter) update(tok TokenInfo, u UserType, change func(*FailureState)) error {
	unlock, err := c.lock(tok, u)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := c.read(tok, u)
	if err != nil {
		return err
	}
	change(&st)
	return c.write(st)
}

func (c *FailureCounter) write(st FailureState) error {
	st.Updated = time.Now().UTC().Truncate(time.Second)
	for _, dir := range c.dirs() {
		st.Path = counterPath(dir, TokenInfo{Label: st.TokenLabel, Serial: st.TokenSerial}, userType(st.User))
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.Write(st.Path, append(b, '\n'), 0o600, true); err != nil {
			return fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
		}
	}
	return nil
}

func userType(s string) UserType {
	if s == SecurityOfficer.String() {
		return SecurityOfficer
	}
	return User
}

// lock takes an exclusive flock on the counter's lock file in every
// directory that counts, in the order of their paths, so that two
// processes counting in the same directories cannot deadlock. Each
// directory is made with mode 0700 and must be the user's own, with no
// group or other permissions, and not a symbolic link.
func (c *FailureCounter) lock(tok TokenInfo, u UserType) (func(), error) {
	dirs := slices.Sorted(slices.Values(c.dirs()))
	var held []*os.File
	release := func() {
		for _, f := range slices.Backward(held) {
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}
	}
	for _, dir := range dirs {
		path := counterPath(dir, tok, u)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			release()
			return nil, fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
		}
		for _, d := range []string{dir, filepath.Dir(path)} {
			if err := checkStateDir(d); err != nil {
				release()
				return nil, fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
			}
		}
		f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			release()
			return nil, fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			release()
			return nil, fmt.Errorf("%w: failed-login counter: lock %s: %w", ErrState, f.Name(), err)
		}
		held = append(held, f)
	}
	return release, nil
}

// checkStateDir refuses a counter directory that another user could
// change (and so reset the count in): a symbolic link, one owned by
// another user, or one with group or other permissions.
func checkStateDir(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("state directory %s is a symbolic link; give the directory itself", dir)
	case !st.IsDir():
		return fmt.Errorf("state directory %s is not a directory", dir)
	case st.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("state directory %s has mode %04o: other users could reset the count; chmod 700 it", dir, st.Mode().Perm())
	}
	if uid, ok := fileOwner(st); ok && uid != os.Getuid() {
		return fmt.Errorf("state directory %s is owned by uid %d, not by this user (uid %d)", dir, uid, os.Getuid())
	}
	return nil
}

// attempt runs login with the counter held: it refuses when the limit is
// reached, records the attempt before login runs, resets the count when
// login succeeds, keeps it when the PIN was wrong and restores it when login
// failed for another reason.
func (c *FailureCounter) attempt(tok TokenInfo, u UserType, login func() error) (FailureState, error) {
	unlock, err := c.lock(tok, u)
	if err != nil {
		return FailureState{}, err
	}
	defer unlock()
	st, err := c.read(tok, u)
	if err != nil {
		return st, err
	}
	if st.Locked() {
		return st, errCounterLocked
	}
	before := st.Failures
	st.Failures++
	if err := c.write(st); err != nil {
		return st, err
	}
	lerr := login()
	switch {
	case lerr == nil:
		st.Failures = 0
	case errors.Is(lerr, ErrPINIncorrect):
		return st, lerr // the count stays incremented
	default:
		st.Failures = before
	}
	if err := c.write(st); err != nil && lerr == nil {
		return st, err
	}
	return st, lerr
}

var errCounterLocked = errors.New("counter at limit")
