package main

import (
	"context"
	"log/slog"

	"github.com/codeset/codeset/schedules"
	"github.com/codeset/codeset/schedules/release"
)

func (m *Main) triggerCommand(ctx context.Context, args []string) error {
	fs := m.flags("trigger", "JOB --config FILE [--wait]",
		"Run a configured job now, as on release day: fetch its source, and publish the release\n"+
			"(or a revision) unless the file was ingested before. The run is recorded in the ledger.\n"+
			"If the job is already running, here or in 'codeset serve', fail with \"already running\"\n"+
			"(exit status 1), or with --wait wait for it to end and then run.")
	cfgPath := fs.String("config", "", "configuration `file` (TOML)")
	wait := fs.Bool("wait", false, "wait for a run in progress to end, then run")
	var g release.Guards
	registerGuards(fs, &g)
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset trigger --help' for usage"
	// The job name may come before the flags.
	var name string
	if fs.NArg() > 0 {
		name = fs.Arg(0)
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	switch {
	case name == "":
		return usagef(hint, "name the job to run")
	case fs.NArg() > 0:
		return usagef(hint, "unexpected arguments: %v", fs.Args())
	}
	if err := g.Validate(); err != nil {
		return usagef(hint, "%v", err)
	}
	log := m.logger()
	c, err := openConfig(ctx, "trigger", *cfgPath, log)
	if err != nil {
		return err
	}
	defer c.runner.Ledger.Close()
	c.runner.Logger = slog.New(slog.DiscardHandler) // the outcome is printed below
	job, err := c.cfg.Job(name)
	if err != nil {
		return err
	}
	// Flags given on release day override the job's configured guards.
	job.Guards = job.Guards.Override(g)
	run, err := c.runner.Run(ctx, job, schedules.TriggerManual, *wait)
	if err != nil {
		return err
	}
	return m.printRun(run)
}
