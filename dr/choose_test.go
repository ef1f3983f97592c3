package dr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func b(v bool) *bool { return &v }

// TestChoose: every situation of the procedure leads to its variant, and
// the scripts chosen are exactly those of scripts/dr/.
func TestChoose(t *testing.T) {
	y, n := b(true), b(false)
	tests := []struct {
		s       Situation
		section string
		err     error
	}{
		{Situation{Disaster: Signing, Prolonged: true}, "4.1.3", nil},
		{Situation{Disaster: Signing, KMF: n, COs: y}, "4.1.1", nil},
		{Situation{Disaster: Signing, KMF: y, COs: n}, "4.1.2A", nil},
		{Situation{Disaster: Signing, KMF: n, COs: n}, "4.1.2B", nil},
		{Situation{Disaster: Signing, KMF: y, COs: y}, "", ErrNoDisaster},
		{Situation{Disaster: Signing, KMF: y}, "", ErrSituation},
		{Situation{Disaster: Compromise, KMF: y, COs: y}, "4.2.1A", nil},
		{Situation{Disaster: Compromise, KMF: n, COs: y}, "4.2.1B", nil},
		{Situation{Disaster: Compromise, KMF: y, COs: n}, "4.2.2A", nil},
		{Situation{Disaster: Compromise, KMF: n, COs: n}, "4.2.2B", nil},
		{Situation{Disaster: Compromise, COs: n}, "", ErrSituation},
		{Situation{Disaster: Lost, KMF: y, RKSHs: y, Backup: y}, "4.3.1A", nil},
		{Situation{Disaster: Lost, KMF: y, RKSHs: y, Backup: n}, "4.3.1B", nil},
		{Situation{Disaster: Lost, KMF: n, RKSHs: y}, "4.3.1C", nil},
		{Situation{Disaster: Lost, KMF: y, RKSHs: n}, "4.3.2A", nil},
		{Situation{Disaster: Lost, KMF: n, RKSHs: n, COs: n}, "4.3.2B", nil},
		{Situation{Disaster: Lost, KMF: y, RKSHs: y}, "", ErrSituation},
		{Situation{Disaster: "flood"}, "", ErrSituation},
	}
	reached := map[string]bool{}
	for _, tt := range tests {
		c, err := Choose(tt.s)
		if !errors.Is(err, tt.err) || c.Section != tt.section {
			t.Errorf("%+v: got %s, %v; want %s, %v", tt.s, c.Section, err, tt.section, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if !strings.HasPrefix(c.Scripts[0].File, c.Section+"-") {
			t.Errorf("%s: its script %s is not named by its section", c.Section, c.Scripts[0].File)
		}
		for _, s := range c.Scripts {
			reached[s.File] = true
		}
		if c.Alternative != nil {
			reached[c.Alternative.File] = true
		}
	}
	files, err := filepath.Glob(filepath.Join("..", "scripts", "dr", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatal("no scripts")
	}
	for _, f := range files {
		if !reached[filepath.Base(f)] {
			t.Errorf("%s is chosen in no situation", f)
		}
		delete(reached, filepath.Base(f))
	}
	for f := range reached {
		if _, err := os.Stat(filepath.Join("..", "scripts", "dr", f)); err != nil {
			t.Errorf("Choose names %s: %v", f, err)
		}
	}
}
