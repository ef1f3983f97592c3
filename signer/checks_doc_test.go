package signer_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/signer"
)

// TestChecksDocumented: docs/checks.md has a table row for every check ID.
func TestChecksDocumented(t *testing.T) {
	doc := string(mustRead(t, "../docs/checks.md"))
	ids := signer.CheckIDs()
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			t.Errorf("check ID %s listed twice", id)
		}
		if !strings.Contains(doc, "| `"+id+"` |") {
			t.Errorf("docs/checks.md has no row for %s", id)
		}
	}
	if !slices.Contains(ids, signer.CheckRFC5011HoldDown) {
		t.Errorf("CheckIDs lacks %s", signer.CheckRFC5011HoldDown)
	}
}
