package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
	_ "time/tzdata" // job time zones work without the system's zoneinfo

	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/schedules"
)

func (m *Main) serveCommand(ctx context.Context, args []string) error {
	fs := m.flags("serve", "--config FILE [--log-format text|json]",
		"Run as a service: run the configured jobs on their schedules (catching up runs missed\n"+
			"while down), serve the published tree and the HTTP API (POST /api/v1/jobs/JOB/runs with\n"+
			"a bearer token triggers a job; GET /api/v1/runs shows the ledger). SIGTERM or SIGINT\n"+
			"stops it: running jobs get shutdown_grace to finish, then are abandoned cleanly.")
	cfgPath := fs.String("config", "", "configuration `file` (TOML)")
	format := fs.String("log-format", "text", "log `format`: text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset serve --help' for usage"
	if fs.NArg() > 0 {
		return usagef(hint, "unexpected arguments: %v", fs.Args())
	}
	log, err := newLogger(m.Stderr, *format, slog.LevelInfo, hint)
	if err != nil {
		return err
	}
	c, err := openConfig(ctx, "serve", *cfgPath, log)
	if err != nil {
		return err
	}
	defer c.runner.Ledger.Close()
	jobs, err := c.cfg.BuildJobs()
	if err != nil {
		return err
	}
	svc := &schedules.Service{Runner: c.runner, Jobs: jobs, Token: c.cfg.BearerToken(), Logger: log}

	// Runs get their own context: a signal stops scheduling at once but
	// gives running jobs the grace period before abandoning them.
	runCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	var (
		srv *http.Server
		ln  net.Listener
	)
	if c.cfg.Listen != "" {
		// Listen before starting the jobs, so a taken port fails at once.
		if ln, err = net.Listen("tcp", c.cfg.Listen); err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/api/v1/", svc.Handler())
		mux.Handle("/", publish.NewHandler(c.cfg.Path(c.cfg.Out)))
		srv = &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		if svc.Token == "" {
			log.Warn("no bearer token configured (token or token_env): the HTTP trigger refuses every request")
		}
	}
	if err := svc.Start(runCtx); err != nil {
		if ln != nil {
			ln.Close()
		}
		return err
	}
	log.Info("started", "jobs", len(jobs), "data", c.cfg.Path(c.cfg.Data), "out", c.cfg.Path(c.cfg.Out), "ledger", c.runner.Ledger.Path())
	errc := make(chan error, 1)
	if srv != nil {
		log.Info("listening", "addr", ln.Addr().String())
		go func() { errc <- srv.Serve(ln) }()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	grace := c.cfg.Grace()
	log.Info("stopping", "grace", grace)
	graceCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if srv != nil {
		srv.Shutdown(graceCtx) // waits for triggered runs in progress
	}
	if err := svc.Stop(graceCtx); err != nil {
		log.Warn("abandoning running jobs: the grace period is over")
		abandon()
		waitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Stop(waitCtx)
		if srv != nil {
			// Let the handlers of abandoned runs send their answers.
			srv.Shutdown(waitCtx)
		}
	}
	if srv != nil {
		srv.Close()
	}
	log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}
