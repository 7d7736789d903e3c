package changelog

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

func addedChangelog(n int) *codeset.Changelog {
	l := &codeset.Changelog{System: codeset.CPT, To: "2026"}
	for i := range n {
		code := fmt.Sprintf("%07d", i)
		l.Changes = append(l.Changes, codeset.Change{Code: code, Kind: codeset.Added, Category: "I",
			Record: codeset.Code{Code: code, Long: "d"}})
	}
	l.Summary.Added = n
	return l
}

// TestXLSXSplitsLongSheets is hole 7 of issue 12: a kind with more rows
// than a worksheet holds continues on further sheets instead of panicking
// in cellName. The limit is lowered here; TestXLSXOverExcelLimit runs the
// real one.
func TestXLSXSplitsLongSheets(t *testing.T) {
	defer func(n int) { sheetRows = n }(sheetRows)
	sheetRows = 10
	var b bytes.Buffer
	if err := WriteXLSX(&b, addedChangelog(25)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList()[:7], []string{"Summary", "All changes", "All changes (2)", "All changes (3)", "Added", "Added (2)", "Added (3)"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sheets = %v, want %v", got, want)
	}
	total := 0
	for _, s := range []string{"Added", "Added (2)", "Added (3)"} {
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > sheetRows || rows[0][0] != "Code" {
			t.Errorf("%s: %d rows, header %v", s, len(rows), rows[0])
		}
		total += len(rows) - 1
	}
	if total != 25 {
		t.Errorf("%d change rows in all, want 25", total)
	}
}

// TestXLSXOverExcelLimit writes a changelog of 1,048,576 added codes, one
// more than a worksheet holds with its header: the old code panicked. It
// takes about two minutes and 3.5 GB of memory (excelize keeps every cell),
// so it runs only with CODESET_HUGE=1.
func TestXLSXOverExcelLimit(t *testing.T) {
	if testing.Short() || os.Getenv("CODESET_HUGE") == "" {
		t.Skip("huge: set CODESET_HUGE=1 to write a workbook of over a million rows (2 minutes, 3.5 GB)")
	}
	n := excelize.TotalRows
	var b bytes.Buffer
	if err := WriteXLSX(&b, addedChangelog(n)); err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d rows: %d bytes of XLSX; %d MiB allocated from the system", n, b.Len(), ms.Sys>>20)
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList()[:3], []string{"Summary", "Added", "Added (2)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sheets = %v, want %v", got, want)
	}
}

// TestCSVNeutralizesFormulas is part of hole 9: a descriptor starting with
// a formula prefix must not run as a formula in a spreadsheet.
func TestCSVNeutralizesFormulas(t *testing.T) {
	l := &codeset.Changelog{System: codeset.CPT, To: "2026"}
	evil := []string{"=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "plain", ""}
	for i, d := range evil {
		code := fmt.Sprintf("1000%d", i)
		l.Changes = append(l.Changes, codeset.Change{Code: code, Kind: codeset.Revised, Category: "I",
			Fields: map[string]codeset.FieldChange{"long": {Before: d, After: d}}, Record: codeset.Code{Code: code, Long: d}})
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, l); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && bytes.ContainsRune([]byte("=+-@\t\r"), rune(cell[0])) {
				t.Errorf("row %d: cell %q starts with a formula prefix", i+1, cell)
			}
		}
		// (encoding/csv drops a lone CR inside quotes on reading.)
		if want := evil[i]; want != "" && want != "plain" && !strings.HasPrefix(row[6], "'") {
			t.Errorf("row %d description = %q, want it to start with an apostrophe", i+1, row[6])
		}
	}
}
