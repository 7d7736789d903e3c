package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/codeset/codeset/publish/snapshot"
	"github.com/codeset/codeset/schedules"
	"github.com/codeset/codeset/schedules/release"
)

// configured is what the service commands build from a config file.
type configured struct {
	cfg    *schedules.Config
	runner *schedules.Runner
}

// openConfig loads the config file named by the --config flag of command
// name and opens its ledger; the caller closes c.runner.Ledger.
func openConfig(ctx context.Context, name, path string, log *slog.Logger) (*configured, error) {
	if path == "" {
		return nil, usagef("run 'codeset "+name+" --help' for usage", "--config is required")
	}
	cfg, err := schedules.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	ledger, err := schedules.OpenLedger(ctx, cfg.LedgerPath())
	if err != nil {
		return nil, err
	}
	runner := &schedules.Runner{
		Pipeline: &release.Pipeline{Store: snapshot.Store{Dir: cfg.Path(cfg.Data)}, OutDir: cfg.Path(cfg.Out), Logger: log},
		Ledger:   ledger,
		Locks:    schedules.Locks{Dir: cfg.LockDir()},
		Logger:   log,
		Hint:     jobHint,
	}
	if name == "serve" {
		runner.Hint = serviceHint
	}
	return &configured{cfg: cfg, runner: runner}, nil
}

// newLogger returns the slog logger for format: "text" or "json".
func newLogger(w io.Writer, format string, level slog.Level, hint string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef(hint, "bad --log-format %q: want text or json", format)
}

// printRun prints the outcome of a run in one line, and a published
// release's summary after it.
func (m *Main) printRun(run *schedules.Run) error {
	switch run.Outcome {
	case schedules.OutcomePublished:
		fmt.Fprintf(m.Stdout, "job %s: published %s from %s\n", run.Job, run.Label, run.Source)
		if run.Result != nil {
			return m.printResult(run.Result)
		}
	case schedules.OutcomeUnchanged:
		fmt.Fprintf(m.Stdout, "job %s: unchanged: %s was already ingested; nothing published\n", run.Job, run.Source)
	default:
		fmt.Fprintf(m.Stdout, "job %s: %s: %s\n", run.Job, run.Outcome, run.Error)
	}
	return nil
}
