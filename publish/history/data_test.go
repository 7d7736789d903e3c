package history

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/synth"
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

// TestSplitDataLongLine checks that the previous data's lines are split
// right when one is longer than the reader's buffer, and refused when the
// last is cut short.
func TestSplitDataLongLine(t *testing.T) {
	rels := "R\t2024\t\nR\t2025\t\n"
	long := "E\tA00\t2025\trevised\tlong\t" + strings.Repeat("x", 200_000) + "\ty\n"
	events := "E\tA01\t2025\tadded\t\t\t\n" + long + "E\tA02\t2025\tdeleted\t\t\t\n"
	links := "L\tA02\tA01\t2025\tx.csv\tdirect\n"
	prev := dataHeader + rels + events + links
	ev, ln, ok := splitData(section([]byte(prev)), []byte(rels+"R\t2026\t\n"), 2)
	if !ok {
		t.Fatal("history data with a long line refused")
	}
	got := func(r *io.SectionReader) string { b, _ := io.ReadAll(r); return string(b) }
	if e, l := got(ev), got(ln); e != events || l != links {
		t.Errorf("split into %d bytes of events and %q, want %d and %q", len(e), l, len(events), links)
	}
	if _, _, ok := splitData(section([]byte(prev[:len(prev)-1])), []byte(rels), 2); ok {
		t.Errorf("history data cut short is taken")
	}
	if _, _, ok := splitData(section([]byte(dataHeader+rels+links+long)), []byte(rels), 2); ok {
		t.Errorf("history data with an event after the links is taken")
	}
}

// BenchmarkWriteDataAfter times the text form of a history of 16
// releases of 20,000 codes written after that of its first 15, as a
// publish does: the previous lines copied, the last release's read from
// the database, by reading every event (ScanEvents) or by the codes the
// release changed (ByCode). B/op stays far below the size of the data
// (bytes/op).
func BenchmarkWriteDataAfter(b *testing.B) {
	ctx := context.Background()
	snaps := writeSeries(b, synth.Series(13, 20_000, 16))
	dir := b.TempDir()
	before, path := filepath.Join(dir, "h15.sqlite"), filepath.Join(dir, "h16.sqlite")
	if err := Update(ctx, before, "", snaps[:15]); err != nil {
		b.Fatal(err)
	}
	ext, err := Extend(ctx, path, before, snaps)
	if err != nil {
		b.Fatal(err)
	}
	var prev bytes.Buffer
	if err := WriteData(ctx, before, &prev); err != nil {
		b.Fatal(err)
	}
	prevPath := filepath.Join(dir, "prev.tsv")
	if err := os.WriteFile(prevPath, prev.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(prevPath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var n countWriter
	for _, bc := range []struct {
		name    string
		changed []string
	}{{"ScanEvents", nil}, {"ByCode", ext.Changed}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				n = 0
				if err := WriteDataAfter(ctx, path, After{Prev: io.NewSectionReader(f, 0, int64(prev.Len())), Kept: 15, Changed: bc.changed}, &n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "bytes/op")
		})
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
