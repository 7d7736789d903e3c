package ingest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// benchXLSX lets a peak-memory measurement read a workbook written by an
// earlier run, so that writing it does not count (see bench/run.sh).
var benchXLSX = flag.String("benchxlsx", "", "BenchmarkReadXLSX100k reads this workbook, writing it first if it is missing (default: a fresh one in a temporary directory)")

// BenchmarkReadXLSX100k measures Read on a 100,000-code CPT workbook: open,
// stream the rows, validate every code, sort. Writing the workbook happens
// before the timed loop.
func BenchmarkReadXLSX100k(b *testing.B) {
	const n = 100_000
	path := *benchXLSX
	if path == "" {
		path = filepath.Join(b.TempDir(), "cpt100k.xlsx")
	}
	if _, err := os.Stat(path); err != nil {
		writeBenchWorkbook(b, path, n, 1)
	}
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
	opts := Options{Profile: cptProfile(b), Label: "2026"}
	ctx := context.Background()
	for b.Loop() {
		rel, _, err := Read(ctx, opts, path)
		if err != nil {
			b.Fatal(err)
		}
		if len(rel.Codes) != n {
			b.Fatalf("read %d codes, want %d", len(rel.Codes), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/code")
}

// writeBenchWorkbook writes a CPT workbook of n unique, valid codes the way
// AMA lays it out: a title row, a blank row, the header row, then one row per
// code. The descriptors are random but realistic in length and wording; the
// same seed gives the same workbook. It uses excelize's StreamWriter, so
// writing 100,000 rows takes seconds and little memory. n is at most 111,110.
func writeBenchWorkbook(tb testing.TB, path string, n int, seed int) {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	const name = "CPT 2026"
	if err := f.SetSheetName("Sheet1", name); err != nil {
		tb.Fatal(err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		tb.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"CPT 2026 synthetic benchmark release"}); err != nil {
		tb.Fatal(err)
	}
	// Row 2 stays blank: a missing row reads as an empty one.
	if err := sw.SetRow("A3", amaHeader); err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x1ce))
	row := make([]any, 4)
	for i := range n {
		row[0] = benchCode(i)
		row[1] = strings.ToUpper(benchPhrase(r, 25))
		row[2] = benchPhrase(r, 50)
		row[3] = benchPhrase(r, 120)
		cell, _ := excelize.CoordinatesToCellName(1, i+4)
		if err := sw.SetRow(cell, row); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
}

// benchCode returns the i'th code of a synthetic release: every tenth is a
// Category II, III or PLA code in turn, the rest are 5-digit Category I
// codes. Codes are unique and valid for i < 111,110.
func benchCode(i int) string {
	if i%10 == 0 {
		j := i / 10
		return fmt.Sprintf("%04d%c", j/3, "FTU"[j%3])
	}
	return fmt.Sprintf("%05d", i-i/10-1)
}

var benchWords = strings.Fields(`
	incision drainage abscess skin subcutaneous tissue simple complicated single multiple
	excision lesion benign malignant trunk arms legs scalp neck hands feet genitalia
	repair laceration layered intermediate complex wound closure debridement muscle fascia
	bone removal foreign body implant device insertion replacement catheter tunneled central
	venous access port pump arthroscopy knee shoulder hip surgical diagnostic synovial biopsy
	percutaneous imaging guidance ultrasound fluoroscopic computed tomography magnetic
	resonance radiological supervision interpretation contrast material without with each
	additional first initial subsequent unilateral bilateral anterior posterior approach
	endoscopic laparoscopic open reduction fracture dislocation manipulation anesthesia
	evaluation management office outpatient visit new established patient medical decision
	making straightforward low moderate high level total time minutes spent on date encounter
	when performed including separate procedure list addition code primary for of and or the
	to by in`)

// benchPhrase returns random words from benchWords, about want characters
// long.
func benchPhrase(r *rand.Rand, want int) string {
	var sb strings.Builder
	target := want*3/4 + r.IntN(want/2+1)
	for sb.Len() < target {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(benchWords[r.IntN(len(benchWords))])
	}
	s := sb.String()
	return strings.ToUpper(s[:1]) + s[1:]
}
