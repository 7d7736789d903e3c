package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/codeset/codeset/publish"
)

// Service runs jobs on their schedules, catches up runs missed while it
// was down, and serves the HTTP API. Every run goes through Runner.Run.
type Service struct {
	Runner *Runner
	Jobs   []*Job
	// Token is the bearer token the HTTP trigger requires; "" refuses every
	// trigger request.
	Token  string
	Logger *slog.Logger

	ctx      context.Context // the runs' context
	cron     *cron.Cron
	mu       sync.Mutex
	stopping bool
	wg       sync.WaitGroup // catch-up and HTTP-triggered runs
}

// track counts a run that is not the scheduler's, so that Stop waits for
// it; it reports false once the service is stopping.
func (s *Service) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.wg.Add(1)
	return true
}

// cronLogger feeds robfig/cron's log lines to slog: its chatter at debug
// level, its errors (recovered panics among them) at error level.
type cronLogger struct{ l *slog.Logger }

// Info logs cron's routine messages at debug level.
func (c cronLogger) Info(msg string, kv ...any) {
	c.l.Debug("cron", append([]any{"event", msg}, kv...)...)
}

// Error logs cron's errors, recovered panics among them.
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron", append([]any{"event", msg}, append(kv, "err", err)...)...)
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// job returns the job called name, or nil.
func (s *Service) job(name string) *Job {
	for _, j := range s.Jobs {
		if j.Name == name {
			return j
		}
	}
	return nil
}

// Start schedules the jobs and starts the catch-up runs. Runs use ctx:
// cancelling it abandons them cleanly (nothing half-published). Call Stop
// to stop scheduling.
func (s *Service) Start(ctx context.Context) error {
	s.ctx = ctx
	log := cronLogger{s.logger()}
	s.cron = cron.New(
		cron.WithParser(CronParser),
		cron.WithLogger(log),
		cron.WithChain(cron.Recover(log), cron.SkipIfStillRunning(log)),
	)
	// The "current" pointers move when a release's effective date arrives:
	// re-index now and just after every midnight UTC.
	s.reindex()
	if _, err := s.cron.AddFunc(reindexSchedule, s.reindex); err != nil {
		return fmt.Errorf("schedule re-indexing: %w", err)
	}
	now := s.Runner.now()
	var catchUp []*Job
	// A run killed while the service was down (or with it) is recorded as
	// abandoned and run again now, which finishes what it left undone.
	dead, err := s.Runner.Reap(ctx)
	if err != nil {
		return err
	}
	for _, name := range dead {
		if job := s.job(name); job != nil {
			s.logger().Info("finishing an interrupted run", "job", name)
			catchUp = append(catchUp, job)
		}
	}
	for _, job := range s.Jobs {
		if job.Schedule == "" {
			continue
		}
		sched, err := CronParser.Parse(job.Schedule)
		if err != nil {
			return fmt.Errorf("job %s: schedule %q: %w", job.Name, job.Schedule, err)
		}
		s.cron.Schedule(sched, cron.FuncJob(func() { s.run(job, TriggerSchedule) }))
		s.logger().Info("scheduled", "job", job.Name, "schedule", job.Schedule, "next", sched.Next(now))
		if s.Runner.Ledger == nil {
			continue
		}
		last, err := s.Runner.Ledger.lastActivity(ctx, job.Name)
		if err != nil {
			return err
		}
		if err := s.Runner.Ledger.register(ctx, job.Name, now); err != nil {
			return err
		}
		if job.CatchUp && Missed(sched, last, now) && !slices.Contains(catchUp, job) {
			s.logger().Info("catching up a missed run", "job", job.Name, "last", last, "missed", sched.Next(last))
			catchUp = append(catchUp, job)
		}
	}
	for _, job := range catchUp {
		if s.track() {
			go func() {
				defer s.wg.Done()
				s.run(job, TriggerCatchUp)
			}()
		}
	}
	s.cron.Start()
	return nil
}

// reindexSchedule re-points the published tree once a day, just after
// midnight UTC, the moment effective dates (UTC midnights) arrive.
const reindexSchedule = "CRON_TZ=UTC 0 1 0 * * *"

// reindex rebuilds the published indexes and pointers, so that "current"
// names the newest release in effect. Nothing published yet, nothing to do.
func (s *Service) reindex() {
	p := s.Runner.Pipeline
	if p == nil || p.OutDir == "" {
		return
	}
	if _, err := os.Stat(p.OutDir); err != nil {
		return
	}
	if _, err := publish.Reindex(s.ctx, p.OutDir, s.Runner.now()); err != nil {
		s.logger().Error("reindex", "out", p.OutDir, "err", err)
		return
	}
	s.logger().Info("reindexed", "out", p.OutDir)
}

// Missed reports whether sched had a time after last and not after now,
// that is, whether a run was due in between. A zero last (nothing known)
// misses nothing.
func Missed(sched cron.Schedule, last, now time.Time) bool {
	if last.IsZero() {
		return false
	}
	next := sched.Next(last)
	return !next.IsZero() && !next.After(now)
}

// run runs job without waiting, logging a run skipped because the job is
// already running.
func (s *Service) run(job *Job, trig Trigger) (*Run, error) {
	run, err := s.Runner.Run(s.ctx, job, trig, false)
	if errors.Is(err, ErrBusy) {
		s.logger().Info("run skipped", "job", job.Name, "trigger", trig, "reason", err)
	}
	return run, err
}

// Stop stops scheduling and waits, until ctx is done, for the runs in
// progress to end. Cancel the context given to Start to abandon them.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		if s.cron != nil {
			<-s.cron.Stop().Done()
		}
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
