package schedules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
	"github.com/codeset/codeset/schedules/release"
)

var demo = filepath.Join("..", "testdata", "demo")

func demoBytes(t *testing.T, year string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(demo, "cpt-"+year+".xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeSource hands out whatever file it is set to, and can hold a run
// inside Fetch until released.
type fakeSource struct {
	mu      sync.Mutex
	name    string
	content []byte
	calls   atomic.Int32
	entered chan struct{} // if set, receives once per Fetch
	hold    chan struct{} // if set, Fetch waits for it to close
}

func (s *fakeSource) set(name string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.name, s.content = name, content
}

func (s *fakeSource) String() string { return "fake" }

func (s *fakeSource) Fetch(ctx context.Context, dir string, prev FetchState) (*Fetched, error) {
	s.calls.Add(1)
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.hold != nil {
		select {
		case <-s.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.name == "" {
		return nil, ErrNoFile
	}
	path := filepath.Join(dir, s.name)
	if err := os.WriteFile(path, s.content, 0o644); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(s.content)
	return &Fetched{Files: []string{path}, Name: s.name, Origin: "fake:" + s.name, SHA256: hex.EncodeToString(sum[:])}, nil
}

// fakeClock advances one minute per reading, so runs get distinct times.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

type env struct {
	runner *Runner
	ledger *Ledger
	clock  *fakeClock
	out    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	l, err := OpenLedger(context.Background(), filepath.Join(dir, "data", "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	clock := &fakeClock{t: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)}
	out := filepath.Join(dir, "public")
	return &env{
		runner: &Runner{
			Pipeline: &release.Pipeline{Store: snapshot.Store{Dir: filepath.Join(dir, "data")}, OutDir: out},
			Ledger:   l,
			Locks:    Locks{Dir: filepath.Join(dir, "data", "locks")},
			Now:      clock.Now,
			WorkDir:  t.TempDir(),
		},
		ledger: l,
		clock:  clock,
		out:    out,
	}
}

func (e *env) run(t *testing.T, job *Job) *Run {
	t.Helper()
	run, err := e.runner.Run(context.Background(), job, TriggerManual, false)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return run
}

func (e *env) published(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.out, "cpt"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var labels []string
	for _, en := range entries {
		// Release folders only, not the indexes and pointers beside them.
		if en.IsDir() && !strings.HasPrefix(en.Name(), ".") {
			labels = append(labels, en.Name())
		}
	}
	return labels
}

func TestRunPublishesThenUnchanged(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}

	run := e.run(t, job)
	if run.Outcome != OutcomePublished || run.Label != "2025" || run.Codes != 53 || run.Changes.Added != 53 || run.Result == nil {
		t.Fatalf("first run = %+v", run)
	}
	if want := time.Date(2026, 9, 1, 8, 1, 0, 0, time.UTC); !run.Started.Equal(want) || !run.Ended.Equal(want.Add(time.Minute)) {
		t.Errorf("run times %v..%v, want the fake clock's %v..", run.Started, run.Ended, want)
	}
	again := e.run(t, job)
	if again.Outcome != OutcomeUnchanged || again.Label != "2025" || again.SHA256 != run.SHA256 {
		t.Errorf("second run = %+v, want unchanged 2025", again)
	}
	if got := e.published(t); len(got) != 1 {
		t.Errorf("published %v, want only 2025", got)
	}
	runs, err := e.ledger.Runs(context.Background(), "cpt", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Outcome != OutcomeUnchanged || runs[1].Outcome != OutcomePublished ||
		runs[1].Source != "fake:CPT2025.xlsx" || runs[1].Trigger != TriggerManual || runs[1].Codes != 53 {
		t.Errorf("ledger = %+v", runs)
	}
}

func TestRunRevisions(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{}
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}
	steps := []struct {
		content, want string
		outcome       Outcome
		from          string
	}{
		{"2024", "2026", OutcomePublished, ""},
		{"2025", "2026-r2", OutcomePublished, "2026"}, // corrected file: a revision, diffed against 2026
		{"2026", "2026-r3", OutcomePublished, "2026-r2"},
		{"2025", "2026-r2", OutcomeUnchanged, ""}, // an earlier file again
	}
	for _, s := range steps {
		src.set("CPT2026.xlsx", demoBytes(t, s.content))
		run := e.run(t, job)
		if run.Outcome != s.outcome || run.Label != s.want {
			t.Fatalf("file %s: got %s %s, want %s %s", s.content, run.Outcome, run.Label, s.outcome, s.want)
		}
		if s.outcome != OutcomePublished {
			continue
		}
		m, err := format.ReadManifest(format.ReleaseDir(e.out, codeset.CPT, s.want))
		if err != nil {
			t.Fatal(err)
		}
		if m.Previous != s.from || m.Effective != "2026-01-01" {
			t.Errorf("%s: previous %q effective %q, want %q 2026-01-01", s.want, m.Previous, m.Effective, s.from)
		}
	}
	// Without the ledger's memory, the stored snapshots still show the file
	// was ingested.
	e2 := newEnv(t)
	e2.runner.Pipeline = e.runner.Pipeline
	src.set("CPT2026.xlsx", demoBytes(t, "2024"))
	if run := e2.run(t, job); run.Outcome != OutcomeUnchanged || run.Label != "2026" {
		t.Errorf("fresh ledger, first file again: %s %s, want unchanged 2026", run.Outcome, run.Label)
	}
	if got := e.published(t); strings.Join(got, " ") != "2026 2026-r2 2026-r3" {
		t.Errorf("published %v", got)
	}
}

func TestRunFailures(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{}
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}

	run := e.run(t, job)
	if run.Outcome != OutcomeNoFile {
		t.Errorf("empty source: outcome %s, want no-file", run.Outcome)
	}

	src.set("release-notes.xlsx", demoBytes(t, "2025"))
	run, err := e.runner.Run(context.Background(), job, TriggerManual, false)
	if err == nil || !strings.Contains(err.Error(), `no release label for "release-notes.xlsx"`) || run.Outcome != OutcomeFailed {
		t.Errorf("underivable label: run %+v, err %v", run, err)
	}
	src.set("CPT2025.xlsx", []byte("not a workbook"))
	if run, err = e.runner.Run(context.Background(), job, TriggerManual, false); err == nil || run.Outcome != OutcomeFailed || run.Label != "2025" {
		t.Errorf("bad file: run %+v, err %v", run, err)
	}
	if got := e.published(t); len(got) != 0 {
		t.Errorf("failed runs published %v", got)
	}
	runs, _ := e.ledger.Runs(context.Background(), "cpt", 0)
	if len(runs) != 3 || runs[0].Error == "" || runs[1].Error == "" {
		t.Errorf("ledger = %+v", runs)
	}
	// The bad file was not ingested, so fixing it is not "unchanged".
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	if run := e.run(t, job); run.Outcome != OutcomePublished {
		t.Errorf("after a failure: %s, want published", run.Outcome)
	}
}

func TestRunOneAtATime(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{entered: make(chan struct{}, 20), hold: make(chan struct{})}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}

	const n = 20
	results := make(chan error, n)
	runs := make(chan *Run, n)
	for range n {
		go func() {
			run, err := e.runner.Run(context.Background(), job, TriggerManual, false)
			runs <- run
			results <- err
		}()
	}
	<-src.entered // one run is inside, holding the lock
	busy := 0
	for range n - 1 {
		if err := <-results; errors.Is(err, ErrBusy) && strings.Contains(err.Error(), "already running") {
			busy++
		} else {
			t.Errorf("err = %v, want already running", err)
		}
		<-runs
	}
	close(src.hold)
	if err := <-results; err != nil {
		t.Fatal(err)
	}
	if run := <-runs; run.Outcome != OutcomePublished {
		t.Errorf("the one run: %s", run.Outcome)
	}
	if busy != n-1 || src.calls.Load() != 1 {
		t.Errorf("%d busy, %d fetches; want %d and 1", busy, src.calls.Load(), n-1)
	}
	// A waiting trigger runs after the one in progress.
	src.hold = make(chan struct{})
	done := make(chan error, 2)
	for _, wait := range []bool{false, true} {
		go func() {
			_, err := e.runner.Run(context.Background(), job, TriggerManual, wait)
			done <- err
		}()
		if !wait {
			<-src.entered // the first holds the lock before the second asks
		}
	}
	close(src.hold)
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if got := src.calls.Load(); got != 3 {
		t.Errorf("%d fetches, want 3 (the waiting trigger ran)", got)
	}
}

func TestRunMarksDeadRunsAbandoned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A run that a killed process left marked as running.
	dead := &Run{Job: "cpt", Trigger: TriggerSchedule, Started: e.clock.Now()}
	if err := e.ledger.begin(ctx, dead); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	src.set("CPT2025.xlsx", demoBytes(t, "2025"))
	e.run(t, &Job{Name: "cpt", System: codeset.CPT, Source: src})
	runs, _ := e.ledger.Runs(ctx, "cpt", 0)
	if len(runs) != 2 || runs[1].ID != dead.ID || runs[1].Outcome != OutcomeAbandoned || runs[0].Outcome != OutcomePublished {
		t.Errorf("ledger = %+v", runs)
	}
	b, _ := json.Marshal(runs[1])
	if !strings.Contains(string(b), `"outcome":"abandoned"`) {
		t.Errorf("json = %s", b)
	}
}

// TestRunManyRevisions publishes eleven files for one label: each revision
// is compared with the one before it, r10 with r9 and not with r2.
func TestRunManyRevisions(t *testing.T) {
	e := newEnv(t)
	src := &fakeSource{}
	job := &Job{Name: "cpt", System: codeset.CPT, Source: src}
	prev := ""
	for i := 1; i <= 11; i++ {
		src.set("CPT2026.csv", []byte(fmt.Sprintf("Code,Description\n10021,Drain version %d\n", i)))
		run := e.run(t, job)
		want := "2026"
		if i > 1 {
			want = fmt.Sprintf("2026-r%d", i)
		}
		if run.Outcome != OutcomePublished || run.Label != want {
			t.Fatalf("file %d: %s %s, want published %s", i, run.Outcome, run.Label, want)
		}
		m, err := format.ReadManifest(format.ReleaseDir(e.out, codeset.CPT, want))
		if err != nil {
			t.Fatal(err)
		}
		if m.Previous != prev || (i > 1 && m.Changes.Revised != 1) {
			t.Errorf("%s: compared with %q (%+v), want %q with one revision", want, m.Previous, m.Changes, prev)
		}
		prev = want
	}
}
