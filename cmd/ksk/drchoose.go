package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksk-dev/ksk/ceremony"
	"github.com/ksk-dev/ksk/dr"
	"github.com/ksk-dev/ksk/internal/lineread"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// drChooseFlags are the situation flags of ksk dr choose.
type drChooseFlags struct {
	disaster                string
	kmf, cos, rkshs, backup string
	prolonged               bool
	scripts                 string
	ceremonyFlags
}

func newDRChooseCmd(a *app) *cobra.Command {
	var f drChooseFlags
	cmd := &cobra.Command{
		Use:   "choose --disaster signing|compromise|lost [--kmf yes|no] [--cos yes|no] [--rkshs yes|no] [--backup yes|no] [--prolonged] [--dir WORK]",
		Short: "Name the DR procedure's variant and scripts for what is still available, and what they need",
		Long: `Choose takes what happened (--disaster) and what is still available (a
key management facility, the crypto officers, the recovery key share
holders, the KSK's backup) and names the variant of the disaster recovery
procedure (docs/disaster-recovery.md), its ceremony script and the
follow-up ceremony it leads to, what happens to the trust anchors, and the
files each script needs from the ceremony directory (--dir), each marked
present or MISSING: the preparations (the standby HSM's credentials, the
backup, the sealing record of the safe deposit boxes, the extended SKRs).
A question that the flags leave open is asked at a terminal; without one
it is an error naming the flag.

Exit status: 0 the variant's own script has everything it needs in --dir,
1 something it needs is missing (listed), 2 bad flags, an incomplete
situation, or nothing that the procedure calls a disaster.`,
		Example: `  ksk dr choose --disaster signing --kmf yes --cos no --dir WORK
  ksk dr choose --disaster lost --kmf yes --rkshs yes --backup no --dir WORK -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.situation(a)
			if err != nil {
				return err
			}
			c, err := dr.Choose(s)
			if err != nil {
				return fmt.Errorf("%w: %w", errUsage, err)
			}
			opts, err := f.options()
			if err != nil {
				return err
			}
			if opts.Dir == "" {
				opts.Dir = "."
			}
			return a.printChoice(s, c, f.scripts, opts)
		},
	}
	cmd.Flags().StringVar(&f.disaster, "disaster", "", "what happened: signing (no SKR in time), compromise (the KSK is or may be known), lost (no HSM can use the KSK)")
	cmd.Flags().StringVar(&f.kmf, "kmf", "", "yes|no: a key management facility can hold a ceremony in time")
	cmd.Flags().StringVar(&f.cos, "cos", "", "yes|no: the DPS minimum of crypto officers can attend")
	cmd.Flags().StringVar(&f.rkshs, "rkshs", "", "yes|no: enough recovery key share holders can attend to restore the backup (lost KSK)")
	cmd.Flags().StringVar(&f.backup, "backup", "", "yes|no: the KSK's encrypted backup is available (lost KSK)")
	cmd.Flags().BoolVar(&f.prolonged, "prolonged", false, "a high risk of prolonged unavailability: sign extra RRSIGs ahead (4.1.3)")
	cmd.Flags().StringVar(&f.scripts, "scripts", "scripts/dr", "the directory of the DR ceremony scripts")
	f.ceremonyFlags.register(cmd)
	return cmd
}

// situation turns the flags into a situation, asking at a terminal for
// what the disaster needs and the flags do not say.
func (f *drChooseFlags) situation(a *app) (dr.Situation, error) {
	ask := a.yesNoAsker()
	s := dr.Situation{Disaster: dr.Disaster(f.disaster), Prolonged: f.prolonged}
	if f.disaster == "" {
		if ask == nil {
			return s, usageErrorf("--disaster is required: signing, compromise or lost")
		}
		for s.Disaster == "" {
			v, err := ask.line("What happened: signing (no SKR in time), compromise, or lost (no HSM can use the KSK)?: ")
			if err != nil {
				return s, err
			}
			switch d := dr.Disaster(strings.ToLower(v)); d {
			case dr.Signing, dr.Compromise, dr.Lost:
				s.Disaster = d
			default:
				fmt.Fprintln(a.errOut, "  type signing, compromise or lost")
			}
		}
	}
	flags := []struct {
		flag, question string
		val            string
		dst            **bool
	}{
		{"kmf", "Can a key management facility hold a ceremony in time?", f.kmf, &s.KMF},
		{"cos", "Can the DPS minimum of crypto officers attend?", f.cos, &s.COs},
		{"rkshs", "Can enough recovery key share holders attend to restore the backup?", f.rkshs, &s.RKSHs},
		{"backup", "Is the KSK's encrypted backup available?", f.backup, &s.Backup},
	}
	for _, fl := range flags {
		if fl.val == "" {
			continue
		}
		v, ok := parseYesNo(fl.val)
		if !ok {
			return s, usageErrorf("--%s %q: want yes or no", fl.flag, fl.val)
		}
		*fl.dst = &v
	}
	for {
		_, err := dr.Choose(s)
		if !errors.Is(err, dr.ErrSituation) || s.Disaster != dr.Signing && s.Disaster != dr.Compromise && s.Disaster != dr.Lost {
			return s, nil // Choose reports the rest
		}
		var next *struct {
			flag, question string
			val            string
			dst            **bool
		}
		for i := range flags {
			if *flags[i].dst == nil && strings.Contains(err.Error(), "(--"+flags[i].flag+")") {
				next = &flags[i]
			}
		}
		if next == nil {
			return s, nil
		}
		if ask == nil {
			return s, usageErrorf("%v: give --%s yes|no", err, next.flag)
		}
		for *next.dst == nil {
			v, err := ask.line(next.question + " [yes/no]: ")
			if err != nil {
				return s, err
			}
			if b, ok := parseYesNo(v); ok {
				*next.dst = &b
			} else {
				fmt.Fprintln(a.errOut, "  type yes or no")
			}
		}
	}
}

// parseYesNo reads yes/no in any case.
func parseYesNo(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y":
		return true, true
	case "no", "n":
		return false, true
	}
	return false, false
}

// yesNo asks questions at a terminal.
type yesNo struct {
	a  *app
	br *bufio.Reader
}

// yesNoAsker returns an asker when stdin is a terminal, else nil.
func (a *app) yesNoAsker() *yesNo {
	in, ok := a.in.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil
	}
	return &yesNo{a: a, br: bufio.NewReader(in)}
}

func (y *yesNo) line(prompt string) (string, error) {
	fmt.Fprint(y.a.errOut, prompt)
	s, err := lineread.ReadLine(y.br, lineread.MaxLine)
	if err != nil {
		return "", fmt.Errorf("%w: no answer: %w", errUsage, err)
	}
	return strings.TrimSpace(s), nil
}

// choiceScriptJSON is one script of the choice with its prerequisites.
type choiceScriptJSON struct {
	dr.Script
	Path          string                  `json:"path"`
	Prerequisites []ceremony.Prerequisite `json:"prerequisites"`
	Missing       int                     `json:"missing"`
}

// printChoice prints the variant and each script's prerequisites in the
// ceremony directory; the variant's own script's missing files make exit 1.
func (a *app) printChoice(s dr.Situation, c dr.Choice, scripts string, opts ceremony.CheckOptions) error {
	list := append([]dr.Script(nil), c.Scripts...)
	if c.Alternative != nil {
		list = append(list, *c.Alternative)
	}
	var out []choiceScriptJSON
	for _, sc := range list {
		path := filepath.Join(scripts, sc.File)
		pre, err := ceremony.Prerequisites(path, opts)
		if err != nil {
			return fmt.Errorf("%w: %w (--scripts names the directory of the DR scripts)", errUsage, err)
		}
		j := choiceScriptJSON{Script: sc, Path: path, Prerequisites: pre}
		for i := range pre {
			if !pre[i].Present {
				j.Missing++
			}
			if rel, err := filepath.Rel(opts.Dir, pre[i].Path); err == nil && !strings.HasPrefix(rel, "..") {
				pre[i].Path = rel
			}
		}
		out = append(out, j)
	}
	notReady := out[0].Missing > 0
	if a.output == "json" {
		if err := a.writeJSON(map[string]any{"disaster": s.Disaster, "variant": c, "dir": opts.Dir, "scripts": out, "ready": !notReady}); err != nil {
			return err
		}
	} else {
		w := a.out
		fmt.Fprintf(w, "Disaster:       %s%s\n", s.Disaster, situationText(s))
		fmt.Fprintf(w, "Variant:        %s, %s\n", c.Section, c.Title)
		fmt.Fprintf(w, "Trust anchors:  %s\n", c.Trust)
		for i, j := range out {
			switch {
			case i == 0:
				fmt.Fprintf(w, "\n%d. %s\n", i+1, j.Path)
			case c.Alternative != nil && j.File == c.Alternative.File:
				fmt.Fprintf(w, "\nAlternative: %s\n", j.Path)
			default:
				fmt.Fprintf(w, "\n%d. then %s\n", i+1, j.Path)
			}
			fmt.Fprintf(w, "   %s\n", j.Purpose)
			fmt.Fprintf(w, "   Needs in %s (%d files, %d missing):\n", opts.Dir, len(j.Prerequisites), j.Missing)
			for _, p := range j.Prerequisites {
				mark := "present"
				if !p.Present {
					mark = "MISSING"
					if i > 0 {
						mark = "later  " // made by an earlier ceremony of the variant, or missing
					}
				}
				fmt.Fprintf(w, "     %s  %s  (%s)\n", mark, p.Path, p.For)
			}
		}
		fmt.Fprintln(w, "\nBefore the ceremony: ksk dr deadline --skr SKR-IN-FORCE (time left), then ksk ceremony check on the script with --dir.")
		if notReady {
			fmt.Fprintf(w, "NOT READY: %d files the first script needs are missing in %s.\n", out[0].Missing, opts.Dir)
		}
	}
	if notReady {
		return silentError{fmt.Errorf("%w: %s needs %d files that %s does not hold", errRejected, out[0].File, out[0].Missing, opts.Dir)}
	}
	return nil
}

// situationText lists the availabilities that were given.
func situationText(s dr.Situation) string {
	var parts []string
	for _, p := range []struct {
		name string
		v    *bool
	}{{"KMF", s.KMF}, {"COs", s.COs}, {"RKSHs", s.RKSHs}, {"backup", s.Backup}} {
		if p.v != nil {
			parts = append(parts, fmt.Sprintf("%s %s", p.name, map[bool]string{true: "available", false: "unavailable"}[*p.v]))
		}
	}
	if s.Prolonged {
		parts = append(parts, "prolonged unavailability likely")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
