package schedules

import (
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

func TestDeriveLabelBuiltin(t *testing.T) {
	tests := []struct {
		sys  codeset.System
		name string
		want string
	}{
		{codeset.CPT, "CPT2026.xlsx", "2026"},
		{codeset.CPT, "cpt-2026.xlsx", "2026"},
		{codeset.CPT, "cpt_2025_final.csv", "2025"},
		{codeset.HCPCS, "HCPC2026_JAN_ANWEB.xlsx", "2026-01"},
		{codeset.HCPCS, "HCPC2026_October_ANWEB.xlsx", "2026-10"},
		{codeset.HCPCS, "anweb_2020_04.xlsx", "2020-04"},
		{codeset.HCPCS, "HCPC2019_CONTR_ANWEB.xlsx", "2019"},
		{codeset.HCPCS, "HCPC2018_CONTR_ANWEB_disc.xlsx", "2018"},
		{codeset.HCPCS, "HCPC17_CONTR_ANWEB.xlsx", "2017"},
		{codeset.HCPCS, "2019-Alpha-Numeric-HCPCS-File.zip", "2019"},
		{codeset.ICD10CM, "cms_2025_dx.zip", "FY2025"},
		{codeset.ICD10CM, "icd10cm_codes_2025.txt", "FY2025"},
		{codeset.ICD10CM, "icd10cm-codes-2024.txt", "FY2024"},
		{codeset.ICD10CM, "icd10cm-CodesDescriptions-2024.zip", "FY2024"},
		{codeset.ICD10CM, "icd10-Order-CodeFiles2023.zip", "FY2023"},
		{codeset.ICD10PCS, "cms_2025_pr.zip", "FY2025"},
		{codeset.ICD10PCS, "icd10pcs_order_2026.txt", "FY2026"},
	}
	for _, tt := range tests {
		got, err := DeriveLabel(BuiltinLabelRules(tt.sys), tt.name)
		if err != nil || got != tt.want {
			t.Errorf("%s %q: got %q, %v; want %q", tt.sys, tt.name, got, err, tt.want)
		}
	}
}

func TestDeriveLabelFails(t *testing.T) {
	tests := []struct {
		sys  codeset.System
		name string
	}{
		{codeset.CPT, "release-notes.xlsx"},
		{codeset.CPT, "CPT20261.xlsx"},
		{codeset.HCPCS, "anweb_2020_13.xlsx"},
		{codeset.ICD10CM, "cms_2025_pr.zip"},
		{codeset.ICD10PCS, "cms_2025_dx.zip"},
	}
	for _, tt := range tests {
		_, err := DeriveLabel(BuiltinLabelRules(tt.sys), tt.name)
		if err == nil || !strings.Contains(err.Error(), "no release label for \""+tt.name+"\"") {
			t.Errorf("%s %q: err = %v, want no release label", tt.sys, tt.name, err)
		}
	}
}

func TestDeriveLabelCustom(t *testing.T) {
	tests := []struct {
		pattern, template, name, want, err string
	}{
		{`^vendor-(?P<label>\d{4}Q[1-4])\.csv$`, "", "vendor-2026Q2.csv", "2026Q2", ""},
		{`^codes_(?P<year>\d{4})_(?P<mon>[a-z]+)\.txt$`, "{year}-{month}", "codes_2026_april.txt", "2026-04", ""},
		{`^codes_(?P<year>\d{4})`, "FY{year}", "codes_2026.txt", "FY2026", ""},
		{`^codes_(?P<year>\d{4})`, "{year}", "other.txt", "", "no release label"},
		{`^codes_(?P<year>\d{4})`, "{year}/x", "codes_2026.txt", "", "bad release label"},
	}
	for _, tt := range tests {
		r, err := ParseLabelRule(tt.pattern, tt.template)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DeriveLabel([]LabelRule{r}, tt.name)
		if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s on %q: got %q, %v; want %q, %q", tt.pattern, tt.name, got, err, tt.want, tt.err)
		}
	}
	if _, err := ParseLabelRule(`^codes_\d{4}`, ""); err == nil {
		t.Error("pattern without a named group accepted")
	}
	if _, err := ParseLabelRule(`(`, ""); err == nil {
		t.Error("bad pattern accepted")
	}
}

// FuzzDeriveLabel checks that any file name gives either an error or a
// valid release label, for every system's built-in rules.
func FuzzDeriveLabel(f *testing.F) {
	for _, s := range []string{"CPT2026.xlsx", "HCPC2026_JAN_ANWEB.xlsx", "anweb_2020_13.xlsx", "HCPC17_CONTR_ANWEB.xlsx", "icd10cm-codes-2024.txt", "cms_2025_pr.zip", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, sys := range codeset.Systems {
			label, err := DeriveLabel(BuiltinLabelRules(sys), name)
			if err == nil {
				if cerr := codeset.CheckLabel(label); cerr != nil {
					t.Errorf("%s %q: label %q: %v", sys, name, label, cerr)
				}
			} else if label != "" {
				t.Errorf("%s %q: label %q with error %v", sys, name, label, err)
			}
		}
	})
}

// TestBuiltinLabelRulesBuiltOnce checks that the built-in rules, compiled
// at their first use, are compiled once: every call, from any goroutine,
// gets the same patterns.
func TestBuiltinLabelRulesBuiltOnce(t *testing.T) {
	for _, sys := range codeset.Systems {
		got := make(chan []LabelRule, 4)
		for range 4 {
			go func() { got <- BuiltinLabelRules(sys) }()
		}
		first := <-got
		if len(first) == 0 {
			t.Errorf("%s: no built-in label rules", sys)
		}
		for range 3 {
			rules := <-got
			for i := range rules {
				if rules[i].Pattern != first[i].Pattern {
					t.Errorf("%s rule %d compiled more than once", sys, i)
				}
			}
		}
	}
}
