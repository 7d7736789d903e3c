package ingest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

// rewriteZip copies the zip at src to dst, passing each member through
// edit; a nil result leaves the member out.
func rewriteZip(t testing.TB, src, dst string, edit func(name string, data []byte) []byte) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if data = edit(zf.Name, data); data == nil {
			continue
		}
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// editPart returns an edit for rewriteZip that changes one member.
func editPart(part string, fn func(string) string) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		if name == part {
			return []byte(fn(string(data)))
		}
		return data
	}
}

// cptBook writes a workbook of n CPT codes on one sheet, "Codes", its
// strings inline (t="inlineStr") when inline is set so that a test can
// edit a cell's text in the sheet's XML.
func cptBook(t testing.TB, path string, n int, inline bool) string {
	t.Helper()
	rows := [][]any{amaHeader}
	for i := range n {
		rows = append(rows, []any{strconv.Itoa(10000 + i), fmt.Sprintf("Short %d", i), fmt.Sprintf("Medium %d", i), fmt.Sprintf("Long descriptor %d", i)})
	}
	if !inline {
		writeXLSX(t, path, sheet{"Codes", rows})
		return path
	}
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "Codes")
	sw, err := f.NewStreamWriter("Codes")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadDamagedWorkbook checks that a workbook whose XML is damaged fails
// with a located error instead of publishing the rows before the damage:
// excelize itself stops at the first XML error without a word.
func TestReadDamagedWorkbook(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	book := cptBook(t, filepath.Join(dir, "src", "cpt.xlsx"), 100, true)
	const sheet1 = "xl/worksheets/sheet1.xml"
	type tc struct {
		name string
		file string
		kind error
		want string // after the file name
	}
	damage := func(name string, fn func(string) string) string {
		return rewriteZip(t, book, filepath.Join(dir, strings.ReplaceAll(name, " ", "-"), "cpt.xlsx"), editPart(sheet1, fn))
	}
	tests := []tc{
		{"xml syntax error mid-sheet", damage("syntax", func(s string) string {
			return strings.Replace(s, `<row r="60"`, `<row r="60" <`, 1)
		}), ErrFormat, "!Codes row 59 col D: damaged XML on line 2: "},
		{"sheet cut mid-way", damage("cut", func(s string) string {
			return s[:strings.Index(s, `<row r="70"`)+30]
		}), ErrFormat, "!Codes row 70"},
		{"undefined entity blanks a cell", damage("entity", func(s string) string {
			return strings.Replace(s, "Medium 98<", "Medium&nbsp;98<", 1)
		}), ErrFormat, "!Codes row 100 col C: damaged XML on line 2: invalid character entity &nbsp;"},
		{"fewer rows than the sheet declares", damage("dimension", func(s string) string {
			s = strings.Replace(s, `<dimension ref="A1:D101"/>`, `<dimension ref="A1:D130"/>`, 1)
			if !strings.Contains(s, "A1:D130") {
				s = strings.Replace(s, "<sheetData>", `<dimension ref="A1:D130"/><sheetData>`, 1)
			}
			return s
		}), ErrFormat, "!Codes: the sheet declares rows up to 130 (dimension A1:D130) but its last row is 101: it is cut short"},
		{"rows out of order", damage("order", func(s string) string {
			return strings.Replace(s, `<row r="50"`, `<row r="40"`, 1)
		}), ErrFormat, "!Codes row 49: row 40 follows row 49: rows out of order"},
		{"cells out of order", damage("cells", func(s string) string {
			return strings.Replace(s, `<c r="C30"`, `<c r="A30"`, 1)
		}), ErrFormat, "!Codes row 30 col B: cell A30 out of place after column 2 of row 30"},
		{"mismatched tags", damage("tags", func(s string) string {
			return strings.Replace(s, `</row><row r="80"`, `</c><row r="80"`, 1)
		}), ErrFormat, "!Codes row 79 col D: damaged XML: <row> closed by </c>"},
		{"shared string out of the table", rewriteZip(t, cptBook(t, filepath.Join(dir, "src", "shared.xlsx"), 20, false), filepath.Join(dir, "sst", "cpt.xlsx"),
			editPart(sheet1, func(s string) string {
				i := strings.Index(s, `<c r="B10" t="s"><v>`) + len(`<c r="B10" t="s"><v>`)
				j := i + strings.Index(s[i:], "<")
				return s[:i] + "99999" + s[j:]
			})), ErrFormat, `!Codes row 10 col B: shared string "99999": the workbook holds`},
		{"shared strings cut short", rewriteZip(t, cptBook(t, filepath.Join(dir, "src", "shared.xlsx"), 20, false), filepath.Join(dir, "sstcut", "cpt.xlsx"),
			editPart("xl/sharedStrings.xml", func(s string) string { return s[:len(s)*2/3] })), ErrFormat,
			": shared strings (xl/sharedStrings.xml): string "},
		{"missing sheet part", rewriteZip(t, book, filepath.Join(dir, "nopart", "cpt.xlsx"), func(name string, data []byte) []byte {
			if name == sheet1 {
				return nil
			}
			return data
		}), ErrFormat, `!Codes: the workbook lacks the sheet's part ("xl/worksheets/sheet1.xml"): it is damaged`},
	}
	if _, err := os.Stat(filepath.Join(realdataDir(), "SOURCES.md")); err == nil {
		// The case: the 2019 HCPCS workbook cut at row 6,603.
		real := realdata(t, "hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx")
		tests = append(tests,
			tc{"real hcpcs sheet cut at row 6603", rewriteZip(t, real, filepath.Join(dir, "real", "HCPC2019_CONTR_ANWEB.xlsx"), editPart(sheet1, func(s string) string {
				return s[:strings.Index(s, `<row r="6603"`)+200]
			})), ErrFormat, "!A row 6603"},
			tc{"real hcpcs syntax error at row 6603", rewriteZip(t, real, filepath.Join(dir, "realsyntax", "HCPC2019_CONTR_ANWEB.xlsx"), editPart(sheet1, func(s string) string {
				return strings.Replace(s, `<row r="6603"`, `<row r="6603"<`, 1)
			})), ErrFormat, "!A row 6602 col AV: damaged XML on line 2"},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := codeset.CPT
			if strings.Contains(tt.file, "HCPC") {
				sys = codeset.HCPCS
			}
			rel, _, err := readSystem(t, sys, "2030", tt.file)
			if err == nil {
				t.Fatalf("read %d codes, want an error", len(rel.Codes))
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want kind %v", err, tt.kind)
			}
			if want := tt.file + tt.want; !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q\nwant it to contain %q", err, want)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes, want one short line", len(err.Error()))
			}
		})
	}
}

// TestReadUndamagedWorkbooks reads the real workbooks whole: the checks that
// catch damage must let every real release through, with the codes the
// publisher's text file holds.
func TestReadUndamagedWorkbooks(t *testing.T) {
	if testing.Short() {
		t.Skip("reading four real workbooks whole is skipped with -short")
	}
	for _, tt := range []struct{ book, text string }{
		{"hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx", "hcpcs/2019/HCPC2019_CONTR_ANWEB.txt"},
		{"hcpcs/2017/HCPC17_CONTR_ANWEB.xlsx", ""},
		{"hcpcs/2018/HCPC2018_CONTR_ANWEB_disc.xlsx", ""},
		{"hcpcs/2020-quarterly/anweb_2020_07.xlsx", ""},
	} {
		t.Run(tt.book, func(t *testing.T) {
			rel, _ := mustReadSystem(t, codeset.HCPCS, "2030", realdata(t, tt.book))
			if tt.text == "" {
				return
			}
			trel, _ := mustReadSystem(t, codeset.HCPCS, "2030", realdata(t, tt.text))
			if len(rel.Codes) != len(trel.Codes) {
				t.Errorf("workbook %d codes, text file %d", len(rel.Codes), len(trel.Codes))
			}
		})
	}
}

// TestReadHiddenSheets checks that a hidden sheet is read only when no
// visible sheet has a header row, and that the report says so.
func TestReadHiddenSheets(t *testing.T) {
	dir := t.TempDir()
	stale := sheet{"Old", [][]any{amaHeader, {"10021", "Stale", "Stale", "Stale code from last year"}}}
	fresh := sheet{"Codes", [][]any{amaHeader, {"10022", "New", "New", "This year's code"}}}
	notes := sheet{"Notes", [][]any{{"Read me"}}}
	write := func(name string, state map[string]string, sheets ...sheet) string {
		path := filepath.Join(dir, name)
		writeXLSX(t, path, sheets...)
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i, sh := range sheets {
			if state[sh.name] == "" {
				f.SetActiveSheet(i) // excelize hides no selected sheet
				break
			}
		}
		for sh, st := range state {
			if err := f.SetSheetVisible(sh, false, st == "veryHidden"); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Save(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name      string
		file      string
		wantCode  string
		wantSheet string
		warning   string
	}{
		{"hidden before visible", write("hidden.xlsx", map[string]string{"Old": "hidden"}, stale, fresh), "10022", "Codes", ""},
		{"very hidden before visible", write("veryhidden.xlsx", map[string]string{"Old": "veryHidden"}, stale, fresh), "10022", "Codes", ""},
		{"only a hidden sheet has codes", write("onlyhidden.xlsx", map[string]string{"Old": "hidden"}, notes, stale), "10021", "Old",
			`read the hidden sheet "Old": no visible sheet has a header row`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel, rep := mustReadSystem(t, codeset.CPT, "2030", tt.file)
			if len(rel.Codes) != 1 || rel.Codes[0].Code != tt.wantCode || rep.Files[0].Sheet != tt.wantSheet {
				t.Errorf("read %v from sheet %q, want %s from %q", codesOf(rel.Codes), rep.Files[0].Sheet, tt.wantCode, tt.wantSheet)
			}
			got := strings.Join(rep.Warnings, "\n")
			if tt.warning == "" && got != "" || !strings.Contains(got, tt.warning) {
				t.Errorf("warnings = %q, want %q", got, tt.warning)
			}
		})
	}
}

// TestReadForeignSpreadsheets checks that spreadsheets codeset does not read
// are named for what they are, by Read and by Detect.
func TestReadForeignSpreadsheets(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.xlsx")
	writeXLSX(t, plain, sheet{"S", [][]any{amaHeader, {"10021", "a", "b", "c"}}})
	encrypted := filepath.Join(dir, "locked.xlsx")
	f, err := excelize.OpenFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(encrypted, excelize.Options{Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var ods bytes.Buffer
	zw := zip.NewWriter(&ods)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	w.Write([]byte("application/vnd.oasis.opendocument.spreadsheet"))
	w, _ = zw.Create("content.xml")
	w.Write([]byte(`<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>`))
	zw.Close()
	odsFile := writeBytes(t, filepath.Join(dir, "codes.ods"), ods.Bytes())
	odsAsXLSX := writeBytes(t, filepath.Join(dir, "codes.xlsx"), ods.Bytes())
	noWorkbook := filepath.Join(dir, "empty.xlsx")
	writeZip(t, noWorkbook, zipMember{"readme.txt", []byte("hello")})

	tests := []struct {
		name string
		file string
		want string
	}{
		{"encrypted xlsx", encrypted, encrypted + ": an encrypted (password-protected) Excel workbook, which codeset cannot read"},
		{"ods", odsFile, odsFile + ": an OpenDocument spreadsheet (.ods), which codeset does not read: save it as .xlsx or CSV"},
		{"ods named xlsx", odsAsXLSX, odsAsXLSX + ": an OpenDocument spreadsheet (.ods)"},
		{"zip without a workbook", noWorkbook, noWorkbook + ": not an XLSX workbook: it has no workbook part (xl/workbook.xml)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readSystem(t, codeset.CPT, "2030", tt.file)
			if !errors.Is(err, ErrFormat) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("Read: err = %v\nwant %q", err, tt.want)
			}
			if _, err := Detect([]string{tt.file}); !errors.Is(err, ErrFormat) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("Detect: err = %v\nwant %q", err, tt.want)
			}
		})
	}
}

// allocated runs fn and returns the bytes it allocated on the heap.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
