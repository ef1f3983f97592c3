package main

import (
	"fmt"
	"time"

	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/skr"
	"github.com/spf13/cobra"
)

func newDRCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dr",
		Short: "Disaster recovery: which procedure applies, and how long the SKR in force lasts",
		Long: `Disaster recovery commands (docs/disaster-recovery.md). "ksk dr choose"
names the variant of the procedure and its ceremony scripts for what is
still available, and what they need from the ceremony directory; "ksk dr deadline"
says when the DNSKEY RRSIGs of the SKR in force expire, which decides
whether a signing ceremony can be rescheduled or an emergency procedure
must start.`,
		Example: `  ksk dr choose --disaster lost --kmf yes --rkshs yes --backup yes --dir WORK
  ksk dr deadline --skr skr-in-force.xml`,
		Args: subcommandArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newDRChooseCmd(a), newDRDeadlineCmd(a))
	return cmd
}

func newDRDeadlineCmd(a *app) *cobra.Command {
	var file, at string
	var maxSize int64
	cmd := &cobra.Command{
		Use:   "deadline --skr SKR [--at T]",
		Short: "When the DNSKEY RRSIGs of the SKR in force expire, and how long is left",
		Long: `Deadline reads the SKR in force and prints when its last DNSKEY RRSIG
expires (RFC 3339, UTC): from then on, without a new SKR, validating
resolvers can no longer validate the zone's DNSKEY RRset and the zone goes
dark. It prints the bundle in force at --at (default now), the bundle that
carries the last signature, and the time left in days and hours, the
figure that decides "reschedule the ceremony if there is time" (DR
procedure 4.1.2A/2, 4.2.2A/2).

The SKR's signatures are not verified here: run "ksk skr verify" for that.
Exit status: 0 time is left, 1 the signatures have already expired at --at
(or the file holds no KSK signature), 2 bad flags or an unreadable file.`,
		Example: `  ksk dr deadline --skr skr-root-2017-q2-0.xml --at 2017-05-15T00:00:00Z
  ksk dr deadline --skr /media/skr-in-force.xml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return usageErrorf("--skr is required: the SKR in force")
			}
			t, err := parseAt(at)
			if err != nil {
				return err
			}
			if err := checkMaxSize(maxSize); err != nil {
				return err
			}
			data, sum, err := readBounded(file, maxSize)
			if err != nil {
				return err
			}
			d, err := parseDocument(data, file, maxSize)
			if err != nil {
				return fmt.Errorf("%w: %w", errRejected, err)
			}
			if d.Response == nil {
				return fmt.Errorf("%w: %s is a KSR, not an SKR: it holds no DNSKEY RRSIG to expire", errRejected, file)
			}
			end, last, err := skr.Deadline(d)
			if err != nil {
				return fmt.Errorf("%w: %s: %w", errRejected, file, err)
			}
			bundles := d.Response.Bundles
			inForce := ""
			if i, err := skr.BundleAt(d, t); err == nil {
				inForce = fmt.Sprintf("%d of %d (%s)", i+1, len(bundles), bundles[i].ID)
			}
			left := end.Sub(t)
			expired := left <= 0
			if a.output == "json" {
				if err := a.writeJSON(map[string]any{"skr": file, "sha256": sum, "at": t.Format(time.RFC3339),
					"expires": end.Format(time.RFC3339), "left_seconds": int64(left.Seconds()), "expired": expired,
					"bundle_in_force": inForce, "last_bundle": bundleName(bundles, last)}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.out, "SKR:        %s (sha256 %s)\n", file, sum)
				fmt.Fprintf(a.out, "At:         %s\n", t.Format(time.RFC3339))
				if inForce != "" {
					fmt.Fprintf(a.out, "In force:   bundle %s\n", inForce)
				} else {
					fmt.Fprintln(a.out, "In force:   no bundle of this SKR is valid at that time")
				}
				fmt.Fprintf(a.out, "Last RRSIG: bundle %s\n", bundleName(bundles, last))
				fmt.Fprintf(a.out, "Expires:    %s\n", end.Format(time.RFC3339))
				if expired {
					fmt.Fprintf(a.out, "Left:       none: expired %s ago\n", span(-left))
				} else {
					fmt.Fprintf(a.out, "Left:       %s\n", span(left))
				}
			}
			if expired {
				return silentError{fmt.Errorf("%w: %s: the DNSKEY RRSIGs expired at %s", errRejected, file, end.Format(time.RFC3339))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "skr", "", "the SKR in force (required)")
	cmd.Flags().StringVar(&at, "at", "", "the time to count from, RFC 3339 (default now)")
	cmd.Flags().Int64Var(&maxSize, "max-size", ksr.DefaultMaxSize, "largest SKR read, in bytes")
	return cmd
}

func bundleName(bs []ksr.Bundle, i int) string {
	return fmt.Sprintf("%d of %d (%s)", i+1, len(bs), bs[i].ID)
}

// span writes a duration in days and hours ("12 days 6 hours").
func span(d time.Duration) string {
	h := int64(d / time.Hour)
	days, hours := h/24, h%24
	return fmt.Sprintf("%d days %d hours", days, hours)
}
