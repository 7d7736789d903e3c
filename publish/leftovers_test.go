package publish_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestLeftoversRemoved plants what killed writers leave behind and checks
// that the next writer removes exactly those names.
func TestLeftoversRemoved(t *testing.T) {
	if !durable.LocksExclude {
		t.Skip("no flock here: leftovers are ignored, not removed")
	}
	ctx := context.Background()
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases()[:1], fixture.Day(2026, 6, 1))
	store := filepath.Join(t.TempDir(), "cpt")
	os.MkdirAll(store, 0o755)
	plant := func(path string, dir bool) string {
		t.Helper()
		if dir {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			path = filepath.Join(path, format.ManifestName)
		}
		if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	gone := []string{
		plant(filepath.Join(out, ".tmp-index-index.json-123"), false),
		plant(filepath.Join(out, "cpt", ".tmp-2027-456"), true),
		plant(filepath.Join(out, "cpt", ".tmp-unpublish-2026-789"), true),
		plant(filepath.Join(out, "cpt", ".tmp-index-history-1"), true),
		plant(filepath.Join(store, ".2027.sqlite-42.tmp"), false),
	}
	kept := []string{
		plant(filepath.Join(out, ".well-known"), false),
		plant(filepath.Join(out, "cpt", ".keep"), false),
		plant(filepath.Join(store, ".notes"), false),
	}
	if _, err := publish.Reindex(ctx, out, fixture.Day(2026, 6, 1)); err != nil {
		t.Fatal(err)
	}
	rel := fixture.SampleRelease()
	rel.Label = "2027"
	if err := snapshot.Write(ctx, filepath.Join(store, "2027.sqlite"), rel); err != nil {
		t.Fatal(err)
	}
	for _, p := range gone {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: still there (%v), want it removed", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v, want it kept", p, err)
		}
	}
}
