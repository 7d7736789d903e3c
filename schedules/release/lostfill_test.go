package release

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
)

// TestLostFillFromChanges checks that the fill counts lostFill derives
// from a changelog are those of counting the previous release's codes
// whole, for every field the new release leaves empty everywhere: over a
// synthetic series (additions, deletions, revisions, reactivations), with
// a descriptor column and an attribute lost in the new release, and with
// codes discontinued and brought back.
func TestLostFillFromChanges(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(17, 800, 6)
	for k, r := range rels {
		for i := range r.Codes {
			if i%3 == k%3 {
				r.Codes[i].Attrs = map[string]string{"billable": "1", "note": "n"}
			}
			if i%7 == 0 {
				r.Codes[i].Medium = "medium " + r.Codes[i].Code
			}
		}
	}
	checked := 0
	for k := 1; k < len(rels); k++ {
		var earlier map[string]codeset.Code
		if k > 1 {
			earlier = diff.Earlier(rels[:k-1]...)
		}
		old := rels[k-1]
		// A code ended in the old release that comes back, and one of the
		// old release's codes ended in the new.
		old.Codes[1].Status = codeset.StatusDiscontinued
		variants := map[string]func(c *codeset.Code){
			"as is":        func(c *codeset.Code) {},
			"lost long":    func(c *codeset.Code) { c.Long = "" },
			"lost medium":  func(c *codeset.Code) { c.Medium = "" },
			"lost note":    func(c *codeset.Code) { delete(c.Attrs, "note") },
			"lost attrs":   func(c *codeset.Code) { c.Attrs = nil },
			"lost 2 cols":  func(c *codeset.Code) { c.Long, c.Short = "", "" },
			"lost billing": func(c *codeset.Code) { c.Attrs = map[string]string{"billable": ""} },
		}
		for _, name := range slices.Sorted(maps.Keys(variants)) {
			nr := *rels[k]
			nr.Codes = slices.Clone(rels[k].Codes)
			for i := range nr.Codes {
				nr.Codes[i].Attrs = maps.Clone(nr.Codes[i].Attrs)
				variants[name](&nr.Codes[i])
			}
			nr.Codes[2].Status = codeset.StatusDiscontinued
			l := diff.Compare(old, &nr, earlier)
			newFill := fill(nr.Codes)
			want := map[string]int{}
			for f, c := range fill(old.Codes) {
				if newFill[f] == 0 {
					want[f] = c
				}
			}
			got, err := lostFill(ctx, priorOf(old), newFill, l)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s, %s: lostFill = %v, counting the old release gives %v", nr.Label, name, got, want)
			}
			if len(want) > 0 {
				checked++
			}
		}
		if l := diff.Compare(old, rels[k], earlier); l.Summary.Reactivated == 0 && k > 2 {
			t.Logf("%s: no reactivation", rels[k].Label)
		}
	}
	if checked == 0 {
		t.Fatal("no lost field in any variant: the test checks nothing")
	}
}
