package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/policy"
	"github.com/ksk-dev/ksk/signer"
	"github.com/spf13/cobra"
)

// classifyRolloverError: a rollover that cannot be planned from the
// configuration and flags given is a usage or configuration error.
func classifyRolloverError(err error) int {
	if errors.Is(err, signer.ErrPlan) {
		return exitUsage
	}
	return 0
}

func newRolloverCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollover",
		Short: "Plan RFC 5011 KSK rollovers, and check that resolvers follow them",
		Long: `A KSK rollover is a sequence of quarterly signings, each with one standard
schema of the signer configuration (docs/rollovers.md). "ksk rollover plan"
chooses them: it writes the configuration to sign with and a schedule of
which schema signs each coming quarter, with the dates of publication, of
the end of RFC 5011's 30-day add hold-down, of the rollover, the revocation
and the removal of the old KSK. "ksk rollover check" takes the SKRs signed
(or about to be) and simulates what RFC 5011, offline and static resolvers
make of them, with a timeline picture.`,
		Example: `  ksk rollover plan --config signer.yaml --current ksk_temp --next ksk_2027 --start 2027-04-01 --out rollover.yaml
  ksk rollover check --anchors root-anchors.xml --html rollover.html skr-2027-q*.xml`,
		Args: subcommandArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newRolloverPlanCmd(a), newRolloverCheckCmd(a))
	return cmd
}

func newRolloverPlanCmd(a *app) *cobra.Command {
	var (
		config, current, next, start, out, interval string
		slots, publishQuarters                      int
		force                                       bool
	)
	cmd := &cobra.Command{
		Use:   "plan --config C --current NAME --next NAME --start DATE --out FILE",
		Short: "Plan an RFC 5011 rollover: a signer configuration and the schedule of the coming quarters",
		Long: `Plan the RFC 5011 rollover from the configured KSK --current to the
configured KSK --next, starting with the quarter whose first bundle begins on
--start (YYYY-MM-DD or RFC 3339): the quarter in which --next is first
published, from its second bundle.

--out receives the signer configuration to sign the coming quarters with:
--config with standard_schemas {current, next} (schemas of the same names in
its schemas section are replaced, and listed). Beside it, NAME.schedule.yaml (rollover.yaml gives rollover.schedule.yaml)
says which schema signs each quarter and when: the publication of --next,
the end of the 30-day add hold-down (RFC 5011 §2.4.1), the rollover (--next
signs, --current no longer does unrevoked), the revocation of --current
(RFC 5011 §2.1) and its removal.

For keys of one algorithm the quarters are pre-publish, publish+ (for
--publish-quarters above 1, or when short bundles need more quarters for the
hold-down), rollover, revoke and post-revoke; for an algorithm rollover
algorithm-pre-publish, algorithm-double-sign, algorithm-revoke and
post-revoke. Each quarter signed with its schema and the previous quarter's
SKR passes ksk sign's checks (SIGN-RFC5011-HOLDDOWN, publish and retire
safety).

Quarters have --slots bundles (default: the configuration's
standard_schemas.slots, else 9), --interval apart (default: the middle of the
request policy's bundle interval limits, P10D for the root).

Exit status: 0 written; 2 bad flags, a configuration that does not load,
keys it does not have, a --next not valid when it would be published, or an
output that exists without --force.`,
		Example: `  ksk rollover plan --config emergency.yaml --current ksk_temp --next ksk_2027 --start 2027-04-01 --out rollover.yaml
  ksk sign --config rollover.yaml --schema pre-publish --ksr ksr-2027-q2.xml --previous-skr skr-2027-q1.xml --out skr-2027-q2.xml
  ksk rollover plan --config signer.yaml --current ksk_2024 --next ksk_2028 --start 2028-01-01 --publish-quarters 6 --out r.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct{ name, v string }{{"--config", config}, {"--current", current}, {"--next", next}, {"--start", start}, {"--out", out}} {
				if f.v == "" {
					return usageErrorf("%s is required", f.name)
				}
			}
			st, err := parseDateOrTime(start)
			if err != nil {
				return usageErrorf("--start: %v", err)
			}
			opts := signer.RolloverOptions{Current: current, Next: next, Start: st, Slots: slots, PublishQuarters: publishQuarters, ConfigName: filepath.Base(out)}
			if slots != 0 && slots < signer.MinStandardSlots {
				return usageErrorf("--slots must be at least %d", signer.MinStandardSlots)
			}
			if publishQuarters < 0 {
				return usageErrorf("--publish-quarters must not be negative")
			}
			if interval != "" {
				d, err := policy.ParseDuration(interval)
				if err != nil || d <= 0 {
					return usageErrorf("--interval %q: want a positive ISO 8601 duration such as P10D", interval)
				}
				opts.Interval = d
			}
			sched := signer.SchedulePath(out)
			if !force {
				for _, p := range []string{out, sched} {
					if err := atomicfile.CheckFree(p); err != nil {
						return fmt.Errorf("%w: %w", errUsage, err)
					}
				}
			}
			data, _, err := readBounded(config, signer.MaxConfigSize)
			if err != nil {
				return err
			}
			if len(data) > signer.MaxConfigSize {
				return usageErrorf("%s is larger than %d bytes", config, signer.MaxConfigSize)
			}
			plan, err := signer.PlanRollover(data, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", config, err)
			}
			if err := atomicfile.WriteAll([]string{out, sched}, [][]byte{plan.Config, plan.ScheduleData}, 0o644, force); err != nil {
				if errors.Is(err, atomicfile.ErrExists) {
					return fmt.Errorf("%w: %w", errUsage, err)
				}
				return fmt.Errorf("%w: %w", errEnvironment, err)
			}
			s := plan.Schedule
			if a.output == "json" {
				ss := sha256.Sum256(plan.ScheduleData)
				return a.writeJSON(map[string]any{"config": out, "config_sha256": s.ConfigSHA256, "schedule": sched,
					"schedule_sha256": fmt.Sprintf("%x", ss), "plan": s})
			}
			w := a.out
			fmt.Fprintf(w, "Rollover of %s (%s, key tag %d) to %s (%s, key tag %d): %s rollover, %d bundles %s apart per quarter\n",
				s.Current.Name, s.Current.Label, s.Current.KeyTag, s.Next.Name, s.Next.Label, s.Next.KeyTag, s.Rollover, s.Slots, s.BundleInterval)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "QUARTER\tSTART\tSCHEMA\tWHAT")
			for _, q := range s.Quarters {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", q.Quarter, q.Start.Format(time.DateOnly), q.Schema, q.What)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			d := s.Dates
			fmt.Fprintf(w, "Publish:  %s\nTrusted:  %s (RFC 5011 add hold-down of %s ends)\nRollover: %s\nRevoke:   %s\nRemove:   %s\n",
				d.Publish.Format(time.RFC3339), d.HoldDownEnds.Format(time.RFC3339), s.AddHoldDown, d.Rollover.Format(time.RFC3339), d.Revoke.Format(time.RFC3339), d.Remove.Format(time.RFC3339))
			if len(s.ReplacedSchemas) > 0 {
				fmt.Fprintf(w, "Replaced by the standard schemas of the same names: %v\n", s.ReplacedSchemas)
			}
			for _, warn := range s.Warnings {
				fmt.Fprintf(w, "warning: %s\n", warn)
			}
			_, err = fmt.Fprintf(w, "Wrote %s (SHA-256 %s) and %s\n", out, s.ConfigSHA256, sched)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&config, "config", "", "signer configuration naming both KSKs (required)")
	fs.StringVar(&current, "current", "", "the configuration's KSK in use (required)")
	fs.StringVar(&next, "next", "", "the configuration's KSK to roll to (required)")
	fs.StringVar(&start, "start", "", "first bundle's inception of the first quarter of the plan: YYYY-MM-DD or RFC 3339 (required)")
	fs.StringVar(&out, "out", "", "signer configuration to write; the schedule goes beside it: rollover.yaml gives rollover.schedule.yaml (required)")
	fs.IntVar(&slots, "slots", 0, "bundles per quarter (default: the configuration's standard_schemas.slots, else 9)")
	fs.StringVar(&interval, "interval", "", "time between bundle inceptions, ISO 8601 (default: the middle of the request policy's limits)")
	fs.IntVar(&publishQuarters, "publish-quarters", 1, "quarters the next KSK is published before it takes over (more are added when the hold-down needs them)")
	fs.BoolVar(&force, "force", false, "overwrite --out and its schedule")
	return cmd
}

// parseDateOrTime reads YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
func parseDateOrTime(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want YYYY-MM-DD or an RFC 3339 time, got %q", s)
}
