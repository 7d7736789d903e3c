// Command codeset ingests medical code-set releases, compares each with the
// previous one and publishes versioned SQLite snapshots with changelogs.
//
// Usage:
//
//	codeset [--data DIR] [--out DIR] COMMAND [flags] [args]
//
// Run "codeset help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/codeset/codeset/schedules"
	"github.com/codeset/codeset/schedules/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("CODESET_CPUPROFILE"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "codeset:", err)
			os.Exit(2)
		}
		defer stopProfile()
	}
	if path := os.Getenv("CODESET_TRACE"); path != "" {
		stopTrace, err := startTrace(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "codeset:", err)
			os.Exit(2)
		}
		defer stopTrace()
	}
	m := NewMain()
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		code := m.report(err)
		stop()
		os.Exit(code)
	}
}

// Main is the program, with its streams and global flags, so that tests can
// drive it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	DataDir        string
	OutDir         string
	// Now tells the time that decides which release is current; nil means
	// the wall clock. Tests set it.
	Now func() time.Time
	// Quiet hides progress; Verbose adds the pipeline's log of each step.
	Quiet, Verbose bool
}

func (m *Main) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// NewMain returns a Main on the process's streams.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, DataDir: "codeset-data", OutDir: "codeset-public"}
}

// usageError is a bad command line; it carries a hint on what to do.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// report prints err as one line on stderr and returns the exit status: 2 for
// bad usage, 1 for any other failure.
func (m *Main) report(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(m.Stderr, "codeset: %s\n", ue.msg)
		if ue.hint != "" {
			fmt.Fprintf(m.Stderr, "%s\n", ue.hint)
		}
		return 2
	}
	fmt.Fprintf(m.Stderr, "codeset: %s\n", err)
	return 1
}

// withHint adds to err what a user of the command line can do about it,
// where the packages below leave that to their caller: the flag that
// overrides a publish guard.
func withHint(err error) error {
	var ge *release.GuardError
	if errors.As(err, &ge) && ge.Guard == release.GuardStrict {
		return fmt.Errorf("%w; see the reconciliation in the changelog (codeset diff), or run again without --strict", err)
	}
	if errors.As(err, &ge) && !strings.Contains(err.Error(), "--"+allowFlag(ge.Guard)) {
		return fmt.Errorf("%w; if this is intended, run again with --%s", err, allowFlag(ge.Guard))
	}
	return err
}

// jobHint is withHint for a job run by codeset run or codeset trigger.
func jobHint(_ *schedules.Job, err error) error { return withHint(err) }

// serviceHint adds to the error of a job run by codeset serve (on its
// schedule or through the HTTP trigger) what its operator can do.
func serviceHint(job *schedules.Job, err error) error {
	var ge *release.GuardError
	if errors.As(err, &ge) && ge.Guard == release.GuardStrict {
		return fmt.Errorf("%w; job %s is strict: set strict = false in its config to publish anyway", err, job.Name)
	}
	if errors.As(err, &ge) {
		return fmt.Errorf("%w; if this is intended, run codeset trigger %s --%s on the server, or change the job's thresholds in the config", err, job.Name, allowFlag(ge.Guard))
	}
	return err
}

type command struct {
	name, summary string
	run           func(m *Main, ctx context.Context, args []string) error
}

var commands = []command{
	{"run", "ingest release files, diff against the previous release, publish", (*Main).runCommand},
	{"ingest", "ingest release files into a snapshot without publishing", (*Main).ingestCommand},
	{"publish", "publish a stored snapshot with its changelog", (*Main).publishCommand},
	{"diff", "compare two stored releases of a system", (*Main).diffCommand},
	{"crosswalk", "attach a publisher's crosswalk (replacement links) to a stored release: crosswalk add", (*Main).crosswalkCommand},
	{"releases", "list stored releases", (*Main).releasesCommand},
	{"demo", "run the pipeline on the bundled demo CPT releases", (*Main).demoCommand},
	{"serve", "serve the published tree and, with --config, run the jobs on their schedules", (*Main).serveCommand},
	{"trigger", "run a configured job now (release day)", (*Main).triggerCommand},
	{"runs", "list the runs in the ledger", (*Main).runsCommand},
	{"withdraw", "withdraw a published release, keeping its folder and its label taken", (*Main).withdrawCommand},
	{"reindex", "rebuild the published indexes, pointers and history", (*Main).reindexCommand},
	{"history", "show every change of one code across releases", (*Main).historyCommand},
	{"licence", "show or fix the licence mode of the published tree (full or codes-only)", (*Main).licenceCommand},
	{"pull", "download and verify a snapshot from a published tree", (*Main).pullCommand},
	{"version", "print the version", (*Main).versionCommand},
}

// Run parses the global flags and runs the command args names.
func (m *Main) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("codeset", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.globalFlags(fs)
	version := fs.Bool("version", false, "print the version and exit")
	if err := parseQuiet(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.usage(fs)
			return err
		}
		return flagError(fs, err, "run 'codeset --help' for usage")
	}
	if *version {
		return m.versionCommand(ctx, nil)
	}
	if fs.NArg() == 0 {
		m.usage(fs)
		return usagef("", "no command given")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		if len(rest) > 0 {
			return m.Run(ctx, []string{rest[0], "--help"})
		}
		m.usage(fs)
		return nil
	}
	for _, c := range commands {
		if c.name == name {
			return withHint(c.run(m, ctx, rest))
		}
	}
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	if near := nearest(name, names); near != "" {
		return usagef("", "unknown command %q; did you mean %q? (run 'codeset --help' for the commands)", name, near)
	}
	return usagef("", "unknown command %q (run 'codeset --help' for the commands)", name)
}

// globalFlags registers the flags every command accepts, before or after
// its name.
func (m *Main) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&m.DataDir, "data", m.DataDir, "snapshot `dir`ectory")
	fs.StringVar(&m.OutDir, "out", m.OutDir, "published tree `dir`ectory")
	fs.BoolVar(&m.Quiet, "quiet", m.Quiet, "no progress on the terminal")
	fs.BoolVar(&m.Verbose, "verbose", m.Verbose, "log each step of the work on stderr")
}

// parseQuiet parses args with fs without letting the flag package print
// its error and the whole usage: the caller says it in one line.
func parseQuiet(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	usage := fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.SetOutput(out); fs.Usage = usage }()
	return fs.Parse(args)
}

// flagError turns an error of the flag package into one line, with the
// nearest flag when one was mistyped.
func flagError(fs *flag.FlagSet, err error, hint string) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if near := nearest(name, names); near != "" {
			return usagef("", "unknown flag --%s; did you mean --%s? (%s)", name, near, hint)
		}
		return usagef("", "unknown flag --%s (%s)", name, hint)
	}
	return usagef("", "%s (%s)", msg, hint)
}

// nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a typo (or s is its prefix), or "".
func nearest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(s, c)
		if strings.HasPrefix(c, s) && len(s) >= 2 {
			d = min(d, 2) // a shortened flag, after real typos
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(1, min(3, len(s)/3+1)) {
		return best
	}
	return ""
}

// editDistance is the edit distance between a and b, a swap of two
// neighbouring letters counting as one edit (optimal string alignment).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func (m *Main) usage(fs *flag.FlagSet) {
	w := m.Stderr
	fmt.Fprintf(w, "codeset turns medical code-set releases into versioned SQLite snapshots and changelogs.\n\n")
	fmt.Fprintf(w, "Usage: codeset [--data DIR] [--out DIR] COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nGlobal flags (also accepted after the command):\n")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nRun 'codeset COMMAND --help' for a command's flags.\n")
}

// flags returns a flag set for a subcommand that also accepts the global
// flags.
func (m *Main) flags(name, args, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("codeset "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.globalFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: codeset %s %s\n\n%s\n\nFlags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args with fs, turning a flag error into a usage error.
// Flags may come after the file arguments too ("run --system cpt FILE
// --effective 2026-01-01"): everything after a literal "--" is an argument.
func parse(fs *flag.FlagSet, args []string) error {
	var pos, tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	for {
		if err := parseQuiet(fs, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
				return err
			}
			return flagError(fs, err, "run '"+fs.Name()+" --help' for usage")
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	// Leave the arguments, in their order, as fs.Args.
	return fs.Parse(append([]string{"--"}, append(pos, tail...)...))
}

func (m *Main) logger() *slog.Logger {
	level := slog.LevelWarn
	if m.Verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}
