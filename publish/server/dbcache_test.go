package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestDBCacheReopens checks that the cache keeps a database open between
// requests and opens the new file when one is renamed over it, once
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
	c.stats.now = func() time.Time { return now }
	lookup := func() (*snapshot.Reader, string) {
		t.Helper()
		r, done, err := c.snapshot(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		code, err := r.Code(ctx, "99213")
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
