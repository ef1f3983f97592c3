package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/internal/atomicfile"
	"github.com/ksk-dev/ksk/ksr"
	"github.com/ksk-dev/ksk/rollover"
	"github.com/spf13/cobra"
)

// classifyRolloverCheckError: a sequence that cannot be simulated was
// examined and rejected.
func classifyRolloverCheckError(err error) int {
	if errors.Is(err, rollover.ErrInput) {
		return exitRejected
	}
	return 0
}

func newRolloverCheckCmd(a *app) *cobra.Command {
	var (
		anchors, offline, htmlOut string
		allowGaps, force          bool
		maxSize                   int64
	)
	cmd := &cobra.Command{
		Use:   "check SKR... [--anchors root-anchors.xml] [--offline DAYS,...] [--html FILE]",
		Short: "Will resolvers follow it? Simulate a sequence of SKRs for RFC 5011 and static resolvers",
		Long: `Check takes the SKRs of a period (the coming year's, or a past rollover's),
puts them in time order, checks that each continues the one before (no gap,
no overlap, the same keys at the quarter boundary) and simulates, bundle by
bundle, what validating resolvers make of them:

  rfc5011-online       an RFC 5011 resolver online throughout, starting from
                       the trust anchors in force at the first bundle, that
                       trusts a new KSK once its add hold-down has passed
                       (as Unbound does);
  rfc5011-strict       the same, trusting a new KSK only from a DNSKEY RRset
                       that its trusted keys validate (RFC 5011 §2.4.1 to
                       the letter, as BIND named does);
  rfc5011-offline-Nd   the same resolver offline for N days (--offline),
                       from every bundle boundary in turn;
  newest-anchors       a resolver configured from the newest --anchors file
                       (every anchor in it not expired at the start);
  static               a resolver with the anchors in force at the start as a
                       static trust anchor and no RFC 5011.

For each it prints whether it validates throughout and, where it fails, from
when to when and why: the new KSK signs before its add hold-down has passed
(not-yet-trusted), it was never seen (unknown-key), the trusted KSK was
revoked before the new one was accepted (revoked-first), the RRSIGs expired
(rrsigs-expired), or nothing is served (a gap between SKRs).

Without --anchors, the KSKs that sign the first bundle are taken as the
anchors in force. --html writes a self-contained page with the timeline
picture (one lane per KSK: published, signing, revoked, removed, and the
hold-downs; one lane per population with its failures). -o json gives the
same facts.

Exit status: 0 the online RFC 5011 resolvers validate throughout; 1 one would
fail at some time, the sequence is broken (a gap, unless --allow-gaps; an
overlap) or an SKR does not parse; 2 bad flags, an unreadable file, or --html
exists without --force.`,
		Example: `  ksk rollover check skr-2027-q1.xml skr-2027-q2.xml skr-2027-q3.xml skr-2027-q4.xml --anchors root-anchors.xml
  ksk rollover check --offline 30,90 --html rollover.html skr-*.xml
  ksk rollover check --allow-gaps skr-root-2017-q3-0-c_to_d.xml skr-root-2018-q1-0-d_to_e.xml -o json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("name at least one SKR")
			}
			if err := checkMaxSize(maxSize); err != nil {
				return err
			}
			opts := rollover.Options{AllowGaps: allowGaps}
			if offline != "" {
				for _, f := range strings.Split(offline, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(f))
					if err != nil || n <= 0 || n > 3650 {
						return usageErrorf("--offline %q: want a comma-separated list of whole days, 1 to 3650", offline)
					}
					opts.Offline = append(opts.Offline, time.Duration(n)*24*time.Hour)
				}
			}
			if htmlOut != "" && !force {
				if err := atomicfile.CheckFree(htmlOut); err != nil {
					return fmt.Errorf("%w: %w", errUsage, err)
				}
			}
			if anchors != "" {
				data, _, err := readBounded(anchors, maxSize)
				if err != nil {
					return err
				}
				if opts.Anchors, err = skrParseAnchors(data, anchors, maxSize); err != nil {
					return fmt.Errorf("%w: %w", errUsage, err)
				}
			}
			var skrs []rollover.SKR
			for _, file := range args {
				data, _, err := readBounded(file, maxSize)
				if err != nil {
					return err
				}
				d, err := parseDocument(data, file, maxSize)
				if err != nil {
					return fmt.Errorf("%w: %w", errRejected, err)
				}
				skrs = append(skrs, rollover.SKR{Name: file, Doc: d})
			}
			res, err := rollover.Check(skrs, opts)
			if err != nil {
				return err
			}
			if htmlOut != "" {
				var b bytes.Buffer
				if err := res.WriteHTML(&b); err != nil {
					return err
				}
				if err := atomicfile.Write(htmlOut, b.Bytes(), 0o644, force); err != nil {
					if errors.Is(err, atomicfile.ErrExists) {
						return fmt.Errorf("%w: %w", errUsage, err)
					}
					return fmt.Errorf("%w: %w", errEnvironment, err)
				}
			}
			if a.output == "json" {
				if err := a.writeJSON(res); err != nil {
					return err
				}
			} else if err := res.WriteText(a.out); err != nil {
				return err
			}
			if !res.Safe {
				return silentError{fmt.Errorf("%w: an RFC 5011 resolver online throughout would fail, or the sequence is broken", errRejected)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&anchors, "anchors", "", "trust anchors in force: root-anchors.xml (RFC 9718) or DS records")
	fl.StringVar(&offline, "offline", "", "offline spans to simulate, in days, comma-separated (e.g. 30,90)")
	fl.StringVar(&htmlOut, "html", "", "write a self-contained HTML page with the timeline picture")
	fl.BoolVar(&allowGaps, "allow-gaps", false, "report gaps between SKRs without failing (an incomplete historical set)")
	fl.BoolVar(&force, "force", false, "overwrite --html")
	fl.Int64Var(&maxSize, "max-size", ksr.DefaultMaxSize, "largest SKR or anchors file read, in bytes")
	return cmd
}
