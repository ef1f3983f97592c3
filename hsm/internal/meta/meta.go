// Package meta reads and writes the small PKCS#11 data object in which ksk
// records, next to each key pair, what the key itself cannot say: the DNSSEC
// algorithm (an RSA key is RSASHA256 or RSASHA512 only by convention) and
// when ksk created it.
package meta

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/miekg/pkcs11"
)

// Application is the CKA_APPLICATION of ksk's data objects.
const Application = "ksk"

// Version is the format version of Record.
const Version = 1

// Record is the content (CKA_VALUE, JSON) of a key's data object.
type Record struct {
	V         int       `json:"v"`
	ID        string    `json:"id"`        // hex CKA_ID of the key pair
	Algorithm uint8     `json:"algorithm"` // DNSSEC algorithm number
	Created   time.Time `json:"created"`
}

// Template returns the attributes of a new data object for the key pair
// with the given label and CKA_ID.
func Template(label string, id []byte, alg uint8, created time.Time) ([]*pkcs11.Attribute, error) {
	v, err := json.Marshal(Record{V: Version, ID: hex.EncodeToString(id), Algorithm: alg, Created: created.UTC().Truncate(time.Second)})
	if err != nil {
		return nil, err
	}
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, Application),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, v),
	}, nil
}

// Query returns the search template of the data objects with a label.
func Query(label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, Application),
	}
}

// Parse decodes a data object's CKA_VALUE.
func Parse(value []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(value, &r); err != nil {
		return r, fmt.Errorf("ksk metadata object: %w", err)
	}
	if r.V != Version {
		return r, fmt.Errorf("ksk metadata object: unknown version %d", r.V)
	}
	return r, nil
}
