package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/check"
	"github.com/ksk-dev/ksk/transparency"
	"github.com/spf13/cobra"
)

// rekorVerifyFlags are ksk log verify's flags for the Rekor anchoring.
type rekorVerifyFlags struct {
	key     string
	url     string
	entry   string
	timeout time.Duration
}

func (f *rekorVerifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.key, "rekor-key", "", "the Rekor server's public key, PEM, as pinned by the operator: also verify the log's Rekor entries, offline")
	fl.StringVar(&f.entry, "rekor-entry", "", "the Rekor entry file (default LOG"+transparency.FileSuffix+"; needs --rekor-key)")
	fl.StringVar(&f.url, "rekor-url", "", "also fetch each entry and the current checkpoint from this Rekor server and check consistency (needs --rekor-key)")
	fl.DurationVar(&f.timeout, "rekor-timeout", transparency.DefaultTimeout, "bound on the --rekor-url checks with their retries")
}

// rekorReport is the "rekor" member of ksk log verify -o json.
type rekorReport struct {
	EntryFile string                 `json:"entry_file"`
	LogID     string                 `json:"log_id"` // SHA-256 of the pinned Rekor key
	Online    string                 `json:"online,omitempty"`
	Entries   []transparency.Summary `json:"entries"`
}

// rekorCheck is the Rekor part of one ksk log verify run.
type rekorCheck struct {
	f       *rekorVerifyFlags
	path    string
	checker *transparency.Checker
	logID   string
}

// prepare reads the pinned key and the entry file and chains the checker
// into opts.OnEntry. It returns nil when --rekor-key is not given.
func (f *rekorVerifyFlags) prepare(logPath string, opts *attest.VerifyOptions) (*rekorCheck, error) {
	if f.key == "" {
		if f.url != "" || f.entry != "" {
			return nil, usageErrorf("--rekor-url and --rekor-entry need --rekor-key: the pinned Rekor public key")
		}
		return nil, nil
	}
	key, err := readRekorKey(f.key)
	if err != nil {
		return nil, err
	}
	c := &rekorCheck{f: f, path: f.entry}
	if c.path == "" {
		c.path = transparency.DefaultPath(logPath)
	} else if _, err := os.Stat(c.path); err != nil {
		return nil, usageErrorf("--rekor-entry: %v", err)
	}
	if c.logID, err = transparency.LogID(key); err != nil {
		return nil, usageErrorf("--rekor-key: %v", err)
	}
	c.checker, err = transparency.NewChecker(c.path, transparency.CheckOptions{RekorKey: key, AttestationKeys: opts.AttestationKeys})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	prev := opts.OnEntry
	opts.OnEntry = func(e *attest.Entry, h attest.Hash, line int) error {
		if err := c.checker.OnEntry(e, h, line); err != nil {
			return err
		}
		if prev != nil {
			return prev(e, h, line)
		}
		return nil
	}
	return c, nil
}

// finish adds the Rekor findings (and, with --rekor-url, the online ones)
// to the report. Only a server that cannot answer is an error.
func (c *rekorCheck) finish(ctx context.Context, r *logReport) error {
	if c == nil {
		return nil
	}
	found := c.checker.Findings()
	rep := &rekorReport{EntryFile: c.path, LogID: c.logID, Entries: c.checker.Summaries()}
	if c.f.url != "" && c.checker.File() != nil {
		key, _ := readRekorKey(c.f.key)
		client := &transparency.Client{URL: c.f.url, RekorKey: key, Timeout: c.f.timeout, UserAgent: "ksk/" + version}
		online, err := client.CheckOnline(ctx, c.checker.File(), c.checker.Name())
		if err != nil {
			return fmt.Errorf("--rekor-url: %w", err)
		}
		found = append(found, online...)
		rep.Online = c.f.url
	}
	r.Rekor = rep
	r.Findings = append(r.Findings, found...)
	for _, f := range found {
		if f.Severity == check.Error {
			r.invalidate()
		}
	}
	return nil
}

func printRekorReport(w io.Writer, r *rekorReport) {
	if r == nil {
		return
	}
	for _, l := range rekorSummary(r) {
		fmt.Fprintf(w, "Rekor: %s\n", l)
	}
}

// rekorSummary describes the Rekor entries of r in lines, as ksk log
// verify prints them and the TCR's report lists them.
func rekorSummary(r *rekorReport) []string {
	var out []string
	for _, e := range r.Entries {
		at := "not a head of this log"
		if e.HeadSeq >= 0 {
			at = fmt.Sprintf("the head after seq %d", e.HeadSeq)
		}
		out = append(out, fmt.Sprintf("entry %s, log index %d, integrated %s, publishes %s (%s)", e.UUID, e.LogIndex, e.IntegratedTime, e.PublishedHead, at))
	}
	if r.Online != "" {
		out = append(out, "checked online against "+r.Online)
	}
	return out
}
