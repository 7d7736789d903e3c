package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
	_ "time/tzdata" // job time zones work without the system's zoneinfo

	"github.com/codeset/codeset/publish/server"
	"github.com/codeset/codeset/schedules"
)

// Server limits: a slow client cannot hold a connection open forever,
// while snapshot downloads, which can take long, have no write deadline.
// Variables so that tests can shorten them.
var (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// Size limits on what a client sends: the request line and headers, and
// the body of any request a handler reads (a trigger's body is ignored;
// the cap keeps every route so).
const (
	maxHeaderBytes = 64 << 10
	maxBodyBytes   = 1 << 20
)

// newServer returns the HTTP server for h with the limits above.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           limitBody(h, maxBodyBytes),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return srv
}

// limitBody is http.MaxBytesHandler(h, n) for requests that carry a
// body. A request without one (its Body is http.NoBody, as net/http makes
// it for every GET) goes to h as it is: MaxBytesHandler copies each
// request to put its reader in, two allocations that the code lookups and
// /healthz need not pay.
func limitBody(h http.Handler, n int64) http.Handler {
	limited := http.MaxBytesHandler(h, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		limited.ServeHTTP(w, r)
	})
}

func (m *Main) serveCommand(ctx context.Context, args []string) error {
	fs := m.flags("serve", "--config FILE [--log-format text|json] | --static-only [--addr HOST:PORT]",
		"Serve the published tree over HTTP: the files (with SHA-256 ETags, Range requests and\n"+
			"cache headers), an index page at /, GET /api/v1/SYSTEM/codes/CODE,\n"+
			"GET /api/v1/SYSTEM/search?q=WORDS and GET /healthz.\n\n"+
			"With --config, also run as a service: run the configured jobs on their schedules\n"+
			"(catching up runs missed while down) and serve the jobs API (POST /api/v1/jobs/JOB/runs\n"+
			"with a bearer token triggers a job; GET /api/v1/runs shows the ledger). With\n"+
			"--static-only, serve the tree in --out without the scheduler.\n\n"+
			"SIGTERM or SIGINT stops it: running jobs get shutdown_grace to finish, then are\n"+
			"abandoned cleanly; nothing is ever half-published.")
	cfgPath := fs.String("config", "", "configuration `file` (TOML)")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	addr := fs.String("addr", "", "listen `address` (default: the config's listen, or 127.0.0.1:8080); port 0 picks a free port")
	staticOnly := fs.Bool("static-only", false, "serve the published tree only, without the scheduler")
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset serve --help' for usage"
	if fs.NArg() > 0 {
		return usagef(hint, "unexpected arguments: %v", fs.Args())
	}
	log, err := newLogger(m.Stderr, *logFormat, slog.LevelInfo, hint)
	if err != nil {
		return err
	}
	if *staticOnly {
		listen := *addr
		if listen == "" {
			listen = "127.0.0.1:8080"
		}
		return m.serveStatic(ctx, listen, log)
	}
	if *cfgPath == "" {
		return usagef(hint, "--config is required (or --static-only to serve the published tree alone)")
	}
	return m.serveService(ctx, *cfgPath, *addr, log)
}

// serveStatic serves the published tree in m.OutDir until ctx ends.
func (m *Main) serveStatic(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := newServer(server.New(m.OutDir), log)
	fmt.Fprintf(m.Stdout, "serving %s on http://%s/\n", m.OutDir, ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(m.Stdout, "stopped")
	return nil
}

// serveService runs the configured jobs on their schedules and, when the
// config (or addr) names an address, serves the tree and the jobs API.
func (m *Main) serveService(ctx context.Context, cfgPath, addr string, log *slog.Logger) error {
	c, err := openConfig(ctx, "serve", cfgPath, log)
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

	if addr == "" {
		addr = c.cfg.Listen
	}
	var (
		srv *http.Server
		ln  net.Listener
	)
	if addr != "" {
		// Listen before starting the jobs, so a taken port fails at once.
		if ln, err = net.Listen("tcp", addr); err != nil {
			return err
		}
		api := svc.Handler()
		mux := http.NewServeMux()
		mux.Handle("/api/v1/jobs", api)
		mux.Handle("/api/v1/jobs/", api)
		mux.Handle("/api/v1/runs", api)
		mux.Handle("/", server.New(c.cfg.Path(c.cfg.Out)))
		srv = newServer(mux, log)
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
