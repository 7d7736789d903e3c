package snapshot

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/codeset/codeset"
)

// TestIndexMatchesReader: an Index answers Record and Parent as the Reader
// of the same snapshot does, for every code and header, their prefixes and
// codes the release does not hold.
func TestIndexMatchesReader(t *testing.T) {
	ctx := context.Background()
	rel := &codeset.Release{System: codeset.ICD10CM, Label: "FY2030", Effective: time.Date(2029, 10, 1, 0, 0, 0, 0, time.UTC)}
	for i, c := range []string{"A000", "A001", "A0100", "A0101", "A011", "B20", "B201", "Z9999999999999999999", "a", "\xff1"} {
		code := codeset.Code{Code: c, Short: "code " + c, Long: "long <" + c + ">", Medium: "m\u2028"}
		switch i % 3 {
		case 0:
			code.Attrs = map[string]string{"k": "v", "a": "\"q\""}
		case 1:
			code.Meta = codeset.MetaOf(map[string]string{"order": c})
			code.Status = codeset.StatusDiscontinued
		}
		rel.Codes = append(rel.Codes, code)
	}
	for _, h := range []string{"A00", "A01", "A010", "B2", "B20", "Z9", "Z999999999"} {
		rel.Headers = append(rel.Headers, codeset.Code{Code: h, Short: "header " + h, Category: "cat", Meta: codeset.MetaOf(map[string]string{"billable": "0"})})
	}
	path := filepath.Join(t.TempDir(), "s.sqlite")
	if err := Write(ctx, path, rel); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x, err := LoadIndex(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if c, h := x.Len(); c != len(rel.Codes) || h != len(rel.Headers) {
		t.Errorf("Len = %d, %d; want %d, %d", c, h, len(rel.Codes), len(rel.Headers))
	}
	asked := map[string]bool{"": true, "C10": true, "A0": true, "Z": true, "A0100X": true}
	for _, c := range append(rel.Codes, rel.Headers...) {
		for n := 0; n <= len(c.Code); n++ {
			asked[c.Code[:n]] = true
		}
	}
	for code := range asked {
		wc, wh, werr := r.Record(ctx, code)
		gc, gh, gerr := x.Record(code)
		if !reflect.DeepEqual(gc, wc) || gh != wh || errors.Is(gerr, ErrNoCode) != errors.Is(werr, ErrNoCode) || (gerr == nil) != (werr == nil) {
			t.Errorf("Record(%q) = %+v, %v, %v; the Reader says %+v, %v, %v", code, gc, gh, gerr, wc, wh, werr)
		}
		if code == "" {
			continue
		}
		wp, err := r.Parent(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if gp := x.Parent(code); gp != wp {
			t.Errorf("Parent(%q) = %q; the Reader says %q", code, gp, wp)
		}
	}
}
