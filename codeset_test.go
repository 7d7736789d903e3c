package codeset

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestCompareLabels(t *testing.T) {
	labels := []string{"2026-r10", "2026", "2025", "2026-r2", "2026-r9", "FY2026"}
	slices.SortFunc(labels, CompareLabels)
	want := []string{"2025", "2026", "2026-r2", "2026-r9", "2026-r10", "FY2026"}
	if !slices.Equal(labels, want) {
		t.Errorf("sorted = %v, want %v", labels, want)
	}
}

func TestDefaultEffective(t *testing.T) {
	tests := []struct {
		sys   System
		label string
		want  string // "" when the label implies no date
	}{
		{CPT, "2026", "2026-01-01"},
		{HCPCS, "2026-04", "2026-04-01"},
		{HCPCS, "2026Q3", "2026-07-01"},
		{ICD10CM, "FY2026", "2025-10-01"},
		{ICD10CM, "2026", "2025-10-01"},
		{ICD10PCS, "FY2025-r2", "2024-10-01"},
		{CPT, "2026-13", ""},
		{CPT, "latest", ""},
	}
	for _, tt := range tests {
		got, ok := DefaultEffective(tt.sys, tt.label)
		if tt.want == "" {
			if ok {
				t.Errorf("DefaultEffective(%s, %q) = %v, want none", tt.sys, tt.label, got)
			}
			continue
		}
		if !ok || got.Format(time.DateOnly) != tt.want {
			t.Errorf("DefaultEffective(%s, %q) = %v, %v, want %s", tt.sys, tt.label, got, ok, tt.want)
		}
	}
}

func TestDisplay(t *testing.T) {
	for _, tt := range []struct {
		sys        System
		code, want string
	}{
		{ICD10CM, "S72001A", "S72.001A"},
		{ICD10CM, "A00", "A00"},
		{ICD10PCS, "0016070", "0016070"},
		{CPT, "99213", "99213"},
	} {
		if got := tt.sys.Display(tt.code); got != tt.want {
			t.Errorf("%s.Display(%q) = %q, want %q", tt.sys, tt.code, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct {
		sys        System
		code, want string
	}{
		{ICD10CM, " s72.001a ", "S72001A"},
		{ICD10CM, "A7741", "A7741"},
		{CPT, "0042t", "0042T"},
		{HCPCS, "j9035", "J9035"},
	} {
		if got := tt.sys.Normalize(tt.code); got != tt.want {
			t.Errorf("%s.Normalize(%q) = %q, want %q", tt.sys, tt.code, got, tt.want)
		}
	}
}

func TestCheckLabel(t *testing.T) {
	for _, ok := range []string{"2026", "FY2026", "2026-r2", "2026Q2", "a.b_c"} {
		if err := CheckLabel(ok); err != nil {
			t.Errorf("CheckLabel(%q) = %v", ok, err)
		}
	}
	// Issue 12: labels a command could store but never read again, or that
	// name a file of the tree, are refused up front.
	for _, bad := range []string{"", "../x", "-r2", "a/b", "two words", ".hidden",
		"FY0000", "0000", "FY1066", "3000", "2026-13", "2026-00", "history.sqlite", "index.json", "latest.json",
		"current.json", "withdrawn.json", "index.html", "x.partial", "cpt-2026.SQLITE"} {
		if err := CheckLabel(bad); err == nil {
			t.Errorf("CheckLabel(%q) accepted", bad)
		}
	}
}

func TestDeclarationAgainst(t *testing.T) {
	codes := DeclaredCounts{Part: "codes", FromFile: "icd10pcs_order_2025.txt", From: 78986, ToFile: "icd10pcs_order_2026.txt", To: 79115, Added: 156, Deleted: 27}
	tests := []struct {
		name string
		d    *Declaration
		want DeclaredCounts
		ok   bool
	}{
		{"nil", nil, DeclaredCounts{}, false},
		{"no summary", &Declaration{Source: "ACTION CD"}, DeclaredCounts{}, false},
		{"headers only", &Declaration{Counts: []DeclaredCounts{{Part: "headers", From: 910}}}, DeclaredCounts{}, false},
		{"codes after headers", &Declaration{Counts: []DeclaredCounts{{Part: "headers", From: 910}, codes}}, codes, true},
	}
	for _, tt := range tests {
		got, ok := tt.d.Against()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: Against() = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestLazyPatterns checks that the label patterns, compiled at their first
// use rather than when the program starts, are each compiled once (the
// same value from every goroutine) from the expressions they always were.
func TestLazyPatterns(t *testing.T) {
	want := map[string]string{
		"revision":    `^(.*)-r([0-9]{1,9})$`,
		"label":       `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`,
		"leadingYear": `^(\d{4})(?:\D|$)`,
		"year":        `^(\d{4})$`,
		"fy":          `^FY(\d{4})\b`,
		"quarter":     `^(\d{4})Q([1-4])\b`,
		"month":       `^(\d{4})-(\d{2})\b`,
	}
	lazy := map[string]func() *regexp.Regexp{
		"revision": revisionRE, "label": labelRE, "leadingYear": leadingYearRE,
		"year": yearRE, "fy": fyRE, "quarter": quarterRE, "month": monthRE,
	}
	for name, re := range lazy {
		got := make(chan *regexp.Regexp, 8)
		for range 8 {
			go func() { got <- re() }()
		}
		first := <-got
		for range 7 {
			if r := <-got; r != first {
				t.Errorf("%s: compiled more than once", name)
			}
		}
		if first.String() != want[name] {
			t.Errorf("%s = %q, want %q", name, first.String(), want[name])
		}
	}
}
