package publish_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestPublishAllAddedAsCompared publishes a first release with the
// changelog codeset.AllAdded makes (changes not held) and with the one
// diff.Compare makes, in a full tree and in a codes-only one, and checks
// that both trees hold the very same files.
func TestPublishAllAddedAsCompared(t *testing.T) {
	ctx := context.Background()
	// The sample's codes are not in order, which the changelogs must
	// sort the same either way.
	rel := fixture.SampleRelease()
	rel.Replacements = nil
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, licence := range []string{"", format.LicenceCodesOnly} {
		var trees []map[string]string
		for _, l := range []*codeset.Changelog{diff.Compare(nil, rel, nil), codeset.AllAdded(rel)} {
			dir := t.TempDir()
			snap := filepath.Join(dir, "store", string(rel.System), rel.Label+".sqlite")
			if err := snapshot.Write(ctx, snap, rel); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			if licence != "" {
				if err := publish.SetLicence(ctx, out, licence); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := publish.PublishAt(ctx, out, snap, rel, l, now); err != nil {
				t.Fatal(err)
			}
			trees = append(trees, treeSums(t, out))
		}
		if len(trees[0]) < 10 {
			t.Fatalf("licence %q: only %d files published", licence, len(trees[0]))
		}
		for _, name := range slices.Sorted(maps.Keys(trees[0])) {
			if trees[1][name] != trees[0][name] {
				t.Errorf("licence %q: %s differs between the AllAdded and the Compare changelog", licence, name)
			}
		}
		if len(trees[1]) != len(trees[0]) {
			t.Errorf("licence %q: %d files from AllAdded, %d from Compare", licence, len(trees[1]), len(trees[0]))
		}
	}
}
