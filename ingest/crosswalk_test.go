package ingest

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// mdy is a date cell formatted the way CDC's tables show it, "04/01/20".
type mdy time.Time

// writeTable writes one sheet of rows, with title rows above, to path as a
// workbook; mdy values become date cells.
func writeTable(t *testing.T, path, sheet string, rows [][]any) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("mm/dd/yy")})
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if d, ok := v.(mdy); ok {
				v = time.Time(d)
				if err := f.SetCellStyle(sheet, cell, cell, style); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// cdcRows is a conversion table in CDC's shape, with their quirks: a title
// row above the header, trailing spaces in codes, the effective column as a
// year, a date, an Excel serial number or empty, lists separated by ',' ';'
// '&' or "and", ranges and categories, words, "None".
var cdcRows = [][]any{
	{"The National Center for Health Statistics (NCHS) has published an update ... Unless otherwise specified the code effective date is October 1 of the year listed."},
	{"Current code assignment", "Effective", "Previous Code(s) Assignment"},
	{"A04.71  ", "2017", "A04.7"},
	{"H02.151", 2018, "H02.101-H02.106; H02.109"},
	{"E75.244", "2021", "E75.240, E75.241, E75.248 "},
	{"J12.82", mdy(date(2021, 1, 1)), "J12.89"},
	{"U07.0", 43922, "J68.0 & J80"},
	{"K59.03", "", "K59.09 AND Code from categories T36-T50"},
	{"P91.821", "2020", "I63.- and P91.88"},
	{},
	{"M04.8", "2016", "None"},
	{"QA0.0101", "2025", "F89"},
}

func cdcLinks(source string) []codeset.Replacement {
	l := func(old, through, new string, eff time.Time, how codeset.Stated) codeset.Replacement {
		return codeset.Replacement{Old: old, OldThrough: through, New: new, Source: source, Effective: eff, How: how}
	}
	oct := func(y int) time.Time { return date(y, 10, 1) }
	return []codeset.Replacement{
		l("A047", "", "A0471", oct(2017), codeset.StatedDirect),
		l("H02101", "H02106", "H02151", oct(2018), codeset.StatedRange),
		l("H02109", "", "H02151", oct(2018), codeset.StatedList),
		l("E75240", "", "E75244", oct(2021), codeset.StatedList),
		l("E75241", "", "E75244", oct(2021), codeset.StatedList),
		l("E75248", "", "E75244", oct(2021), codeset.StatedList),
		l("J1289", "", "J1282", date(2021, 1, 1), codeset.StatedDirect),
		l("J680", "", "U070", date(2020, 4, 1), codeset.StatedList),
		l("J80", "", "U070", date(2020, 4, 1), codeset.StatedList),
		l("K5909", "", "K5903", time.Time{}, codeset.StatedList),
		l("T36", "T50", "K5903", time.Time{}, codeset.StatedRange),
		l("I63", "I63", "P91821", oct(2020), codeset.StatedRange),
		l("P9188", "", "P91821", oct(2020), codeset.StatedList),
		l("F89", "", "QA00101", oct(2025), codeset.StatedDirect),
	}
}

func mustCrosswalk(t testing.TB, sys codeset.System) *CrosswalkProfile {
	t.Helper()
	cp, err := BuiltinCrosswalk(sys)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// csvText renders rows as CSV text the way a spreadsheet saves it.
func csvText(rows [][]any) string {
	var b strings.Builder
	for _, r := range rows {
		var cells []string
		for _, v := range r {
			s := fmt.Sprint(v)
			if d, ok := v.(mdy); ok {
				s = time.Time(d).Format("1/2/2006")
			}
			if strings.ContainsAny(s, ",\"\n") {
				s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			cells = append(cells, s)
		}
		b.WriteString(strings.Join(cells, ",") + "\r\n")
	}
	return b.String()
}

func TestReadCrosswalkCDC(t *testing.T) {
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "ICD-10-CM-Conversion-Table-FY30_FINAL.XLSX") // upper-case extension
	writeTable(t, xlsx, "Conversion-Table-FY30", cdcRows)
	csvFile := filepath.Join(dir, "conversion-table-FY30.csv")
	if err := os.WriteFile(csvFile, []byte("\ufeff"+csvText(cdcRows)), 0o644); err != nil {
		t.Fatal(err)
	}
	cp := mustCrosswalk(t, codeset.ICD10CM)
	for _, f := range []string{xlsx, csvFile} {
		got, rep, err := ReadCrosswalk(context.Background(), f, CrosswalkOptions{Profile: cp})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if want := cdcLinks(filepath.Base(f)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: links\n got %+v\nwant %+v", filepath.Base(f), got, want)
		}
		if len(rep.Files) != 1 || rep.Files[0].HeaderRow != 2 || rep.Files[0].Codes != 14 {
			t.Errorf("%s: report %+v, want the header on row 2 and 14 links", filepath.Base(f), rep.Files)
		}
	}
}

func TestReadCrosswalkErrors(t *testing.T) {
	header := []any{"Current code assignment", "Effective", "Previous Code(s) Assignment"}
	tests := []struct {
		name string
		row  []any
		want string // error text after the file name
		kind error
	}{
		{"words", []any{"A04.71", "2017", "A04.7 or maybe A04.8 perhaps"}, `!FY30 row 3 col C (Previous Code(s) Assignment): bad list "A04.7 or maybe A04.8 perhaps": unexpected text "maybe"`, ErrBadValue},
		{"bad code in list", []any{"A04.71", "2017", "A04.7, 12"}, `!FY30 row 3 col C (Previous Code(s) Assignment): bad code "12" in list "A04.7, 12"`, ErrBadCode},
		{"backwards range", []any{"A04.71", "2017", "H02.106-H02.101"}, `row 3 col C (Previous Code(s) Assignment): bad list "H02.106-H02.101": range "H02.106-H02.101" runs backwards`, ErrBadValue},
		{"bad effective", []any{"A04.71", "sometime", "A04.7"}, `!FY30 row 3 col B (Effective): bad effective date "sometime"`, ErrBadValue},
		{"bad current code", []any{"1234", "2017", "A04.7"}, `!FY30 row 3 col A (Current code assignment): bad code "1234"`, ErrBadCode},
	}
	cp := mustCrosswalk(t, codeset.ICD10CM)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "table.xlsx")
			writeTable(t, f, "FY30", [][]any{{"Title"}, header, tt.row})
			_, _, err := ReadCrosswalk(context.Background(), f, CrosswalkOptions{Profile: cp})
			if err == nil || !strings.HasPrefix(err.Error(), f) || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want %s%s… (%v)", err, f, tt.want, tt.kind)
			}
		})
	}
}

func TestReadCrosswalkNotOne(t *testing.T) {
	dir := t.TempDir()
	codes := filepath.Join(dir, "HCPC2030_ANWEB.xlsx")
	writeTable(t, codes, "Sheet1", [][]any{{"HCPC", "LONG DESCRIPTION", "SHORT DESCRIPTION", "ACTION CD"}, {"A0001", "Test", "Test", "N"}})
	txt := filepath.Join(dir, "icd10cm_codes_2030.txt")
	if err := os.WriteFile(txt, []byte("A0100   Test fever\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "whatever-name.xlsx")
	writeTable(t, table, "FY30", cdcRows)
	cp := mustCrosswalk(t, codeset.ICD10CM)
	if _, _, err := ReadCrosswalk(context.Background(), codes, CrosswalkOptions{Profile: cp}); !errors.Is(err, ErrNoHeader) {
		t.Errorf("codes file read as a crosswalk: err = %v, want ErrNoHeader", err)
	}
	links, rest, _, err := ReadCrosswalks(context.Background(), CrosswalkOptions{Profile: cp}, txt, table, codes)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rest, []string{txt, codes}) || len(links) != 14 {
		t.Errorf("ReadCrosswalks: rest %v and %d links, want the codes files and 14 links", rest, len(links))
	}
}

// TestReadCrosswalkPCSZip reads an ICD-10-PCS conversion table out of a
// release zip, beside the order file, by its header.
func TestReadCrosswalkPCSZip(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "table.xlsx")
	writeTable(t, table, "PCS", [][]any{
		{"ICD-10-PCS FY2030 conversion table"},
		{"Current Code", "Effective", "Previous Code(s)"},
		{"0016070", "2029", "0016079"},
		{"0016071", "2029", "0016079; 001607B"},
		{"X2A5312", "", "None"},
	})
	tableBytes, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "2030 ICD-10-PCS Order File.zip")
	zf, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for name, data := range map[string][]byte{
		"Zip File 2030/icd10pcs_order_2030.txt":                   []byte("00001 001     0 Central Nervous System and Cranial Nerves, Bypass\n"),
		"Zip File 2030/ICD-10-PCS_Conversion_Table_2030.xlsx":     tableBytes,
		"Zip File 2030/icd10pcs_order_2030_title_sheet_notes.csv": []byte("Note,Text\n1,nothing here\n"),
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zf.Close()

	cp := mustCrosswalk(t, codeset.ICD10PCS)
	links, rest, _, err := ReadCrosswalks(context.Background(), CrosswalkOptions{Profile: cp}, zipPath)
	if err != nil {
		t.Fatal(err)
	}
	src := "ICD-10-PCS_Conversion_Table_2030.xlsx"
	want := []codeset.Replacement{
		{Old: "0016079", New: "0016070", Source: src, Effective: date(2029, 10, 1), How: codeset.StatedDirect},
		{Old: "0016079", New: "0016071", Source: src, Effective: date(2029, 10, 1), How: codeset.StatedList},
		{Old: "001607B", New: "0016071", Source: src, Effective: date(2029, 10, 1), How: codeset.StatedList},
	}
	if !reflect.DeepEqual(links, want) || !reflect.DeepEqual(rest, []string{zipPath}) {
		t.Errorf("links %+v, rest %v\nwant %+v and the zip", links, rest, want)
	}
}

// TestReadCrosswalkCPT reads a synthetic CPT deleted-code crosswalk, keyed
// by the deleted code, with the built-in profile and with a profile file of
// one's own.
func TestReadCrosswalkCPT(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "deleted-codes-2031.csv")
	// Synthetic: codes and wording made up for the test; CPT text is
	// copyrighted.
	data := "Deleted codes 2031 (synthetic test data)\n" +
		"Deleted Code,Replacement Code(s),Effective Date,Note\n" +
		"0001T,0002T,2031,Test device scan now reported with its successor\n" +
		"99990,\"99991, 99992\",1/1/2031,Split by visit length\n" +
		"1000,01001-01003,2031,Anesthesia code read from a number cell\n" +
		"9001F,,,No successor\n"
	if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	jan := date(2031, 1, 1)
	src := filepath.Base(f)
	want := []codeset.Replacement{
		{Old: "0001T", New: "0002T", Source: src, Effective: jan, How: codeset.StatedDirect},
		{Old: "99990", New: "99991", Source: src, Effective: jan, How: codeset.StatedList},
		{Old: "99990", New: "99992", Source: src, Effective: jan, How: codeset.StatedList},
		{Old: "01000", New: "01001", NewThrough: "01003", Source: src, Effective: jan, How: codeset.StatedRange},
	}
	links, _, err := ReadCrosswalk(context.Background(), f, CrosswalkOptions{Profile: mustCrosswalk(t, codeset.CPT)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(links, want) {
		t.Errorf("built-in profile: links\n got %+v\nwant %+v", links, want)
	}

	own := filepath.Join(dir, "crosswalk.json")
	if err := os.WriteFile(own, []byte(`{"system": "cpt", "name": "licensee crosswalk", "key": "old",
		"old": ["Retired"], "new": ["Report Instead"], "effective": ["From"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cp, err := LoadCrosswalkProfile(own)
	if err != nil {
		t.Fatal(err)
	}
	f2 := filepath.Join(dir, "mine.csv")
	if err := os.WriteFile(f2, []byte("Retired,Report Instead,From\n0001T,0002T,2031\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links, _, err = ReadCrosswalk(context.Background(), f2, CrosswalkOptions{Profile: cp})
	if want := []codeset.Replacement{{Old: "0001T", New: "0002T", Source: "mine.csv", Effective: jan, How: codeset.StatedDirect}}; err != nil || !reflect.DeepEqual(links, want) {
		t.Errorf("own profile: links %+v, %v; want %+v", links, err, want)
	}
}

func TestParseList(t *testing.T) {
	cm, cpt := mustCrosswalk(t, codeset.ICD10CM), mustCrosswalk(t, codeset.CPT)
	tests := []struct {
		cp   *CrosswalkProfile
		in   string
		want []listItem
		err  error
	}{
		{cm, "A04.7", []listItem{{"A047", ""}}, nil},
		{cm, " t40.7x3d ", []listItem{{"T407X3D", ""}}, nil},
		{cm, "G56.01 and G56.02", []listItem{{"G5601", ""}, {"G5602", ""}}, nil},
		{cm, "S20.211A; S20.212A;S20.219A", []listItem{{"S20211A", ""}, {"S20212A", ""}, {"S20219A", ""}}, nil},
		{cm, "M93.001 & M93.002", []listItem{{"M93001", ""}, {"M93002", ""}}, nil},
		{cm, "H44.20-H44.23 and H35.051-H35.059", []listItem{{"H4420", "H4423"}, {"H35051", "H35059"}}, nil},
		{cm, "H02.101 - H02.106", []listItem{{"H02101", "H02106"}}, nil},
		{cm, "I63.- and P91.88", []listItem{{"I63", "I63"}, {"P9188", ""}}, nil},
		{cm, "K31.89 and a code from R11-", []listItem{{"K3189", ""}, {"R11", "R11"}}, nil},
		{cm, "Codes in Categories T15-T19", []listItem{{"T15", "T19"}}, nil},
		{cm, "None", nil, nil},
		{cm, "-", nil, nil},
		{cm, "", nil, nil},
		{cm, "A04.7 perhaps", nil, ErrBadValue},
		{cm, "A04.7-", []listItem{{"A047", "A047"}}, nil},
		{cm, "A04.7--A04.9", nil, ErrBadValue},
		{cm, "-A04.7", nil, ErrBadValue},
		{cm, "A04.9-A04.1", nil, ErrBadValue},
		{cm, "A04.7 -", nil, ErrBadValue},
		{cm, "99213", nil, ErrBadCode},
		{cpt, "100, 0042T", []listItem{{"00100", ""}, {"0042T", ""}}, nil},
		{cpt, "99202-99205", []listItem{{"99202", "99205"}}, nil},
	}
	for _, tt := range tests {
		got, err := tt.cp.parseList(tt.in)
		if !reflect.DeepEqual(got, tt.want) || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("parseList(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseEffective(t *testing.T) {
	cm, cpt := mustCrosswalk(t, codeset.ICD10CM), mustCrosswalk(t, codeset.CPT)
	tests := []struct {
		cp   *CrosswalkProfile
		in   string
		want time.Time
		bad  bool
	}{
		{cm, "", time.Time{}, false},
		{cm, "2017", date(2017, 10, 1), false},
		{cpt, "2031", date(2031, 1, 1), false},
		{cm, "04/01/20", date(2020, 4, 1), false},
		{cm, "1/1/2021", date(2021, 1, 1), false},
		{cm, "2023-04-01", date(2023, 4, 1), false},
		{cm, "01-01-21", date(2021, 1, 1), false},
		{cm, "43922", date(2020, 4, 1), false},
		{cm, "44197.0", date(2021, 1, 1), false},
		{cm, "October 1, 2017", date(2017, 10, 1), false},
		{cm, "1/1/21 0:00", date(2021, 1, 1), false},
		{cm, "soon", time.Time{}, true},
		{cm, "0", time.Time{}, true},
		{cm, "1e308", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := tt.cp.parseEffective(tt.in)
		if !got.Equal(tt.want) || (err != nil) != tt.bad {
			t.Errorf("parseEffective(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestFieldReplacements(t *testing.T) {
	rel := &codeset.Release{System: codeset.HCPCS, Label: "2031", Effective: date(2031, 1, 1),
		Sources: []codeset.SourceFile{{Name: "HCPC2031_ANWEB.xlsx"}},
		Codes: []codeset.Code{
			{Code: "A0001", Status: codeset.StatusDiscontinued, Attrs: map[string]string{"xref": "A0002"}},
			{Code: "A0003", Status: codeset.StatusDiscontinued, Attrs: map[string]string{"xref": "A0004 a0005"}},
			{Code: "A0006", Attrs: map[string]string{"xref": "A0007"}}, // a cross-reference of a live code is no replacement
			{Code: "A0008", Status: codeset.StatusDiscontinued},
		}}
	l := func(o, n string, how codeset.Stated) codeset.Replacement {
		return codeset.Replacement{Old: o, New: n, Source: "HCPC2031_ANWEB.xlsx", Effective: date(2031, 1, 1), How: how}
	}
	want := []codeset.Replacement{l("A0001", "A0002", codeset.StatedDirect), l("A0003", "A0004", codeset.StatedList), l("A0003", "A0005", codeset.StatedList)}
	if got := FieldReplacements(rel, XrefField); !reflect.DeepEqual(got, want) {
		t.Errorf("FieldReplacements = %+v, want %+v", got, want)
	}
}

func TestCrosswalkProfiles(t *testing.T) {
	for _, sys := range []codeset.System{codeset.ICD10CM, codeset.ICD10PCS, codeset.CPT} {
		if _, err := BuiltinCrosswalk(sys); err != nil {
			t.Errorf("%s: %v", sys, err)
		}
	}
	if _, err := BuiltinCrosswalk(codeset.HCPCS); err == nil {
		t.Errorf("hcpcs has a crosswalk profile; its replacements are in XREF")
	}
	for _, bad := range []string{
		`{"system": "cpt", "key": "both", "old": ["A"], "new": ["B"]}`,
		`{"system": "cpt", "key": "old", "old": ["A"]}`,
		`{"system": "cpt", "key": "old", "old": ["A"], "new": ["B"], "year_month": 13}`,
		`{"system": "cpt", "key": "old", "old": ["A"], "new": ["B"], "extra": 1}`,
		`{"system": "loinc", "key": "old", "old": ["A"], "new": ["B"]}`,
	} {
		if _, err := parseCrosswalkProfile([]byte(bad)); err == nil {
			t.Errorf("profile %s accepted", bad)
		}
	}
}
