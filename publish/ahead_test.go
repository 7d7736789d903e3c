package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestHistoryBuiltAhead publishes a synthetic series release by release
// and checks that the tree's history, built ahead while each release's
// files were rendered and taken by the re-index, is byte for byte the
// history built from scratch over the tree's snapshots, and its text form
// (written ahead beside it) the text of that history; that a release
// published before the latest one (an older effective date) is not built
// ahead and still gives that history; and that no temporary folder is
// left.
func TestHistoryBuiltAhead(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(41, 400, 5)
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	publishOne := func(k int, prev *codeset.Release, earlier []*codeset.Release) {
		t.Helper()
		snap := filepath.Join(dir, "data", rels[k].Label+".sqlite")
		if err := os.MkdirAll(filepath.Dir(snap), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := snapshot.Write(ctx, snap, rels[k]); err != nil {
			t.Fatal(err)
		}
		if _, err := PublishAt(ctx, out, snap, rels[k], diff.Compare(prev, rels[k], diff.Earlier(earlier...)), now); err != nil {
			t.Fatal(err)
		}
	}
	check := func(labels ...string) {
		t.Helper()
		var paths []string
		for _, l := range labels {
			paths = append(paths, filepath.Join(out, "icd10cm", l, format.SnapshotName(codeset.ICD10CM, l)))
		}
		scratch := filepath.Join(t.TempDir(), "h.sqlite")
		if err := history.Build(ctx, scratch, paths); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(filepath.Join(out, "icd10cm", format.HistoryName))
		b, _ := os.ReadFile(scratch)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("after %v: the published history (%d bytes) differs from one built from scratch (%d bytes)", labels, len(a), len(b))
		}
		// The text form, written after the previous one, is the text of
		// the history built from scratch, and the index lists its hash.
		var whole bytes.Buffer
		if err := history.WriteData(ctx, scratch, &whole); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(out, "icd10cm", format.HistoryDataName))
		if !bytes.Equal(data, whole.Bytes()) {
			t.Errorf("after %v: the published history data (%d bytes) differs from the data of the history built from scratch (%d bytes)", labels, len(data), whole.Len())
		}
		var idx format.SystemIndex
		if b, err := os.ReadFile(filepath.Join(out, "icd10cm", format.IndexName)); err != nil || json.Unmarshal(b, &idx) != nil {
			t.Fatalf("after %v: index: %v", labels, err)
		}
		if n, sum, _ := durable.HashReader(ctx, bytes.NewReader(data)); idx.HistoryData == nil || idx.HistoryData.Bytes != n || idx.HistoryData.SHA256 != sum {
			t.Errorf("after %v: the index lists the history data as %+v, the file has %d bytes, SHA-256 %s", labels, idx.HistoryData, n, sum)
		}
		if n, sum, _ := durable.HashReader(ctx, bytes.NewReader(a)); idx.History == nil || idx.History.Bytes != n || idx.History.SHA256 != sum {
			t.Errorf("after %v: the index lists the history as %+v, the file has %d bytes, SHA-256 %s", labels, idx.History, n, sum)
		}
		left, _ := filepath.Glob(filepath.Join(out, "icd10cm", ".*"))
		if len(left) > 0 {
			t.Errorf("after %v: temporary names left: %v", labels, left)
		}
	}
	// The series in order, skipping the second release.
	taken, dataTaken := aheadTaken.Load(), aheadDataTaken.Load()
	var labels []string
	var prev *codeset.Release
	var earlier []*codeset.Release
	for _, k := range []int{0, 2, 3, 4} {
		publishOne(k, prev, earlier)
		labels = append(labels, rels[k].Label)
		check(labels...)
		if prev != nil {
			earlier = append(earlier, prev)
		}
		prev = rels[k]
	}
	if n := aheadTaken.Load() - taken; n != 4 {
		t.Errorf("%d of the 4 releases published in order took the history built ahead, want all", n)
	}
	if n := aheadDataTaken.Load() - dataTaken; n != 4 {
		t.Errorf("%d of the 4 releases published in order took the history data written ahead, want all", n)
	}
	// The second release, published last: before the latest.
	taken = aheadTaken.Load()
	publishOne(1, rels[0], nil)
	check(rels[0].Label, rels[1].Label, rels[2].Label, rels[3].Label, rels[4].Label)
	if n := aheadTaken.Load() - taken; n != 0 {
		t.Errorf("a release published before the latest took a history built ahead")
	}
	// A re-index of the unchanged tree leaves the history data as it is:
	// the same file, not a copy of it.
	path := filepath.Join(out, "icd10cm", format.HistoryDataName)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Reindex(ctx, out, now); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("a re-index of an unchanged tree replaced %s (%v)", path, err)
	}
	check(rels[0].Label, rels[1].Label, rels[2].Label, rels[3].Label, rels[4].Label)
}
