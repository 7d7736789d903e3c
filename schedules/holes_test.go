package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/schedules/release"
)

// TestRunFinishesInterruptedPublish is hole 3 of issue 12: a job killed
// while publishing leaves the snapshot stored but not published (and, with
// the old code, a ledger that took the file for seen). The next trigger
// must publish it, not answer "unchanged".
func TestRunFinishesInterruptedPublish(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	src := &fakeSource{}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}
	// What a kill between storing the snapshot and renaming the release
	// folder into place leaves: the snapshot, no folder.
	f, err := src.Fetch(ctx, t.TempDir(), FetchState{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.runner.Pipeline.Ingest(ctx, release.Request{System: codeset.CPT, Label: "2025", Files: f.Files}); err != nil {
		t.Fatal(err)
	}
	// And a ledger that once said unchanged for this file (as the old
	// Runner.label did).
	ghost := &Run{Job: "cpt", Trigger: TriggerSchedule, Started: e.clock.Now()}
	if err := e.ledger.begin(ctx, ghost); err != nil {
		t.Fatal(err)
	}
	ghost.Outcome, ghost.SHA256, ghost.Label, ghost.Ended = OutcomeUnchanged, f.SHA256, "2025", e.clock.Now()
	if err := e.ledger.finish(ctx, ghost); err != nil {
		t.Fatal(err)
	}
	run := e.run(t, job)
	if run.Outcome != OutcomePublished || run.Label != "2025" {
		t.Fatalf("run after the interrupted one = %s %s (%s), want published 2025", run.Outcome, run.Label, run.Error)
	}
	if got := e.published(t); len(got) != 1 || got[0] != "2025" {
		t.Errorf("published %v", got)
	}
	again := e.run(t, job)
	if again.Outcome != OutcomeUnchanged || again.Label != "2025" {
		t.Errorf("next run = %s %s, want unchanged 2025", again.Outcome, again.Label)
	}
}

// TestServiceStartFinishesKilledRun: a run SIGKILLed with the service
// stays "running" in the ledger; the next start records it as abandoned
// and runs the job, which publishes what the killed run stored.
func TestServiceStartFinishesKilledRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	src := &fakeSource{}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src} // no schedule: only the restart runs it
	f, _ := src.Fetch(ctx, t.TempDir(), FetchState{})
	if _, err := e.runner.Pipeline.Ingest(ctx, release.Request{System: codeset.CPT, Label: "2025", Files: f.Files}); err != nil {
		t.Fatal(err)
	}
	dead := &Run{Job: "cpt", Trigger: TriggerManual, Started: e.clock.Now()}
	if err := e.ledger.begin(ctx, dead); err != nil {
		t.Fatal(err)
	}
	svc := &Service{Runner: e.runner, Jobs: []*Job{job}}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	runs, _ := e.ledger.Runs(ctx, "cpt", 0)
	if len(runs) != 2 || runs[1].Outcome != OutcomeAbandoned || runs[0].Outcome != OutcomePublished || runs[0].Trigger != TriggerCatchUp {
		t.Errorf("ledger after the restart = %+v", runs)
	}
}

// TestReap: a run left "running" by a killed process is marked abandoned
// by Reap (codeset runs, the service's start) without waiting for the next
// run of its job; a run in progress is left alone.
func TestReap(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dead := &Run{Job: "dead", Trigger: TriggerManual, Started: e.clock.Now()}
	live := &Run{Job: "live", Trigger: TriggerManual, Started: e.clock.Now()}
	for _, r := range []*Run{dead, live} {
		if err := e.ledger.begin(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	unlock, err := e.runner.Locks.Acquire(ctx, "live", false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	jobs, err := e.runner.Reap(ctx)
	if err != nil || len(jobs) != 1 || jobs[0] != "dead" {
		t.Fatalf("Reap = %v, %v; want [dead]", jobs, err)
	}
	runs, _ := e.ledger.Runs(ctx, "", 0)
	for _, r := range runs {
		want := map[string]Outcome{"dead": OutcomeAbandoned, "live": OutcomeRunning}[r.Job]
		if r.Outcome != want {
			t.Errorf("run of %s: %s, want %s", r.Job, r.Outcome, want)
		}
	}
}

// TestRunStoppedIsAbandoned: a run stopped by its context (SIGTERM, the
// shutdown grace over) is recorded as abandoned, not failed.
func TestRunStoppedIsAbandoned(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{entered: make(chan struct{}, 1), hold: make(chan struct{})}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-src.entered; cancel() }()
	run, err := e.runner.Run(ctx, &Job{Name: "cpt", System: codeset.CPT, Source: src}, TriggerSchedule, false)
	if err == nil || run == nil || run.Outcome != OutcomeAbandoned {
		t.Fatalf("stopped run = %+v, %v; want abandoned", run, err)
	}
	runs, _ := e.ledger.Runs(context.Background(), "cpt", 0)
	if len(runs) != 1 || runs[0].Outcome != OutcomeAbandoned {
		t.Errorf("ledger = %+v", runs)
	}
}

// TestRunHoldsSystemLock is hole 4 for jobs: a job waits for the system's
// lock (held here as codeset publish or ingest would) before it reads the
// store, and two jobs of one system never interleave.
func TestRunHoldsSystemLock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	unlock, err := e.runner.Pipeline.LockSystem(ctx, codeset.CPT)
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	done := make(chan *Run, 1)
	go func() {
		run, _ := e.runner.Run(ctx, &Job{Name: "other-job", System: codeset.CPT, Source: src}, TriggerManual, false)
		done <- run
	}()
	select {
	case run := <-done:
		t.Fatalf("the job ran while the system was locked: %+v", run)
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	if run := <-done; run == nil || run.Outcome != OutcomePublished {
		t.Errorf("run after unlock = %+v", run)
	}
}

// TestHTTPSourceBounds is hole 8 for job sources: an endless body, a huge
// Content-Length and a stalled server all fail in bounded bytes and time,
// without retrying a file that is too large.
func TestHTTPSourceBounds(t *testing.T) {
	var hits int
	mux := http.NewServeMux()
	mux.HandleFunc("/endless/cpt2026.zip", func(w http.ResponseWriter, r *http.Request) {
		hits++
		buf := make([]byte, 32<<10)
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/huge/cpt2026.zip", func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Content-Length", fmt.Sprint(int64(10)<<30))
		w.WriteHeader(200)
		w.Write(make([]byte, 1<<20))
	})
	mux.HandleFunc("/stall/cpt2026.zip", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("PK"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tt := range []struct {
		path string
		src  HTTPSource
		want error
		hits int
	}{
		{"/endless/cpt2026.zip", HTTPSource{MaxBytes: 1 << 20, Retries: 2, Backoff: time.Millisecond}, ErrTooLarge, 1},
		{"/huge/cpt2026.zip", HTTPSource{MaxBytes: 1 << 20, Retries: 2, Backoff: time.Millisecond}, ErrTooLarge, 1},
		{"/stall/cpt2026.zip", HTTPSource{Timeout: 300 * time.Millisecond, Client: srv.Client()}, context.DeadlineExceeded, 0},
	} {
		hits = 0
		src := tt.src
		src.URL = srv.URL + tt.path
		start := time.Now()
		dir := t.TempDir()
		_, err := src.Fetch(context.Background(), dir, FetchState{})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.path, err, tt.want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %v", tt.path, d)
		}
		if tt.hits > 0 && hits != tt.hits {
			t.Errorf("%s: %d requests, want %d (a file too large is not retried)", tt.path, hits, tt.hits)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("%s: left %d files in the work directory", tt.path, len(entries))
		}
	}
	if (HTTPSource{}).MaxBytes != 0 || DefaultMaxBytes > 4<<30 {
		t.Errorf("default cap %d", DefaultMaxBytes)
	}
}

// TestLoadConfigRefusesNaN is part of hole 9: TOML's nan must not turn a
// job's mass-delete guard off.
func TestLoadConfigRefusesNaN(t *testing.T) {
	head := "data = \"d\"\nout = \"o\"\n[[jobs]]\nname = \"cpt\"\nsystem = \"cpt\"\n"
	inbox := "[jobs.inbox]\ndir = \"in\"\n"
	for _, v := range []string{"nan", "-nan", "inf", "-0.1", "1.5"} {
		for _, key := range []string{"max_delete_share", "min_keep_share"} {
			_, err := LoadConfig(writeConfig(t, head+key+" = "+v+"\n"+inbox))
			if err == nil || !strings.Contains(err.Error(), "between 0 and 1") {
				t.Errorf("%s = %s: err = %v", key, v, err)
			}
		}
	}
	_, err := LoadConfig(writeConfig(t, head+"[jobs.url]\nurl = \"https://x/y.zip\"\nmax_bytes = -1\n"))
	if err == nil {
		t.Errorf("max_bytes = -1: no error")
	}
}

// TestWithdrawAPI is hole 10 through the jobs API: the token is required,
// the withdrawal is recorded in the ledger, and the tree leaves it out.
func TestWithdrawAPI(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{}
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}
	for _, y := range []string{"2024", "2025"} {
		src.set("CPT"+y+".xlsx", demoBytes(t, y))
		if run := e.run(t, job); run.Outcome != OutcomePublished {
			t.Fatalf("run %s: %+v", y, run)
		}
	}
	svc := &Service{Runner: e.runner, Jobs: []*Job{job}, Token: "s3cret"}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(context.Background())
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	post := func(path, token, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/api/v1/releases/cpt/2025/withdraw", "", `{"reason":"x"}`); code != 401 {
		t.Errorf("without token: %d %s", code, body)
	}
	if code, body := post("/api/v1/releases/cpt/2025/withdraw", "s3cret", `{"reason":""}`); code != 400 {
		t.Errorf("without reason: %d %s", code, body)
	}
	if code, body := post("/api/v1/releases/cpt/2023/withdraw", "s3cret", `{"reason":"x"}`); code != 404 {
		t.Errorf("never published: %d %s", code, body)
	}
	code, body := post("/api/v1/releases/cpt/2025/withdraw", "s3cret", `{"reason":"draft file published by mistake"}`)
	if code != 200 {
		t.Fatalf("withdraw: %d %s", code, body)
	}
	var reply struct{ Run Run }
	if err := json.Unmarshal([]byte(body), &reply); err != nil || reply.Run.Outcome != OutcomeWithdrawn || reply.Run.Label != "2025" || reply.Run.Trigger != TriggerAPI {
		t.Errorf("reply = %s", body)
	}
	runs, _ := e.ledger.Runs(context.Background(), WithdrawJob(codeset.CPT), 0)
	if len(runs) != 3 || runs[0].Outcome != OutcomeWithdrawn || runs[0].Error != "draft file published by mistake" {
		t.Errorf("ledger = %+v", runs)
	}
	ptr, err := format.ReadPointer(e.out, codeset.CPT, format.PointerLatest)
	if err != nil || ptr.Label != "2024" {
		t.Errorf("latest = %+v, %v", ptr, err)
	}
	// The job's file is the withdrawn one: unchanged, not published again.
	if run := e.run(t, job); run.Outcome != OutcomeUnchanged {
		t.Errorf("run after withdrawal = %+v", run)
	}
}
