package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Recognising a file takes the first rows of every sheet of every workbook
// given, most of which are then not read. Opening each with excelize
// unpacks every part into memory and parses the whole shared-strings table,
// which for a publisher's zip of three large workbooks cost more than the
// rest of a run. So a sample is taken here by streaming: each sheet's XML
// is read, through the same strict scanner as a full read (sheetScan),
// only up to the rows sampled, and those rows are kept as written; the
// shared strings are scanned as openWorkbook scans them, keeping only the
// strings those rows use. The rows kept, the strings they use and the
// workbook's styles then make a small workbook that excelize reads: the
// values are excelize's own (number formats, dates, rich text, escapes),
// for a fraction of the work.

// errSampleFallback says that a workbook holds something the sampler does
// not copy faithfully (a shared-string cell with two values, a shared
// string nested in another, sampled rows too large to hold); it is then
// sampled through excelize whole.
var errSampleFallback = errors.New("workbook sampled through excelize")

// maxSampleBytes bounds the XML held while sampling one workbook.
const maxSampleBytes = 16 << 20

// rowPiece is a span of a kept row: literal XML, or the value of a
// shared-string cell, whose index is rewritten for the small workbook.
type rowPiece struct {
	from, to int64 // offsets in the part, for a literal span
	sst      int   // the shared-string index, or -1 for a literal span
}

// keptRow is one row of a sheet as written.
type keptRow struct {
	num    int
	base   int64  // offset of raw in the part
	raw    []byte // the row element
	pieces []rowPiece
}

// rowRecorder keeps the rows a sheetScan reads, from the bytes its part's
// reader holds.
type rowRecorder struct {
	in       *tokenBound
	rootTag  []byte // the root element's start tag, with its namespaces
	rootName string
	rows     []keptRow
	open     bool  // a row is being read
	start    int64 // where that row starts
	seg      int64 // where its literal bytes not yet cut into pieces start
	pieces   []rowPiece
	vFrom    int64 // the value of the shared-string cell being read
	vTo      int64
	values   int // <v> elements in that cell
	held     int
	odd      bool // something was met that the sample cannot copy
}

func (r *rowRecorder) root(x *xmlPart, t xml.StartElement) {
	r.rootTag = bytes.Clone(r.in.span(x.start, r.in.mark))
	r.rootName = rawName(t.Name)
}

func (r *rowRecorder) rowStart(x *xmlPart, n int) {
	r.rows = append(r.rows, keptRow{num: n})
	r.open, r.start, r.seg, r.pieces = true, x.start, x.start, nil
}

func (r *rowRecorder) valueStart(*xmlPart) {
	r.vFrom = r.in.mark
	r.values++
}

func (r *rowRecorder) valueEnd(x *xmlPart) { r.vTo = x.start }

func (r *rowRecorder) shared(i int) {
	if !r.open || r.values != 1 {
		r.odd = true
	}
	r.pieces = append(r.pieces, rowPiece{from: r.seg, to: r.vFrom, sst: -1}, rowPiece{sst: i})
	r.seg, r.values = r.vTo, 0
}

func (r *rowRecorder) rowEnd(*xmlPart) {
	if !r.open {
		return
	}
	end := r.in.mark
	row := &r.rows[len(r.rows)-1]
	row.base, row.raw = r.start, bytes.Clone(r.in.span(r.start, end))
	row.pieces = append(r.pieces, rowPiece{from: r.seg, to: end, sst: -1})
	r.open, r.pieces = false, nil
	if r.held += len(row.raw); r.held > maxSampleBytes {
		r.odd = true
	}
	r.in.drop(end)
}

// rawName is an element's name as written, prefix and all.
func rawName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// sheetKept is what the sampler kept of one sheet.
type sheetKept struct {
	name  string
	rec   *rowRecorder
	given int // rows the sample has: those a full read gives before it stops
}

// sampleWorkbook reads the first sampleRows rows of every sheet of the
// workbook at path, as workbookSampleExcelize does, without unpacking more
// of it than those rows and the strings they use (see above). It returns
// errSampleFallback when the workbook is to be sampled through excelize.
func sampleWorkbook(ctx context.Context, path string, lim Limits) ([]sheetSample, error) {
	w, err := openPackage(ctx, path, path, lim)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	var kept []sheetKept
	for _, sh := range w.readOrder() {
		at := &ParseError{File: w.name, Sheet: sh.name}
		// Shared-string indexes are checked against the table once it
		// has been read, below.
		scan, err := newSheetScan(w.parts[sh.part], lim, math.MaxInt, at)
		if err != nil {
			continue // as a full read, which cannot open the sheet
		}
		scan.x.in.keep = true
		scan.rec = &rowRecorder{in: scan.x.in}
		// Row k is given when the scanner has checked the sheet up to
		// row k+1's start (or its end), as sheetRows.Next does.
		given := 0
		for k := 1; k <= sampleRows; k++ {
			if scan.through(ctx, k) != nil || (scan.done && k > scan.row) {
				break
			}
			given = k
		}
		scan.Close()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if scan.rec.odd || len(scan.x.in.held) > maxSampleBytes {
			return nil, errSampleFallback
		}
		kept = append(kept, sheetKept{name: sh.name, rec: scan.rec, given: given})
	}
	want := map[int]bool{}
	for _, k := range kept {
		for _, row := range k.rec.rows {
			for _, p := range row.pieces {
				if p.sst >= 0 && row.num <= k.given {
					want[p.sst] = true
				}
			}
		}
	}
	var table *sharedSample
	for i, zf := range w.sst {
		var keep map[int]bool
		if i == len(w.sst)-1 { // excelize reads the last of the same name
			keep = want
		}
		t, err := sharedStrings(ctx, zf, lim, keep, nil)
		if errors.Is(err, errSampleFallback) {
			return nil, err
		}
		if err != nil {
			return nil, &ParseError{File: w.name, Err: fmt.Errorf("shared strings (%s): %w", strings.ReplaceAll(zf.Name, `\`, "/"), err)}
		}
		table = t
	}
	if table == nil {
		table = &sharedSample{}
	}
	// A full read stops at the row of a shared-string index past the
	// table's end.
	for i := range kept {
		k := &kept[i]
		for _, row := range k.rec.rows {
			if row.num > k.given {
				break
			}
			for _, p := range row.pieces {
				if p.sst >= table.n {
					k.given = row.num - 1
					break
				}
			}
		}
	}
	return w.readKept(lim, kept, table)
}

// sharedSample is what sharedStrings kept of a shared-strings table.
type sharedSample struct {
	n        int            // strings in the table
	rootTag  []byte         // the root element's start tag
	rootName string         // and its name
	strings  map[int][]byte // the <si> elements kept, as written
}

// scanSharedStrings checks the shared-strings part and returns how many
// strings it holds.
func scanSharedStrings(ctx context.Context, zf *zip.File, lim Limits) (int, error) {
	t, err := sharedStrings(ctx, zf, lim, nil, nil)
	if err != nil {
		return 0, err
	}
	return t.n, nil
}

// sharedStrings checks the shared-strings part and counts its strings,
// keeping those whose index is in keep, as written, and, when text is not
// nil, rendering every string into it as excelize would.
func sharedStrings(ctx context.Context, zf *zip.File, lim Limits, keep map[int]bool, text *sharedText) (*sharedSample, error) {
	if zf.UncompressedSize64 > maxSharedBytes {
		return nil, errorf(ErrLimit, "%d bytes unpacked: over the %d-byte shared-strings limit", zf.UncompressedSize64, maxSharedBytes)
	}
	x, err := openPart(zf, lim)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	t := &sharedSample{strings: map[int][]byte{}}
	x.in.keep = keep != nil
	n, size, inString := 0, 0, false
	keeping, from := false, int64(0)
	var si siText
	var scratch []byte
	for {
		tok, err := x.next(ctx)
		if err == io.EOF {
			t.n = n
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("string %d: %w", n, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if keep != nil && x.depth == 1 {
				t.rootTag, t.rootName = bytes.Clone(x.in.span(x.start, x.in.mark)), rawName(tk.Name)
			}
			if inString && text != nil && tk.Name.Local != "si" {
				si.start(tk.Name.Local)
			}
			if tk.Name.Local == "si" {
				if keep != nil && x.depth != 2 {
					return nil, errSampleFallback
				}
				if text != nil {
					text.bad = text.bad || x.depth != 2
					si = siText{cur: si.cur[:0]}
				}
				if keep != nil {
					x.in.drop(x.start)
					keeping, from = keep[n], x.start
				}
				if n++; n > lim.MaxSharedStrings {
					return nil, errorf(ErrLimit, "more than %d strings: over the shared-strings limit", lim.MaxSharedStrings)
				}
				size, inString = 0, true
			}
		case xml.EndElement:
			if inString && text != nil && tk.Name.Local != "si" {
				si.end()
			}
			if tk.Name.Local == "si" {
				if text != nil && inString {
					str, esc := si.text(scratch)
					text.add(str, esc)
					scratch = str
				}
				inString = false
				if keeping {
					t.strings[n-1] = bytes.Clone(x.in.span(from, x.in.mark))
					keeping = false
				}
			}
		case xml.CharData:
			if inString && text != nil {
				si.chars(tk)
			}
			if inString {
				if size += len(tk); size > lim.MaxCellBytes {
					return nil, errorf(ErrLimit, "string %d of more than %d bytes: over the %d-byte cell limit", n, lim.MaxCellBytes, lim.MaxCellBytes)
				}
			}
		}
	}
}

// readKept builds the small workbook of the rows kept and reads it with
// excelize, as a full read would read those rows.
func (w *workbook) readKept(lim Limits, kept []sheetKept, table *sharedSample) ([]sheetSample, error) {
	// The strings used, renumbered in order of use.
	renum := map[int]int{}
	var used []int
	for _, k := range kept {
		for _, row := range k.rec.rows {
			if row.num > k.given {
				break
			}
			for _, p := range row.pieces {
				if _, ok := renum[p.sst]; p.sst >= 0 && !ok {
					renum[p.sst] = len(used)
					used = append(used, p.sst)
				}
			}
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, parts ...[]byte) {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			panic(err) // writing to memory
		}
		for _, p := range parts {
			f.Write(p)
		}
	}
	const (
		mainNS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
		relNS  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
		pkgNS  = "http://schemas.openxmlformats.org/package/2006/relationships"
		decl   = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	)
	var types, wb, rels strings.Builder
	types.WriteString(decl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`)
	wb.WriteString(decl + `<workbook xmlns="` + mainNS + `" xmlns:r="` + relNS + `">`)
	if w.date1904 != nil {
		wb.WriteString(`<workbookPr date1904="`)
		xml.EscapeText(&wb, []byte(*w.date1904))
		wb.WriteString(`"/>`)
	}
	wb.WriteString(`<sheets>`)
	rels.WriteString(decl + `<Relationships xmlns="` + pkgNS + `">`)
	for i, k := range kept {
		n := i + 1
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, n)
		fmt.Fprintf(&wb, `<sheet name="S%d" sheetId="%d" r:id="rId%d"/>`, n, n, n)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%d.xml"/>`, n, relNS, n)
		var sh bytes.Buffer
		sh.WriteString(decl)
		if k.rec.rootTag == nil || bytes.HasSuffix(k.rec.rootTag, []byte("/>")) {
			sh.WriteString(`<worksheet xmlns="` + mainNS + `"><sheetData>`)
			k.rec.rootName = "worksheet"
		} else {
			sh.Write(k.rec.rootTag)
			sh.WriteString(`<sheetData>`)
		}
		for _, row := range k.rec.rows {
			if row.num > k.given {
				break
			}
			for _, p := range row.pieces {
				if p.sst >= 0 {
					sh.WriteString(strconv.Itoa(renum[p.sst]))
				} else {
					sh.Write(row.raw[p.from-row.base : p.to-row.base])
				}
			}
		}
		sh.WriteString(`</sheetData></` + k.rec.rootName + `>`)
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", n), sh.Bytes())
	}
	wb.WriteString(`</sheets></workbook>`)
	if len(used) > 0 {
		types.WriteString(`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`)
		var sst bytes.Buffer
		sst.WriteString(decl)
		sst.Write(table.rootTag)
		for _, i := range used {
			sst.Write(table.strings[i])
		}
		sst.WriteString(`</` + table.rootName + `>`)
		put("xl/sharedStrings.xml", sst.Bytes())
		rels.WriteString(`<Relationship Id="rIdS" Type="` + relNS + `/sharedStrings" Target="sharedStrings.xml"/>`)
	}
	// Number formats are the styles': the part is excelize's, as is.
	if zf := w.parts["xl/styles.xml"]; zf != nil {
		if zf.UncompressedSize64 > maxSampleBytes {
			return nil, errSampleFallback
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, errSampleFallback
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxSampleBytes+1))
		rc.Close()
		if err != nil || len(b) > maxSampleBytes {
			return nil, errSampleFallback
		}
		put("xl/styles.xml", b)
	}
	types.WriteString(`</Types>`)
	rels.WriteString(`</Relationships>`)
	put("[Content_Types].xml", []byte(types.String()))
	put("_rels/.rels", []byte(decl+`<Relationships xmlns="`+pkgNS+`"><Relationship Id="rId1" Type="`+relNS+`/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	put("xl/workbook.xml", []byte(wb.String()))
	put("xl/_rels/workbook.xml.rels", []byte(rels.String()))
	if err := zw.Close(); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()), excelizeOptions(lim))
	if err != nil {
		return nil, &ParseError{File: w.name, Err: errorf(ErrFormat, "not a readable XLSX workbook: %v", err)}
	}
	defer f.Close()
	out := make([]sheetSample, 0, len(kept))
	for i, k := range kept {
		ss := sheetSample{name: k.name}
		rows, err := f.Rows(fmt.Sprintf("S%d", i+1))
		if err != nil {
			return nil, errSampleFallback
		}
		ended := false
		for len(ss.rows) < k.given {
			if !rows.Next() {
				ended = rows.Error() == nil
				break
			}
			cells, err := rows.Columns()
			if err != nil {
				break
			}
			ss.rows = append(ss.rows, cells)
		}
		rows.Close()
		// Rows past the last one kept and up to the last given are
		// empty: the sheet goes on after them.
		for ended && len(ss.rows) < k.given {
			ss.rows = append(ss.rows, nil)
		}
		out = append(out, ss)
	}
	return out, nil
}
