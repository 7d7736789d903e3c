package ingest

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
)

// A full read of a sheet decodes each row twice: once by the strict scan
// (sheetScan) and once by excelize, whose decoding (every token, every
// cell unmarshalled, the whole shared-strings table parsed into structs)
// cost most of reading a HCPCS transaction report. So the scan, which runs
// on its own goroutine (aheadScan), also gives the rows' values where it
// can tell exactly what excelize would give: strings (shared or typed
// "str") and whole numbers under no number format, or under the General
// format for strings. At the first cell it cannot render so (a number
// format, a date, an inline string, a shared string with an escape), the
// rows from there on are excelize's, read as before.

// styleInfo is what the number formats of a workbook's styles say about
// rendering a cell, as excelize reads the styles part.
type styleInfo struct {
	xfs    []int        // the number format of each cell format (cellXfs)
	hasXfs bool         // the styles have a cellXfs element
	custom map[int]bool // number format ids the styles define themselves
}

// readStyles decodes the styles part as excelize does, keeping the number
// formats; ok is false when it cannot be read.
func (w *workbook) readStyles() (st *styleInfo, ok bool) {
	st = &styleInfo{custom: map[int]bool{}}
	zf := w.parts["xl/styles.xml"]
	if zf == nil {
		return st, true
	}
	if zf.UncompressedSize64 > maxSampleBytes {
		return nil, false
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	var doc struct {
		NumFmts *struct {
			NumFmt []struct {
				ID int `xml:"numFmtId,attr"`
			} `xml:"numFmt"`
		} `xml:"numFmts"`
		CellXfs *struct {
			Xf []struct {
				NumFmtID *int `xml:"numFmtId,attr"`
			} `xml:"xf"`
		} `xml:"cellXfs"`
	}
	if err := xml.NewDecoder(io.LimitReader(rc, maxSampleBytes)).Decode(&doc); err != nil {
		return nil, false
	}
	if doc.NumFmts != nil {
		for _, f := range doc.NumFmts.NumFmt {
			st.custom[f.ID] = true
		}
	}
	if doc.CellXfs != nil {
		st.hasXfs = true
		for _, x := range doc.CellXfs.Xf {
			id := 0
			if x.NumFmtID != nil {
				id = *x.NumFmtID
			}
			st.xfs = append(st.xfs, id)
		}
	}
	return st, true
}

// raw reports whether excelize gives the value of a cell of style s as
// written, without looking at a number format.
func (st *styleInfo) raw(s int) bool {
	return s == 0 || !st.hasXfs || s < 0 || s >= len(st.xfs)
}

// general reports whether style s renders with the built-in General
// format, which leaves a string as it is.
func (st *styleInfo) general(s int) bool {
	id := st.xfs[s]
	return id == 0 && !st.custom[id]
}

// sharedText is the shared-strings table as excelize renders each string
// (xlsxSI.String): the text of the last <t> of the <si>, then that of the
// last <t> of each run. A string excelize would unescape (_xHHHH_) is
// marked, not rendered.
type sharedText struct {
	buf     []byte   // the strings, end to end
	ends    []uint32 // where each ends in buf
	escaped []bool
	bad     bool // a <si> nested in another, or too much text: left to excelize
}

// maxSharedText bounds the text a read keeps of the shared strings; a
// larger table is left to excelize (HCPCS's is 1.5 MB).
const maxSharedText = 16 << 20

// add appends one string, unless the table is left to excelize.
func (t *sharedText) add(s []byte, escaped bool) {
	if t.bad {
		return
	}
	if len(t.buf)+len(s) > maxSharedText {
		t.bad, t.buf, t.ends, t.escaped = true, nil, nil, nil
		return
	}
	t.buf = append(t.buf, s...)
	t.ends = append(t.ends, uint32(len(t.buf)))
	t.escaped = append(t.escaped, escaped)
}

func (t *sharedText) len() int { return len(t.ends) }

// at returns string i.
func (t *sharedText) at(i int) string {
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return string(t.buf[start:t.ends[i]])
}

// siText follows one <si> of a shared-strings part, token by token.
type siText struct {
	depth  int // below the <si>: 1 for its children
	inRun  bool
	inT    bool
	tDepth int
	t      []byte   // the <si>'s own text
	runs   [][]byte // the text of each run
	cur    []byte
	odd    bool // an element inside a <t>
}

func (s *siText) start(name string) {
	s.depth++
	switch {
	case s.inT:
		s.odd = true
	case name == "t" && (s.depth == 1 || (s.inRun && s.depth == 2)):
		s.inT, s.tDepth, s.cur = true, s.depth, s.cur[:0]
	case name == "r" && s.depth == 1:
		s.inRun = true
		s.runs = append(s.runs, nil)
	}
}

func (s *siText) end() {
	if s.inT && s.depth == s.tDepth {
		s.inT = false
		text := append([]byte(nil), s.cur...)
		if s.tDepth == 1 {
			s.t = text
		} else {
			s.runs[len(s.runs)-1] = text
		}
	}
	if s.inRun && s.depth == 1 {
		s.inRun = false
	}
	s.depth--
}

func (s *siText) chars(b []byte) {
	if s.inT {
		s.cur = append(s.cur, b...)
	}
}

// text returns the text, in scratch, and whether it holds an escape
// excelize decodes.
func (s *siText) text(scratch []byte) ([]byte, bool) {
	b := append(scratch[:0], s.t...)
	for _, r := range s.runs {
		b = append(b, r...)
	}
	return b, s.odd || bytes.Contains(b, []byte("_x"))
}

// valueBuilder builds the values of a sheet's rows from the tokens of its
// strict scan, as excelize would render them, until a cell it cannot
// render (see above). A row is given once the next one starts (or the
// sheet data ends): excelize counts a cell written after a row's end tag
// as that row's.
type valueBuilder struct {
	st   *styleInfo
	sst  *sharedText
	emit func(row int, cells []string)
	halt func(row int) // from row on, excelize gives the rows

	slow     bool
	pending  bool // row holds a row not yet given
	ended    bool // </sheetData> was passed
	row      int
	cells    []string
	inCell   bool
	depth    int // below the <c>: 1 for its children
	col      int
	style    int
	typ      string
	v        []byte
	values   int
	inV      bool
	formula  bool
	cellOdd  bool
	styleBad bool
}

func (b *valueBuilder) stop(row int) {
	b.slow = true
	b.halt(row)
}

// flush gives the pending row: at the end of the sheet data or the part.
func (b *valueBuilder) flush() {
	if !b.slow && b.pending {
		b.pending = false
		b.emit(b.row, b.cells)
	}
}

// token takes the next token of the sheet, once the scan s has checked it.
func (b *valueBuilder) token(s *sheetScan, tok xml.Token) {
	if b.slow {
		return
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if b.inCell {
			b.depth++
			switch {
			case b.depth == 1 && t.Name.Local == "v":
				b.inV, b.values = true, b.values+1
			case b.depth == 1 && t.Name.Local == "f":
				b.formula = true
			case b.inV, b.depth == 1:
				b.cellOdd = true
			}
			return
		}
		switch t.Name.Local {
		case "row":
			if b.ended {
				b.stop(s.row)
				return
			}
			b.flush()
			b.pending, b.row, b.cells = true, s.row, nil
		case "c":
			if !b.pending {
				b.stop(s.row)
				return
			}
			b.inCell, b.depth, b.col, b.style, b.typ = true, 0, s.col, 0, ""
			b.v, b.values, b.inV, b.formula, b.cellOdd, b.styleBad = b.v[:0], 0, false, false, false, false
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "s":
					n, err := strconv.ParseInt(a.Value, 10, 64)
					b.style, b.styleBad = int(n), err != nil
				case "t":
					b.typ = a.Value
				}
			}
		}
	case xml.EndElement:
		if b.inCell {
			if b.depth > 0 {
				if b.depth == 1 && t.Name.Local == "v" {
					b.inV = false
				}
				b.depth--
				return
			}
			b.inCell = false
			b.cell(s)
			return
		}
		if t.Name.Local == "sheetData" {
			b.flush()
			b.ended = true
		}
	case xml.CharData:
		if b.inCell && b.inV && b.depth == 1 {
			b.v = append(b.v, t...)
		}
	}
}

// cell renders the cell just read, or stops the builder.
func (b *valueBuilder) cell(s *sheetScan) {
	if b.cellOdd || b.styleBad || b.values > 1 {
		b.stop(b.row)
		return
	}
	var val string
	switch b.typ {
	case "s":
		i, err := strconv.Atoi(string(bytes.TrimSpace(b.v)))
		if err != nil || i < 0 || i >= b.sst.len() || b.sst.escaped[i] || !(b.st.raw(b.style) || b.st.general(b.style)) {
			b.stop(b.row)
			return
		}
		val = b.sst.at(i)
	case "str":
		val = string(b.v)
	case "", "n":
		switch {
		case len(b.v) == 0 && (b.st.raw(b.style) || b.st.general(b.style)):
		case b.st.raw(b.style) && plainInteger(b.v):
			val = string(b.v)
		default:
			b.stop(b.row)
			return
		}
	default:
		b.stop(b.row)
		return
	}
	if val != "" || b.formula {
		for len(b.cells) < b.col-1 {
			b.cells = append(b.cells, "")
		}
		b.cells = append(b.cells, val)
	}
}

// plainInteger reports whether v is a whole number excelize shows as
// written: no sign but a minus, no leading zero, at most 15 digits.
func plainInteger(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 15 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
