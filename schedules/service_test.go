package schedules

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/schedules/release"
)

func TestMissed(t *testing.T) {
	sched, err := CronParser.Parse("CRON_TZ=America/Chicago 0 0 9 * * *") // 09:00 Chicago = 14:00 UTC in September
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 9, d, h, m, 0, 0, time.UTC) }
	tests := []struct {
		last, now time.Time
		want      bool
	}{
		{at(1, 13, 0), at(1, 15, 0), true},   // 14:00 passed in between
		{at(1, 14, 30), at(2, 13, 0), false}, // next is 2 Sep 14:00, still ahead
		{at(1, 14, 30), at(2, 14, 0), true},  // exactly due
		{at(1, 14, 30), at(5, 0, 0), true},   // several missed: still one catch-up
		{time.Time{}, at(5, 0, 0), false},    // nothing known
	}
	for _, tt := range tests {
		if got := Missed(sched, tt.last, tt.now); got != tt.want {
			t.Errorf("Missed(last %v, now %v) = %v, want %v", tt.last, tt.now, got, tt.want)
		}
	}
}

// TestServiceCatchUp starts the service with a clock two days past the last
// run of a daily job: one catch-up run, and none for a job with catch-up off
// or for a job the service never knew before.
func TestServiceCatchUp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	src := &fakeSource{}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	daily := "CRON_TZ=America/Chicago 0 0 9 * * *"
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src, Schedule: daily, CatchUp: true}
	off := &Job{Name: "cpt-off", System: codeset.CPT, Source: src, Schedule: daily}
	fresh := &Job{Name: "cpt-new", System: codeset.CPT, Source: src, Schedule: daily, CatchUp: true}
	e.run(t, job)
	e.run(t, off)

	e.clock.t = e.clock.t.Add(48 * time.Hour)
	svc := &Service{Runner: e.runner, Jobs: []*Job{job, off, fresh}}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(name string) (n int) {
		runs, err := e.ledger.Runs(ctx, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Trigger == TriggerCatchUp {
				n++
				if r.Outcome != OutcomeUnchanged {
					t.Errorf("catch-up run of %s: %s", name, r.Outcome)
				}
			}
		}
		return n
	}
	if a, b, c := count("cpt"), count("cpt-off"), count("cpt-new"); a != 1 || b != 0 || c != 0 {
		t.Errorf("catch-up runs: cpt %d, cpt-off %d, cpt-new %d; want 1, 0, 0", a, b, c)
	}
	// Down for two more days: the job first seen at the last start now
	// has a missed run too, though it never ran.
	e.clock.t = e.clock.t.Add(48 * time.Hour)
	svc = &Service{Runner: e.runner, Jobs: []*Job{fresh}}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	svc.Stop(ctx)
	if n := count("cpt-new"); n != 1 {
		t.Errorf("cpt-new catch-up runs after its first start: %d, want 1", n)
	}
}

func TestHTTPAPI(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}
	svc := &Service{Runner: e.runner, Jobs: []*Job{job}, Token: "s3cret"}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(context.Background())
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()

	do := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
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
	tests := []struct {
		method, path, token, body string
		status                    int
		want                      string
	}{
		{"POST", "/api/v1/jobs/cpt/runs", "", "", 401, "bearer token"},
		{"POST", "/api/v1/jobs/cpt/runs", "wrong", "", 401, "bearer token"},
		{"POST", "/api/v1/jobs/cpt/runs", "s3cret" + "x", "", 401, "bearer token"},
		{"GET", "/api/v1/runs", "", "", 200, `"runs": []`}, // nothing ran
		{"POST", "/api/v1/jobs/cpt/runs", "s3cret", strings.Repeat("x", maxTriggerBody+1), 413, "too large"},
		{"POST", "/api/v1/jobs/nope/runs", "s3cret", "", 404, `no job \"nope\"`},
		{"POST", "/api/v1/jobs/cpt/runs", "s3cret", "", 200, `"outcome": "published"`},
		{"POST", "/api/v1/jobs/cpt/runs", "s3cret", "", 200, `"outcome": "unchanged"`},
		{"DELETE", "/api/v1/jobs/cpt/runs", "s3cret", "", 405, "not allowed"},
		{"POST", "/api/v1/runs", "s3cret", "", 405, "not allowed"},
		{"GET", "/api/v1/jobs/cpt/runs?limit=1", "", "", 200, `"outcome": "unchanged"`},
		{"GET", "/api/v1/runs?limit=x", "", "", 400, "bad limit"},
		{"GET", "/api/v1/jobs", "", "", 200, `"name": "cpt"`},
		{"GET", "/api/v1/other", "", "", 404, "no such API endpoint"},
	}
	for _, tt := range tests {
		status, body := do(tt.method, tt.path, tt.token, tt.body)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s %s: %d %s\nwant %d with %q", tt.method, tt.path, status, body, tt.status, tt.want)
		}
	}
	if n := src.calls.Load(); n != 2 {
		t.Errorf("the source was fetched %d times, want 2: refused requests must not run", n)
	}

	// A trigger while the job runs is refused with 409.
	src.entered, src.hold = make(chan struct{}, 2), make(chan struct{})
	first := make(chan int)
	go func() { // not do: it may fail the test, which only the test's goroutine may
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/jobs/cpt/runs", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := srv.Client().Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-src.entered
	if status, body := do("POST", "/api/v1/jobs/cpt/runs", "s3cret", ""); status != http.StatusConflict || !strings.Contains(body, "already running") {
		t.Errorf("trigger during a run: %d %s, want 409 already running", status, body)
	}
	close(src.hold)
	if status := <-first; status != http.StatusOK {
		t.Errorf("the run in progress answered %d", status)
	}

	// Without a configured token every trigger is refused.
	svc.Token = ""
	if status, _ := do("POST", "/api/v1/jobs/cpt/runs", "", ""); status != 401 {
		t.Errorf("no token configured: %d, want 401", status)
	}
	if status, _ := do("POST", "/api/v1/jobs/cpt/runs", " ", ""); status != 401 {
		t.Errorf("no token configured, blank token sent: %d, want 401", status)
	}
}

// TestServiceMovesCurrent starts the service after a release's effective
// date has passed: the "current" pointer moves to it without a new run.
func TestServiceMovesCurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	src := &fakeSource{}
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}
	e.clock.t = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	e.runner.Pipeline.Now = e.clock.Now
	for _, y := range []string{"2025", "2026"} {
		src.set("CPT"+y+".xlsx", demoBytes(t, y))
		e.run(t, job)
	}
	cur, err := format.ReadPointer(e.out, codeset.CPT, "current")
	if err != nil || cur.Label != "2025" {
		t.Fatalf("current before 2026 = %+v, %v; want 2025", cur, err)
	}
	e.clock.t = time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC)
	svc := &Service{Runner: e.runner, Jobs: []*Job{job}}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if cur, err := format.ReadPointer(e.out, codeset.CPT, "current"); err != nil || cur.Label != "2026" {
		t.Errorf("current after 2026-01-01 = %+v, %v; want 2026", cur, err)
	}
}

// TestHTTPTriggerRefusal checks that a release a publish guard stops is
// answered 422 with the run and the refusal, never 500, and that a failure
// hint set by the front end reaches the answer and the ledger.
func TestHTTPTriggerRefusal(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{}
	src.set("CPT2024.xlsx", demoBytes(t, "2024"))
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src, Guards: release.Guards{MaxDeleteShare: 0.01}}
	e.runner.Hint = func(j *Job, err error) error { return fmt.Errorf("%w; hint for %s", err, j.Name) }
	svc := &Service{Runner: e.runner, Jobs: []*Job{job}, Token: "s3cret"}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(context.Background())
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	trigger := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/jobs/cpt/runs", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := trigger(); status != http.StatusOK {
		t.Fatalf("first release: %d %s", status, body)
	}
	src.set("CPT2025.xlsx", demoBytes(t, "2025")) // deletes 2 of 47 codes, over 1%
	status, body := trigger()
	for _, want := range []string{`"outcome": "refused"`, `refused to publish`, `hint for cpt`} {
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Errorf("refused release: %d %s\nwant 422 with %q", status, body, want)
		}
	}
	runs, err := e.ledger.Runs(context.Background(), "cpt", 1)
	if err != nil || len(runs) != 1 || !strings.Contains(runs[0].Error, "hint for cpt") {
		t.Errorf("ledger = %+v, %v; want the refusal with its hint", runs, err)
	}
}
