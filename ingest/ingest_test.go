package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

type sheet struct {
	name string
	rows [][]any
}

// writeXLSX writes a workbook of the given sheets. A cell value of type
// padded is written as a number with a "00000" format, the way anesthesia
// codes often arrive.
type padded int

func writeXLSX(t testing.TB, path string, sheets ...sheet) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("00000")})
	if err != nil {
		t.Fatal(err)
	}
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sh.rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if p, ok := v.(padded); ok {
					v = int(p)
					if err := f.SetCellStyle(sh.name, cell, cell, style); err != nil {
						t.Fatal(err)
					}
				}
				if err := f.SetCellValue(sh.name, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func cptProfile(t testing.TB) *Profile {
	t.Helper()
	p, err := Builtin(codeset.CPT)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var amaHeader = []any{"CPT Code", "Short Descriptor", "Medium Descriptor", "Long Descriptor"}

func TestReadXLSX(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cpt.xlsx")
	writeXLSX(t, path,
		sheet{"Read me", [][]any{{"This workbook holds synthetic codes."}, {"No header here."}}},
		sheet{"Codes 2026", [][]any{
			{"Synthetic release 2026"},
			{},
			{"Disclaimer line"},
			amaHeader,
			{"10021", " Drain  skin ", "Drain skin abscess", "Incision and drainage of a skin\u00a0abscess"},
			{padded(100), "Anesth head", "Anesthesia head", "Anesthesia for head procedures"},
			{},
			{},
			{"1123f", "Care plan noted", "", "Care plan documented"},
			{"0042T", "Scan", "", "Emerging imaging scan"},
			{"0001U", "Lab panel", "", "Proprietary laboratory panel"},
			{102, "Anesth neck", "", "Anesthesia for neck procedures"},
		}},
	)
	rel, rep, err := Read(context.Background(), Options{Profile: cptProfile(t), Label: "2026"}, path)
	if err != nil {
		t.Fatal(err)
	}
	want := []codeset.Code{
		{Code: "0001U", Category: "PLA", Short: "Lab panel", Long: "Proprietary laboratory panel"},
		{Code: "00100", Category: "I", Short: "Anesth head", Medium: "Anesthesia head", Long: "Anesthesia for head procedures"},
		{Code: "00102", Category: "I", Short: "Anesth neck", Long: "Anesthesia for neck procedures"},
		{Code: "0042T", Category: "III", Short: "Scan", Long: "Emerging imaging scan"},
		{Code: "10021", Category: "I", Short: "Drain  skin", Medium: "Drain skin abscess", Long: "Incision and drainage of a skin abscess"},
		{Code: "1123F", Category: "II", Short: "Care plan noted", Long: "Care plan documented"},
	}
	if !reflect.DeepEqual(rel.Codes, want) {
		t.Errorf("codes:\n got %+v\nwant %+v", rel.Codes, want)
	}
	if rep.Padded != 1 {
		t.Errorf("padded = %d, want 1 (the bare 102; 00100 is formatted)", rep.Padded)
	}
	if len(rep.Files) != 1 || rep.Files[0].Sheet != "Codes 2026" || rep.Files[0].HeaderRow != 4 {
		t.Errorf("file report = %+v, want sheet %q header row 4", rep.Files, "Codes 2026")
	}
	if len(rel.Sources) != 1 || rel.Sources[0].Name != "cpt.xlsx" || len(rel.Sources[0].SHA256) != 64 {
		t.Errorf("sources = %+v", rel.Sources)
	}
}

func TestReadCSVPlainHeaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cpt.csv")
	data := "\ufeffCode,Description\r\n99999,\"Office visit, new patient\"\r\n,\r\n0500F,Tracking code\r\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	rel, _, err := Read(context.Background(), Options{Profile: cptProfile(t), Label: "2026"}, path)
	if err != nil {
		t.Fatal(err)
	}
	want := []codeset.Code{
		{Code: "0500F", Category: "II", Long: "Tracking code"},
		{Code: "99999", Category: "I", Long: "Office visit, new patient"},
	}
	if !reflect.DeepEqual(rel.Codes, want) {
		t.Errorf("codes = %+v, want %+v", rel.Codes, want)
	}
}

func TestReadMappedHeaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "custom.tsv")
	data := "Proc\tText\tPrice\n10021\tDrain skin abscess\t12.50\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	p := cptProfile(t)
	if _, _, err := Read(context.Background(), Options{Profile: p, Label: "x"}, path); !errors.Is(err, ErrNoHeader) {
		t.Fatalf("unmapped: err = %v, want ErrNoHeader", err)
	}
	for _, m := range []string{"code=Proc", "long=Text", "price=Price"} {
		if err := p.Map(m); err != nil {
			t.Fatal(err)
		}
	}
	rel, _, err := Read(context.Background(), Options{Profile: p, Label: "x"}, path)
	if err != nil {
		t.Fatal(err)
	}
	want := codeset.Code{Code: "10021", Category: "I", Long: "Drain skin abscess", Attrs: map[string]string{"price": "12.50"}}
	if len(rel.Codes) != 1 || !reflect.DeepEqual(rel.Codes[0], want) {
		t.Errorf("codes = %+v, want %+v", rel.Codes, want)
	}
}

func TestLoadProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	js := `{"system":"cpt","columns":[{"field":"code","headers":["Proc"]},{"field":"long","headers":["Text"]}],
		"codes":[{"category":"I","pattern":"[0-9]{5}","want":"5 digits"}],"width":5}`
	if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cat, ok := p.category("12345"); !ok || cat != "I" {
		t.Errorf("category(12345) = %q, %v", cat, ok)
	}
	if _, ok := p.category("1234F"); ok {
		t.Errorf("1234F accepted by a Category I only profile")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"system":"cpt","columns":[],"codes":[]}`), 0o644)
	if _, err := LoadProfile(bad); err == nil || !strings.Contains(err.Error(), "no \"code\" column") {
		t.Errorf("bad profile: err = %v", err)
	}
}

func TestMapRejectsBadSpecs(t *testing.T) {
	p := cptProfile(t)
	for _, spec := range []string{"", "code", "=X", "code=", "category=Cat"} {
		if err := p.Map(spec); err == nil {
			t.Errorf("Map(%q) = nil, want error", spec)
		}
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	xlsx := func(name string, rows ...[]any) string {
		p := filepath.Join(dir, name)
		writeXLSX(t, p, sheet{"Data", rows})
		return p
	}
	text := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		files []string
		kind  error
		msg   string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.xlsx")}, ErrNotFound, "nope.xlsx: file not found"},
		{"text named xlsx", []string{text("notes.xlsx", "just some text\n")}, ErrFormat, "notes.xlsx: not an XLSX workbook: the file is not a zip archive"},
		{"corrupt zip", []string{text("broken.xlsx", "PK\x03\x04garbage that is not a zip")}, ErrFormat, "broken.xlsx: not a readable XLSX workbook: zip: not a valid zip file"},
		{"legacy xls", []string{text("old.xls", string(oleMagic)+"rest")}, ErrFormat, "old.xls: legacy Excel 97-2003 (.xls) workbook"},
		{"no header", []string{xlsx("nohead.xlsx", []any{"Procedure", "Text"}, []any{"10021", "x"})}, ErrNoHeader,
			`nohead.xlsx: no sheet with a recognisable code column: looked in the first 50 rows of sheets "Data" for a header row with a code column ("CPT Code"`},
		{"bad code", []string{xlsx("badcode.xlsx", amaHeader, []any{"10021", "a", "b", "c"}, []any{"123F", "a", "b", "c"})}, ErrBadCode,
			`badcode.xlsx!Data row 3 col A (CPT Code): bad code "123F": want 5 digits (Category I), 4 digits + F (Category II), 4 digits + T (Category III) or 4 digits + U (PLA)`},
		{"bad code letters", []string{xlsx("badcode2.xlsx", amaHeader, []any{"ABCDE", "a", "b", "c"})}, ErrBadCode,
			`badcode2.xlsx!Data row 2 col A (CPT Code): bad code "ABCDE": want 5 digits`},
		{"missing code", []string{xlsx("nocode.xlsx", amaHeader, []any{"", "a", "b", "c"})}, ErrMissingValue,
			`nocode.xlsx!Data row 2 col A (CPT Code): missing code`},
		{"no descriptor", []string{xlsx("nodesc.xlsx", amaHeader, []any{"10021"})}, ErrMissingValue,
			`nodesc.xlsx!Data row 2 col B (Short Descriptor): code 10021 has no descriptor`},
		{"duplicate differs", []string{xlsx("dup.xlsx", amaHeader, []any{"10021", "a", "b", "c"}, []any{"10021", "a", "b", "d"})}, ErrDuplicate,
			`dup.xlsx!Data row 3: duplicate code "10021" with a different record than ` + filepath.Join(dir, "dup.xlsx") + `!Data row 2 (long "c" vs "d")`},
		{"empty release", []string{xlsx("empty.xlsx", []any{"Title"}, amaHeader, []any{}, []any{})}, ErrNoCodes, "empty.xlsx: no codes found"},
		{"unsupported", []string{text("codes.pdf", "%PDF")}, ErrFormat, `codes.pdf: unsupported file: a PDF document; want a spreadsheet or CSV file with a code column`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Read(context.Background(), Options{Profile: cptProfile(t), Label: "2026"}, tt.files...)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want kind %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err spans lines: %q", err)
			}
		})
	}
}

func TestReadMergesExactRepeats(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.xlsx"), filepath.Join(dir, "b.xlsx")
	writeXLSX(t, a, sheet{"S", [][]any{amaHeader, {"10021", "a", "b", "c"}, {"10021", "a", "b", "c"}}})
	writeXLSX(t, b, sheet{"S", [][]any{amaHeader, {"0042T", "x", "y", "z"}, {"10021", "a", "b", "c"}}})
	rel, rep, err := Read(context.Background(), Options{Profile: cptProfile(t), Label: "2026"}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Codes) != 2 || rep.Merged != 2 || len(rel.Sources) != 2 {
		t.Errorf("codes %d merged %d sources %d, want 2 2 2", len(rel.Codes), rep.Merged, len(rel.Sources))
	}
}

func TestReadBadLabel(t *testing.T) {
	if _, _, err := Read(context.Background(), Options{Profile: cptProfile(t), Label: "../x"}, "f.xlsx"); err == nil {
		t.Error("label ../x accepted")
	}
}
