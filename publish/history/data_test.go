package history

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestWriteData checks the text form of a history: its releases, the
// changes after the oldest release (a tab in a descriptor made a space),
// the replacement links, in a fixed order.
func TestWriteData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	day := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	rels := []*codeset.Release{
		{System: codeset.CPT, Label: "2024", Effective: day(2024), Codes: []codeset.Code{{Code: "A04", Long: "old"}, {Code: "K01", Long: "keep"}}},
		{System: codeset.CPT, Label: "2025", Effective: day(2025), Codes: []codeset.Code{{Code: "B05", Long: "new"}, {Code: "K01", Long: "keep\tthis"}},
			Replacements: []codeset.Replacement{{Old: "A04", New: "B05", Source: "x2025.csv", How: codeset.StatedDirect}}},
	}
	var paths []string
	for _, r := range rels {
		p := filepath.Join(dir, r.Label+".sqlite")
		if err := snapshot.Write(ctx, p, r); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	db := filepath.Join(dir, "history.sqlite")
	if err := Build(ctx, db, paths); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteData(ctx, db, &b); err != nil {
		t.Fatal(err)
	}
	want := "# codeset history data; R label effective | E code release change field before after | L old new release source how\n" +
		"R\t2024\t2024-01-01\n" +
		"R\t2025\t2025-01-01\n" +
		"E\tA04\t2025\tdeleted\t\t\t\n" +
		"E\tB05\t2025\tadded\t\t\t\n" +
		"E\tK01\t2025\trevised\tlong\tkeep\tkeep this\n" +
		"L\tA04\tB05\t2025\tx2025.csv\tdirect\n"
	if b.String() != want {
		t.Errorf("history data:\n%s\nwant\n%s", b.String(), want)
	}
	if err := WriteData(ctx, filepath.Join(dir, "none.sqlite"), &b); err == nil {
		t.Errorf("WriteData of a missing file: no error")
	}
}
