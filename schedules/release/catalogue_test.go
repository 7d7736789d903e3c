package release

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestRunRemembersSnapshots checks that a successful run leaves the data
// directory's catalogue listing every stored snapshot (the next run lists
// the store without opening them) and that a refused run leaves the
// catalogue as it was.
func TestRunRemembersSnapshots(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no inodes: the catalogue is not used")
	}
	ctx := context.Background()
	p, _ := newPipeline(t)
	runDemo(t, p, "2024")
	runDemo(t, p, "2025")
	path := filepath.Join(p.Store.Dir, string(codeset.CPT), snapshot.CatalogueName)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no catalogue after two runs: %v", err)
	}
	// Every stored snapshot is in it: made unreadable (same inode, size
	// and time), they are still listed as they were.
	want, err := p.Store.List(ctx, codeset.CPT)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 {
		t.Fatalf("%d releases stored, want 2", len(want))
	}
	for _, in := range want {
		st, err := os.Stat(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(in.Path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(make([]byte, 100), 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Chtimes(in.Path, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := p.Store.List(ctx, codeset.CPT); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("listed with the snapshots unreadable: %v", err)
	}
	// A refused run (the same label, other files) changes nothing.
	if _, err := p.Run(ctx, Request{System: codeset.CPT, Label: "2025", Files: demoFile("2026")}); err == nil {
		t.Fatal("a second 2025 from other files was not refused")
	}
	if after, err := os.ReadFile(path); err != nil || string(after) != string(before) {
		t.Errorf("a refused run changed the catalogue (%v)", err)
	}
}
