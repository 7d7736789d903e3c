package synth

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// TestSteady checks that a steady series holds its size, changes each
// release by about as much, brings back only codes deleted by an earlier
// release (with the record they had), and is the same for the same seed.
func TestSteady(t *testing.T) {
	const n, count = 6000, 12
	rels := Steady(5, n, count)
	if len(rels) != count {
		t.Fatalf("got %d releases, want %d", len(rels), count)
	}
	if first := Series(5, n, 1)[0]; !reflect.DeepEqual(rels[0].Codes, first.Codes) {
		t.Errorf("first release differs from Series' first")
	}
	last := map[string]codeset.Code{} // every code seen, as last seen
	reactivated := 0
	for i, r := range rels {
		if len(r.Codes) != n {
			t.Errorf("%s: %d codes, want %d", r.Label, len(r.Codes), n)
		}
		if !slices.IsSortedFunc(r.Codes, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) }) {
			t.Errorf("%s: codes not in order", r.Label)
		}
		if i == 0 {
			for _, c := range r.Codes {
				last[c.Code] = c
			}
			continue
		}
		before := map[string]codeset.Code{}
		for _, c := range rels[i-1].Codes {
			before[c.Code] = c
		}
		added, deleted, back := 0, 0, 0
		now := map[string]bool{}
		for _, c := range r.Codes {
			now[c.Code] = true
			if _, ok := before[c.Code]; ok {
				continue
			}
			if old, ok := last[c.Code]; ok {
				back++
				if !reflect.DeepEqual(old, c) {
					t.Errorf("%s: %s came back as %+v, was %+v", r.Label, c.Code, c, old)
				}
			} else {
				added++
			}
		}
		for code := range before {
			if !now[code] {
				deleted++
			}
		}
		if i == 1 && back != 0 {
			t.Errorf("%s: %d codes back, but none was deleted before the release before", r.Label, back)
		}
		if i > 1 && back != n/2000 {
			t.Errorf("%s: %d codes back, want %d", r.Label, back, n/2000)
		}
		if deleted < n/200 || deleted > n/50 {
			t.Errorf("%s: %d deleted, want about %d", r.Label, deleted, n/100)
		}
		if added+back != deleted {
			t.Errorf("%s: %d added and %d back, %d deleted", r.Label, added, back, deleted)
		}
		reactivated += back
		for _, c := range r.Codes {
			last[c.Code] = c
		}
	}
	if reactivated == 0 {
		t.Error("no code came back")
	}
	again := Steady(5, n, count)
	for i := range rels {
		if !reflect.DeepEqual(rels[i].Codes, again[i].Codes) {
			t.Errorf("%s differs between two series of the same seed", rels[i].Label)
		}
	}
}
