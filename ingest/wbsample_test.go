package ingest

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset/internal/realfiles"
	"github.com/xuri/excelize/v2"
)

// sameSample checks that the streaming sampler gives what excelize gives
// on the workbook at path: the same sheets, the same first rows, cell for
// cell, and an error exactly when excelize has one. It reports whether the
// sampler had to fall back to excelize.
func sameSample(t *testing.T, path string) (fellBack bool) {
	t.Helper()
	lim := DefaultLimits
	want, werr := workbookSampleExcelize(path, lim)
	got, gerr := sampleWorkbook(context.Background(), path, lim)
	if errors.Is(gerr, errSampleFallback) {
		return true
	}
	if (werr == nil) != (gerr == nil) {
		t.Errorf("%s: error %v, excelize's %v", path, gerr, werr)
		return false
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d sheets, excelize %d", path, len(got), len(want))
		return false
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.name != w.name {
			t.Errorf("%s: sheet %d is %q, excelize's %q", path, i, g.name, w.name)
		}
		if len(g.rows) != len(w.rows) {
			t.Errorf("%s!%s: %d rows, excelize %d", path, w.name, len(g.rows), len(w.rows))
		}
		for r := range min(len(g.rows), len(w.rows)) {
			if !reflect.DeepEqual(g.rows[r], w.rows[r]) {
				t.Errorf("%s!%s row %d:\n got %q\nwant %q", path, w.name, r+1, g.rows[r], w.rows[r])
			}
		}
	}
	return false
}

// readAll reads every row of every sheet of a workbook, with the values
// the scan renders or, when plain, excelize's alone; an error ends a
// sheet's rows and is kept as its last line.
func readAll(t *testing.T, path string, plain bool) [][]string {
	t.Helper()
	ctx := context.Background()
	wb, err := openWorkbook(ctx, path, path, DefaultLimits)
	if err != nil {
		return [][]string{{"open: " + err.Error()}}
	}
	defer wb.Close()
	wb.plain = plain
	var out [][]string
	for _, sh := range wb.readOrder() {
		out = append(out, []string{"sheet " + sh.name})
		rows, err := wb.rows(ctx, sh)
		if err != nil {
			out = append(out, []string{"rows: " + err.Error()})
			continue
		}
		for rows.Next() {
			cells, err := rows.Columns()
			if err != nil {
				out = append(out, []string{"columns: " + err.Error()})
				break
			}
			out = append(out, append([]string{"row"}, cells...))
		}
		if err := rows.Err(); err != nil {
			out = append(out, []string{"err: " + err.Error()})
		}
		if err := rows.Close(); err != nil {
			out = append(out, []string{"close: " + err.Error()})
		}
	}
	return out
}

// sameRead checks that a full read with the scan's values gives what
// excelize gives, row for row, error for error.
func sameRead(t *testing.T, path string) {
	t.Helper()
	got, want := readAll(t, path, false), readAll(t, path, true)
	for i := range max(len(got), len(want)) {
		var g, w []string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s line %d of the read:\n got %q\nwant %q", path, i, g, w)
			return
		}
	}
}

// TestSampleMatchesExcelizeReal compares the two samplers on every
// workbook of the real releases, given alone or inside a zip.
func TestSampleMatchesExcelizeReal(t *testing.T) {
	root := realfiles.Need(t)
	tmp := t.TempDir()
	var books []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".xlsx", ".xlsm":
			books = append(books, p)
		case ".zip":
			zr, err := zip.OpenReader(p)
			if err != nil {
				return err
			}
			defer zr.Close()
			for i, zf := range zr.File {
				if e := strings.ToLower(filepath.Ext(zf.Name)); e != ".xlsx" && e != ".xlsm" {
					continue
				}
				dst := filepath.Join(tmp, fmt.Sprintf("%d-%s", len(books), filepath.Base(zf.Name)))
				if err := unpack(zr.File[i], dst, DefaultLimits); err != nil {
					return err
				}
				books = append(books, dst)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(books) == 0 {
		t.Fatalf("no workbooks found under %s", root)
	}
	for _, p := range books {
		if sameSample(t, p) {
			t.Errorf("%s: sampled through excelize, not streamed", p)
		}
		sameRead(t, p)
	}
	t.Logf("%d workbooks compared", len(books))
}

const (
	testMainNS = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	testRelNS  = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
)

// craftedBook writes a workbook whose sheets are given as the XML of their
// sheetData (or whole parts when they start with "<?xml"), with a
// shared-strings part and a styles part.
func craftedBook(t *testing.T, path, sst, styles, wbPr string, sheets ...string) {
	t.Helper()
	wb := `<?xml version="1.0" encoding="UTF-8"?><workbook ` + testMainNS + ` ` + testRelNS + `>` + wbPr + `<sheets>`
	rels := `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	var parts []zipMember
	add := func(name, data string) { parts = append(parts, zipMember{name, []byte(data)}) }
	for i, s := range sheets {
		state := ""
		if i == 1 {
			state = ` state="hidden"`
		}
		wb += fmt.Sprintf(`<sheet name="Sheet %d" sheetId="%d"%s r:id="rId%d"/>`, i+1, i+1, state, i+1)
		rels += fmt.Sprintf(`<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		if !strings.HasPrefix(s, "<?xml") {
			s = `<?xml version="1.0" encoding="UTF-8"?><worksheet ` + testMainNS + ` ` + testRelNS + `><sheetData>` + s + `</sheetData></worksheet>`
		}
		add(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), s)
	}
	wb += `</sheets></workbook>`
	rels += `</Relationships>`
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	add("xl/workbook.xml", wb)
	add("xl/_rels/workbook.xml.rels", rels)
	if sst != "" {
		add("xl/sharedStrings.xml", sst)
	}
	if styles != "" {
		add("xl/styles.xml", styles)
	}
	writeZip(t, path, parts...)
}

// craftedStyles has a general style (0), a zero-padded code format (1), a
// date format (2), a built-in date format (3), a text format (4) and a
// format that prefixes text (5).
const craftedStyles = `<?xml version="1.0" encoding="UTF-8"?><styleSheet ` + testMainNS + `>` +
	`<numFmts count="3"><numFmt numFmtId="164" formatCode="00000"/><numFmt numFmtId="165" formatCode="mm-dd-yy"/><numFmt numFmtId="166" formatCode="&quot;code &quot;@"/></numFmts>` +
	`<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>` +
	`<fills count="1"><fill><patternFill patternType="none"/></fill></fills>` +
	`<borders count="1"><border/></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
	`</styleSheet>`

// craftedSST: plain strings, a rich text run, a phonetic run, an escaped
// control character, spaces kept, an empty string.
func craftedSST(extra int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst ` + testMainNS + `>`)
	b.WriteString(`<si><t>HCPC</t></si>`)                                                                    // 0
	b.WriteString(`<si><t>LONG DESCRIPTION</t></si>`)                                                        // 1
	b.WriteString(`<si><r><rPr><b/></rPr><t>Rich </t></r><r><t xml:space="preserve">text  run</t></r></si>`) // 2
	b.WriteString(`<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></si>`)                                   // 3
	b.WriteString(`<si><t>line_x000D_break &amp; &lt;tag&gt;</t></si>`)                                      // 4
	b.WriteString(`<si><t xml:space="preserve">  padded  </t></si>`)                                         // 5
	b.WriteString(`<si><t/></si>`)                                                                           // 6
	b.WriteString(`<si><t>A0021</t></si>`)                                                                   // 7
	for i := range extra {
		fmt.Fprintf(&b, `<si><t>late %d</t></si>`, i)
	}
	b.WriteString(`</sst>`)
	return b.String()
}

// TestSampleMatchesExcelizeCrafted compares the two samplers on workbooks
// made to hold what real ones may: shared and inline strings, rich text,
// empty and formula cells, number formats, gaps, hidden sheets, prefixed
// namespaces, more rows than the sample, and damage part way.
func TestSampleMatchesExcelizeCrafted(t *testing.T) {
	dir := t.TempDir()
	var many strings.Builder
	for r := 1; r <= 3*sampleRows; r++ {
		fmt.Fprintf(&many, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="C%d"><v>%d</v></c></row>`, r, r, 8+r%50, r, r*7)
	}
	mixed := `<row r="1" spans="1:9"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="D1" t="s"><v>2</v></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>7</v></c><c r="B2" t="inlineStr"><is><t>inline</t></is></c><c r="C2" t="inlineStr"><is><r><t>in</t></r><r><rPr><i/></rPr><t>line rich</t></r></is></c></row>` +
		`<row r="3"><c r="A3" s="1"><v>100</v></c><c r="B3" s="2"><v>44927</v></c><c r="C3" s="3"><v>44927.5</v></c><c r="D3" s="4"><v>12</v></c><c r="E3" s="1" t="s"><v>7</v></c></row>` +
		`<row r="5"><c r="A5"><v>1.50</v></c><c r="B5"><v>1E-3</v></c><c r="C5"><v>123456789012345678</v></c><c r="D5"><v>0.1</v></c><c r="E5" t="b"><v>1</v></c><c r="F5" t="b"><v>0</v></c><c r="G5" t="e"><v>#N/A</v></c></row>` +
		`<row r="6"><c r="A6"><f>SUM(B6:C6)</f></c><c r="B6"/><c r="C6" s="1"/><c r="D6" t="str"><f>"x"</f><v>x</v></c><c r="E6" t="d"><v>2024-01-02T00:00:00Z</v></c></row>` +
		`<row r="7"><c t="s"><v>3</v></c><c t="s"><v> 4 </v></c><c t="s"><v>5</v></c><c t="s"><v>6</v></c></row>` +
		`<row r="8"/>` +
		`<row r="10"><c r="C10" t="s"><v><![CDATA[1]]></v></c></row>`
	prefixed := `<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>` +
		`<x:row r="1"><x:c r="A1" t="x:s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c></x:row>` +
		`<x:row r="2"><x:c r="A2" t="s"><x:v>7</x:v></x:c></x:row>` +
		`</x:sheetData></x:worksheet>`
	// Cells the scan renders itself: shared strings (under General too),
	// typed strings, whole numbers, formulas without a value, styled empty
	// cells, gaps, a cell written after its row's end tag.
	simple := `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="4" t="s"><v>1</v></c><c r="D1" t="s"><v>2</v></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>7</v></c><c r="B2" t="str"><v> typed  </v></c><c r="C2"><f>A2</f></c><c r="D2" s="4"/><c r="E2"><v>-42</v></c><c r="F2"><v>0</v></c><c r="G2" t="s" s="0"><v>3</v></c></row>` +
		`<row r="4"><c r="A4" t="s"><v>5</v></c><c r="B4" t="n"><v>123456789012345</v></c><c r="C4" t="s"><v>6</v></c><c r="D4"><f>1+1</f><v></v></c></row>` +
		`<row r="6" spans="1:3"><c t="s"><v>7</v></c><c/><c t="s"><v>1</v></c></row>`
	// excelize counts a cell after a row's end tag as the row's; the
	// sampler, which copies rows, leaves such a sheet to excelize.
	afterEnd := `<row r="1"><c r="A1" t="s"><v>1</v></c></row><c r="C1" t="s"><v>0</v></c><row r="2"><c t="s"><v>0</v></c></row>`
	generalStyles := strings.Replace(craftedStyles, `<xf numFmtId="49"`, `<xf numFmtId="0"`, 1)
	cases := []struct {
		name, sst, styles, wbPr string
		sheets                  []string
	}{
		{"mixed", craftedSST(0), craftedStyles, "", []string{mixed, many.String()}},
		{"simple", craftedSST(0), generalStyles, "", []string{simple, simple + mixed}},
		{"simple, escaped string", craftedSST(0), generalStyles, "", []string{simple + `<row r="9"><c t="s"><v>4</v></c></row>`}},
		{"cell after its row", craftedSST(0), generalStyles, "", []string{afterEnd}},
		{"typed string with two values", craftedSST(0), craftedStyles, "", []string{`<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c t="str"><v>a</v><v>b</v></c><c t="str"><v>c<x/>d</v></c><c><extLst/><v>5</v></c></row>`}},
		{"string under a text format", craftedSST(0), craftedStyles, "", []string{`<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c t="s" s="5"><v>7</v></c></row>`}},
		{"date1904", craftedSST(0), craftedStyles, `<workbookPr date1904="1"/>`, []string{mixed}},
		{"no styles", craftedSST(0), "", "", []string{mixed}},
		{"no shared strings", "", craftedStyles, "", []string{`<row r="1"><c t="inlineStr"><is><t>only inline</t></is></c><c><v>5</v></c></row>`}},
		{"more rows than the sample", craftedSST(60), craftedStyles, "", []string{many.String(), many.String(), many.String()}},
		{"late strings", craftedSST(5000), craftedStyles, "", []string{`<row r="1"><c t="s"><v>5007</v></c><c t="s"><v>0</v></c></row><row r="2"><c t="s"><v>12</v></c></row>`}},
		{"index past the table", craftedSST(0), craftedStyles, "", []string{`<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c t="s"><v>1</v></c></row><row r="4"><c t="s"><v>99</v></c></row><row r="5"><c t="s"><v>1</v></c></row>`}},
		{"trailing gap", craftedSST(0), craftedStyles, "", []string{`<row r="1"><c t="s"><v>0</v></c></row><row r="3"><c t="s"><v>1</v></c></row><row r="200"><c t="s"><v>1</v></c></row>`}},
		{"damaged part way", craftedSST(0), craftedStyles, "", []string{`<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c t="s"><v>1</v></c></row><row r="3"><c t="s"><v>1</c></row>`}},
		{"rows out of order", craftedSST(0), craftedStyles, "", []string{`<row r="1"><c t="s"><v>0</v></c></row><row r="3"><c t="s"><v>1</v></c></row><row r="2"><c t="s"><v>1</v></c></row>`}},
		{"prefixed", craftedSST(0), craftedStyles, "", []string{prefixed}},
		{"empty sheet", craftedSST(0), craftedStyles, "", []string{`<?xml version="1.0" encoding="UTF-8"?><worksheet ` + testMainNS + `/>`, ``}},
		{"damaged shared strings", `<?xml version="1.0"?><sst ` + testMainNS + `><si><t>a</t></si><si><t>b</si></sst>`, craftedStyles, "", []string{mixed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".xlsx")
			craftedBook(t, path, c.sst, c.styles, c.wbPr, c.sheets...)
			if sameSample(t, path) && c.name != "cell after its row" {
				t.Errorf("sampled through excelize, not streamed")
			}
			sameRead(t, path)
		})
	}

	// A workbook excelize writes: shared strings, rich text, styles.
	path := filepath.Join(dir, "excelize.xlsx")
	f := excelize.NewFile()
	f.SetCellValue("Sheet1", "A1", "HCPC")
	f.SetCellValue("Sheet1", "B1", "DESCRIPTION")
	f.SetCellRichText("Sheet1", "C1", []excelize.RichTextRun{{Text: "bold ", Font: &excelize.Font{Bold: true}}, {Text: "plain"}})
	code, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("00000")})
	date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	for r := 2; r <= 120; r++ {
		f.SetCellValue("Sheet1", fmt.Sprintf("A%d", r), r*3)
		f.SetCellStyle("Sheet1", fmt.Sprintf("A%d", r), fmt.Sprintf("A%d", r), code)
		f.SetCellValue("Sheet1", fmt.Sprintf("B%d", r), fmt.Sprintf("row %d", r%7))
		f.SetCellValue("Sheet1", fmt.Sprintf("D%d", r), 45000+r)
		f.SetCellStyle("Sheet1", fmt.Sprintf("D%d", r), fmt.Sprintf("D%d", r), date)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	if sameSample(t, path) {
		t.Errorf("excelize's workbook sampled through excelize, not streamed")
	}
	sameRead(t, path)

	// A shared-string cell with two values is sampled through excelize.
	path = filepath.Join(dir, "two-values.xlsx")
	craftedBook(t, path, craftedSST(0), craftedStyles, "", `<row r="1"><c t="s"><v>1</v><v>2</v></c></row>`)
	if !sameSample(t, path) {
		t.Errorf("a cell with two values was streamed, want excelize's reading")
	}
	sameRead(t, path)
}

// BenchmarkWorkbookSample measures the sample of the largest real
// workbook, the HCPCS 2025 data workbook (14 MB of sheet XML, 1.5 MB of
// shared strings), streamed and through excelize.
func BenchmarkWorkbookSample(b *testing.B) {
	zipPath := realfiles.Path(b, "hcpcs/2025/hcpcs-2025.zip")
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	dir := b.TempDir()
	books := map[string]string{}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, ".xlsx") {
			dst := filepath.Join(dir, filepath.Base(zf.Name))
			if err := unpack(zf, dst, DefaultLimits); err != nil {
				b.Fatal(err)
			}
			books[zf.Name] = dst
		}
	}
	for _, name := range []string{"HCPC2025_JAN_ANWEB_12172024.xlsx", "HCPC2025_JAN_Transaction Report_12172024.xlsx"} {
		path := books[name]
		if path == "" {
			b.Fatalf("%s not in %s", name, zipPath)
		}
		short := strings.Fields(strings.TrimSuffix(name, ".xlsx"))[0]
		if strings.Contains(name, "Transaction") {
			short = "transaction-report"
		}
		b.Run(short+"/streamed", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sampleWorkbook(context.Background(), path, DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(short+"/excelize", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := workbookSampleExcelize(path, DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadHCPCS2025 measures Read of the HCPCS 2025 zip as a run
// reads it: every member sniffed, the fixed-width data file, the
// transaction report and the corrections workbook read.
func BenchmarkReadHCPCS2025(b *testing.B) {
	zipPath := realfiles.Path(b, "hcpcs/2025/hcpcs-2025.zip")
	p, err := Builtin("hcpcs")
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Profile: p, Label: "2025"}
	b.ReportAllocs()
	for b.Loop() {
		rel, _, err := Read(context.Background(), opts, zipPath)
		if err != nil {
			b.Fatal(err)
		}
		if len(rel.Codes) == 0 {
			b.Fatal("no codes")
		}
	}
}

// TestAbandonedRead checks that a read left without closing its rows,
// the scan rendering rows ahead of it, ends when the workbook is closed.
func TestAbandonedRead(t *testing.T) {
	var rows strings.Builder
	for r := 1; r <= 3*maxQueued; r++ {
		fmt.Fprintf(&rows, `<row r="%d"><c t="s"><v>%d</v></c></row>`, r, r%4) // strings the scan renders
	}
	path := filepath.Join(t.TempDir(), "long.xlsx")
	craftedBook(t, path, craftedSST(0), craftedStyles, "", rows.String())
	before := runtime.NumGoroutine()
	ctx := context.Background()
	wb, err := openWorkbook(ctx, path, path, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := wb.rows(ctx, wb.readOrder()[0])
	if err != nil {
		t.Fatal(err)
	}
	if !sr.Next() || !sr.fast {
		t.Fatalf("first row: fast %v, err %v; want a row from the scan", sr.fast, sr.Err())
	}
	if cells, _ := sr.Columns(); !reflect.DeepEqual(cells, []string{"LONG DESCRIPTION"}) {
		t.Fatalf("first row %q, want [LONG DESCRIPTION]", cells)
	}
	wb.Close()
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after closing the workbook, %d before opening it", n, before)
	}
}
