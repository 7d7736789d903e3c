package publish_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/snapshot"
)

// publishFixture writes the sample release's snapshot and returns its path,
// the release and a matching changelog.
func publishFixture(t *testing.T) (string, *codeset.Release, *codeset.Changelog) {
	t.Helper()
	rel := fixture.SampleRelease()
	snap := filepath.Join(t.TempDir(), "store", "cpt", "2026.sqlite")
	if err := snapshot.Write(context.Background(), snap, rel); err != nil {
		t.Fatal(err)
	}
	return snap, rel, fixture.SampleChangelog()
}

// treeSums returns the SHA-256 of every file under dir by relative path.
func treeSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		sums[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	snap, rel, l := publishFixture(t)
	out := filepath.Join(t.TempDir(), "out")

	m, err := publish.Publish(ctx, out, snap, rel, l)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	dir := filepath.Join(out, "cpt", "2026")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"SHA256SUMS", "changelog.csv", "changelog.html", "changelog.json", "changelog.md", "changelog.xlsx", "codesystem.json", "cpt-2026.sqlite", "manifest.json", "records.tsv", "search.tsv"}; !reflect.DeepEqual(names, want) {
		t.Errorf("release folder holds %v, want %v", names, want)
	}
	sysEntries, _ := os.ReadDir(filepath.Join(out, "cpt"))
	names = nil
	for _, e := range sysEntries {
		names = append(names, e.Name())
	}
	if want := []string{"2026", "code.html", "compare.html", "current.json", "history.sqlite", "history.tsv", "index.html", "index.json", "latest.json"}; !reflect.DeepEqual(names, want) {
		t.Errorf("%s holds %v, want %v", filepath.Join(out, "cpt"), names, want)
	}
	if !publish.Published(out, codeset.CPT, "2026") {
		t.Errorf("publish.Published(cpt, 2026) = false, want true")
	}

	got, err := format.ReadManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("manifest.json = %+v, Publish returned %+v", got, m)
	}
	if fromDir, err := format.ReadManifest(dir); err != nil || !reflect.DeepEqual(fromDir, m) {
		t.Errorf("format.ReadManifest(dir) = %+v, %v; want %+v", fromDir, err, m)
	}
	want := format.Manifest{
		System:      codeset.CPT,
		Label:       "2026",
		Effective:   "2026-01-01",
		Previous:    "2025",
		ToolVersion: codeset.Version,
		Licence:     format.LicenceFull,
		Sources:     rel.Sources,
		Counts:      format.ManifestCounts{Codes: 4, Categories: map[string]int{"I": 2, "II": 1, "PLA": 1}},
		Changes:     l.Summary,
	}
	gotHead := *got
	gotHead.Files = nil
	if !reflect.DeepEqual(gotHead, want) {
		t.Errorf("manifest:\ngot  %+v\nwant %+v", gotHead, want)
	}
	sums := treeSums(t, dir)
	if len(got.Files) != 10 {
		t.Errorf("manifest lists %d files, want 10", len(got.Files))
	}
	for _, f := range got.Files {
		st, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil {
			t.Errorf("manifest lists %s: %v", f.Name, err)
			continue
		}
		if f.Bytes != st.Size() || f.SHA256 != sums[f.Name] {
			t.Errorf("manifest %s = %d bytes %s, file has %d bytes %s", f.Name, f.Bytes, f.SHA256, st.Size(), sums[f.Name])
		}
	}
	snapBytes, _ := os.ReadFile(snap)
	copyBytes, _ := os.ReadFile(filepath.Join(dir, "cpt-2026.sqlite"))
	if !bytes.Equal(snapBytes, copyBytes) {
		t.Errorf("published snapshot differs from %s", snap)
	}
	var js bytes.Buffer
	format.WriteChangelog(&js, l)
	if b, _ := os.ReadFile(filepath.Join(dir, "changelog.json")); !bytes.Equal(b, js.Bytes()) {
		t.Errorf("changelog.json differs from WriteJSON output")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	for _, key := range []string{`"system": "cpt"`, `"previous": "2025"`, `"tool_version"`, `"counts": {`, `"codes": 4`, `"changes": {`, `"files": [`} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("manifest.json lacks %s:\n%s", key, raw)
		}
	}
}

func TestPublishRefusesSecond(t *testing.T) {
	ctx := context.Background()
	snap, rel, l := publishFixture(t)
	out := t.TempDir()
	if _, err := publish.Publish(ctx, out, snap, rel, l); err != nil {
		t.Fatal(err)
	}
	before := treeSums(t, out)

	other := fixture.SampleChangelog()
	other.From = "2024"
	_, err := publish.Publish(ctx, out, snap, rel, other)
	if !errors.Is(err, publish.ErrPublished) {
		t.Errorf("second Publish error = %v, want publish.ErrPublished", err)
	}
	if want := "release cpt 2026 already published at " + filepath.Join(out, "cpt", "2026"); err == nil || err.Error() != want {
		t.Errorf("second Publish error = %v, want %q", err, want)
	}
	if after := treeSums(t, out); !reflect.DeepEqual(after, before) {
		t.Errorf("tree changed by refused publish:\nbefore %v\nafter  %v", before, after)
	}
}

func TestPublishFailureLeavesNothing(t *testing.T) {
	ctx := context.Background()
	snap, rel, l := publishFixture(t)
	text := filepath.Join(t.TempDir(), "text.sqlite")
	os.WriteFile(text, []byte("hello"), 0o644)
	other := fixture.SampleRelease()
	other.Label = "2027"

	tests := []struct {
		name    string
		snap    string
		rel     *codeset.Release
		l       *codeset.Changelog
		wantErr string
	}{
		{"missing snapshot", filepath.Join(t.TempDir(), "missing.sqlite"), rel, l, "no such file"},
		{"not a snapshot", text, rel, l, "not a codeset snapshot"},
		{"snapshot of another release", snap, other, &codeset.Changelog{System: codeset.CPT, To: "2027"}, "holds cpt 2026"},
		{"changelog of another release", snap, rel, &codeset.Changelog{System: codeset.CPT, To: "2027"}, "changelog is for cpt 2027"},
		{"bad label", snap, &codeset.Release{System: codeset.CPT, Label: ".."}, &codeset.Changelog{System: codeset.CPT, To: ".."}, "bad release label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			if _, err := publish.Publish(ctx, out, tt.snap, tt.rel, tt.l); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Publish error = %v, want one containing %q", err, tt.wantErr)
			}
			if sums := treeSums(t, out); len(sums) != 0 {
				t.Errorf("failed publish left files %v", sums)
			}
			entries, _ := os.ReadDir(filepath.Join(out, "cpt"))
			for _, e := range entries {
				t.Errorf("failed publish left %s", e.Name())
			}
			if publish.Published(out, tt.rel.System, tt.rel.Label) {
				t.Errorf("Published = true after failed publish")
			}
		})
	}
}

func TestUnpublish(t *testing.T) {
	ctx := context.Background()
	snap, rel, l := publishFixture(t)
	out := t.TempDir()
	if _, err := publish.Publish(ctx, out, snap, rel, l); err != nil {
		t.Fatal(err)
	}
	if err := publish.Unpublish(out, codeset.CPT, "2026"); err != nil {
		t.Fatalf("Unpublish: %v", err)
	}
	if publish.Published(out, codeset.CPT, "2026") {
		t.Errorf("Published = true after Unpublish")
	}
	if _, err := os.Stat(filepath.Join(out, "cpt", "2026")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Unpublish left the release folder: %v", err)
	}
	if err := publish.Unpublish(out, codeset.CPT, "2026"); err == nil {
		t.Errorf("second Unpublish error = nil, want one")
	}
	if err := publish.Unpublish(out, codeset.CPT, ""); err == nil {
		t.Errorf("Unpublish with empty label error = nil, want one")
	}
	// Publishing again after a rollback works.
	if _, err := publish.Publish(ctx, out, snap, rel, l); err != nil {
		t.Errorf("Publish after Unpublish: %v", err)
	}
}
