// Package p11 keeps one initialised PKCS#11 context per module per process.
//
// A PKCS#11 module is process-global: dlopen returns the same library for
// the same file, and a second C_Initialize fails with
// CKR_CRYPTOKI_ALREADY_INITIALIZED. SoftHSM also reads SOFTHSM2_CONF only at
// C_Initialize. Every user of a module in this process (the hsm package and
// the softhsmtest helper) therefore shares one context, reference counted:
// the first Acquire loads and initialises the module, the last Release
// finalises it, so the next Acquire sees tokens created meanwhile.
package p11

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/miekg/pkcs11"
)

// ErrNotFound means the module file does not exist.
var ErrNotFound = errors.New("module file not found")

// ErrNotLoadable means the file exists but is not a loadable PKCS#11 library.
var ErrNotLoadable = errors.New("not a loadable PKCS#11 library (wrong file, wrong architecture or missing dependencies)")

// Module is a shared, initialised PKCS#11 context.
type Module struct {
	// Ctx is the initialised context. It stays valid until Release.
	Ctx *pkcs11.Ctx
	// Path is the path that was asked for.
	Path string

	key  string
	refs int
}

var (
	mu sync.Mutex
	// modules holds the initialised modules by resolved path.
	modules = map[string]*Module{}
	// loaded holds every library loaded so far, initialised or not, so a
	// module finalised by its last Release is reused rather than loaded
	// again.
	loaded = map[string]*pkcs11.Ctx{}
)

// Acquire returns the initialised context of the module at path, loading
// and initialising it if this process has not already. A failed
// C_Initialize returns its pkcs11.Error unwrapped.
func Acquire(path string) (*Module, error) {
	if path == "" {
		return nil, fmt.Errorf("no module path: %w", ErrNotFound)
	}
	key, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(key); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(key); err == nil {
		key = real
	}

	mu.Lock()
	defer mu.Unlock()
	if m, ok := modules[key]; ok {
		m.refs++
		return &Module{Ctx: m.Ctx, Path: path, key: key, refs: -1}, nil
	}
	ctx := loaded[key]
	if ctx == nil {
		if ctx = pkcs11.New(key); ctx == nil {
			return nil, ErrNotLoadable
		}
		loaded[key] = ctx
	}
	if err := ctx.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		// Deliberately no ctx.Destroy: unloading a library that failed
		// half-way through initialisation is riskier than leaking it.
		return nil, err
	}
	modules[key] = &Module{Ctx: ctx, Path: key, key: key, refs: 1}
	return &Module{Ctx: ctx, Path: path, key: key, refs: -1}, nil
}

// Release drops this reference. The last reference finalises the module
// (the library stays loaded: unloading and reloading shared libraries that
// link OpenSSL is not reliably safe). Release is idempotent.
func (h *Module) Release() error {
	if h == nil || h.Ctx == nil {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	shared, ok := modules[h.key]
	h.Ctx = nil
	if !ok {
		return nil
	}
	shared.refs--
	if shared.refs > 0 {
		return nil
	}
	delete(modules, h.key)
	return shared.Ctx.Finalize()
}
