package ingest

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/codeset/codeset"
)

// TestRealConversionTables reads every CDC ICD-10-CM conversion table as
// shipped (XLSX, upper-case .XLSX, CSV; FY2017 to FY2026) and checks what
// each holds.
func TestRealConversionTables(t *testing.T) {
	dir := filepath.Join(realdata(t, ""), "icd10cm", "conversion-tables")
	cp := mustCrosswalk(t, codeset.ICD10CM)
	type count struct{ direct, list, ranges int }
	tests := []struct {
		file      string
		headerRow int
		links     count
		dated     int // links whose effective column is a date, not a year
	}{
		{"ICD-10-CM_ConversionTable-FY17.xlsx", 3, count{1791, 308, 15}, 0},
		{"ICD-10-CM-Conversion-Table-FY18-Effective-10-1-2017.xlsx", 2, count{2129, 320, 39}, 0},
		{"ICD-10-CM-Conversion-Table-FY19-Effective-10-1-2018_FINAL.XLSX", 2, count{2381, 375, 46}, 0},
		{"ICD-10-CM-Conversion-Table-FY20-Effective-10-1-2019-corrected.csv", 2, count{2584, 377, 50}, 0},
		{"ICD-10-CM-Conversion-Table-FY2021-Jan-2021.xlsx", 2, count{3021, 524, 54}, 15},
		{"ICD-10-CM-Conversion-Table-FY2022-Effective-10-1-2021-updated-08-24-2021.xlsx", 2, count{3171, 532, 60}, 15},
		{"ICD-10-CM-Conversion-Table-FY2023-Effective-10-01-2022.xlsx", 2, count{4323, 575, 70}, 18},
		{"icd-10-cm-conversion-table-FY2025.xlsx", 2, count{4860, 581, 209}, 60},
		{"ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx", 2, count{5340, 589, 212}, 60},
	}
	for _, tt := range tests {
		links, rep, err := ReadCrosswalk(context.Background(), filepath.Join(dir, tt.file), CrosswalkOptions{Profile: cp})
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		var got count
		dated := 0
		for _, l := range links {
			switch l.How {
			case codeset.StatedDirect:
				got.direct++
			case codeset.StatedList:
				got.list++
			case codeset.StatedRange:
				got.ranges++
			}
			if l.Effective.IsZero() {
				t.Errorf("%s: %s → %s has no effective date", tt.file, l.Old, l.New)
			} else if l.Effective.Month() != time.October || l.Effective.Day() != 1 {
				dated++
			}
		}
		if got != tt.links || dated != tt.dated || rep.Files[0].HeaderRow != tt.headerRow {
			t.Errorf("%s: links %+v, %d dated, header row %d; want %+v, %d, %d", tt.file, got, dated, rep.Files[0].HeaderRow, tt.links, tt.dated, tt.headerRow)
		}
	}

	// Rows as shipped in the FY2026 table.
	links, _, err := ReadCrosswalk(context.Background(), filepath.Join(dir, "ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx"), CrosswalkOptions{Profile: cp})
	if err != nil {
		t.Fatal(err)
	}
	src := "ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx"
	byNew := map[string][]codeset.Replacement{}
	for _, l := range links {
		byNew[l.New] = append(byNew[l.New], l)
	}
	oct := func(y int) time.Time { return time.Date(y, 10, 1, 0, 0, 0, 0, time.UTC) }
	l := func(old, through, new string, eff time.Time, how codeset.Stated) codeset.Replacement {
		return codeset.Replacement{Old: old, OldThrough: through, New: new, Source: src, Effective: eff, How: how}
	}
	for _, want := range [][]codeset.Replacement{
		// Trailing spaces after the current code.
		{l("C44112", "", "C441121", oct(2018), codeset.StatedDirect)},
		// A range and a code, separated by ';'.
		{l("H02101", "H02106", "H02151", oct(2018), codeset.StatedRange), l("H02109", "", "H02151", oct(2018), codeset.StatedList)},
		// A date in the effective column: January 1, 2021.
		{l("J1289", "", "J1282", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), codeset.StatedDirect)},
		// A category written I63.-.
		{l("I63", "I63", "P91821", oct(2020), codeset.StatedRange), l("P9188", "", "P91821", oct(2020), codeset.StatedList)},
		// Words around a category range.
		{l("T15", "T19", "W44A0XA", oct(2023), codeset.StatedRange)},
		// FY2026's new code shape, written with a dot after three characters.
		{l("F89", "", "QA00101", oct(2025), codeset.StatedDirect)},
	} {
		if got := byNew[want[0].New]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: links to %s\n got %+v\nwant %+v", src, want[0].New, got, want)
		}
	}
	// "None": a new code with no previous code.
	if got := byNew["M048"]; got != nil {
		t.Errorf("M04.8 (previous: None) has links %+v", got)
	}
}

// TestRealCrosswalkInputs picks the conversion table out of a release's
// input files by its header, whatever its name.
func TestRealCrosswalkInputs(t *testing.T) {
	rd := realdata(t, "")
	zipPath := filepath.Join(rd, "icd10cm/2025/cms_2025_dx.zip")
	table := filepath.Join(rd, "icd10cm/conversion-tables/icd-10-cm-conversion-table-FY2025.xlsx")
	hcpcs := filepath.Join(rd, "hcpcs/2018/HCPC2018_CONTR_ANWEB_disc.xlsx")
	links, rest, _, err := ReadCrosswalks(context.Background(), CrosswalkOptions{Profile: mustCrosswalk(t, codeset.ICD10CM)}, zipPath, table, hcpcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 5650 || !reflect.DeepEqual(rest, []string{zipPath, hcpcs}) {
		t.Errorf("%d links, rest %v; want 5650 links from the table, the zip and the HCPCS file left", len(links), rest)
	}
}
