package backup

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/hsm"
)

// edit decodes a backup file into a generic map, lets change edit it and
// encodes it again.
func edit(t testing.TB, data []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sub(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

func TestParse(t *testing.T) {
	fx := newFixture(t, "rsa-2048-1")
	ec := newFixture(t, "ec-prime256v1-1")
	good := fx.res.Data
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[10] == 'A' {
			b[10] = 'B'
		} else {
			b[10] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"truncated", good[:len(good)/2], ErrMalformed},
		{"truncated by one byte", good[:len(good)-2], ErrMalformed},
		{"not JSON", []byte("-----BEGIN AGE ENCRYPTED FILE-----\n"), ErrMalformed},
		{"array", []byte("[]"), ErrMalformed},
		{"too large", append(bytes.Clone(good), bytes.Repeat([]byte(" "), MaxFileSize)...), ErrMalformed},
		{"trailing data", append(bytes.Clone(good), []byte("{}")...), ErrMalformed},
		{"unknown field", edit(t, good, func(m map[string]any) { m["comment"] = "x" }), ErrMalformed},
		{"unknown nested field", edit(t, good, func(m map[string]any) { sub(m, "key")["usage"] = "sign" }), ErrMalformed},
		{"duplicate field", bytes.Replace(good, []byte(`"mac":`), []byte(`"format": "x", "mac":`), 1), ErrMalformed},
		{"duplicate nested field", bytes.Replace(good, []byte(`"label":`), []byte(`"label": "y", "label":`), 1), ErrMalformed},
		{"other format", edit(t, good, func(m map[string]any) { m["format"] = "ksk-key-backup-v2" }), ErrMalformed},
		{"no creation time", edit(t, good, func(m map[string]any) { delete(m, "created") }), ErrMalformed},
		{"upper-case id", edit(t, good, func(m map[string]any) { sub(m, "key")["id"] = strings.ToUpper(fx.res.File.Key.ID) }), ErrMalformed},
		{"control character in label", edit(t, good, func(m map[string]any) { sub(m, "key")["label"] = "ksk\x1b[2J" }), ErrMalformed},
		{"unsupported algorithm", edit(t, good, func(m map[string]any) { sub(m, "key")["algorithm"] = 5 }), ErrMalformed},
		{"algorithm name of another", edit(t, good, func(m map[string]any) { sub(m, "key")["algorithm_name"] = "RSASHA512" }), ErrMalformed},
		{"other mechanism", edit(t, good, func(m map[string]any) { sub(m, "wrap")["mechanism"] = "CKM_AES_KEY_WRAP" }), ErrMalformed},
		{"wrapped key not whole blocks", edit(t, good, func(m map[string]any) { sub(m, "wrap")["wrapped_key"] = "AAAAAAAAAAAAAAAAAAAAAAA=" }), ErrMalformed},
		{"wrapped key not base64", edit(t, good, func(m map[string]any) { sub(m, "wrap")["wrapped_key"] = "%%%%" }), ErrMalformed},
		{"m above n", edit(t, good, func(m map[string]any) { sub(m, "quorum")["m"] = 9 }), ErrMalformed},
		{"short split id", edit(t, good, func(m map[string]any) { sub(m, "quorum")["split_id"] = "00" }), ErrMalformed},
		{"no MAC", edit(t, good, func(m map[string]any) { m["mac"] = "" }), ErrMalformed},
		{"other reference message", edit(t, good, func(m map[string]any) { sub(m, "reference")["message"] = "hello" }), ErrMalformed},
		{"public key of another key", edit(t, good, func(m map[string]any) { sub(m, "key")["public_key"] = ec.res.File.Key.PublicKey }), ErrAltered},
		{"public key damaged", edit(t, good, func(m map[string]any) {
			sub(m, "key")["public_key"] = flip(sub(m, "key")["public_key"].(string))
		}), ErrAltered},
		{"DNSKEY of another key", edit(t, good, func(m map[string]any) { sub(m, "key")["dnskey"] = ec.res.File.Key.DNSKEY }), ErrAltered},
		{"DNSKEY not a DNSKEY", edit(t, good, func(m map[string]any) { sub(m, "key")["dnskey"] = ". 3600 IN A 192.0.2.1" }), ErrAltered},
		{"key tag", edit(t, good, func(m map[string]any) { sub(m, "key")["key_tag"] = 20326 }), ErrAltered},
		{"bits", edit(t, good, func(m map[string]any) { sub(m, "key")["bits"] = 4096 }), ErrAltered},
		{"DS", edit(t, good, func(m map[string]any) { sub(m, "key")["ds"] = []string{ec.res.File.Key.DS[0], fx.res.File.Key.DS[1]} }), ErrAltered},
		{"one DS", edit(t, good, func(m map[string]any) { sub(m, "key")["ds"] = fx.res.File.Key.DS[:1] }), ErrMalformed},
		{"reference signature", edit(t, good, func(m map[string]any) { sub(m, "reference")["signature"] = ec.res.File.Reference.Signature }), ErrAltered},
		{"RSA key as ECDSA", edit(t, good, func(m map[string]any) {
			sub(m, "key")["algorithm"], sub(m, "key")["algorithm_name"] = 13, "ECDSAP256SHA256"
		}), ErrAltered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse: %v, want %v", err, tt.want)
			}
			if f != nil {
				t.Error("a file with an error")
			}
		})
	}

	// A file changed where Parse cannot tell still fails its MAC.
	relabelled := edit(t, good, func(m map[string]any) { sub(m, "key")["label"] = "ksk-2" })
	f, err := Parse(relabelled)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.VerifyKEK(fx.kek); !errors.Is(err, ErrAltered) {
		t.Errorf("relabelled file: %v", err)
	}
	if f.String() == "" || f.Algorithm() != hsm.RSASHA256 || len(f.KeyID()) == 0 {
		t.Errorf("accessors: %s %s %x", f, f.Algorithm(), f.KeyID())
	}
}

// FuzzParseBackup checks that Parse never panics, and that whatever it
// accepts encodes back to a file it parses the same way.
func FuzzParseBackup(f *testing.F) {
	for _, key := range []string{"rsa-2048-1", "ec-prime256v1-1", "ed25519-1"} {
		fx := newFixture(f, key)
		f.Add(fx.res.Data)
		f.Add(fx.res.Data[:len(fx.res.Data)/3])
		f.Add(edit(f, fx.res.Data, func(m map[string]any) { sub(m, "key")["key_tag"] = 1 }))
	}
	f.Add([]byte(`{"format":"ksk-key-backup-v1","key":{"label":"a","label":"b"}}`))
	f.Add([]byte(`[[[[[[[[[[[[]]]]]]]]]]]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrAltered) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		out, err := g.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		h, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		if !bytes.Equal(g.macInput(), h.macInput()) || g.MAC != h.MAC {
			t.Fatal("re-encoded file differs")
		}
	})
}
