package skr

import (
	"os"
	"strings"
	"testing"
)

// TestChecksDocumented: docs/checks.md has a table row for every check ID.
func TestChecksDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range CheckIDs() {
		if seen[id] {
			t.Errorf("check ID %s listed twice", id)
		}
		seen[id] = true
		if !strings.Contains(string(doc), "| `"+id+"` |") {
			t.Errorf("docs/checks.md has no row for %s", id)
		}
	}
	if len(seen) != 30 {
		t.Errorf("CheckIDs has %d IDs; update this test and docs/checks.md together", len(seen))
	}
}
