package hsm

import (
	"errors"
	"sync"

	"github.com/miekg/pkcs11"
)

var errPoolClosed = errors.New("token closed")

// sessionPool hands out read-write sessions on one slot, each to one
// goroutine at a time (SoftHSM crashes when two threads share a session).
// It opens at most max sessions, lazily, and keeps them open until close:
// PKCS#11 drops the login state when a token's last session closes, so the
// pool never shrinks to zero on its own.
type sessionPool struct {
	ctx   *pkcs11.Ctx
	slot  uint
	inUse chan struct{} // semaphore: one element per session lent out

	mu     sync.Mutex
	idle   []pkcs11.SessionHandle
	closed bool
}

func newSessionPool(ctx *pkcs11.Ctx, slot uint, max int) *sessionPool {
	return &sessionPool{ctx: ctx, slot: slot, inUse: make(chan struct{}, max)}
}

// get returns a session for the caller's exclusive use until put. It
// blocks while max sessions are lent out.
func (p *sessionPool) get() (pkcs11.SessionHandle, error) {
	p.inUse <- struct{}{}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.inUse
		return 0, errPoolClosed
	}
	if n := len(p.idle); n > 0 {
		sh := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return sh, nil
	}
	p.mu.Unlock()
	sh, err := p.ctx.OpenSession(p.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		<-p.inUse
		return 0, err
	}
	return sh, nil
}

// put gives a session back; a broken one, or any after close, is closed.
func (p *sessionPool) put(sh pkcs11.SessionHandle, broken bool) {
	p.mu.Lock()
	if broken || p.closed {
		_ = p.ctx.CloseSession(sh)
	} else {
		p.idle = append(p.idle, sh)
	}
	p.mu.Unlock()
	<-p.inUse
}

// with runs fn on a session of its own.
func (p *sessionPool) with(fn func(pkcs11.SessionHandle) error) error {
	sh, err := p.get()
	if err != nil {
		return err
	}
	err = fn(sh)
	p.put(sh, isSessionGone(err))
	return err
}

// close closes the idle sessions and makes every later get fail; sessions
// lent out are closed when they are put back. It is idempotent.
func (p *sessionPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for _, sh := range p.idle {
		if err := p.ctx.CloseSession(sh); err != nil && !isSessionGone(err) {
			errs = append(errs, err)
		}
	}
	p.idle = nil
	return errors.Join(errs...)
}
