package main

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/codeset/codeset/schedules"
)

func (m *Main) runsCommand(ctx context.Context, args []string) error {
	fs := m.flags("runs", "[--job J] [--limit N] [--config FILE]",
		"List the runs in the ledger, newest first: trigger (schedule, manual, catch-up), outcome\n"+
			"(published, unchanged, no-file, refused, failed, abandoned, running), release, counts and\n"+
			"errors. Without --config, the ledger of the --data directory, where 'codeset run' records.")
	cfgPath := fs.String("config", "", "configuration `file` (TOML)")
	job := fs.String("job", "", "only the runs of this `job`")
	limit := fs.Int("limit", 50, "show at most `n` runs; 0 for all")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run 'codeset runs --help' for usage", "unexpected arguments: %v", fs.Args())
	}
	var runner *schedules.Runner
	if *cfgPath != "" {
		c, err := openConfig(ctx, "runs", *cfgPath, m.logger())
		if err != nil {
			return err
		}
		runner = c.runner
	} else {
		ledger, err := schedules.OpenLedger(ctx, m.ledgerPath())
		if err != nil {
			return err
		}
		runner = &schedules.Runner{Ledger: ledger, Locks: schedules.Locks{Dir: filepath.Join(m.DataDir, "locks")}, Now: m.Now}
	}
	ledger := runner.Ledger
	defer ledger.Close()
	// A run whose process was killed shows as abandoned, not running.
	if _, err := runner.Reap(ctx); err != nil {
		return err
	}
	runs, err := ledger.Runs(ctx, *job, *limit)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(m.Stdout, "no runs recorded in %s\n", ledger.Path())
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOB\tTRIGGER\tOUTCOME\tRELEASE\tSTARTED\tSECONDS\tCODES\tADDED\tDELETED\tREVISED\tSHA256\tSOURCE\tERROR")
	for _, r := range runs {
		secs := "-"
		if !r.Ended.IsZero() {
			secs = fmt.Sprintf("%.1f", r.Ended.Sub(r.Started).Seconds())
		}
		sha := r.SHA256
		if len(sha) > 12 {
			sha = sha[:12]
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Job, r.Trigger, r.Outcome,
			dash(r.Label), r.Started.Local().Format(time.DateTime), secs, r.Codes, r.Changes.Added, r.Changes.Deleted, r.Changes.Revised,
			dash(sha), dash(r.Source), r.Error)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
