package history

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/codeset/codeset"
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
