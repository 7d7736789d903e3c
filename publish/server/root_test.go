package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTreeRootReopens: the tree's folder stays open between requests, and
// a folder put in its place is opened once statEvery has passed; the old
// one is closed when the last request using it is done.
func TestTreeRootReopens(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "out")
	mk := func(d, text string) {
		t.Helper()
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk(dir, "first")
	var tr treeRoot
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	tr.stat.now = func() time.Time { return now }
	read := func() (string, func()) {
		t.Helper()
		r, held, err := tr.open(dir)
		if err != nil {
			t.Fatal(err)
		}
		done := func() { tr.release(held) }
		b, err := r.ReadFile("f")
		if err != nil {
			t.Fatal(err)
		}
		return string(b), done
	}
	got, done1 := read()
	first := tr.cur
	if got != "first" {
		t.Fatalf("read %q, want first", got)
	}
	if got, done := read(); got != "first" || tr.cur != first {
		t.Errorf("read %q (same root %v), want first from the same root", got, tr.cur == first)
	} else {
		done()
	}
	if err := os.Rename(dir, filepath.Join(base, "old")); err != nil {
		t.Fatal(err)
	}
	mk(dir, "second")
	now = now.Add(statEvery)
	got, done2 := read()
	if got != "second" {
		t.Errorf("after the folder was replaced: read %q, want second", got)
	}
	if !first.gone || first.refs != 1 {
		t.Errorf("old root: gone %v, refs %d; want gone, still used once", first.gone, first.refs)
	}
	done1()
	if _, err := first.root.Stat("f"); err == nil {
		t.Error("the old root is still open after its last request")
	}
	done2()
}
