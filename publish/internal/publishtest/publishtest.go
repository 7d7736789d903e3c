// Package publishtest publishes small trees for the tests of the packages
// that read them. It is for tests only.
package publishtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/snapshot"
)

// PublishAll publishes rels in order into a new tree at now and returns the
// tree and the snapshot paths.
func PublishAll(t testing.TB, rels []*codeset.Release, now time.Time) (string, []string) {
	t.Helper()
	ctx := context.Background()
	store := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	var prev *codeset.Release
	var seen []*codeset.Release
	var snaps []string
	for _, r := range rels {
		snap := filepath.Join(store, r.Label+".sqlite")
		if err := snapshot.Write(ctx, snap, r); err != nil {
			t.Fatal(err)
		}
		var earlier map[string]codeset.Code
		if len(seen) > 1 {
			earlier = diff.Earlier(seen[:len(seen)-1]...)
		}
		if _, err := publish.PublishAt(ctx, out, snap, r, diff.Compare(prev, r, earlier), now); err != nil {
			t.Fatalf("publish %s: %v", r.Label, err)
		}
		prev = r
		seen = append(seen, r)
		snaps = append(snaps, snap)
	}
	return out, snaps
}
