package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/snapshot"
)

func writeSeries(t *testing.T, rels []*codeset.Release) []Snapshot {
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
	snaps := writeSeries(t, rels)
	dir := t.TempDir()
	prev := ""
	for k := 1; k <= len(snaps); k++ {
		inc := filepath.Join(dir, fmt.Sprintf("inc%d.sqlite", k))
		if err := Update(ctx, inc, prev, snaps[:k]); err != nil {
			t.Fatal(err)
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
