package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/codeset/codeset/schedules"
)

func (m *Main) runsCommand(ctx context.Context, args []string) error {
	fs := m.flags("runs", "[--job J] [--limit N] [--config FILE] [--json] [--utc]",
		"List the runs in the ledger, newest first: trigger (schedule, manual, catch-up), outcome\n"+
			"(published, unchanged, no-file, refused, failed, abandoned, running), release, counts,\n"+
			"errors, and how the changes compare with the publisher's own list (declared, agreed,\n"+
			"disagreements, the first one with its reason). Without --config, the ledger of the --data directory, where 'codeset run' records.")
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
	fmt.Fprintf(&b, "times in %s; changes +added -deleted ~revised; every field with --json\n", zoneName(m.now().In(zone)))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOB\tTRIGGER\tOUTCOME\tRELEASE\tSTARTED\tSECS\tCODES\tCHANGES")
	for _, r := range runs {
		secs := "-"
		if !r.Ended.IsZero() {
			secs = fmt.Sprintf("%.1f", r.Ended.Sub(r.Started).Seconds())
		}
		changes := "-"
		if r.Outcome == schedules.OutcomePublished {
			changes = fmt.Sprintf("+%d -%d ~%d", r.Changes.Added, r.Changes.Deleted, r.Changes.Revised)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Job, r.Trigger, r.Outcome,
			dash(r.Label), r.Started.In(zone).Format("2006-01-02 15:04"), secs, r.Codes, changes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The table's lines are the zone line, the header, then one per run;
	// a run's error follows its row, wrapped, so the hint it ends with
	// stays readable.
	for i, line := range strings.SplitAfter(strings.TrimSuffix(b.String(), "\n"), "\n") {
		fmt.Fprint(m.Stdout, fitLine(strings.TrimSuffix(line, "\n")+"\n", runsWidth))
		if i < 2 {
			continue
		}
		r := runs[i-2]
		if r.Error != "" {
			for _, e := range wrap("error: "+r.Error, runsWidth-4) {
				fmt.Fprintf(m.Stdout, "    %s\n", e)
			}
		}
		if rc := r.Reconciliation; rc != nil {
			for _, l := range reconciliationLines(rc) {
				for _, w := range wrap(l, runsWidth-4) {
					fmt.Fprintf(m.Stdout, "    %s\n", w)
				}
			}
		}
	}
	return nil
}

// reconciliationLines says in a line what a run's comparison with the
// publisher's list came to and, in a second, its first disagreement (one
// nothing explains, if any); --json has the first few.
func reconciliationLines(rc *schedules.RunReconciliation) []string {
	s := fmt.Sprintf("publisher's list: declared %d, agreed %d, %d disagreements, %d unexplained", rc.Declared, rc.Agreed, rc.Disagreements, rc.Unexplained)
	if len(rc.Combined) > 0 {
		s += "; lists combined: " + strings.Join(rc.Combined, ", ")
	}
	lines := []string{s}
	if len(rc.First) > 0 {
		lines = append(lines, "first: "+rc.First[0].Text(rc.System))
	}
	return lines
}

// wrap breaks text into lines of at most width runes at spaces (a longer
// word stands alone on its line).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// runsWidth is the widest line codeset runs prints; a longer line (a long
// job name or source) is cut, and --json has every field whole.
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
