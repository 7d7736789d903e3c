package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
	"github.com/codeset/codeset/publish/snapshot"
)

// waitSnapshot returns the index of the snapshot at path, waiting for it
// to load.
func waitSnapshot(ctx context.Context, c *dbCache, path string) (*snapshot.Index, error) {
	db, err := c.get(ctx, path, loadSnapshot)
	if err != nil {
		return nil, err
	}
	return db.(*snapshot.Index), nil
}

// TestDBCacheReopens checks that the cache keeps a database loaded between
// requests and loads the new file when one is renamed over it, once
// statEvery has passed since it last looked at the file (the test moves
// the cache's clock on rather than sleeping).
func TestDBCacheReopens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.sqlite")
	write := func(p, long string) {
		t.Helper()
		rel := &codeset.Release{System: codeset.CPT, Label: "2026", Codes: []codeset.Code{{Code: "99213", Category: "I", Long: long}}}
		if err := snapshot.Write(ctx, p, rel); err != nil {
			t.Fatal(err)
		}
	}
	write(path, "first")
	var c dbCache
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	lookup := func() (*snapshot.Index, string) {
		t.Helper()
		r, err := waitSnapshot(ctx, &c, path)
		if err != nil {
			t.Fatal(err)
		}
		code, _, err := r.Record("99213")
		if err != nil {
			t.Fatal(err)
		}
		return r, code.Long
	}
	r1, long := lookup()
	if long != "first" {
		t.Fatalf("long = %q, want first", long)
	}
	if r, _ := lookup(); r != r1 {
		t.Error("the cache opened an unchanged file again")
	}
	tmp := filepath.Join(dir, "sub", "y.sqlite")
	write(tmp, "second")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	// Within statEvery of the last look the cache keeps what it has.
	now = now.Add(statEvery / 2)
	if r, long := lookup(); r != r1 || long != "first" {
		t.Errorf("within statEvery of the last stat: long = %q (same reader %v), want first from the same reader", long, r == r1)
	}
	now = now.Add(statEvery)
	if r, long := lookup(); r == r1 || long != "second" {
		t.Errorf("after the file was replaced: long = %q (same reader %v), want second from a new reader", long, r == r1)
	}
}

// TestDBCacheBounded checks that the cache drops the files least recently
// used once their indexes hold more than its limit, and loads a dropped
// file again when it is asked for.
func TestDBCacheBounded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for _, long := range []string{"a", "b", "c"} {
		p := filepath.Join(dir, long+".sqlite")
		rel := &codeset.Release{System: codeset.CPT, Label: "2026", Codes: []codeset.Code{{Code: "99213", Category: "I", Long: "code " + long}}}
		if err := snapshot.Write(ctx, p, rel); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var c dbCache
	load := func(p string) *snapshot.Index {
		t.Helper()
		x, err := waitSnapshot(ctx, &c, p)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, b := load(paths[0]), load(paths[1])
	c.limit = a.Size() + b.Size()
	if load(paths[0]) != a || load(paths[1]) != b {
		t.Fatal("the cache loaded a file again within its limit")
	}
	load(paths[0]) // b is now the least recently used
	load(paths[2])
	if _, ok := c.m[paths[1]]; ok || len(c.m) != 2 || c.held > c.limit {
		t.Errorf("after a third file: %d files, %d bytes held (limit %d), b kept: %v; want a and c, within the limit", len(c.m), c.held, c.limit, ok)
	}
	if load(paths[0]) != a {
		t.Error("a was loaded again although used more recently than b")
	}
	if load(paths[1]) == b {
		t.Error("b was not loaded again after it was dropped")
	}
}

// TestLookupWhileIndexLoads checks that a lookup asked while the indexes
// of its snapshot and history are still loading is answered from the files
// themselves without waiting, and that the answers are the same bytes as
// those given from the loaded indexes: a code, a header, a code a later
// release deleted, one it added, a code no release had, and a date.
func TestLookupWhileIndexLoads(t *testing.T) {
	ctx := context.Background()
	out, _ := publishtest.PublishAll(t, icdReleases(), fixture.Day(2026, 1, 1))
	h := &handler{dir: out, sums: map[string]cachedSum{}}
	release := make(chan struct{})
	var held atomic.Int32
	h.dbs.gate = func(load func() (any, int64, error)) func() (any, int64, error) {
		return func() (any, int64, error) {
			held.Add(1)
			<-release
			return load()
		}
	}
	paths := []string{
		"/api/v1/icd10cm/codes/E11.65",
		"/api/v1/icd10cm/codes/E11.65?release=FY2025",
		"/api/v1/icd10cm/codes/E11.6",
		"/api/v1/icd10cm/codes/E11.9",
		"/api/v1/icd10cm/codes/E11.9?release=FY2025",
		"/api/v1/icd10cm/codes/E11.69?release=FY2025",
		"/api/v1/icd10cm/codes/Z99.99",
		"/api/v1/icd10cm/codes/K58.9?date=2025-01-01",
	}
	ask := func() []string {
		var got []string
		for _, p := range paths {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
			got = append(got, fmt.Sprintf("%d %s", w.Code, w.Body))
		}
		return got
	}
	before := ask()
	if held.Load() == 0 {
		t.Fatal("no index load was started by the lookups")
	}
	h.dbs.mu.Lock()
	for p, e := range h.dbs.m {
		select {
		case <-e.ready:
			t.Errorf("%s loaded while its load was held back", p)
		default:
		}
	}
	h.dbs.mu.Unlock()
	close(release)
	h.dbs.mu.Lock()
	var loading []*heldDB
	for _, e := range h.dbs.m {
		loading = append(loading, e)
	}
	h.dbs.mu.Unlock()
	for _, e := range loading {
		<-e.ready
		if e.err != nil {
			t.Fatal(e.err)
		}
	}
	after := ask()
	for i, p := range paths {
		if before[i] != after[i] {
			t.Errorf("%s: from the files:\n%s\nfrom the indexes:\n%s", p, before[i], after[i])
		}
	}
	if !strings.HasPrefix(before[0], "200 ") || !strings.HasPrefix(before[6], "404 ") {
		t.Errorf("E11.65 and Z99.99 answered %q and %q, want 200 and 404", before[0][:3], before[6][:3])
	}
	_ = ctx
}
