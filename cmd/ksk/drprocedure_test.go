package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ksk-dev/ksk/ceremony"
)

// The DR procedure's checklist, as the project keeps it, and the shared
// copy it must equal when that is present.
var (
	drProcedureCopy   = filepath.Join("..", "..", "testdata", "dr", "dr-procedure.md")
	drProcedureShared = filepath.Join("..", "..", "..", "shared", "dr-procedure.md")
	drDocPath         = filepath.Join("..", "..", "docs", "disaster-recovery.md")
)

// procedureSteps reads the numbered steps of each variant of the DR
// procedure's checklist: "### 4.1.1 …" sections with "1. …; 2. …", or
// "**A. …:** 1. …" variants within a section. It returns, per variant
// (4.1.1, 4.1.2A, …), its step numbers in order.
func procedureSteps(t *testing.T, text string) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	section := regexp.MustCompile(`^### (\d+\.\d+\.\d+) `)
	variant := regexp.MustCompile(`\*\*([A-Z])\. [^*]*\*\*`)
	num := regexp.MustCompile(`(?:^|[\s;:*])(\d{1,2})\. `)
	var sec, cur string
	add := func(s string) {
		for _, m := range num.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(m[1])
			out[cur] = append(out[cur], n)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if m := section.FindStringSubmatch(line); m != nil {
			sec, cur = m[1], m[1]
			continue
		}
		if strings.HasPrefix(line, "#") {
			sec, cur = "", ""
			continue
		}
		if sec == "" {
			continue
		}
		rest := line
		for {
			loc := variant.FindStringSubmatchIndex(rest)
			if loc == nil {
				add(rest)
				break
			}
			add(rest[:loc[0]])
			cur = sec + rest[loc[2]:loc[3]]
			rest = rest[loc[1]:]
		}
	}
	for v, steps := range out {
		for i, n := range steps {
			if n != i+1 {
				t.Fatalf("procedure variant %s: steps %v are not 1..n", v, steps)
			}
		}
	}
	return out
}

// deviations reads the deviations table of docs/disaster-recovery.md:
// rows "| VARIANT | STEPS | what ksk does instead | why |", STEPS one or
// more numbers separated by commas. It returns the set "VARIANT/N".
func deviations(t *testing.T, doc string) map[string]bool {
	t.Helper()
	row := regexp.MustCompile(`(?m)^\| (\d+\.\d+\.\d+[A-Z]?) \| ([\d, ]+) \| [^|]+ \| [^|]+ \|$`)
	out := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		for _, n := range strings.Split(m[2], ",") {
			out[m[1]+"/"+strings.TrimSpace(n)] = true
		}
	}
	return out
}

// TestDRProcedureRefs: every numbered step of every variant of the DR
// procedure is carried out by a step of a script in scripts/dr/ that
// names it with ref:, in the procedure's order within each script, except
// where the deviations table of docs/disaster-recovery.md gives a written
// reason; every variant has its script, named by section; an alternative
// script (named -alternative-) may leave steps out only where the
// deviations table says why.
func TestDRProcedureRefs(t *testing.T) {
	copyText := readFileT(t, drProcedureCopy)
	if shared, err := os.ReadFile(drProcedureShared); err == nil && string(shared) != copyText {
		t.Fatalf("%s differs from %s: copy the shared checklist into the project", drProcedureCopy, drProcedureShared)
	}
	proc := procedureSteps(t, copyText)
	if len(proc) != 13 {
		t.Fatalf("the procedure has %d variants, want 13: %v", len(proc), proc)
	}
	dev := deviations(t, readFileT(t, drDocPath))
	if len(dev) == 0 {
		t.Fatal("no deviations table in docs/disaster-recovery.md")
	}
	for d := range dev {
		v, n, _ := strings.Cut(d, "/")
		k, _ := strconv.Atoi(n)
		if k < 1 || k > len(proc[v]) {
			t.Errorf("the deviations table names %s, which is not a step of the procedure", d)
		}
	}

	scripts, err := filepath.Glob(filepath.Join(drDir, "*.yaml"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in %s", drDir)
	}
	loaded := map[string]*ceremony.Script{}
	for _, path := range scripts {
		s, err := ceremony.Load(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		loaded[filepath.Base(path)] = s
	}
	for _, e := range checkProcedureRefs(proc, dev, loaded) {
		t.Error(e)
	}

	// The check catches what it is for: a step left unreferenced, two
	// steps swapped, a variant's script missing.
	mutants := []struct {
		name, script, want string
		edit               func(s *ceremony.Script)
	}{
		{"ref dropped", "4.3.1A-lost-ksk-restore-from-backup.yaml", `variant 4.3.1A: step 3 is carried out by no script`, func(s *ceremony.Script) { stepByID(s, "act4", "restore").Ref = "" }},
		{"out of order", "4.3.1B-lost-ksk-no-backup-new-ksk.yaml", `refs 4.3.1B/2 after 4.3.1B/3`, func(s *ceremony.Script) {
			stepByID(s, "act3", "generate-ksk").Ref = "4.3.1B/2"
			stepByID(s, "act1", "film").Ref = "4.3.1B/3"
		}},
		{"a step's refs all dropped", "4.2.2B-compromise-no-cos-no-kmf-temporary-ksk.yaml", `variant 4.2.2B: step 4 is carried out by no script`, func(s *ceremony.Script) {
			for _, a := range s.Acts {
				for i := range a.Steps {
					if a.Steps[i].Ref == "4.2.2B/4" {
						a.Steps[i].Ref = ""
					}
				}
			}
		}},
		{"script missing", "4.1.3-release-extended-skrs.yaml", `variant 4.1.3: step 7`, nil},
	}
	for _, m := range mutants {
		mutated := map[string]*ceremony.Script{}
		for k, v := range loaded {
			mutated[k] = v
		}
		if m.edit == nil {
			delete(mutated, m.script)
		} else {
			s, err := ceremony.Load(filepath.Join(drDir, m.script), nil)
			if err != nil {
				t.Fatal(err)
			}
			m.edit(s)
			mutated[m.script] = s
		}
		errs := strings.Join(checkProcedureRefs(proc, dev, mutated), "\n")
		if !strings.Contains(errs, m.want) {
			t.Errorf("mutant %s: want an error with %q, got:\n%s", m.name, m.want, errs)
		}
	}
	t.Logf("%d variants, %d numbered steps, all referenced by %d scripts; %d deviations", len(proc), func() (n int) {
		for _, s := range proc {
			n += len(s)
		}
		return
	}(), len(loaded), len(dev))
}

// checkProcedureRefs checks the refs of the DR scripts (by file name)
// against the procedure's variants and the deviations, and returns what is
// wrong.
func checkProcedureRefs(proc map[string][]int, dev map[string]bool, scripts map[string]*ceremony.Script) []string {
	var errs []string
	errf := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	covered := map[string]map[int]bool{}
	named := map[string]bool{}
	var names []string
	for name := range scripts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, base := range names {
		s := scripts[base]
		if v, _, ok := strings.Cut(base, "-"); ok && proc[v] != nil && !strings.Contains(base, "-followup-") && !strings.Contains(base, "-alternative-") {
			named[v] = true
		}
		alternative := strings.Contains(base, "-alternative-")
		last := map[string]int{}
		mine := map[string]map[int]bool{}
		for _, a := range s.Acts {
			for i := range a.Steps {
				st := &a.Steps[i]
				for _, ref := range st.Refs() {
					v, n, _ := strings.Cut(ref, "/")
					k, _ := strconv.Atoi(n)
					if k < 1 || k > len(proc[v]) {
						errf("%s: step %s.%s refs %s, which is not a step of the procedure", base, a.ID, st.ID, ref)
						continue
					}
					if k < last[v] && !dev[ref] {
						errf("%s: step %s.%s refs %s after %s/%d: out of the procedure's order, and the deviations table gives no reason", base, a.ID, st.ID, ref, v, last[v])
					}
					last[v] = max(last[v], k)
					if mine[v] == nil {
						mine[v] = map[int]bool{}
					}
					mine[v][k] = true
				}
			}
		}
		for v, ks := range mine {
			if alternative {
				for k := 1; k <= len(proc[v]); k++ {
					if !ks[k] && !dev[v+"/"+strconv.Itoa(k)] {
						errf("%s: an alternative for %s leaves out %s/%d without a row in the deviations table", base, v, v, k)
					}
				}
				continue
			}
			if covered[v] == nil {
				covered[v] = map[int]bool{}
			}
			for k := range ks {
				covered[v][k] = true
			}
		}
	}
	var variants []string
	for v := range proc {
		variants = append(variants, v)
	}
	sort.Strings(variants)
	for _, v := range variants {
		if !named[v] {
			errf("variant %s has no script named %s-….yaml in %s", v, v, drDir)
		}
		for _, k := range proc[v] {
			if !covered[v][k] {
				errf("variant %s: step %d is carried out by no script (no ref: \"%s/%d\")", v, k, v, k)
			}
		}
	}
	return errs
}

// stepByID returns a step of a script.
func stepByID(s *ceremony.Script, act, id string) *ceremony.Step {
	for ai := range s.Acts {
		for i := range s.Acts[ai].Steps {
			if s.Acts[ai].ID == act && s.Acts[ai].Steps[i].ID == id {
				return &s.Acts[ai].Steps[i]
			}
		}
	}
	panic("no step " + act + "." + id)
}
