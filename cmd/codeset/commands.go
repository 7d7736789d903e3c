package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/ingest"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/changelog"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
	"github.com/codeset/codeset/schedules"
	"github.com/codeset/codeset/schedules/release"
)

// ledgerPath is the run ledger of the data directory, the one a config
// that names no other ledger uses too.
func (m *Main) ledgerPath() string { return filepath.Join(m.DataDir, "ledger.sqlite") }

func (m *Main) pipeline() *release.Pipeline {
	return &release.Pipeline{Store: snapshot.Store{Dir: m.DataDir}, OutDir: m.OutDir, Logger: m.logger(), Now: m.Now}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (f *multiFlag) String() string     { return strings.Join(*f, ", ") }
func (f *multiFlag) Set(v string) error { *f = append(*f, v); return nil }

// releaseFlags are the flags that describe a release to ingest.
type releaseFlags struct {
	system, label, effective, profile string
	maps                              multiFlag
	guards                            release.Guards
}

// allowFlag is the flag that lets a release through the publish guard
// named guard (release.GuardError.Guard): --allow-mass-delete and so on.
func allowFlag(guard string) string { return "allow-" + guard }

// registerGuards adds the publish guard flags.
func registerGuards(fs *flag.FlagSet, g *release.Guards) {
	fs.Float64Var(&g.MaxDeleteShare, "max-delete-share", 0, "largest `share` of the previous release's codes a release may delete (default 0.05)")
	fs.BoolVar(&g.AllowMassDelete, allowFlag(release.GuardMassDelete), false, "publish even when more codes are deleted than --max-delete-share allows")
	fs.BoolVar(&g.AllowShrink, allowFlag(release.GuardShrink), false, "publish even when the release has fewer than 80% of the previous release's codes")
	fs.BoolVar(&g.AllowLostField, allowFlag(release.GuardLostField), false, "publish even when a field the previous release filled is empty everywhere")
	fs.BoolVar(&g.AllowSameFiles, allowFlag(release.GuardSameFiles), false, "publish even when the same files are already stored under another label")
	fs.BoolVar(&g.AllowLabelYear, allowFlag(release.GuardLabelYear), false, "publish even when the label's year is none of the years the file names bear")
	fs.BoolVar(&g.Strict, "strict", false, "fail (exit 1, nothing stored or published) when a disagreement with the publisher's own list is unexplained")
}

func (r *releaseFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.system, "system", "", "code `system`: "+systemList()+" (default: recognised from the files' names or header rows)")
	fs.StringVar(&r.label, "release", "", "release `label`, e.g. 2026, 2026Q2, FY2026")
	fs.StringVar(&r.effective, "effective", "", "effective `date` YYYY-MM-DD (default: derived from the label)")
	fs.StringVar(&r.profile, "profile", "", "layout profile JSON `file` (default: the system's built-in profile)")
	fs.Var(&r.maps, "map", "map a header to a field, `field=Header Name` (repeatable), e.g. code=Proc or long=Full Text")
}

func systemList() string {
	var s []string
	for _, sys := range codeset.Systems {
		s = append(s, string(sys))
	}
	return strings.Join(s, ", ")
}

// request turns the flags and file arguments into a pipeline request.
func (r *releaseFlags) request(fs *flag.FlagSet) (release.Request, error) {
	hint := "run '" + fs.Name() + " --help' for usage"
	var req release.Request
	var sys codeset.System
	var err error
	if r.system == "" && fs.NArg() > 0 {
		if sys, err = ingest.Detect(fs.Args()); err != nil {
			return req, err
		}
	} else if sys, err = parseSystem(r.system, hint); err != nil {
		return req, err
	}
	if r.label == "" && fs.NArg() > 0 {
		// As the service does: the label from the publisher's file name
		// (cms_2026_dx.zip is FY2026, HCPC2026_JAN_ANWEB.xlsx is 2026).
		var derr error
		for _, f := range fs.Args() {
			if r.label, derr = schedules.DeriveLabel(schedules.BuiltinLabelRules(sys), filepath.Base(f)); derr == nil {
				break
			}
		}
		if r.label == "" {
			return req, usagef(hint, "--release is required: no file name gives a label (%v)", derr)
		}
	}
	if r.label == "" {
		return req, usagef(hint, "--release is required")
	}
	if err := r.guards.Validate(); err != nil {
		return req, usagef(hint, "%v", err)
	}
	if err := codeset.CheckLabel(r.label); err != nil {
		return req, usagef(hint, "%v", err)
	}
	if fs.NArg() == 0 {
		return req, usagef(hint, "no input files: name the publisher's files after the flags")
	}
	req = release.Request{System: sys, Label: r.label, Files: fs.Args(), Guards: r.guards}
	if r.effective != "" {
		if req.Effective, err = time.Parse(time.DateOnly, r.effective); err != nil {
			return req, usagef(hint, "bad --effective %q: want YYYY-MM-DD", r.effective)
		}
	}
	if r.profile != "" {
		if req.Profile, err = ingest.LoadProfile(r.profile); err != nil {
			return req, err
		}
	} else if req.Profile, err = ingest.Builtin(sys); err != nil {
		return req, err
	}
	for _, spec := range r.maps {
		if err := req.Profile.Map(spec); err != nil {
			return req, usagef(hint, "%v", err)
		}
	}
	return req, nil
}

func parseSystem(s, hint string) (codeset.System, error) {
	if s == "" {
		return "", usagef(hint, "--system is required: one of %s", systemList())
	}
	sys, err := codeset.ParseSystem(s)
	if err != nil {
		return "", usagef(hint, "%v", err)
	}
	return sys, nil
}

func (m *Main) runCommand(ctx context.Context, args []string) error {
	fs := m.flags("run", "--system S --release R [--effective YYYY-MM-DD] FILE...",
		"Ingest the release files, compare them with the latest earlier release of the system,\n"+
			"store the snapshot and publish the release: database, changelogs and manifest.")
	var rf releaseFlags
	rf.register(fs)
	registerGuards(fs, &rf.guards)
	if err := parse(fs, args); err != nil {
		return err
	}
	req, err := rf.request(fs)
	if err != nil {
		return err
	}
	// The same job function as scheduled and triggered runs, with the label
	// given and no ledger.
	job := &schedules.Job{Name: "run-" + string(req.System), System: req.System, Source: schedules.FilesSource(req.Files),
		Label: req.Label, Effective: req.Effective, Profile: req.Profile, Guards: req.Guards}
	ledger, err := schedules.OpenLedger(ctx, m.ledgerPath())
	if err != nil {
		return err
	}
	defer ledger.Close()
	runner := &schedules.Runner{Pipeline: m.pipeline(), Ledger: ledger, Locks: schedules.Locks{Dir: filepath.Join(m.DataDir, "locks")}, Hint: jobHint}
	// Published before this run: the run changes nothing.
	before := publish.Published(m.OutDir, req.System, req.Label)
	pctx, done := m.withProgress(ctx)
	restore := boundRunGarbage()
	run, err := runner.Run(pctx, job, schedules.TriggerManual, false)
	restore()
	done()
	if err != nil {
		return err
	}
	if run.Result == nil {
		if run.Outcome == schedules.OutcomeUnchanged {
			dir := format.ReleaseDir(m.OutDir, req.System, run.Label)
			fmt.Fprintf(m.Stdout, "%s %s: already published, nothing changed (%s was read before)\n", req.System.Name(), run.Label, strings.Join(req.Files, ", "))
			if publish.Published(m.OutDir, req.System, run.Label) {
				fmt.Fprintf(m.Stdout, "published: %s\n", dir)
			}
			return nil
		}
		return m.printRun(run)
	}
	if before {
		res := run.Result
		fmt.Fprintf(m.Stdout, "%s %s: already published, nothing changed (indexes checked)\n", res.Release.System.Name(), res.Release.Label)
		fmt.Fprintf(m.Stdout, "published: %s\n", res.Published)
		return nil
	}
	return m.printResult(run.Result)
}

func (m *Main) printResult(res *release.Result) error {
	if res.Report != nil {
		m.printRead(res.Report)
	}
	if err := changelog.WriteSummary(m.Stdout, res.Release, res.Changelog); err != nil {
		return err
	}
	if res.Report != nil {
		for _, w := range res.Report.Warnings {
			fmt.Fprintf(m.Stdout, "warning: %s\n", w)
		}
	}
	fmt.Fprintf(m.Stdout, "snapshot:  %s\n", res.Snapshot)
	if res.Published != "" {
		fmt.Fprintf(m.Stdout, "published: %s (changelogs as md, html, json, csv and xlsx; FHIR codesystem.json; manifest.json; SHA256SUMS)\n", res.Published)
	}
	return nil
}

// printRead names the files, members and sheets read and the codes each
// gave.
func (m *Main) printRead(rep *ingest.Report) {
	for _, f := range rep.Files {
		where := f.Name
		if f.Sheet != "" {
			where += ", sheet " + f.Sheet
		}
		if f.HeaderRow > 0 {
			where += fmt.Sprintf(", header on row %d", f.HeaderRow)
		}
		fmt.Fprintf(m.Stdout, "read %s: %d codes\n", where, f.Codes)
	}
}

func (m *Main) ingestCommand(ctx context.Context, args []string) error {
	fs := m.flags("ingest", "--system S --release R [--effective YYYY-MM-DD] FILE...",
		"Ingest the release files into a snapshot in the data directory, without publishing.\n"+
			"Publish it later with 'codeset publish'.")
	var rf releaseFlags
	rf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	req, err := rf.request(fs)
	if err != nil {
		return err
	}
	pctx, done := m.withProgress(ctx)
	res, err := m.pipeline().Ingest(pctx, req)
	done()
	if err != nil {
		return err
	}
	m.printRead(res.Report)
	fmt.Fprintf(m.Stdout, "%s %s: %d codes stored in %s\n", res.Release.System.Name(), res.Release.Label, len(res.Release.Codes), res.Snapshot)
	for _, w := range res.Report.Warnings {
		fmt.Fprintf(m.Stdout, "warning: %s\n", w)
	}
	return nil
}

func (m *Main) publishCommand(ctx context.Context, args []string) error {
	fs := m.flags("publish", "--system S --release R",
		"Publish a stored snapshot: compare it with the latest earlier release and write the\n"+
			"release folder (database, changelogs, manifest) under the publish directory.")
	sysFlag := fs.String("system", "", "code `system`: "+systemList())
	label := fs.String("release", "", "release `label`")
	var g release.Guards
	registerGuards(fs, &g)
	if err := parse(fs, args); err != nil {
		return err
	}
	sys, err := parseSystem(*sysFlag, "run 'codeset publish --help' for usage")
	if err != nil {
		return err
	}
	if *label == "" {
		return usagef("run 'codeset publish --help' for usage", "--release is required")
	}
	if err := g.Validate(); err != nil {
		return usagef("run 'codeset publish --help' for usage", "%v", err)
	}
	pctx, done := m.withProgress(ctx)
	restore := boundRunGarbage() // a release is read and rendered as in codeset run
	res, err := m.pipeline().Publish(pctx, sys, *label, g)
	restore()
	done()
	if err != nil {
		return err
	}
	return m.printResult(res)
}

func (m *Main) diffCommand(ctx context.Context, args []string) error {
	fs := m.flags("diff", "--system S [--from R1] --to R2 [--format md|json]",
		"Compare two stored releases of a system (any two, not only neighbours) and print the\n"+
			"changelog. Without --from, every code of R2 is listed as added.")
	sysFlag := fs.String("system", "", "code `system`: "+systemList())
	from := fs.String("from", "", "older release `label`")
	to := fs.String("to", "", "newer release `label`")
	outFormat := fs.String("format", "md", "output `format`: md or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset diff --help' for usage"
	sys, err := parseSystem(*sysFlag, hint)
	if err != nil {
		return err
	}
	if *to == "" {
		return usagef(hint, "--to is required")
	}
	if *outFormat != "md" && *outFormat != "json" {
		return usagef(hint, "bad --format %q: want md or json", *outFormat)
	}
	if fs.NArg() > 0 {
		return usagef(hint, "unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	defer roomierGC()()
	l, err := m.pipeline().Diff(ctx, sys, *from, *to)
	if err != nil {
		return err
	}
	defer boundGarbage()()
	if *outFormat == "json" {
		return format.WriteChangelog(m.Stdout, l)
	}
	return changelog.WriteMarkdown(m.Stdout, l)
}

func (m *Main) releasesCommand(ctx context.Context, args []string) error {
	fs := m.flags("releases", "[--system S] [--json]", "List the stored releases, oldest first, where each is published (the tree the data directory\n"+
		"records it was published to, whatever --out says), and which is the latest (newest effective\n"+
		"date) and the current one (the newest published one in effect today).")
	sysFlag := fs.String("system", "", "only this code `system`")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var sys codeset.System
	if *sysFlag != "" {
		var err error
		if sys, err = parseSystem(*sysFlag, "run 'codeset releases --help' for usage"); err != nil {
			return err
		}
	}
	infos, err := snapshot.Store{Dir: m.DataDir}.List(ctx, sys)
	if err != nil {
		return err
	}
	type row struct {
		System    codeset.System `json:"system"`
		Label     string         `json:"release"`
		Effective string         `json:"effective,omitempty"`
		Codes     int            `json:"codes"`
		Published string         `json:"published,omitempty"`
		// Unfinished: a publication begun there and never finished.
		Unfinished string `json:"unfinished,omitempty"`
		Latest     bool   `json:"latest"`
		Current    bool   `json:"current"`
	}
	rows := []row{}
	pipe := m.pipeline()
	latest, current := map[codeset.System]int{}, map[codeset.System]int{}
	today := m.now()
	for i, in := range infos {
		r := row{System: in.System, Label: in.Label, Codes: in.Codes}
		if !in.Effective.IsZero() {
			r.Effective = in.Effective.Format(time.DateOnly)
		}
		// Where the data directory records it was published, whatever
		// --out says: a mistyped or unmounted --out must not make a
		// published release look unpublished.
		done, unfinished, err := pipe.PublishedTrees(in.System, in.Label)
		if err != nil {
			return err
		}
		if len(done) > 0 {
			r.Published = format.ReleaseDir(done[0], in.System, in.Label)
		} else if len(unfinished) > 0 {
			r.Unfinished = format.ReleaseDir(unfinished[0], in.System, in.Label)
		}
		rows = append(rows, r)
		if j, ok := latest[in.System]; !ok || !in.Effective.Before(infos[j].Effective) {
			latest[in.System] = i
		}
		if r.Published != "" && !in.Effective.After(today) {
			if j, ok := current[in.System]; !ok || !in.Effective.Before(infos[j].Effective) {
				current[in.System] = i
			}
		}
	}
	for _, i := range latest {
		rows[i].Latest = true
	}
	for _, i := range current {
		rows[i].Current = true
	}
	if *asJSON {
		return writeJSON(m.Stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintf(m.Stdout, "no releases stored in %s\n", m.DataDir)
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SYSTEM\tRELEASE\tEFFECTIVE\tCODES\tSTATUS\tPUBLISHED")
	for _, r := range rows {
		var status []string
		if r.Latest {
			status = append(status, "latest")
		}
		if r.Current {
			status = append(status, "current")
		}
		published := cmp.Or(r.Published, "no")
		if r.Unfinished != "" {
			published = "no: interrupted publishing to " + r.Unfinished + " (run it again)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.System, r.Label, dash(r.Effective), r.Codes, dash(strings.Join(status, ", ")), published)
	}
	return tw.Flush()
}

// writeJSON prints v as indented JSON, the --json of listing commands.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (m *Main) versionCommand(ctx context.Context, args []string) error {
	fs := m.flags("version", "", "Print the version.")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "codeset %s\n", codeset.Version)
	return nil
}
