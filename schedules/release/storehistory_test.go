package release

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestStoreHistoryLastSeen checks the data directory's history, which
// answers reactivation when no published tree can: with no tree at all,
// every diff of neighbours of a synthetic series (with codes deleted and
// brought back) finds what comparing the releases in memory with every
// earlier release finds; the history is extended by a release at a time
// and ends byte-identical to one built from scratch over the same
// snapshots; a history holding a release the store no longer holds is
// rebuilt, and the answers stay right.
func TestStoreHistoryLastSeen(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(29, 600, 6)
	dir := t.TempDir()
	p := &Pipeline{Store: snapshot.Store{Dir: filepath.Join(dir, "data")}}
	if err := os.MkdirAll(filepath.Join(p.Store.Dir, string(codeset.ICD10CM)), 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range rels {
		path := p.Store.Path(r.System, r.Label)
		if err := snapshot.Write(ctx, path, r); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	hist := filepath.Join(p.Store.Dir, string(codeset.ICD10CM), StoreHistoryName)
	check := func(k int) {
		t.Helper()
		got, err := p.Diff(ctx, codeset.ICD10CM, rels[k-1].Label, rels[k].Label)
		if err != nil {
			t.Fatal(err)
		}
		want := diff.Compare(rels[k-1], rels[k], diff.Earlier(rels[:k-1]...))
		if got.Summary != want.Summary {
			t.Errorf("%s → %s: summary %+v, comparing in memory gives %+v", rels[k-1].Label, rels[k].Label, got.Summary, want.Summary)
		}
		for _, c := range want.Changes {
			if c.Kind != codeset.Reactivated {
				continue
			}
			i := slices.IndexFunc(got.Changes, func(g codeset.Change) bool { return g.Code == c.Code })
			if i < 0 || got.Changes[i].Kind != codeset.Reactivated || fmt.Sprint(got.Changes[i].Fields) != fmt.Sprint(c.Fields) {
				t.Errorf("%s → %s: %s not reactivated with the fields %v against its last record, as in memory", rels[k-1].Label, rels[k].Label, c.Code, c.Fields)
			}
		}
	}
	reactivated := 0
	for k := 1; k < len(rels); k++ {
		check(k)
		if k == 1 {
			// Nothing was seen before the first release: no history.
			if _, err := os.Stat(hist); err == nil {
				t.Errorf("a diff from the first release wrote a history")
			}
			continue
		}
		recs, err := history.OpenRecords(ctx, hist)
		if err != nil {
			t.Fatalf("after %s: %v", rels[k].Label, err)
		}
		if n := len(recs.Releases); n != k {
			t.Errorf("after the diff to %s the history holds %d releases, want %d (those up to the older)", rels[k].Label, n, k)
		}
		recs.Close()
		reactivated += diff.Compare(rels[k-1], rels[k], diff.Earlier(rels[:k-1]...)).Summary.Reactivated
	}
	if reactivated == 0 {
		t.Fatal("the series has no reactivation: the test checks nothing")
	}
	scratch := filepath.Join(dir, "scratch.sqlite")
	if err := history.Build(ctx, scratch, paths[:len(paths)-1]); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(hist)
	b, _ := os.ReadFile(scratch)
	if !bytes.Equal(a, b) {
		t.Errorf("the history extended a release at a time (%d bytes) differs from one built from scratch (%d bytes)", len(a), len(b))
	}
	// An older pair: the history holds more than it needs.
	check(2)
	// The store loses a release the history holds (withdrawn) and
	// another takes a label after it: the history is rebuilt.
	if err := os.Remove(paths[2]); err != nil {
		t.Fatal(err)
	}
	rels = slices.Delete(rels, 2, 3)
	check(2) // the history's first releases are still the store's
	check(3) // it holds the withdrawn one among those up to the older
	recs, err := history.OpenRecords(ctx, hist)
	if err != nil {
		t.Fatal(err)
	}
	defer recs.Close()
	var labels []string
	for _, r := range recs.Releases {
		labels = append(labels, r.Label)
	}
	if want := []string{rels[0].Label, rels[1].Label, rels[2].Label}; !slices.Equal(labels, want) {
		t.Errorf("after the withdrawal the history holds %v, want %v", labels, want)
	}
}
