package schedules

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/schedules/release"
)

func TestInboxNewestWins(t *testing.T) {
	in := t.TempDir()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, name := range []string{"CPT2024.xlsx", "CPT2026.xlsx", "CPT2025.xlsx", ".CPT2027.xlsx", "notes.txt"} {
		p := filepath.Join(in, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, base, base.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// CPT2025.xlsx is the newest match: the hidden file is a partial write,
	// notes.txt does not match.
	f, err := InboxSource{Dir: in, Glob: "*.xlsx"}.Fetch(context.Background(), t.TempDir(), FetchState{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "CPT2025.xlsx" || f.Origin != filepath.Join(in, "CPT2025.xlsx") || len(f.Files) != 1 {
		t.Errorf("fetched %+v", f)
	}
	if b, _ := os.ReadFile(f.Files[0]); string(b) != "CPT2025.xlsx" {
		t.Errorf("copy holds %q", b)
	}
	if _, err := (InboxSource{Dir: in, Glob: "*.zip"}).Fetch(context.Background(), t.TempDir(), FetchState{}); !errors.Is(err, ErrNoFile) {
		t.Errorf("no match: err = %v, want ErrNoFile", err)
	}
}

// releaseServer serves one file with validators, failing the first
// failures requests with 503.
type releaseServer struct {
	body     []byte
	etag     string
	failures atomic.Int32
	requests atomic.Int32
	notMod   atomic.Int32
}

func (s *releaseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.failures.Add(-1) >= 0 {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != "/files/CPT2026.xlsx" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Last-Modified", "Tue, 01 Sep 2026 12:00:00 GMT")
	if r.Header.Get("If-None-Match") == s.etag {
		s.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(s.body)
}

func TestHTTPSource(t *testing.T) {
	rs := &releaseServer{body: []byte("release"), etag: `"v1"`}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	ctx := context.Background()
	src := HTTPSource{URL: srv.URL + "/files/CPT2026.xlsx", Retries: 2, Backoff: time.Millisecond}

	rs.failures.Store(2) // two 503s, then success: retried
	f, err := src.Fetch(ctx, t.TempDir(), FetchState{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "CPT2026.xlsx" || f.State.ETag != `"v1"` || f.State.LastModified == "" || f.NotModified || rs.requests.Load() != 3 {
		t.Errorf("fetched %+v after %d requests", f, rs.requests.Load())
	}
	if b, _ := os.ReadFile(f.Files[0]); string(b) != "release" {
		t.Errorf("downloaded %q", b)
	}
	g, err := src.Fetch(ctx, t.TempDir(), f.State)
	if err != nil || !g.NotModified || rs.notMod.Load() != 1 {
		t.Errorf("conditional GET: %+v, %v", g, err)
	}

	rs.failures.Store(3) // more failures than retries
	if _, err := src.Fetch(ctx, t.TempDir(), FetchState{}); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("retries exhausted: err = %v", err)
	}
	rs.requests.Store(0)
	missing := HTTPSource{URL: srv.URL + "/files/none.xlsx", Retries: 3, Backoff: time.Millisecond}
	if _, err := missing.Fetch(ctx, t.TempDir(), FetchState{}); err == nil || !strings.Contains(err.Error(), "404") || rs.requests.Load() != 1 {
		t.Errorf("404: err = %v after %d requests, want no retry", err, rs.requests.Load())
	}
	if _, err := (HTTPSource{URL: "ftp://example.invalid/x"}).Fetch(ctx, t.TempDir(), FetchState{}); err == nil {
		t.Error("ftp URL accepted")
	}
}

// TestRunHTTPSource runs a job on a URL: the validators live in the ledger,
// so the second run is a 304 and "unchanged".
func TestRunHTTPSource(t *testing.T) {
	e := newEnv(t)
	rs := &releaseServer{body: demoBytes(t, "2026"), etag: `"a"`}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	job := &Job{Name: "cpt", System: codeset.CPT, Source: HTTPSource{URL: srv.URL + "/files/CPT2026.xlsx", Backoff: time.Millisecond}}
	if run := e.run(t, job); run.Outcome != OutcomePublished || run.Label != "2026" {
		t.Fatalf("first run: %+v", run)
	}
	if run := e.run(t, job); run.Outcome != OutcomeUnchanged || run.Label != "2026" || run.SHA256 == "" || rs.notMod.Load() != 1 {
		t.Errorf("second run: %s %s %q, %d not-modified answers", run.Outcome, run.Label, run.SHA256, rs.notMod.Load())
	}
	// A new file under a new ETag is a revision; this one deletes too many
	// codes, so the guard refuses it and the ledger says so, until the job
	// is allowed through.
	rs.body, rs.etag = demoBytes(t, "2025"), `"b"`
	run, err := e.runner.Run(context.Background(), job, TriggerManual, false)
	if !errors.Is(err, release.ErrRefused) || run.Outcome != OutcomeRefused || !strings.Contains(run.Error, "refused to publish") || !strings.Contains(run.Error, "would delete") {
		t.Errorf("mass-deleting file: %v, %+v; want refused", err, run)
	}
	runs, err := e.ledger.Runs(context.Background(), "cpt", 1)
	if err != nil || len(runs) != 1 || runs[0].Outcome != OutcomeRefused {
		t.Errorf("ledger's last run = %+v, %v; want refused", runs, err)
	}
	if got := e.published(t); strings.Join(got, " ") != "2026" {
		t.Errorf("published %v after a refusal, want 2026 only", got)
	}
	job.Guards.AllowMassDelete = true
	if run := e.run(t, job); run.Outcome != OutcomePublished || run.Label != "2026-r2" {
		t.Errorf("new file allowed through: %s %s", run.Outcome, run.Label)
	}
}
