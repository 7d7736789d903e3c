package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/codeset/codeset/schedules"
)

func (m *Main) runsCommand(ctx context.Context, args []string) error {
	fs := m.flags("runs", "[--job J] [--limit N] [--config FILE] [--json] [--utc]",
		"List the runs in the ledger, newest first: trigger (schedule, manual, catch-up), outcome\n"+
			"(published, unchanged, no-file, refused, failed, abandoned, running), release, counts and\n"+
			"errors. Without --config, the ledger of the --data directory, where 'codeset run' records.")
	cfgPath := fs.String("config", "", "configuration `file` (TOML)")
	job := fs.String("job", "", "only the runs of this `job`")
	limit := fs.Int("limit", 50, "show at most `n` runs; 0 for all")
	asJSON := fs.Bool("json", false, "print the runs as JSON, every field whole")
	utc := fs.Bool("utc", false, "show times in UTC rather than the local time zone")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run 'codeset runs --help' for usage", "unexpected arguments: %v", fs.Args())
	}
	var ledger *schedules.Ledger
	if *cfgPath != "" {
		c, err := openConfig(ctx, "runs", *cfgPath, m.logger())
		if err != nil {
			return err
		}
		ledger = c.runner.Ledger
	} else {
		var err error
		if ledger, err = schedules.OpenLedger(ctx, m.ledgerPath()); err != nil {
			return err
		}
	}
	defer ledger.Close()
	runs, err := ledger.Runs(ctx, *job, *limit)
	if err != nil {
		return err
	}
	if len(runs) == 0 && !*asJSON {
		fmt.Fprintf(m.Stdout, "no runs recorded in %s\n", ledger.Path())
		return nil
	}
	if *asJSON {
		return writeJSON(m.Stdout, runs)
	}
	var b bytes.Buffer
	zone := m.now().Location()
	if *utc {
		zone = time.UTC
	}
	fmt.Fprintf(&b, "times in %s; codes +added -deleted ~revised; full rows with --json\n", zoneName(m.now().In(zone)))
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOB\tTRIGGER\tOUTCOME\tRELEASE\tSTARTED\tSECS\tCODES\tCHANGES\tERROR")
	for _, r := range runs {
		secs := "-"
		if !r.Ended.IsZero() {
			secs = fmt.Sprintf("%.1f", r.Ended.Sub(r.Started).Seconds())
		}
		changes := "-"
		if r.Outcome == schedules.OutcomePublished {
			changes = fmt.Sprintf("+%d -%d ~%d", r.Changes.Added, r.Changes.Deleted, r.Changes.Revised)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Job, r.Trigger, r.Outcome,
			dash(r.Label), r.Started.In(zone).Format("2006-01-02 15:04"), secs, r.Codes, changes, r.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		fmt.Fprint(m.Stdout, fitLine(line, runsWidth))
	}
	return nil
}

// runsWidth is the widest line codeset runs prints; longer lines (long
// errors) are cut, and --json has them whole.
const runsWidth = 100

// fitLine cuts line, which may end in a newline, to width runes.
func fitLine(line string, width int) string {
	text, nl := strings.CutSuffix(line, "\n")
	r := []rune(text)
	if len(r) > width {
		text = string(r[:width-1]) + "…"
	}
	if nl {
		text += "\n"
	}
	return text
}

// zoneName names the time zone of t: its abbreviation and UTC offset.
func zoneName(t time.Time) string {
	name, off := t.Zone()
	if off == 0 && (name == "UTC" || name == "") {
		return "UTC"
	}
	return fmt.Sprintf("%s (UTC%s)", name, t.Format("-07:00"))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
