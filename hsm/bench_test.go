package hsm_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"strings"
	"testing"
	"time"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/hsm/internal/p11"
	"github.com/ksk-dev/ksk/hsm/softhsmtest"
	"github.com/miekg/pkcs11"
)

var benchCases = []struct {
	name string
	alg  hsm.Algorithm
	bits int
}{
	{"RSASHA256-2048", hsm.RSASHA256, 2048},
	{"RSASHA512-2048", hsm.RSASHA512, 2048},
	{"ECDSAP256SHA256", hsm.ECDSAP256SHA256, 0},
	{"ECDSAP384SHA384", hsm.ECDSAP384SHA384, 0},
	{"ED25519", hsm.ED25519, 0},
}

// benchInput returns what miekg/dns passes to crypto.Signer.Sign for an
// algorithm: a digest and its hash, or the message for Ed25519.
func benchInput(alg hsm.Algorithm) ([]byte, crypto.Hash) {
	msg := []byte(strings.Repeat("DNSKEY RRset to sign ", 20))
	switch alg.Hash() {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return d[:], crypto.SHA256
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:], crypto.SHA384
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		return d[:], crypto.SHA512
	}
	return msg, 0
}

// BenchmarkSign measures hsm.Key.Sign, the crypto.Signer path: a session
// from the pool, C_SignInit, C_Sign, the DER conversion for ECDSA and the
// software re-verification of every signature.
func BenchmarkSign(b *testing.B) {
	tok := softhsmtest.NewToken(b).Open(b)
	for _, c := range benchCases {
		k, err := tok.GenerateKey(hsm.GenerateOptions{Label: c.name, Algorithm: c.alg, Bits: c.bits})
		if err != nil {
			b.Fatal(err)
		}
		in, h := benchInput(c.alg)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := k.Sign(rand.Reader, in, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawCSign measures bare C_SignInit + C_Sign on one session with
// the same inputs, the floor BenchmarkSign is compared with.
func BenchmarkRawCSign(b *testing.B) {
	tk := softhsmtest.NewToken(b)
	tok := tk.Open(b)
	m, err := p11.Acquire(tk.Module)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Release()
	ctx := m.Ctx
	slot := findSlot(b, ctx, tk.Serial)
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		b.Fatal(err)
	}
	defer ctx.CloseSession(sh)
	// Private objects are visible: tok's login covers every session.
	for _, c := range benchCases {
		if _, err := tok.GenerateKey(hsm.GenerateOptions{Label: c.name, Algorithm: c.alg, Bits: c.bits}); err != nil {
			b.Fatal(err)
		}
		priv := findPrivate(b, ctx, sh, c.name)
		in, h := benchInput(c.alg)
		mech := uint(pkcs11.CKM_ECDSA)
		switch {
		case c.alg.IsRSA():
			mech = pkcs11.CKM_RSA_PKCS
			in = append(digestInfo(h), in...)
		case c.alg == hsm.ED25519:
			mech = hsm.CKM_EDDSA
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := ctx.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, priv); err != nil {
					b.Fatal(err)
				}
				if _, err := ctx.Sign(sh, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func digestInfo(h crypto.Hash) []byte {
	switch h {
	case crypto.SHA256:
		return []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	case crypto.SHA512:
		return []byte{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40}
	}
	panic("no DigestInfo for " + h.String())
}

func findSlot(b *testing.B, ctx *pkcs11.Ctx, serial string) uint {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range slots {
		if ti, err := ctx.GetTokenInfo(s); err == nil && strings.TrimRight(ti.SerialNumber, " ") == serial {
			return s
		}
	}
	b.Fatalf("no slot with serial %s", serial)
	return 0
}

func findPrivate(b *testing.B, ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, label string) pkcs11.ObjectHandle {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		b.Fatal(err)
	}
	hs, _, err := ctx.FindObjects(sh, 2)
	ctx.FindObjectsFinal(sh)
	if err != nil || len(hs) != 1 {
		b.Fatalf("private key %q: %d found, %v", label, len(hs), err)
	}
	return hs[0]
}

// BenchmarkSignVsRaw alternates one hsm.Key.Sign and one bare C_Sign per
// iteration on the same key, so both see the same machine load, and
// reports rate_ratio: the ksk Signer's signing rate divided by raw
// C_Sign's (1.0 means no overhead).
func BenchmarkSignVsRaw(b *testing.B) {
	tk := softhsmtest.NewToken(b)
	tok := tk.Open(b)
	m, err := p11.Acquire(tk.Module)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Release()
	ctx := m.Ctx
	sh, err := ctx.OpenSession(findSlot(b, ctx, tk.Serial), pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		b.Fatal(err)
	}
	defer ctx.CloseSession(sh)
	for _, c := range benchCases {
		k, err := tok.GenerateKey(hsm.GenerateOptions{Label: c.name, Algorithm: c.alg, Bits: c.bits})
		if err != nil {
			b.Fatal(err)
		}
		priv := findPrivate(b, ctx, sh, c.name)
		in, h := benchInput(c.alg)
		raw, mech := in, uint(pkcs11.CKM_ECDSA)
		switch {
		case c.alg.IsRSA():
			mech, raw = pkcs11.CKM_RSA_PKCS, append(digestInfo(h), in...)
		case c.alg == hsm.ED25519:
			mech = hsm.CKM_EDDSA
		}
		b.Run(c.name, func(b *testing.B) {
			var kskTime, rawTime time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := k.Sign(rand.Reader, in, h); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := ctx.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, priv); err != nil {
					b.Fatal(err)
				}
				if _, err := ctx.Sign(sh, raw); err != nil {
					b.Fatal(err)
				}
				kskTime += t1.Sub(t0)
				rawTime += time.Since(t1)
			}
			b.ReportMetric(float64(kskTime.Nanoseconds())/float64(b.N), "ksk-ns/sig")
			b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "raw-ns/sig")
			b.ReportMetric(float64(rawTime)/float64(kskTime), "rate_ratio")
		})
	}
}
