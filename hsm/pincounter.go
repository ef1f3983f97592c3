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
	// EnvStateDir overrides the state directory.
	EnvStateDir = "KSK_STATE_DIR"
	// EnvPINFailureLimit overrides DefaultPINFailureLimit.
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
	// Dir holds the counter files; it is created with mode 0700.
	Dir string
	// Limit is the number of failures in a row after which logins are
	// refused; 0 or less means DefaultPINFailureLimit.
	Limit int
}

// DefaultStateDir returns $KSK_STATE_DIR, else $XDG_STATE_HOME/ksk, else
// ~/.local/state/ksk.
func DefaultStateDir() (string, error) {
	if d := os.Getenv(EnvStateDir); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ksk"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%w: no directory for the failed-login counter (set %s): %w", ErrState, EnvStateDir, err)
	}
	return filepath.Join(home, ".local", "state", "ksk"), nil
}

// DefaultFailureCounter returns a counter in DefaultStateDir with the limit
// from $KSK_PIN_FAILURE_LIMIT, else DefaultPINFailureLimit.
func DefaultFailureCounter() (*FailureCounter, error) {
	dir, err := DefaultStateDir()
	if err != nil {
		return nil, err
	}
	limit := DefaultPINFailureLimit
	if v := os.Getenv(EnvPINFailureLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, invalidf("%s must be a positive integer", EnvPINFailureLimit)
		}
		limit = n
	}
	return &FailureCounter{Dir: dir, Limit: limit}, nil
}

func (c *FailureCounter) limit() int {
	if c.Limit <= 0 {
		return DefaultPINFailureLimit
	}
	return c.Limit
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

// Path returns the counter file of a token and user type. Its name hashes
// the token's label and serial, so labels need no escaping. An empty Dir
// means DefaultStateDir(), or the working directory's .ksk-state if even
// that is unknown.
func (c *FailureCounter) Path(tok TokenInfo, u UserType) string {
	dir := c.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultStateDir(); err != nil {
			dir = ".ksk-state"
		}
	}
	sum := sha256.Sum256([]byte(tok.Serial + "\x00" + tok.Label))
	return filepath.Join(dir, "pin-failures", fmt.Sprintf("%s-%s.json", hex.EncodeToString(sum[:8]), u))
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
	path := c.Path(tok, u)
	st := FailureState{TokenLabel: tok.Label, TokenSerial: tok.Serial, User: u.String(), Limit: c.limit(), Path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
	}
	var onDisk FailureState
	if err := json.Unmarshal(b, &onDisk); err != nil {
		// A damaged counter must not reopen the door: treat it as locked.
		st.Failures = st.Limit
		return st, nil
	}
	st.Failures, st.Updated = onDisk.Failures, onDisk.Updated
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
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(st.Path, append(b, '\n'), 0o600, true); err != nil {
		return fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
	}
	return nil
}

// lock takes an exclusive flock on the counter's lock file.
func (c *FailureCounter) lock(tok TokenInfo, u UserType) (func(), error) {
	path := c.Path(tok, u)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
	}
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: failed-login counter: %w", ErrState, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: failed-login counter: lock %s: %w", ErrState, f.Name(), err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
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
