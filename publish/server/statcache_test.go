package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestLookupSeesNewRelease publishes a release into a tree the handler is
// serving and checks that the code API answers from it once statEvery has
// passed (the handler's clocks are moved on rather than slept through):
// the new index, the new history database and the new snapshot.
func TestLookupSeesNewRelease(t *testing.T) {
	ctx := context.Background()
	rels := icdReleases()
	out, _ := publishtest.PublishAll(t, rels[:1], fixture.Day(2026, 1, 1))
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h := &handler{dir: out, sums: map[string]cachedSum{}}
	h.stats.now, h.dbs.now, h.root.stat.now = clock, clock, clock
	lookup := func() format.CodeResponse {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/icd10cm/codes/E11.9?release=latest", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		var c format.CodeResponse
		if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := lookup(); c.Release != "FY2025" || c.Status != "active" {
		t.Fatalf("before the publish: release %s status %s, want FY2025 active", c.Release, c.Status)
	}
	snap := filepath.Join(t.TempDir(), "FY2026.sqlite")
	if err := snapshot.Write(ctx, snap, rels[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.PublishAt(ctx, out, snap, rels[1], diff.Compare(rels[0], rels[1], nil), fixture.Day(2026, 1, 1)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(statEvery / 2)
	if c := lookup(); c.Release != "FY2025" {
		t.Errorf("within statEvery of the last look: release %s, want FY2025 still", c.Release)
	}
	now = now.Add(statEvery)
	c := lookup()
	if c.Release != "FY2026" || c.Status != "deleted" || c.History == nil || len(c.History.Events) != 2 {
		t.Errorf("after statEvery: release %s status %s history %+v, want E11.9 deleted by FY2026 with two events", c.Release, c.Status, c.History)
	}
}
