package backup

import (
	"fmt"

	"github.com/ksk-dev/ksk/hsm"
)

// hsmSource is a Source on an *hsm.Token.
type hsmSource struct {
	tok      *hsm.Token
	user, so hsm.LoginOptions
}

// NewHSMSource returns the Source of a token that is not logged in:
// ImportKEK logs the security officer in with so (only the security
// officer may create a CKA_TRUSTED key) and out again, then Key logs the
// user in with user.
func NewHSMSource(tok *hsm.Token, user, so hsm.LoginOptions) Source {
	return &hsmSource{tok: tok, user: user, so: so}
}

func (s *hsmSource) Info() hsm.TokenInfo { return s.tok.Info() }

func (s *hsmSource) Random(n int) ([]byte, error) { return s.tok.GenerateRandom(n) }

func (s *hsmSource) ImportKEK(kek []byte) (WrapKEK, error) {
	w, err := s.tok.ImportTrustedWrappingKey(kek, s.so)
	if err != nil {
		return nil, err
	}
	return hsmWrapKEK{w}, nil
}

func (s *hsmSource) Key(label string) (Key, error) {
	if err := s.tok.Login(s.user); err != nil {
		return nil, err
	}
	k, err := s.tok.FindKey(label)
	if err != nil {
		return nil, err
	}
	return k, nil
}

type hsmWrapKEK struct{ w *hsm.WrappingKey }

func (h hsmWrapKEK) Wrap(k Key) ([]byte, error) {
	hk, ok := k.(*hsm.Key)
	if !ok {
		return nil, fmt.Errorf("%w: %T is not a key of the token", ErrInvalidArgument, k)
	}
	return h.w.Wrap(hk)
}

func (h hsmWrapKEK) Destroy() error { return h.w.Destroy() }

// hsmTarget is a Target on an *hsm.Token.
type hsmTarget struct{ tok *hsm.Token }

// NewHSMTarget returns the Target of a token the user is logged in to.
func NewHSMTarget(tok *hsm.Token) Target { return hsmTarget{tok} }

func (t hsmTarget) Info() hsm.TokenInfo { return t.tok.Info() }

func (t hsmTarget) CheckFree(label string, id []byte) error { return t.tok.CheckFree(label, id) }

func (t hsmTarget) ImportKEK(kek []byte) (UnwrapKEK, error) {
	w, err := t.tok.ImportUnwrappingKey(kek)
	if err != nil {
		return nil, err
	}
	return hsmUnwrapKEK{w}, nil
}

type hsmUnwrapKEK struct{ w *hsm.WrappingKey }

func (h hsmUnwrapKEK) Unwrap(wrapped []byte, spec hsm.UnwrapSpec) (RestoredKey, error) {
	k, err := h.w.Unwrap(wrapped, spec)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (h hsmUnwrapKEK) Destroy() error { return h.w.Destroy() }
