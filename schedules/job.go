package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/ingest"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/schedules/release"
)

// Trigger says what started a run.
type Trigger string

// The triggers the ledger records.
const (
	TriggerSchedule Trigger = "schedule"
	TriggerManual   Trigger = "manual"
	TriggerCatchUp  Trigger = "catch-up"
	TriggerAPI      Trigger = "api"
)

// Outcome says how a run ended.
type Outcome string

// The outcomes the ledger records.
const (
	// OutcomeRunning marks a run that has not ended.
	OutcomeRunning Outcome = "running"
	// OutcomePublished: a new release or revision was published.
	OutcomePublished Outcome = "published"
	// OutcomeUnchanged: the source file was ingested before; nothing published.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeNoFile: the source holds no release file yet.
	OutcomeNoFile Outcome = "no-file"
	// OutcomeFailed: the run failed; Error says why. Nothing was published.
	OutcomeFailed Outcome = "failed"
	// OutcomeRefused: a publish guard stopped the release; Error gives the
	// numbers and the override. Nothing was published.
	OutcomeRefused Outcome = "refused"
	// OutcomeAbandoned: the process running it died, or it was stopped
	// (SIGTERM) before it finished; the next run finishes its work.
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeWithdrawn: the release Label was withdrawn; Error holds the
	// reason.
	OutcomeWithdrawn Outcome = "withdrawn"
)

// Job is one release feed to watch: where its files come from, how their
// releases are labelled and when to look.
type Job struct {
	Name   string
	System codeset.System
	Source Source
	// Schedule is a robfig/cron spec, with CRON_TZ=... for its time zone;
	// "" runs the job only when triggered.
	Schedule string
	// CatchUp runs the job once at start-up when a scheduled time passed
	// while the service was down.
	CatchUp bool
	// Label, when set, is the release label of every run, and a label
	// already taken fails the run. When empty the label derives from the
	// file name by LabelRules (the system's built-in rules when nil), and a
	// different file for a label already taken publishes the next revision,
	// LABEL-r2, LABEL-r3 and so on.
	Label      string
	LabelRules []LabelRule
	Effective  time.Time       // zero: derived from the label
	Profile    *ingest.Profile // nil: the system's built-in profile
	// Guards are checked before each release is published.
	Guards release.Guards
}

// Run is one run of a job as the ledger records it.
type Run struct {
	ID      int64           `json:"id"`
	Job     string          `json:"job"`
	Trigger Trigger         `json:"trigger"`
	Source  string          `json:"source"`
	SHA256  string          `json:"sha256"`
	Label   string          `json:"label"`
	Outcome Outcome         `json:"outcome"`
	Codes   int             `json:"codes"`
	Changes codeset.Summary `json:"changes"`
	// Reconciliation is the comparison of a published run's changes with
	// the publisher's own list; nil when the release has none.
	Reconciliation *RunReconciliation `json:"reconciliation,omitempty"`
	Error          string             `json:"error"`
	Started        time.Time          `json:"started"`
	Ended          time.Time          `json:"ended"`
	// Result is what the pipeline produced for a published run; it is not
	// recorded.
	Result *release.Result `json:"-"`
}

// Runner runs jobs. Run is the one job function behind scheduled runs,
// catch-up runs, codeset trigger, the HTTP trigger and codeset run.
type Runner struct {
	Pipeline *release.Pipeline
	// Ledger records every run and keeps source state; nil records nothing.
	Ledger *Ledger
	Locks  Locks
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WorkDir holds each run's downloaded files while it runs; "" means the
	// system's temporary directory.
	WorkDir string
	Logger  *slog.Logger
	// Hint, when set, adds to the error of a failed run what the user of
	// the front end that runs the jobs can do about it (a command-line
	// flag, a setting), before the run is recorded and returned.
	Hint func(job *Job, err error) error
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run runs job once under its lock and records the run. Without wait it
// fails with an error wrapping ErrBusy when the job is already running;
// with wait it waits for its turn. A failed run returns its record and the
// error; nothing it did is left half-published.
func (r *Runner) Run(ctx context.Context, job *Job, trig Trigger, wait bool) (*Run, error) {
	unlock, err := r.Locks.Acquire(ctx, job.Name, wait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	run := &Run{Job: job.Name, Trigger: trig, Outcome: OutcomeRunning, Source: job.Source.String(), Started: r.now()}
	if r.Ledger != nil {
		if err := r.Ledger.begin(ctx, run); err != nil {
			return nil, err
		}
	}
	defer func() {
		// A panic is the scheduler's or the HTTP server's to report, but
		// the ledger must not show the run as still running.
		if p := recover(); p != nil {
			if r.Ledger != nil {
				run.Outcome, run.Error, run.Ended = OutcomeFailed, fmt.Sprintf("panic: %v", p), r.now()
				r.Ledger.finish(context.WithoutCancel(ctx), run)
			}
			panic(p)
		}
	}()
	err = r.do(ctx, job, run)
	if err != nil && r.Hint != nil {
		err = r.Hint(job, err)
	}
	run.Ended = r.now()
	switch {
	case errors.Is(err, ErrNoFile):
		run.Outcome, run.Error, err = OutcomeNoFile, err.Error(), nil
	case errors.Is(err, release.ErrRefused):
		run.Outcome, run.Error = OutcomeRefused, err.Error()
	case err != nil && ctx.Err() != nil:
		// Stopped (SIGTERM, shutdown grace over) before it finished:
		// abandoned, not failed; the next start or trigger finishes it.
		run.Outcome, run.Error = OutcomeAbandoned, "stopped before it finished: "+err.Error()
	case err != nil:
		run.Outcome, run.Error = OutcomeFailed, err.Error()
	}
	if r.Ledger != nil {
		// Record the end even when ctx was cancelled: the run is over.
		if lerr := r.Ledger.finish(context.WithoutCancel(ctx), run); lerr != nil {
			err = errors.Join(err, lerr)
		}
	}
	log := r.logger().With("job", run.Job, "trigger", run.Trigger, "outcome", run.Outcome, "release", run.Label, "source", run.Source)
	if err != nil {
		log.Error("run failed", "err", err)
	} else {
		args := []any{"codes", run.Codes, "sha256", run.SHA256}
		if rc := run.Reconciliation; rc != nil {
			args = append(args, rc.logValue())
		}
		log.Info("run done", args...)
	}
	return run, err
}

// do fetches the source, decides the label and runs the pipeline, filling
// in run.
func (r *Runner) do(ctx context.Context, job *Job, run *Run) error {
	dir, err := os.MkdirTemp(r.WorkDir, "codeset-run-*")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(dir)

	var prev FetchState
	if r.Ledger != nil {
		if prev, err = r.Ledger.sourceState(ctx, job.Name, job.Source.String()); err != nil {
			return err
		}
	}
	f, err := job.Source.Fetch(ctx, dir, prev)
	if err != nil {
		return err
	}
	if f.NotModified && r.Ledger != nil {
		// The source still holds the file of the last good run; trust
		// that only when its release is in the tree, else fetch it again:
		// a run killed while publishing recorded nothing published.
		sha, label, err := r.Ledger.lastIngested(ctx, job.Name, f.Origin)
		if err != nil {
			return err
		}
		if label != "" && r.Pipeline.Published(job.System, label) {
			run.Source, run.SHA256, run.Label, run.Outcome = f.Origin, sha, label, OutcomeUnchanged
			return nil
		}
		if f, err = job.Source.Fetch(ctx, dir, FetchState{}); err != nil {
			return err
		}
	}
	run.Source, run.SHA256 = f.Origin, f.SHA256
	if f.NotModified {
		run.Outcome = OutcomeUnchanged
		return nil
	}
	// Read the store, decide the label and publish under the system's
	// lock, so no other run, ingest or publish of the system interleaves.
	unlock, err := r.Pipeline.LockSystem(ctx, job.System)
	if err != nil {
		return err
	}
	defer unlock()
	if f.SHA256 != "" && r.Ledger != nil {
		seen, label, err := r.Ledger.ingested(ctx, job.Name, f.SHA256)
		if err != nil {
			return err
		}
		// The ledger's word counts only when the tree agrees.
		if seen && label != "" && r.Pipeline.Published(job.System, label) {
			run.Outcome, run.Label = OutcomeUnchanged, label
			r.saveState(ctx, job, f)
			return nil
		}
	}
	label, eff, same, err := r.label(ctx, job, f)
	run.Label = label
	if err != nil {
		return err
	}
	if same {
		run.Outcome = OutcomeUnchanged
		r.saveState(ctx, job, f)
		return nil
	}
	res, err := r.Pipeline.Run(ctx, release.Request{System: job.System, Label: label, Effective: eff, Profile: job.Profile, Files: f.Files, Guards: job.Guards, Locked: true})
	if err != nil {
		return err
	}
	run.Outcome, run.Result = OutcomePublished, res
	run.Codes, run.Changes = len(res.Release.Codes), res.Changelog.Summary
	run.Reconciliation = summarize(job.System, res.Changelog.Reconciliation)
	if run.SHA256 == "" && len(res.Release.Sources) == 1 {
		run.SHA256 = res.Release.Sources[0].SHA256
	}
	r.saveState(context.WithoutCancel(ctx), job, f)
	return nil
}

// saveState keeps the source's validators once a run has dealt with the
// file they describe, so a failed run fetches the file again next time.
// Losing them costs only a full download, so a failure to save is logged
// and does not fail the run.
func (r *Runner) saveState(ctx context.Context, job *Job, f *Fetched) {
	if r.Ledger == nil || f.State == (FetchState{}) {
		return
	}
	if err := r.Ledger.saveSourceState(ctx, job.Name, job.Source.String(), f.State); err != nil {
		r.logger().Warn("save source state", "job", job.Name, "err", err)
	}
}

// label decides the release label of fetched file f and its effective
// date. same is set when a release of that label or one of its revisions
// was read from this very file and is published in the tree. A stored
// release read from it but not published (a run killed while publishing)
// gets its own label back, so that the pipeline finishes publishing it.
func (r *Runner) label(ctx context.Context, job *Job, f *Fetched) (label string, eff time.Time, same bool, err error) {
	if job.Label != "" {
		return job.Label, job.Effective, false, nil
	}
	rules := job.LabelRules
	if rules == nil {
		rules = BuiltinLabelRules(job.System)
	}
	base, err := DeriveLabel(rules, f.Name)
	if err != nil {
		return "", time.Time{}, false, err
	}
	infos, err := r.Pipeline.Store.List(ctx, job.System)
	if err != nil {
		return base, time.Time{}, false, err
	}
	revision := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `-r[0-9]+$`)
	eff = job.Effective
	for _, in := range infos {
		if in.Label != base && !revision.MatchString(in.Label) {
			continue
		}
		if f.SHA256 != "" && len(in.Sources) == 1 && in.Sources[0].SHA256 == f.SHA256 {
			return in.Label, in.Effective, r.Pipeline.Published(job.System, in.Label), nil
		}
		if in.Label == base && eff.IsZero() {
			eff = in.Effective // revisions take effect when the release does
		}
	}
	if eff.IsZero() {
		var ok bool
		if eff, ok = codeset.DefaultEffective(job.System, base); !ok {
			return base, eff, false, fmt.Errorf("%s %s: the label implies no effective date: set effective in the job", job.System, base)
		}
	}
	taken := func(l string) bool {
		return r.Pipeline.Store.Exists(job.System, l) || publish.Published(r.Pipeline.OutDir, job.System, l)
	}
	label = base
	for n := 2; taken(label); n++ {
		label = fmt.Sprintf("%s-r%d", base, n)
	}
	return label, eff, false, nil
}

// Reap marks as abandoned every run the ledger records as running whose
// job's lock is free: the process that ran it was killed. It returns the
// jobs it found so, whose interrupted work the next run finishes (see
// Service.Start). A job running now, in this process or another, is left
// alone.
func (r *Runner) Reap(ctx context.Context) ([]string, error) {
	if r.Ledger == nil {
		return nil, nil
	}
	jobs, err := r.Ledger.running(ctx)
	if err != nil {
		return nil, err
	}
	var dead []string
	for _, job := range jobs {
		unlock, err := r.Locks.Acquire(ctx, job, false)
		if errors.Is(err, ErrBusy) {
			continue
		}
		if err != nil {
			return dead, err
		}
		n, err := r.Ledger.abandon(ctx, job, r.now())
		unlock()
		if err != nil {
			return dead, err
		}
		if n > 0 {
			r.logger().Warn("run abandoned: its process died", "job", job)
			dead = append(dead, job)
		}
	}
	return dead, nil
}

// WithdrawJob names the ledger's runs that withdraw a release of sys.
func WithdrawJob(sys codeset.System) string { return "withdraw-" + string(sys) }

// Withdraw takes back the published release label of sys for reason (see
// release.Pipeline.Withdraw) and records it in the ledger as a run of
// WithdrawJob(sys) with outcome withdrawn. A withdrawal killed half way
// is finished by withdrawing again.
func (r *Runner) Withdraw(ctx context.Context, sys codeset.System, label, reason string, trig Trigger) (*Run, error) {
	name := WithdrawJob(sys)
	unlock, err := r.Locks.Acquire(ctx, name, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	run := &Run{Job: name, Trigger: trig, Outcome: OutcomeRunning, Source: r.Pipeline.OutDir, Label: label, Started: r.now()}
	if r.Ledger != nil {
		if err := r.Ledger.begin(ctx, run); err != nil {
			return nil, err
		}
	}
	err = r.Pipeline.Withdraw(ctx, sys, label, reason)
	run.Ended = r.now()
	switch {
	case err == nil:
		run.Outcome, run.Error = OutcomeWithdrawn, strings.TrimSpace(reason)
	case ctx.Err() != nil:
		run.Outcome, run.Error = OutcomeAbandoned, "stopped before it finished: "+err.Error()
	default:
		run.Outcome, run.Error = OutcomeFailed, err.Error()
	}
	if r.Ledger != nil {
		if lerr := r.Ledger.finish(context.WithoutCancel(ctx), run); lerr != nil {
			err = errors.Join(err, lerr)
		}
	}
	return run, err
}
