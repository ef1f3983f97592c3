package skr

import (
	"reflect"
	"strings"
	"testing"
)

// TestFindingsInBundleOrder: bundles are checked in parallel, but the
// findings always come out the same, in bundle order.
func TestFindingsInBundleOrder(t *testing.T) {
	doc := load(t, "skr-root-2017-q2-0.xml")
	bs := doc.Response.Bundles
	for _, i := range []int{7, 1, 4} { // break a signature in three bundles
		bs[i].Signatures[0].Data[10] ^= 0xff
	}
	bs[5].ID = bs[2].ID // and a duplicate bundle id
	first := Verify(doc, VerifyOptions{})
	var where []string
	for _, f := range first.Findings {
		where = append(where, f.Check+" "+strings.Fields(f.Where)[1])
	}
	want := []string{"SKR-SIG-VALID 2", "SKR-SIG-VALID 5", "SKR-BUNDLE-ID-UNIQUE 6", "SKR-SIG-VALID 8"}
	if !reflect.DeepEqual(where, want) {
		t.Fatalf("findings %v, want %v", where, want)
	}
	for range 20 {
		if again := Verify(doc, VerifyOptions{}); !reflect.DeepEqual(again.Findings, first.Findings) {
			t.Fatalf("findings changed between runs:\n%v\n%v", again.Findings, first.Findings)
		}
	}
}
