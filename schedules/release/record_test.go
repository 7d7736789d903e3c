package release

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/codeset/codeset"
)

// TestPublishedFromRecord decides "published" from the tree each release's
// record names, not from the tree a later command names: with an --out
// that names an empty folder, a published release still counts as
// published, and a crosswalk added to it goes into a new revision,
// leaving its snapshot as it was.
func TestPublishedFromRecord(t *testing.T) {
	ctx := context.Background()
	p, dir := newPipeline(t)
	runDemo(t, p, "2024")
	runDemo(t, p, "2025")
	wrong := *p
	wrong.OutDir = filepath.Join(dir, "mistyped")
	if err := os.Mkdir(wrong.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			a, err := filepath.Abs(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	wantTree := abs([]string{p.OutDir})
	for _, q := range []*Pipeline{p, &wrong} {
		done, unfinished, err := q.PublishedTrees(codeset.CPT, "2025")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(abs(done), wantTree) || len(unfinished) != 0 {
			t.Errorf("out %s: 2025 published to %v (unfinished %v), want %v", q.OutDir, done, unfinished, wantTree)
		}
	}

	before, err := os.ReadFile(p.Store.Path(codeset.CPT, "2025"))
	if err != nil {
		t.Fatal(err)
	}
	crosswalk := filepath.Join("..", "..", "testdata", "demo", "cpt-2025-crosswalk.csv")
	res, err := wrong.AddCrosswalk(ctx, codeset.CPT, "2025", nil, crosswalk)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Revision || res.Release.Label != "2025-r2" {
		t.Errorf("crosswalk added to 2025 through another --out: revision %v, label %s; want a new revision 2025-r2", res.Revision, res.Release.Label)
	}
	if after, _ := os.ReadFile(p.Store.Path(codeset.CPT, "2025")); !bytes.Equal(before, after) {
		t.Errorf("the published 2025 snapshot changed")
	}

	// A release only stored is published nowhere: its snapshot takes the
	// links in place.
	if _, err := p.Ingest(ctx, Request{System: codeset.CPT, Label: "2026", Files: demoFile("2026")}); err != nil {
		t.Fatal(err)
	}
	if res, err := wrong.AddCrosswalk(ctx, codeset.CPT, "2026", nil, crosswalk); err != nil || res.Revision {
		t.Errorf("crosswalk added to the stored 2026: %+v, %v; want the snapshot replaced", res, err)
	}

	// A publication begun and never finished counts: its tree may hold
	// part of the release.
	if err := p.markTree(codeset.CPT, "2026", false); err != nil {
		t.Fatal(err)
	}
	done, unfinished, err := wrong.PublishedTrees(codeset.CPT, "2026")
	if err != nil || len(done) != 0 || !slices.Equal(abs(unfinished), wantTree) {
		t.Errorf("2026 being published: done %v, unfinished %v, %v; want unfinished %v", done, unfinished, err, wantTree)
	}
	crosswalk26 := filepath.Join("..", "..", "testdata", "demo", "cpt-2026-crosswalk.csv")
	if res, err := wrong.AddCrosswalk(ctx, codeset.CPT, "2026", nil, crosswalk26); err != nil || !res.Revision {
		t.Errorf("crosswalk added to 2026 while being published: %+v, %v; want a new revision", res, err)
	}

	// A data directory from before the records: the folder in the
	// pipeline's tree tells.
	if err := os.Remove(p.recordPath(codeset.CPT, "2024")); err != nil {
		t.Fatal(err)
	}
	if done, _, err := p.PublishedTrees(codeset.CPT, "2024"); err != nil || !slices.Equal(abs(done), wantTree) {
		t.Errorf("2024 without a record: published to %v, %v; want %v", done, err, wantTree)
	}
	if done, _, err := wrong.PublishedTrees(codeset.CPT, "2024"); err != nil || len(done) != 0 {
		t.Errorf("2024 without a record, other tree: published to %v, %v; want none", done, err)
	}
}
