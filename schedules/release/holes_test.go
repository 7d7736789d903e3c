package release

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

func demoFile(year string) []string {
	return []string{filepath.Join("..", "..", "testdata", "demo", "cpt-"+year+".xlsx")}
}

func newPipeline(t *testing.T) (*Pipeline, string) {
	dir := t.TempDir()
	return &Pipeline{Store: snapshot.Store{Dir: filepath.Join(dir, "data")}, OutDir: filepath.Join(dir, "public")}, dir
}

func runDemo(t *testing.T, p *Pipeline, year string) *Result {
	t.Helper()
	res, err := p.Run(context.Background(), Request{System: codeset.CPT, Label: year, Files: demoFile(year), Guards: Guards{AllowMassDelete: true, AllowShrink: true}})
	if err != nil {
		t.Fatalf("run %s: %v", year, err)
	}
	return res
}

// TestFailedRunKeepsPublishedSnapshot is hole 2 of issue 12: re-running a
// published release with --out pointing at a wrong place (a file, an
// empty folder, a missing one) must fail without removing its snapshot, so
// that the next release is still compared with it.
func TestFailedRunKeepsPublishedSnapshot(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		out  func(dir string) string
	}{
		{"a file", func(dir string) string {
			f := filepath.Join(dir, "a-file")
			os.WriteFile(f, []byte("x"), 0o644)
			return f
		}},
		{"an empty folder", func(dir string) string {
			d := filepath.Join(dir, "mistyped")
			os.Mkdir(d, 0o755)
			return d
		}},
		{"a missing folder", func(dir string) string { return filepath.Join(dir, "unmounted", "public") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, dir := newPipeline(t)
			runDemo(t, p, "2024")
			runDemo(t, p, "2025")
			snap := p.Store.Path(codeset.CPT, "2025")
			wrong := *p
			wrong.OutDir = tt.out(dir)
			_, err := wrong.Run(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2025")})
			if err == nil {
				t.Fatalf("run 2025 again into %s: no error", wrong.OutDir)
			}
			if !errors.Is(err, ErrElsewhere) {
				t.Errorf("err = %v, want it to say the release is published to another tree", err)
			}
			if _, serr := os.Stat(snap); serr != nil {
				t.Fatalf("the failed run removed the published snapshot: %v (run error: %v)", serr, err)
			}
			res := runDemo(t, p, "2026")
			if res.Changelog.From != "2025" || res.Manifest.Previous != "2025" {
				t.Errorf("2026 compared with %q, want 2025", res.Changelog.From)
			}
		})
	}
}

// TestRunFinishesStoredSnapshot: a snapshot stored but not published (an
// interrupted run, or codeset ingest) is published by the next run from the
// same files, and kept when that publication fails.
func TestRunFinishesStoredSnapshot(t *testing.T) {
	ctx := context.Background()
	p, dir := newPipeline(t)
	runDemo(t, p, "2024")
	if _, err := p.Ingest(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2025")}); err != nil {
		t.Fatal(err)
	}
	snap := p.Store.Path(codeset.CPT, "2025")
	// A tree that cannot be written: the run fails, the snapshot stays.
	bad := *p
	bad.OutDir = filepath.Join(dir, "file")
	os.WriteFile(bad.OutDir, nil, 0o644)
	if _, err := bad.Run(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2025"), Guards: Guards{AllowMassDelete: true}}); err == nil {
		t.Fatal("publishing into a file: no error")
	}
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("the failed run removed the snapshot codeset ingest stored: %v", err)
	}
	res := runDemo(t, p, "2025")
	if res.Published == "" || res.Changelog.From != "2024" {
		t.Errorf("published %q compared with %q", res.Published, res.Changelog.From)
	}
	rec, err := p.Record(codeset.CPT, "2025")
	if err != nil || len(rec.Trees) != 1 || !rec.Trees[0].Done {
		t.Errorf("record = %+v, %v; want the tree recorded as done", rec, err)
	}
}

// TestLockSystemExcludes is hole 4: every command of a system waits for
// the one holding its lock, from reading the store to writing the tree.
func TestLockSystemExcludes(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	runDemo(t, p, "2024")
	unlock, err := p.LockSystem(ctx, codeset.CPT)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		name string
		do   func(ctx context.Context) error
	}
	for _, s := range []step{
		{"run", func(ctx context.Context) error {
			_, err := p.Run(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2025"), Guards: Guards{AllowMassDelete: true}})
			return err
		}},
		{"ingest", func(ctx context.Context) error {
			_, err := p.Ingest(ctx, Request{System: codeset.CPT, Label: "2026", Files: demoFile("2026")})
			return err
		}},
		{"publish", func(ctx context.Context) error {
			_, err := p.Publish(ctx, codeset.CPT, "2024", Guards{})
			return err
		}},
		{"withdraw", func(ctx context.Context) error { return p.Withdraw(ctx, codeset.CPT, "2024", "test") }},
	} {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := s.do(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s while another holds the lock of cpt: err = %v, want it to wait", s.name, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2025"), Guards: Guards{AllowMassDelete: true}})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("run finished while the lock was held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("run after the lock was released: %v", err)
	}
	// Another system is not held up.
	unlockCPT, _ := p.LockSystem(ctx, codeset.CPT)
	defer unlockCPT()
	ctx2, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	unlockHCPCS, err := p.LockSystem(ctx2, codeset.HCPCS)
	if err != nil {
		t.Fatalf("lock hcpcs while cpt is held: %v", err)
	}
	unlockHCPCS()
}

// TestGuardsRefuseNaN is part of hole 9: a NaN (or negative, or above 1)
// threshold must be refused, not turn its guard off.
func TestGuardsRefuseNaN(t *testing.T) {
	old, new := release("2025", 100, ""), release("2026", 10, "")
	l := diff.Compare(old, new, nil)
	for _, g := range []Guards{
		// Each with the other guards let through, so only the bad
		// threshold's own guard stands.
		{MaxDeleteShare: math.NaN(), AllowShrink: true}, {MaxDeleteShare: -0.5, AllowShrink: true},
		{MaxDeleteShare: 1.5, AllowShrink: true}, {MaxDeleteShare: math.Inf(1), AllowShrink: true},
		{MinKeepShare: math.NaN(), AllowMassDelete: true},
	} {
		err := g.check(old, new, l)
		if err == nil {
			t.Errorf("%+v: 90 of 100 codes deleted passed the guards", g)
		} else if !errors.Is(err, codeset.ErrInvalid) {
			t.Errorf("%+v: err = %v, want the thresholds refused as invalid", g, err)
		}
	}
}

// TestWithdraw is hole 10 at the pipeline: the withdrawn release keeps its
// folder and snapshot but leaves the indexes, pointers and history; the
// next release is compared with the one before it; the label is never
// used again.
func TestWithdraw(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	runDemo(t, p, "2024")
	runDemo(t, p, "2025")
	folder := format.ReleaseDir(p.OutDir, codeset.CPT, "2025")
	before := dirFiles(t, folder)
	if err := p.Withdraw(ctx, codeset.CPT, "2025", "  "); !errors.Is(err, codeset.ErrInvalid) {
		t.Errorf("withdraw without a reason: err = %v", err)
	}
	if err := p.Withdraw(ctx, codeset.CPT, "2025", "wrong file: the 2026 draft"); err != nil {
		t.Fatal(err)
	}
	// Again: finishes (here: repeats) the withdrawal.
	if err := p.Withdraw(ctx, codeset.CPT, "2025", "again"); err != nil {
		t.Fatal(err)
	}
	if after := dirFiles(t, folder); !equalMaps(before, after) {
		t.Errorf("the withdrawn release's folder changed")
	}
	var idx format.SystemIndex
	if err := format.ReadJSONFile(os.ReadFile, filepath.Join(p.OutDir, "cpt", format.IndexName), "index", &idx); err != nil {
		t.Fatal(err)
	}
	for _, r := range idx.Releases {
		if r.Label == "2025" {
			t.Errorf("index lists the withdrawn release")
		}
	}
	if len(idx.Withdrawn) != 1 || idx.Withdrawn[0].Label != "2025" || idx.Withdrawn[0].Reason != "wrong file: the 2026 draft" {
		t.Errorf("index withdrawn = %+v", idx.Withdrawn)
	}
	ptr, err := format.ReadPointer(p.OutDir, codeset.CPT, format.PointerLatest)
	if err != nil || ptr.Label != "2024" {
		t.Errorf("latest = %+v, %v; want 2024", ptr, err)
	}
	h, err := history.Read(ctx, filepath.Join(p.OutDir, "cpt", format.HistoryName), "00100")
	if err != nil {
		t.Fatal(err)
	}
	if h.LastRelease == "2025" {
		t.Errorf("history still counts the withdrawn release: %+v", h)
	}
	page, _ := os.ReadFile(filepath.Join(p.OutDir, format.IndexPageName))
	if !strings.Contains(string(page), "<del>2025</del>") || !strings.Contains(string(page), "wrong file: the 2026 draft") {
		t.Errorf("index page does not strike 2025 through with its reason")
	}
	// The label is taken for good; the next release skips it.
	if _, err := p.Run(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2025")}); !errors.Is(err, ErrWithdrawn) {
		t.Errorf("run 2025 again: err = %v, want ErrWithdrawn", err)
	}
	if _, err := p.Ingest(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2026")}); err == nil {
		t.Errorf("ingest under the withdrawn label: no error")
	}
	res := runDemo(t, p, "2026")
	if res.Changelog.From != "2024" {
		t.Errorf("2026 compared with %q, want 2024 (2025 is withdrawn)", res.Changelog.From)
	}
	if err := p.Withdraw(ctx, codeset.CPT, "2023", "never published"); err == nil {
		t.Errorf("withdrawing a release never published: no error")
	}
}

func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
