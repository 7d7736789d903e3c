package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
)

// A chain across three releases: A04 is replaced by B05 in 2025, B05 by
// C06 and C07 in 2026. The history records the links of each transition
// and follows them to the codes valid in the latest release; a link to a
// code in neither release is reported, not kept.
func TestHistoryReplacementChain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	day := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	codes := func(cs ...string) []codeset.Code {
		var out []codeset.Code
		for _, c := range cs {
			out = append(out, codeset.Code{Code: c, Long: "code " + c})
		}
		return out
	}
	rels := []*codeset.Release{
		{System: codeset.CPT, Label: "2024", Effective: day(2024), Codes: codes("A04", "K01")},
		{System: codeset.CPT, Label: "2025", Effective: day(2025), Codes: codes("B05", "K01"),
			Replacements: []codeset.Replacement{{Old: "A04", New: "B05", Source: "x2025.csv", How: codeset.StatedDirect}}},
		{System: codeset.CPT, Label: "2026", Effective: day(2026), Codes: codes("C06", "C07", "K01"),
			Replacements: []codeset.Replacement{
				{Old: "B05", New: "C06", Source: "x2026.csv", How: codeset.StatedList},
				{Old: "B05", New: "C07", Source: "x2026.csv", How: codeset.StatedList},
				{Old: "B05", New: "Z99", Source: "x2026.csv", How: codeset.StatedList},
			}},
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
	tests := []struct {
		code                 string
		replaces, replacedBy []format.HistoryLink
		current              []string
	}{
		{"A04", []format.HistoryLink{}, []format.HistoryLink{{Code: "B05", Release: "2025", Source: "x2025.csv", How: codeset.StatedDirect}}, []string{"C06", "C07"}},
		{"B05", []format.HistoryLink{{Code: "A04", Release: "2025", Source: "x2025.csv", How: codeset.StatedDirect}},
			[]format.HistoryLink{{Code: "C06", Release: "2026", Source: "x2026.csv", How: codeset.StatedList}, {Code: "C07", Release: "2026", Source: "x2026.csv", How: codeset.StatedList}},
			[]string{"C06", "C07"}},
		{"K01", []format.HistoryLink{}, []format.HistoryLink{}, []string{"K01"}},
	}
	for _, tt := range tests {
		h, err := Read(ctx, db, tt.code)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(h.Replaces, tt.replaces) || !reflect.DeepEqual(h.ReplacedBy, tt.replacedBy) || !reflect.DeepEqual(h.Current, tt.current) {
			t.Errorf("%s: replaces %v, replaced by %v, current %v; want %v, %v, %v", tt.code, h.Replaces, h.ReplacedBy, h.Current, tt.replaces, tt.replacedBy, tt.current)
		}
	}
	// Z99 is in neither 2025 nor 2026: a problem, not a link.
	hdb, err := openHistory(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer hdb.Close()
	var code, problem, other string
	if err := hdb.QueryRowContext(ctx, `SELECT code, problem, other FROM replacement_problems`).Scan(&code, &problem, &other); err != nil {
		t.Fatal(err)
	}
	if code != "B05" || problem != string(codeset.UnknownCode) || other != "Z99" {
		t.Errorf("replacement problem %s %s %s, want B05 unknown-code Z99", code, problem, other)
	}
	var n int
	if err := hdb.QueryRowContext(ctx, `SELECT count(*) FROM replacements WHERE new = 'Z99'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the link to Z99 is kept as a link (%d rows, %v)", n, err)
	}
}

// section is b as WriteDataAfter reads a previous file.
func section(b []byte) *io.SectionReader {
	return io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b)))
}

func writeSeries(t testing.TB, rels []*codeset.Release) []Snapshot {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	var snaps []Snapshot
	for _, r := range rels {
		p := filepath.Join(dir, r.Label+".sqlite")
		if err := snapshot.Write(ctx, p, r); err != nil {
			t.Fatal(err)
		}
		_, sum, err := durable.HashFile(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, Snapshot{Path: p, SHA256: sum})
	}
	return snaps
}

// TestIncrementalEqualsRebuild extends a history one release at a time,
// as publishing does, and checks that every step gives the same bytes as
// a history built from scratch over the same releases, and that the
// events are those of diff.Compare over the whole releases.
func TestIncrementalEqualsRebuild(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(11, 2000, 8)
	rels[4].Codes[3].Attrs = map[string]string{"billable": "1"}
	// Replacement links in every other transition (the others are
	// compared by their hashes alone): kept in the graph, a list, one
	// naming an unknown code and one naming a code deleted in the same
	// release (both reported in replacement_problems).
	linked := 0
	for k := 1; k < len(rels); k += 2 {
		linked++
		in := func(r *codeset.Release) map[string]bool {
			m := map[string]bool{}
			for _, c := range r.Codes {
				m[c.Code] = true
			}
			return m
		}
		was, is := in(rels[k-1]), in(rels[k])
		var gone, added []string
		for _, c := range rels[k-1].Codes {
			if !is[c.Code] {
				gone = append(gone, c.Code)
			}
		}
		for _, c := range rels[k].Codes {
			if !was[c.Code] {
				added = append(added, c.Code)
			}
		}
		if len(gone) < 5 || len(added) < 3 {
			t.Fatalf("%s: too few changes for links", rels[k].Label)
		}
		src := fmt.Sprintf("conversion%d.csv", k)
		eff := rels[k].Effective
		rels[k].Replacements = []codeset.Replacement{
			{Old: gone[0], New: added[0], Source: src, Effective: eff, How: codeset.StatedDirect},
			{Old: gone[1], New: added[1], Source: src, How: codeset.StatedList},
			{Old: gone[1], New: added[2], Source: src, How: codeset.StatedList},
			{Old: gone[2], New: "Z99ZZZZ", Source: src, How: codeset.StatedDirect},
			{Old: gone[3], New: gone[4], Source: src, How: codeset.StatedDirect},
		}
	}
	snaps := writeSeries(t, rels)
	dir := t.TempDir()
	prev := ""
	var prevData, olderData []byte
	for k := 1; k <= len(snaps); k++ {
		inc := filepath.Join(dir, fmt.Sprintf("inc%d.sqlite", k))
		ext, err := Extend(ctx, inc, prev, snaps[:k])
		if err != nil {
			t.Fatal(err)
		}
		if ext.Kept != k-1 || (k > 1) != (ext.Changed != nil) || (k > 1 && len(ext.Changed) == 0) {
			t.Errorf("release %d: extended %+v, want %d kept and the codes changed", k, ext, k-1)
		}
		var paths []string
		for _, s := range snaps[:k] {
			paths = append(paths, s.Path)
		}
		scratch := filepath.Join(dir, fmt.Sprintf("scratch%d.sqlite", k))
		if err := Build(ctx, scratch, paths); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(inc)
		b, _ := os.ReadFile(scratch)
		if len(a) == 0 || string(a) != string(b) {
			t.Fatalf("release %d: the extended history (%d bytes) differs from the one built from scratch (%d bytes)", k, len(a), len(b))
		}
		if !Covers(ctx, inc, snaps[:k]) || (k > 1 && Covers(ctx, prev, snaps[:k])) {
			t.Errorf("release %d: Covers is wrong", k)
		}
		// The history data written after the previous release's, and
		// after data that is not the previous release's (stale or
		// damaged), is the data written whole.
		var whole bytes.Buffer
		if err := WriteData(ctx, inc, &whole); err != nil {
			t.Fatal(err)
		}
		for name, p := range map[string]struct {
			data []byte
			kept int
		}{
			"after the previous":    {prevData, k - 1},
			"after an older":        {olderData, k - 1},
			"after itself":          {whole.Bytes(), k},
			"after a cut one":       {prevData[:len(prevData)/2], k - 1},
			"after nothing":         {nil, k - 1},
			"after the previous, 0": {prevData, 0},
			"after a foreign line":  {bytes.Replace(prevData, []byte("\nE\t"), []byte("\nX\tforeign\nE\t"), 1), k - 1},
			"after events in links": {append(bytes.Clone(prevData), "L\tA00\tB00\tlate\tx.csv\tdirect\nE\tA00\tlate\tadded\t\t\t\n"...), k - 1},
		} {
			// The later events found by reading them all, looked up by
			// the codes the release changed, and by those and more.
			for _, changed := range [][]string{nil, ext.Changed, append(slices.Clone(ext.Changed), "A00", "Z99ZZZZ")} {
				var after bytes.Buffer
				if err := WriteDataAfter(ctx, inc, After{Prev: section(p.data), Kept: p.kept, Changed: changed}, &after); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(after.Bytes(), whole.Bytes()) {
					t.Errorf("release %d: history data %s, %d codes changed (%d bytes) differs from the data written whole (%d bytes)", k, name, len(changed), after.Len(), whole.Len())
				}
			}
		}
		if k > 1 && !bytes.Contains(whole.Bytes(), []byte("\nL\t")) && k > 2 {
			t.Errorf("release %d: the history data has no links: the test checks none", k)
		}
		if k > 2 {
			// The previous data's lines are taken as they are, not read
			// again: a mark in one of them shows in the new data.
			mark := func(b []byte) []byte { return bytes.Replace(b, []byte("\nE\t"), []byte("\nE\tmark "), 1) }
			var after bytes.Buffer
			if err := WriteDataAfter(ctx, inc, After{Prev: section(mark(prevData)), Kept: k - 1, Changed: ext.Changed}, &after); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after.Bytes(), mark(whole.Bytes())) {
				t.Errorf("release %d: the history data written after the previous does not keep the previous lines as they are", k)
			}
		}
		olderData, prevData = prevData, whole.Bytes()
		prev = inc
	}

	// Every change of every release is an event, as diff.Compare sees it.
	reactivated := 0
	for k, r := range rels {
		var old *codeset.Release
		if k > 0 {
			old = rels[k-1]
		}
		var earlier map[string]codeset.Code
		if k > 1 {
			earlier = diff.Earlier(rels[:k-1]...)
		}
		l := diff.Compare(old, r, earlier)
		reactivated += l.Summary.Reactivated
		for _, c := range l.Changes[:min(len(l.Changes), 30)] {
			h, err := Read(ctx, prev, c.Code)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range h.Events {
				if e.Release == r.Label && e.Change == c.Kind && (len(c.Fields) == 0 || reflect.DeepEqual(e.Fields, c.Fields)) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s: no %s event in %+v", r.Label, c.Code, c.Kind, h.Events)
			}
		}
	}
	if reactivated == 0 {
		t.Error("no reactivation in the series: the test checks none")
	}

	// The link tables grew release by release, as the rebuilt ones.
	db, err := openHistory(ctx, prev)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"replacements", "replacement_problems"} {
		var seqs int
		if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT seq) FROM `+table).Scan(&seqs); err != nil {
			t.Fatal(err)
		}
		if seqs != linked {
			t.Errorf("%s covers %d transitions, want %d", table, seqs, linked)
		}
	}
	db.Close()
	h, err := Read(ctx, prev, rels[1].Replacements[1].Old)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.ReplacedBy) != 2 {
		t.Errorf("%s replaced by %+v, want 2 links", h.Code, h.ReplacedBy)
	}

	// The record last seen before each release, from the history alone,
	// is the one diff.Earlier finds by reading every release before it.
	recs, err := OpenRecords(ctx, prev)
	if err != nil {
		t.Fatal(err)
	}
	defer recs.Close()
	for k := 2; k < len(rels); k++ {
		want := diff.Earlier(rels[:k-1]...)
		var ask []string
		in := map[string]bool{}
		for _, c := range rels[k-1].Codes {
			in[c.Code] = true
		}
		for _, r := range rels {
			for _, c := range r.Codes {
				if !in[c.Code] {
					ask = append(ask, c.Code)
					in[c.Code] = true
				}
			}
		}
		got, err := recs.LastSeenBefore(k)(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, code := range ask {
			w, ok := want[code]
			if ok {
				n++
				w.Meta = nil
			}
			if g, gok := got[code]; gok != ok || (ok && !reflect.DeepEqual(g, w)) {
				t.Errorf("before %s, last seen %s = %+v (%v), want %+v (%v)", rels[k-1].Label, code, g, gok, w, ok)
			}
		}
		if n == 0 {
			t.Errorf("before %s: no code to find", rels[k-1].Label)
		}
	}
}

// TestExtendInTwoHalves checks that an Extend split in two (Copy before
// the release is ready, ExtendFile after) writes the bytes Extend writes
// and tells the same, release after release; and that ExtendFile of a
// missing file, or of a history of other releases, builds the history
// from nothing, as Build does.
func TestExtendInTwoHalves(t *testing.T) {
	ctx := context.Background()
	snaps := writeSeries(t, synth.Series(23, 500, 5))
	other := writeSeries(t, synth.Series(24, 300, 2))
	dir := t.TempDir()
	prev := ""
	for k := 1; k <= len(snaps); k++ {
		whole := filepath.Join(dir, fmt.Sprintf("whole%d.sqlite", k))
		want, err := Extend(ctx, whole, prev, snaps[:k])
		if err != nil {
			t.Fatal(err)
		}
		halves := filepath.Join(dir, fmt.Sprintf("halves%d.sqlite", k))
		if prev != "" {
			if err := Copy(ctx, halves, prev); err != nil {
				t.Fatal(err)
			}
		}
		// The new release's hash given late, as a release being
		// published gives it while its snapshot is hashed.
		late := slices.Clone(snaps[:k])
		sum := late[k-1].SHA256
		late[k-1].SHA256, late[k-1].Sum = "", func() (string, error) { return sum, nil }
		got, err := ExtendFile(ctx, halves, late)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(whole)
		b, _ := os.ReadFile(halves)
		if len(a) == 0 || !bytes.Equal(a, b) || !reflect.DeepEqual(got, want) {
			t.Fatalf("release %d: in two halves %d bytes, %d kept, %d changed; whole %d bytes, %d kept, %d changed", k, len(b), got.Kept, len(got.Changed), len(a), want.Kept, len(want.Changed))
		}
		prev = whole
	}
	// A hash that cannot be had fails the build, which leaves nothing.
	failing := filepath.Join(dir, "failing.sqlite")
	if err := Copy(ctx, failing, prev); err != nil {
		t.Fatal(err)
	}
	more := append(slices.Clone(snaps), Snapshot{Path: snaps[0].Path, Sum: func() (string, error) { return "", errors.New("disk gone") }})
	if _, err := ExtendFile(ctx, failing, more); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("ExtendFile with a failing hash: %v, want its error", err)
	}
	if _, err := os.Stat(failing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed build left %s (%v)", failing, err)
	}
	// A copy of a history of other releases: built from nothing.
	foreign := filepath.Join(dir, "foreign.sqlite")
	if err := Update(ctx, foreign, "", other); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, s := range snaps {
		paths = append(paths, s.Path)
	}
	scratch := filepath.Join(dir, "scratch.sqlite")
	if err := Build(ctx, scratch, paths); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(scratch)
	copied := filepath.Join(dir, "copied.sqlite")
	if err := Copy(ctx, copied, foreign); err != nil {
		t.Fatal(err)
	}
	if err := Copy(ctx, filepath.Join(dir, "none.sqlite"), filepath.Join(dir, "missing.sqlite")); err != nil {
		t.Errorf("copy of a missing history: %v", err)
	}
	for _, path := range []string{copied, filepath.Join(dir, "none.sqlite")} {
		ext, err := ExtendFile(ctx, path, snaps)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if ext.Kept != 0 || !bytes.Equal(got, want) {
			t.Errorf("%s: extended with %d kept, %d bytes; built from scratch %d bytes", filepath.Base(path), ext.Kept, len(got), len(want))
		}
	}
}
