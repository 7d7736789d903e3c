package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
	"github.com/codeset/codeset/publish/snapshot"
)

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestPointers checks latest and current as effective dates pass: the tree
// is re-pointed by Reindex with a later clock.
func TestPointers(t *testing.T) {
	ctx := context.Background()
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases(), fixture.Day(2026, 6, 1))
	sysDir := filepath.Join(out, "cpt")

	tests := []struct {
		now              time.Time
		latest, current  string // "" for no pointer
		currentSnapshot  string
		currentEffective string
	}{
		{fixture.Day(2026, 6, 1), "2028", "2026", "2026/cpt-2026.sqlite", "2026-01-01"},
		{fixture.Day(2027, 1, 1), "2028", "2027", "2027/cpt-2027.sqlite", "2027-01-01"},
		{fixture.Day(2025, 12, 31), "2028", "", "", ""},
		{fixture.Day(2030, 1, 1), "2028", "2028", "2028/cpt-2028.sqlite", "2028-01-01"},
	}
	for _, tt := range tests {
		if _, err := publish.Reindex(ctx, out, tt.now); err != nil {
			t.Fatal(err)
		}
		var idx format.SystemIndex
		readJSONFile(t, filepath.Join(sysDir, "index.json"), &idx)
		if idx.Latest == nil || *idx.Latest != tt.latest {
			t.Errorf("at %s: index latest = %v, want %s", tt.now.Format(time.DateOnly), idx.Latest, tt.latest)
		}
		latest, err := format.ReadPointer(out, codeset.CPT, "latest")
		if err != nil || latest.Label != tt.latest {
			t.Errorf("at %s: latest.json = %+v, %v; want %s", tt.now.Format(time.DateOnly), latest, err, tt.latest)
		}
		cur, err := format.ReadPointer(out, codeset.CPT, "current")
		if tt.current == "" {
			if !errors.Is(err, os.ErrNotExist) || idx.Current != nil {
				t.Errorf("at %s: current.json = %+v, %v, index current %v; want none", tt.now.Format(time.DateOnly), cur, err, idx.Current)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if idx.Current == nil || *idx.Current != tt.current || cur.Label != tt.current || cur.Snapshot != tt.currentSnapshot || cur.Effective != tt.currentEffective {
			t.Errorf("at %s: current = %+v (index %v), want %s", tt.now.Format(time.DateOnly), cur, idx.Current, tt.current)
		}
		m, err := format.ReadManifest(filepath.Join(sysDir, tt.current))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m.Files {
			if f.Name == format.SnapshotName(codeset.CPT, tt.current) && (f.SHA256 != cur.SHA256 || f.Bytes != cur.Bytes) {
				t.Errorf("current.json sha256 %s bytes %d, manifest %s %d", cur.SHA256, cur.Bytes, f.SHA256, f.Bytes)
			}
		}
	}

	var root format.RootIndex
	readJSONFile(t, filepath.Join(out, "index.json"), &root)
	if len(root.Systems) != 1 || len(root.Systems[0].Releases) != 3 {
		t.Fatalf("root index = %+v, want cpt with 3 releases", root)
	}
	r := root.Systems[0].Releases[1]
	if r.Label != "2027" || r.Snapshot != "cpt/2027/cpt-2027.sqlite" || r.Changelogs["html"] != "cpt/2027/changelog.html" || r.Previous != "2026" || r.Changes.Added != 1 {
		t.Errorf("root index release 2027 = %+v", r)
	}
	if h := root.Systems[0].History; h == nil || h.Name != "cpt/history.sqlite" {
		t.Errorf("root index history = %+v", h)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Errorf("no index page: %v", err)
	}
	// Everything is readable by a web server running as another user.
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		if want := os.FileMode(0o644); d.IsDir() {
			want = 0o755 | os.ModeDir
			if st.Mode() != want {
				t.Errorf("%s has mode %v, want %v", p, st.Mode(), want)
			}
		} else if st.Mode() != want {
			t.Errorf("%s has mode %v, want %v", p, st.Mode(), want)
		}
		return nil
	})
	// No temporary file is left behind.
	for _, dir := range []string{out, sysDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name()[0] == '.' {
				t.Errorf("%s holds temporary %s", dir, e.Name())
			}
		}
	}
}

func TestSHA256SUMSChecks(t *testing.T) {
	sha, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum not installed")
	}
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases()[:1], fixture.Day(2026, 6, 1))
	cmd := exec.Command(sha, "-c", format.SumsName)
	cmd.Dir = filepath.Join(out, "cpt", "2026")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, b)
	}
	m, err := format.ReadManifest(cmd.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// Every file but the manifest and the sums themselves is checked.
	if got, want := len(bytesLines(b)), len(m.Files)-1; got != want {
		t.Errorf("sha256sum checked %d files, want %d:\n%s", got, want, b)
	}
	os.WriteFile(filepath.Join(cmd.Dir, format.ChangelogCSV), []byte("tampered\n"), 0o644)
	cmd = exec.Command(sha, "-c", format.SumsName)
	cmd.Dir = filepath.Join(out, "cpt", "2026")
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("sha256sum -c passed a tampered file:\n%s", b)
	}
}

func bytesLines(b []byte) []string {
	var lines []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			lines = append(lines, string(b[start:i]))
			start = i + 1
		}
	}
	return lines
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	out, snaps := publishtest.PublishAll(t, fixture.HistoryReleases(), fixture.Day(2026, 6, 1))
	db := filepath.Join(out, "cpt", format.HistoryName)

	h, err := history.Read(ctx, db, "0500F")
	if err != nil {
		t.Fatal(err)
	}
	want := &format.CodeHistory{
		Code: "0500F", FirstRelease: "2026", LastRelease: "2028",
		Record: format.Record{Category: "II", Long: "Initial prenatal care visit, first trimester", Attributes: map[string]string{}},
		Events: []format.HistoryEvent{
			{Release: "2026", Change: codeset.Added, Fields: map[string]codeset.FieldChange{}},
			{Release: "2027", Change: codeset.Deleted, Fields: map[string]codeset.FieldChange{}},
			{Release: "2028", Change: codeset.Reactivated, Fields: map[string]codeset.FieldChange{
				"long": {Before: "Initial prenatal care visit", After: "Initial prenatal care visit, first trimester"}}},
		},
		// No links; valid in the latest release, so its own current code.
		Replaces: []format.HistoryLink{}, ReplacedBy: []format.HistoryLink{}, Current: []string{"0500F"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("history of 0500F:\ngot  %+v\nwant %+v", h, want)
	}
	h, err = history.Read(ctx, db, "00100")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 2 || h.Events[1].Change != codeset.Revised || h.Events[1].Fields["short"] != (codeset.FieldChange{Before: "ANESTH SALIVARY GLAND", After: "ANESTH SALIVARY GLANDS"}) {
		t.Errorf("history of 00100 = %+v", h)
	}
	if _, err := history.Read(ctx, db, "ZZZZZ"); !errors.Is(err, snapshot.ErrNoCode) {
		t.Errorf("history of an unknown code: err = %v, want snapshot.ErrNoCode", err)
	}

	hits, err := history.Search(ctx, db, "prenatal vis", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Code != "0500F" {
		t.Errorf("search prenatal vis = %+v, want 0500F", hits)
	}
	// FTS5 syntax typed by a person is taken as words, not as a query.
	for _, q := range []string{`"`, `AND OR NOT`, `code:1*`, `)(`, `NEAR(a b)`} {
		if _, err := history.Search(ctx, db, q, 10); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}

	// The history rebuilt from the same snapshots has the same bytes.
	again := filepath.Join(t.TempDir(), format.HistoryName)
	if err := history.Build(ctx, again, snaps); err != nil {
		t.Fatal(err)
	}
	_, a, err := durable.HashFile(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, b, err := durable.HashFile(context.Background(), again); err != nil || a != b {
		t.Errorf("history databases built twice differ (%v)", err)
	}
}

// TestPublishRollsBackWhenReindexFails publishes next to a release folder
// with a broken manifest: the indexes cannot be rebuilt, so the new release
// must not stay published.
func TestPublishRollsBackWhenReindexFails(t *testing.T) {
	ctx := context.Background()
	rels := fixture.HistoryReleases()
	out, _ := publishtest.PublishAll(t, rels[:1], fixture.Day(2026, 6, 1))
	before := treeSums(t, out)
	if err := os.WriteFile(filepath.Join(out, "cpt", "2026", format.ManifestName), []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "2027.sqlite")
	if err := snapshot.Write(ctx, snap, rels[1]); err != nil {
		t.Fatal(err)
	}
	_, err := publish.PublishAt(ctx, out, snap, rels[1], diff.Compare(rels[0], rels[1], nil), fixture.Day(2027, 6, 1))
	if err == nil {
		t.Fatal("publish succeeded with a broken neighbour")
	}
	if publish.Published(out, codeset.CPT, "2027") {
		t.Errorf("2027 stayed published after the indexes could not be rebuilt")
	}
	var idx format.SystemIndex
	readJSONFile(t, filepath.Join(out, "cpt", format.IndexName), &idx)
	if len(idx.Releases) != 1 || idx.Releases[0].Label != "2026" {
		t.Errorf("system index lists %+v, want only 2026", idx.Releases)
	}
	after := treeSums(t, out)
	delete(before, filepath.Join("cpt", "2026", format.ManifestName))
	delete(after, filepath.Join("cpt", "2026", format.ManifestName))
	for p, sum := range before {
		if after[p] != sum {
			t.Errorf("%s changed", p)
		}
	}
}
