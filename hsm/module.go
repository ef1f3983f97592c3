package hsm

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ksk-dev/ksk/hsm/internal/p11"
	"github.com/miekg/pkcs11"
)

// Module is a loaded, initialised PKCS#11 module. Several Modules of the
// same library in one process share its initialisation; the last Close
// finalises it.
type Module struct {
	path string
	h    *p11.Module
	ctx  *pkcs11.Ctx

	mu     sync.Mutex
	tokens map[*Token]struct{}
	closed bool
}

// ModuleInfo is the module's C_GetInfo.
type ModuleInfo struct {
	Path               string `json:"path"`
	CryptokiVersion    string `json:"cryptoki_version"`
	ManufacturerID     string `json:"manufacturer"`
	LibraryDescription string `json:"library_description"`
	LibraryVersion     string `json:"library_version"`
}

// OpenModule loads and initialises the PKCS#11 module at path. The error
// wraps ErrModule and names the path when the file is missing, is not a
// PKCS#11 library or fails C_Initialize.
func OpenModule(path string) (*Module, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no module path given (set KSK_PKCS11_MODULE or --module)", ErrModule)
	}
	h, err := p11.Acquire(path)
	if err != nil {
		var code pkcs11.Error
		switch {
		case errors.Is(err, p11.ErrNotFound):
			return nil, fmt.Errorf("%w %q: file not found", ErrModule, path)
		case errors.As(err, &code):
			return nil, fmt.Errorf("%w %q: C_Initialize: %w", ErrModule, path, code)
		}
		return nil, fmt.Errorf("%w %q: %w", ErrModule, path, err)
	}
	return &Module{path: path, h: h, ctx: h.Ctx, tokens: map[*Token]struct{}{}}, nil
}

// Path returns the path the module was opened with.
func (m *Module) Path() string { return m.path }

// Info returns the module's library information.
func (m *Module) Info() (ModuleInfo, error) {
	i, err := m.ctx.GetInfo()
	if err != nil {
		return ModuleInfo{}, fmt.Errorf("PKCS#11 module %q: %w", m.path, p11Error("C_GetInfo", err))
	}
	return ModuleInfo{
		Path:               m.path,
		CryptokiVersion:    fmt.Sprintf("%d.%d", i.CryptokiVersion.Major, i.CryptokiVersion.Minor),
		ManufacturerID:     i.ManufacturerID,
		LibraryDescription: i.LibraryDescription,
		LibraryVersion:     fmt.Sprintf("%d.%d", i.LibraryVersion.Major, i.LibraryVersion.Minor),
	}, nil
}

// Tokens lists the initialised tokens present in the module's slots.
func (m *Module) Tokens() ([]TokenInfo, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("PKCS#11 module %q: %w", m.path, p11Error("C_GetSlotList", err))
	}
	var out []TokenInfo
	for _, s := range slots {
		ti, err := m.ctx.GetTokenInfo(s)
		if err != nil {
			continue // a token removed between the two calls
		}
		info := newTokenInfo(ti)
		if !info.Initialized {
			continue
		}
		out = append(out, info)
	}
	return out, nil
}

// Close closes the module's open tokens (logging them out) and releases the
// module. It is idempotent.
func (m *Module) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	toks := make([]*Token, 0, len(m.tokens))
	for t := range m.tokens {
		toks = append(toks, t)
	}
	m.mu.Unlock()
	var errs []error
	for _, t := range toks {
		errs = append(errs, t.Close())
	}
	if err := m.h.Release(); err != nil {
		errs = append(errs, fmt.Errorf("PKCS#11 module %q: %w", m.path, p11Error("C_Finalize", err)))
	}
	return errors.Join(errs...)
}

func (m *Module) forget(t *Token) {
	m.mu.Lock()
	delete(m.tokens, t)
	m.mu.Unlock()
}
