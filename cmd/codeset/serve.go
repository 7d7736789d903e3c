package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/codeset/codeset/publish"
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
// the body of any request a handler reads (none of the tree's routes
// does; the cap keeps it so for any added later).
const (
	maxHeaderBytes = 64 << 10
	maxBodyBytes   = 1 << 20
)

// newServer returns the HTTP server for h with the limits above.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           http.MaxBytesHandler(h, maxBodyBytes),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

func (m *Main) serveCommand(ctx context.Context, args []string) error {
	fs := m.flags("serve", "--static-only [--addr HOST:PORT]",
		"Serve the published tree over HTTP: the files (with SHA-256 ETags, Range requests and\n"+
			"cache headers), an index page at /, GET /api/v1/SYSTEM/codes/CODE,\n"+
			"GET /api/v1/SYSTEM/search?q=WORDS and GET /healthz. Stops cleanly on SIGINT or SIGTERM.")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`; port 0 picks a free port")
	staticOnly := fs.Bool("static-only", false, "serve the published tree only, without the scheduler")
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset serve --help' for usage"
	if !*staticOnly {
		return usagef(hint, "serve needs --static-only in this build: the scheduler is not part of it")
	}
	if fs.NArg() > 0 {
		return usagef(hint, "unexpected arguments: %v", fs.Args())
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := newServer(publish.NewHandler(m.OutDir))
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
