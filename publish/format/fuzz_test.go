package format

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/codeset/codeset"
)

// FuzzChangelogRoundTrip writes a changelog built from the fuzzer's values
// as JSON and reads it back: every field of the contract must survive.
func FuzzChangelogRoundTrip(f *testing.F) {
	f.Add("2025", "2026", "00100", "revised", "I", "long", "before", "after", "Anesthesia", 3, 1)
	f.Add("", "FY2026", "S72001A", "added", "", "", "", "", "Fracture <b>&", 0, 0)
	f.Add("2019", "2020", "G9890", "discontinued", "", "status", "", "discontinued", "", 7, 2)
	f.Fuzz(func(t *testing.T, from, to, code, kind, category, field, before, after, desc string, unchanged, days int) {
		for _, s := range []string{from, to, code, kind, category, field, before, after, desc} {
			if !utf8.ValidString(s) {
				return // JSON strings are UTF-8
			}
		}
		k := codeset.ChangeKind(kind)
		if !slices.Contains(codeset.ChangeKinds, k) {
			return
		}
		c := codeset.Change{Code: code, Kind: k, Category: category,
			Record: codeset.Code{Code: code, Category: category, Long: desc}}
		if field != "" {
			c.Fields = map[string]codeset.FieldChange{field: {Before: before, After: after}}
		}
		in := &codeset.Changelog{System: codeset.HCPCS, From: from, To: to, Changes: []codeset.Change{c}}
		in.Summary.Add(k)
		in.Summary.Unchanged = unchanged
		if from != "" {
			in.FromEffective = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, days%1000)
		}
		var b bytes.Buffer
		if err := WriteChangelog(&b, in); err != nil {
			t.Fatalf("WriteChangelog: %v", err)
		}
		out, err := ReadChangelog(&b)
		if err != nil {
			t.Fatalf("ReadChangelog: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(out, in) {
			t.Errorf("read back\n%+v\nwant\n%+v", out, in)
		}
	})
}
