package diff

import (
	"reflect"
	"testing"

	"github.com/codeset/codeset"
)

func rel(label string, codes ...codeset.Code) *codeset.Release {
	return &codeset.Release{System: codeset.CPT, Label: label, Codes: codes}
}

func fc(before, after string) codeset.FieldChange {
	return codeset.FieldChange{Before: before, After: after}
}

func code(c, long string) codeset.Code {
	return codeset.Code{Code: c, Category: codeset.CategoryI, Long: long}
}

func TestCompare(t *testing.T) {
	old := rel("2025",
		code("10001", "Drain a cyst"),
		code("10002", "Drain two cysts"),
		code("10003", "Repair a nail"),
		code("10004", "Remove a splinter"),
	)
	new := rel("2026",
		code("10001", "Drain a cyst"),
		code("10003", "Repair a toe nail"),
		code("10004", "Remove a  splinter"),
		code("10005", "Stitch a wound"),
		code("10006", "Clean a wound"),
	)
	earlier := map[string]codeset.Code{"10006": code("10006", "Clean wound")}
	l := Compare(old, new, earlier)

	wantSum := codeset.Summary{Added: 1, Deleted: 1, Revised: 1, Cosmetic: 1, Reactivated: 1, Unchanged: 1}
	if l.Summary != wantSum {
		t.Errorf("summary = %+v, want %+v", l.Summary, wantSum)
	}
	if l.From != "2025" || l.To != "2026" || l.System != codeset.CPT {
		t.Errorf("header = %s %s→%s", l.System, l.From, l.To)
	}
	want := []struct {
		code string
		kind codeset.ChangeKind
		f    map[string]codeset.FieldChange
	}{
		{"10002", codeset.Deleted, nil},
		{"10003", codeset.Revised, map[string]codeset.FieldChange{"long": fc("Repair a nail", "Repair a toe nail")}},
		{"10004", codeset.Cosmetic, map[string]codeset.FieldChange{"long": fc("Remove a splinter", "Remove a  splinter")}},
		{"10005", codeset.Added, nil},
		{"10006", codeset.Reactivated, map[string]codeset.FieldChange{"long": fc("Clean wound", "Clean a wound")}},
	}
	if len(l.Changes) != len(want) {
		t.Fatalf("got %d changes, want %d: %+v", len(l.Changes), len(want), l.Changes)
	}
	for i, w := range want {
		c := l.Changes[i]
		if c.Code != w.code || c.Kind != w.kind || !reflect.DeepEqual(c.Fields, w.f) {
			t.Errorf("change %d = %s %s %v, want %s %s %v", i, c.Code, c.Kind, c.Fields, w.code, w.kind, w.f)
		}
	}
}

func TestCompareFirstRelease(t *testing.T) {
	l := Compare(nil, rel("2024", code("10001", "a"), code("10002", "b")), nil)
	if l.From != "" || l.Summary.Added != 2 || l.Summary.Unchanged != 0 {
		t.Errorf("first release: from %q summary %+v", l.From, l.Summary)
	}
}

func TestCompareRevisedWithWhitespaceField(t *testing.T) {
	// One field changes wording, another only whitespace: the code is revised
	// and both fields are reported.
	a := codeset.Code{Code: "0001F", Category: codeset.CategoryII, Short: "Foo bar", Long: "Alpha beta"}
	b := codeset.Code{Code: "0001F", Category: codeset.CategoryII, Short: "Foo  bar", Long: "Alpha gamma"}
	l := Compare(rel("1", a), rel("2", b), nil)
	if l.Summary.Revised != 1 || len(l.Changes[0].Fields) != 2 {
		t.Errorf("got %+v %v", l.Summary, l.Changes)
	}
}

func TestCompareAttributes(t *testing.T) {
	a := codeset.Code{Code: "A0001", Attrs: map[string]string{"action": "N", "xref": "A0002"}}
	b := codeset.Code{Code: "A0001", Attrs: map[string]string{"action": "C", "price": "1"}}
	got := Fields(a, b)
	want := map[string]codeset.FieldChange{
		"action": fc("N", "C"),
		"xref":   fc("A0002", ""),
		"price":  fc("", "1"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields = %v, want %v", got, want)
	}
}

func TestSameWords(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"a b", "a b", true},
		{"a b", "a  b", true},
		{"a b", "a\u00a0b", true},
		{"a b", " a b\t", true},
		{"a b", "ab", false},
		{"a b", "a c", false},
	}
	for _, tt := range tests {
		if got := SameWords(tt.a, tt.b); got != tt.want {
			t.Errorf("SameWords(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestEarlier(t *testing.T) {
	m := Earlier(rel("1", code("1", "old")), rel("2", code("1", "new"), code("2", "x")))
	if m["1"].Long != "new" || m["2"].Long != "x" || len(m) != 2 {
		t.Errorf("Earlier = %v", m)
	}
}
