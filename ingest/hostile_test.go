package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeset/codeset"
)

// hostileBook writes a workbook of one sheet, "Codes", from raw parts: the
// sheet's rows (the XML inside sheetData), and the shared strings when
// shared is not empty. Members are written as streams, so a hostile part of
// hundreds of megabytes costs no memory to build.
func hostileBook(t testing.TB, path string, sheets int, rows func(io.Writer), shared func(io.Writer)) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	put := func(name string, fn func(io.Writer)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		fn(w)
	}
	str := func(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	put("[Content_Types].xml", str(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>`+
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`))
	put("_rels/.rels", str(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	put("xl/workbook.xml", func(w io.Writer) {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><workbook %s><sheets>`, ns)
		for i := 1; i <= sheets; i++ {
			name := "Codes"
			if i > 1 {
				name = "S" + strconv.Itoa(i)
			}
			fmt.Fprintf(w, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, name, i, i)
		}
		io.WriteString(w, `</sheets></workbook>`)
	})
	put("xl/_rels/workbook.xml.rels", func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
		for i := 1; i <= sheets; i++ {
			fmt.Fprintf(w, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i, i)
		}
		if shared != nil {
			fmt.Fprintf(w, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`, sheets+1)
		}
		io.WriteString(w, `</Relationships>`)
	})
	for i := 1; i <= sheets; i++ {
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i), func(w io.Writer) {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet %s><sheetData>`, ns)
			if i == 1 {
				rows(w)
			}
			io.WriteString(w, `</sheetData></worksheet>`)
		})
	}
	if shared != nil {
		put("xl/sharedStrings.xml", func(w io.Writer) {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><sst %s>`, ns)
			shared(w)
			io.WriteString(w, `</sst>`)
		})
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// headerRow is the AMA header row as inline strings, row 1.
const headerRow = `<row r="1"><c r="A1" t="inlineStr"><is><t>CPT Code</t></is></c><c r="B1" t="inlineStr"><is><t>Long Descriptor</t></is></c></row>`

// repeat writes s n times.
func repeat(w io.Writer, s string, n int) {
	chunk := strings.Repeat(s, max(1, 64<<10/len(s)))
	per := len(chunk) / len(s)
	for ; n >= per; n -= per {
		io.WriteString(w, chunk)
	}
	io.WriteString(w, strings.Repeat(s, n))
}

// peakHeap runs fn and returns the most heap it held, sampled every few
// milliseconds, above what was held before.
func peakHeap(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
				mu.Lock()
				peak = max(peak, read())
				mu.Unlock()
			}
		}
	}()
	fn()
	close(done)
	mu.Lock()
	defer mu.Unlock()
	peak = max(peak, read())
	if peak < base {
		return 0
	}
	return peak - base
}

// TestHostileWorkbooks checks that each limit on a workbook stops the read
// while streaming, with a located ErrLimit, for Read and Detect alike.
func TestHostileWorkbooks(t *testing.T) {
	dir := t.TempDir()
	row := func(n int, code, text string) string {
		return fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c><c r="B%d" t="inlineStr"><is><t>%s</t></is></c></row>`, n, n, code, n, text)
	}
	tests := []struct {
		name  string
		file  string
		lim   Limits
		where string // after the file name
		want  string
	}{
		{"giant cell", hostileBook(t, filepath.Join(dir, "cell.xlsx"), 1, func(w io.Writer) {
			io.WriteString(w, headerRow+row(2, "10021", "Drain")+`<row r="3"><c r="A3" t="inlineStr"><is><t>10022</t></is></c><c r="B3" t="inlineStr"><is><t>`)
			repeat(w, "x", 5000)
			io.WriteString(w, `</t></is></c></row>`)
		}, nil), Limits{MaxCellBytes: 1000}, "!Codes row 3 col B: ", "cell of more than 1000 bytes: over the 1000-byte cell limit"},
		{"giant token", hostileBook(t, filepath.Join(dir, "token.xlsx"), 1, func(w io.Writer) {
			io.WriteString(w, headerRow+`<row r="2"><c r="A2"`)
			repeat(w, ` a="1"`, 100_000)
			io.WriteString(w, `/></row>`)
		}, nil), Limits{MaxCellBytes: 1000}, "!Codes row 2: ", "an XML token of more than 81536 bytes: over the cell limit"},
		{"many cells in a row", hostileBook(t, filepath.Join(dir, "wide.xlsx"), 1, func(w io.Writer) {
			io.WriteString(w, headerRow+`<row r="2">`)
			repeat(w, `<c><v>1</v></c>`, 20_000)
			io.WriteString(w, `</row>`)
		}, nil), Limits{}, "!Codes row 2: ", "more than 16384 cells in one row: over the column limit"},
		{"many shared strings", hostileBook(t, filepath.Join(dir, "sst.xlsx"), 1, func(w io.Writer) { io.WriteString(w, headerRow) }, func(w io.Writer) {
			repeat(w, `<si><t>x</t></si>`, 2000)
		}), Limits{MaxSharedStrings: 1000}, ": ", "shared strings (xl/sharedStrings.xml): more than 1000 strings: over the shared-strings limit"},
		{"long shared string", hostileBook(t, filepath.Join(dir, "sstlong.xlsx"), 1, func(w io.Writer) { io.WriteString(w, headerRow) }, func(w io.Writer) {
			io.WriteString(w, `<si><t>a</t></si><si><t>`)
			repeat(w, "y", 3000)
			io.WriteString(w, `</t></si>`)
		}), Limits{MaxCellBytes: 1000}, ": ", "shared strings (xl/sharedStrings.xml): string 2 of more than 1000 bytes: over the 1000-byte cell limit"},
		{"many sheets", hostileBook(t, filepath.Join(dir, "sheets.xlsx"), 30, func(w io.Writer) { io.WriteString(w, headerRow) }, nil),
			Limits{MaxSheets: 20}, ": ", "xl/workbook.xml: more than 20 sheets: over the sheet limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Read(context.Background(), Options{Profile: cptProfile(t), Label: "x", Limits: tt.lim}, tt.file)
			if !errors.Is(err, ErrLimit) || !strings.Contains(fmt.Sprint(err), tt.file+tt.where+tt.want) {
				t.Errorf("Read: err = %v\nwant ErrLimit %q", err, tt.file+tt.where+tt.want)
			}
		})
	}
}

// TestErrorLinesCapped checks that an error listing sheets or zip members
// names the first few and counts the rest.
func TestErrorLinesCapped(t *testing.T) {
	dir := t.TempDir()
	book := hostileBook(t, filepath.Join(dir, "sheets.xlsx"), 500, func(w io.Writer) {
		io.WriteString(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c></row>`)
	}, nil)
	var members []zipMember
	for i := range 5000 {
		members = append(members, zipMember{fmt.Sprintf("docs/readme-%04d.txt", i), []byte("x")})
	}
	zipped := filepath.Join(dir, "cms_2030_dx.zip")
	writeZip(t, zipped, members...)
	tests := []struct {
		name string
		sys  codeset.System
		file string
		want string
	}{
		{"sheets", codeset.CPT, book, `looked in the first 50 rows of sheets "Codes", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10" and 490 more for a header row`},
		{"zip members", codeset.ICD10CM, zipped, `the zip holds "docs/readme-0000.txt" (a text file starting "x"), "docs/readme-0001.txt" (a text file starting "x"), "docs/readme-0002.txt" (a text file starting "x"), "docs/readme-0003.txt" (a text file starting "x"), "docs/readme-0004.txt" (a text file starting "x"), "docs/readme-0005.txt" (a text file starting "x"), "docs/readme-0006.txt" (a text file starting "x"), "docs/readme-0007.txt" (a text file starting "x"), "docs/readme-0008.txt" (a text file starting "x"), "docs/readme-0009.txt" (a text file starting "x") and 4990 more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readSystem(t, tt.sys, "2030", tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
			if n := len(fmt.Sprint(err)); n > 1000 {
				t.Errorf("error line of %d bytes", n)
			}
		})
	}
}

// TestHostileText checks the limits on delimited files: a record is refused
// before encoding/csv holds it whole.
func TestHostileText(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.csv")
	var b bytes.Buffer
	b.WriteString("CPT Code,Long Descriptor\n10021,")
	b.WriteString(strings.Repeat("abcdefgh", 1<<18))
	b.WriteString("\n")
	writeBytes(t, long, b.Bytes())
	wide := writeBytes(t, filepath.Join(dir, "wide.csv"), []byte("CPT Code,Long Descriptor\n10021,"+strings.Repeat(",", 20000)+"x\n"))
	commas := writeBytes(t, filepath.Join(dir, "commas.csv"), []byte("CPT Code,Long Descriptor\n10021,"+strings.Repeat(",", 100_000)+"x\n"))
	tests := []struct {
		name, file, want string
	}{
		{"record over the byte limit", long, long + " line 2: record longer than 1048576 bytes: over the record limit"},
		{"record over the column limit", wide, wide + " row 2 line 2: record of 20002 fields: over the 16384-column limit"},
		{"record of many separators", commas, commas + " line 2: record of more than 65536 separators: over the 16384-column limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readSystem(t, codeset.CPT, "2030", tt.file)
			if !errors.Is(err, ErrLimit) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("err = %v\nwant ErrLimit %q", err, tt.want)
			}
		})
	}
}

// TestHostileInputsFullSize reads the hostile inputs at full size
// and checks that each is refused within a bounded heap, by Read and by
// Detect. Skipped with -short: building them takes seconds.
func TestHostileInputsFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size hostile inputs are skipped with -short")
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		file func() string
		want string
	}{
		{"400 MiB of shared strings in a small workbook", func() string {
			return hostileBook(t, filepath.Join(dir, "sst.xlsx"), 1, func(w io.Writer) { io.WriteString(w, headerRow) }, func(w io.Writer) {
				repeat(w, `<si><t>x</t></si>`, 400<<20/17)
			})
		}, "over the 67108864-byte shared-strings limit"},
		{"3.5 million shared strings under the byte limit", func() string {
			return hostileBook(t, filepath.Join(dir, "sstmany.xlsx"), 1, func(w io.Writer) { io.WriteString(w, headerRow) }, func(w io.Writer) {
				repeat(w, `<si><t>x</t></si>`, 3_500_000)
			})
		}, "more than 1000000 strings: over the shared-strings limit"},
		{"a 400 MB cell", func() string {
			return hostileBook(t, filepath.Join(dir, "cell.xlsx"), 1, func(w io.Writer) {
				io.WriteString(w, headerRow+`<row r="2"><c r="A2" t="inlineStr"><is><t>10021</t></is></c><c r="B2" t="inlineStr"><is><t>`)
				repeat(w, "x", 400<<20)
				io.WriteString(w, `</t></is></c></row>`)
			}, nil)
		}, "cell of more than 65536 bytes: over the 65536-byte cell limit"},
		{"20 million cells in one row", func() string {
			return hostileBook(t, filepath.Join(dir, "wide.xlsx"), 1, func(w io.Writer) {
				io.WriteString(w, headerRow+`<row r="2">`)
				repeat(w, `<c/>`, 20_000_000)
				io.WriteString(w, `</row>`)
			}, nil)
		}, "more than 16384 cells in one row"},
		{"50,000 sheets", func() string {
			return hostileBook(t, filepath.Join(dir, "sheets.xlsx"), 50_000, func(w io.Writer) { io.WriteString(w, headerRow) }, nil)
		}, "more than 1000 sheets: over the sheet limit"},
		{"a 100 MB CSV line of 50 million fields", func() string {
			path := filepath.Join(dir, "line.csv")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			io.WriteString(f, "CPT Code,Long Descriptor\n10021,")
			repeat(f, "a,", 50_000_000)
			io.WriteString(f, "\n")
			return path
		}, "record of more than 65536 separators: over the 16384-column limit"},
	}
	const bound = 64 << 20
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file()
			var err error
			peak := peakHeap(func() { _, _, err = Read(context.Background(), Options{Profile: cptProfile(t), Label: "x"}, file) })
			t.Logf("Read: %.1f MiB peak heap: %v", float64(peak)/(1<<20), err)
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read: err = %v, want ErrLimit %q", err, tt.want)
			}
			if peak > bound {
				t.Errorf("Read held %d MiB of heap, want under %d", peak>>20, bound>>20)
			}
			peak = peakHeap(func() { _, err = Detect([]string{file}) })
			t.Logf("Detect: %.1f MiB peak heap: %v", float64(peak)/(1<<20), err)
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Detect: err = %v, want ErrLimit %q", err, tt.want)
			}
			if peak > bound {
				t.Errorf("Detect held %d MiB of heap, want under %d", peak>>20, bound>>20)
			}
		})
	}
}
