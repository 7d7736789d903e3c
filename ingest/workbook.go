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
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/xuri/excelize/v2"
)

// maxSharedBytes bounds the unpacked shared-strings part of a workbook; the
// largest real one (HCPCS 2025) is 1.5 MB.
const maxSharedBytes = 64 << 20

// workbook is an XLSX workbook opened within limits. openWorkbook is the one
// way ingest opens a workbook, for reading and for detection alike.
type workbook struct {
	*excelize.File
	name   string
	sheets []*wbSheet // in workbook order
	zr     *zip.ReadCloser
	parts  map[string]*zip.File
	lim    Limits
	shared int // entries of the shared-strings table

	sst      []*zip.File // the shared-strings parts, in zip order (one, or none)
	text     *sharedText // the shared strings as excelize renders them, when read
	styles   *styleInfo  // the number formats, once read
	stylesOK bool
	plain    bool // every value is excelize's (see wbfast.go): for comparisons
	scans    []*aheadScan
	date1904 *string // the workbook's date1904 setting, as written, if any
}

// Close closes the workbook and its zip, and stops the scans of sheets
// a reader left open.
func (w *workbook) Close() error {
	for _, a := range w.scans {
		a.Close()
	}
	w.zr.Close()
	if w.File == nil {
		return nil
	}
	return w.File.Close()
}

// wbSheet is one sheet of a workbook as its XML says.
type wbSheet struct {
	name  string
	state string // "visible" (or empty), "hidden" or "veryHidden"
	part  string // the zip member holding the sheet's XML
}

func (s *wbSheet) hidden() bool { return s.state != "" && s.state != "visible" }

// readOrder lists the visible sheets in workbook order, then the hidden
// ones: a hidden sheet often keeps last year's codes.
func (w *workbook) readOrder() []*wbSheet {
	var vis, hid []*wbSheet
	for _, s := range w.sheets {
		if s.hidden() {
			hid = append(hid, s)
		} else {
			vis = append(vis, s)
		}
	}
	return append(vis, hid...)
}

// sheetNames lists the sheets for messages, hidden ones marked so.
func (w *workbook) sheetNames() []string {
	var names []string
	for _, s := range w.readOrder() {
		n := s.name
		if s.hidden() {
			n += " (" + s.state + ")"
		}
		names = append(names, n)
	}
	return names
}

// openWorkbook checks the workbook in file, reported as name, and opens it
// within lim. excelize stops at the first XML error without a word, blanks a
// cell it cannot decode and holds a row, a cell or the shared strings whole;
// so the package and shared strings are streamed here first with a strict
// tokenizer, and each sheet as it is read (see sheetRows): XML whole and
// well-formed, rows in order and within a sheet's bounds, cells and shared
// strings within the cell limit, sheets and shared strings within theirs.
func openWorkbook(ctx context.Context, file, name string, lim Limits) (*workbook, error) {
	w, err := openPackage(ctx, file, name, lim)
	if err != nil {
		return nil, err
	}
	// The shared strings are checked while excelize opens the workbook,
	// on the other core; their error comes first, as if checked before.
	var sstErr error
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for p, zf := range w.parts {
			if strings.EqualFold(p, "xl/sharedStrings.xml") {
				text := &sharedText{}
				t, err := sharedStrings(ctx, zf, lim, nil, text)
				if err != nil {
					sstErr = &ParseError{File: name, Err: fmt.Errorf("shared strings (%s): %w", p, err)}
					return
				}
				w.shared, w.text = t.n, text
			}
		}
	}()
	f, err := excelize.OpenFile(file, excelizeOptions(lim))
	<-checked
	if sstErr != nil {
		if f != nil {
			f.Close()
		}
		w.zr.Close()
		return nil, sstErr
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		w.zr.Close()
		return nil, &ParseError{File: name, Err: errorf(ErrFormat, "not a readable XLSX workbook: %v", err)}
	}
	w.File = f
	return w, nil
}

// excelizeOptions are the limits excelize opens a workbook within.
func excelizeOptions(lim Limits) excelize.Options {
	return excelize.Options{UnzipSizeLimit: lim.MaxUnpackedBytes, UnzipXMLSizeLimit: min(lim.MaxUnpackedBytes, 16<<20)}
}

// openPackage does the checks of openWorkbook that come before the shared
// strings: the zip, its size, the workbook part, the sheets and their
// parts. The workbook it returns has no excelize file yet.
func openPackage(ctx context.Context, file, name string, lim Limits) (w *workbook, err error) {
	fail := func(kind error, format string, args ...any) error {
		return &ParseError{File: name, Err: errorf(kind, format, args...)}
	}
	head, err := fileHead(file, name)
	switch {
	case err != nil:
		return nil, err
	case bytes.HasPrefix(head, oleMagic):
		return nil, oleError(file, name)
	case !bytes.HasPrefix(head, zipMagic):
		return nil, fail(ErrFormat, "not an XLSX workbook: the file is not a zip archive")
	}
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fail(ErrFormat, "not a readable XLSX workbook: %v", err)
	}
	defer func() {
		if err != nil {
			zr.Close()
		}
	}()
	w = &workbook{name: name, zr: zr, parts: map[string]*zip.File{}, lim: lim}
	var unpacked uint64
	for _, zf := range zr.File {
		unpacked += zf.UncompressedSize64
		p := strings.ReplaceAll(zf.Name, `\`, "/")
		w.parts[p] = zf
		if strings.EqualFold(p, "xl/sharedStrings.xml") {
			w.sst = append(w.sst, zf)
		}
	}
	if isODS(w.parts) {
		return nil, fail(ErrFormat, "%s", odsRefusal)
	}
	if unpacked > uint64(lim.MaxUnpackedBytes) {
		return nil, fail(ErrLimit, "its parts unpack to %d bytes: over the %d-byte limit for one workbook", unpacked, lim.MaxUnpackedBytes)
	}
	wbPart, err := officeDocument(ctx, w.parts, lim)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	if w.parts[wbPart] == nil {
		return nil, fail(ErrFormat, "not an XLSX workbook: it has no workbook part (%s)", wbPart)
	}
	rids, err := w.readSheetList(ctx, w.parts[wbPart], lim)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	relsPart := path.Join(path.Dir(wbPart), "_rels", path.Base(wbPart)+".rels")
	targets, err := readRels(ctx, w.parts[relsPart], rids, lim)
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%s: %w", relsPart, err)}
	}
	for i, s := range w.sheets {
		s.part = partPath(wbPart, targets[rids[i]])
		if w.parts[s.part] == nil {
			return nil, &ParseError{File: name, Sheet: s.name, Err: errorf(ErrFormat, "the workbook lacks the sheet's part (%q): it is damaged", s.part)}
		}
	}
	return w, nil
}

// isODS reports whether a zip is an OpenDocument package, by its mimetype
// member.
func isODS(parts map[string]*zip.File) bool {
	zf := parts["mimetype"]
	if zf == nil || zf.UncompressedSize64 > 200 {
		return false
	}
	r, err := zf.Open()
	if err != nil {
		return false
	}
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 200))
	return bytes.HasPrefix(b, []byte("application/vnd.oasis.opendocument"))
}

// officeDocument returns the workbook part the package relationships name,
// as excelize finds it, or the usual xl/workbook.xml.
func officeDocument(ctx context.Context, parts map[string]*zip.File, lim Limits) (string, error) {
	wb := "xl/workbook.xml"
	zf := parts["_rels/.rels"]
	if zf == nil {
		return wb, nil
	}
	err := eachElement(ctx, zf, lim, func(e xml.StartElement) error {
		if e.Name.Local == "Relationship" && strings.HasSuffix(attr(e, "Type"), "/officeDocument") {
			wb = strings.TrimPrefix(attr(e, "Target"), "/")
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("_rels/.rels: %w", err)
	}
	return wb, nil
}

// readSheetList reads the sheets of the workbook part into w and returns
// their relationship ids, refusing more than lim.MaxSheets as it goes.
func (w *workbook) readSheetList(ctx context.Context, zf *zip.File, lim Limits) ([]string, error) {
	var rids []string
	err := eachElement(ctx, zf, lim, func(e xml.StartElement) error {
		if e.Name.Local == "workbookPr" {
			for _, a := range e.Attr {
				if a.Name.Local == "date1904" {
					v := a.Value
					w.date1904 = &v
				}
			}
		}
		if e.Name.Local != "sheet" {
			return nil
		}
		if len(w.sheets) == lim.MaxSheets {
			return errorf(ErrLimit, "more than %d sheets: over the sheet limit", lim.MaxSheets)
		}
		rid := ""
		for _, a := range e.Attr {
			if a.Name.Local == "id" && a.Name.Space != "" {
				rid = a.Value
			}
		}
		w.sheets = append(w.sheets, &wbSheet{name: attr(e, "name"), state: attr(e, "state")})
		rids = append(rids, rid)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	return rids, nil
}

// readRels returns the targets of the relationships ids names.
func readRels(ctx context.Context, zf *zip.File, ids []string, lim Limits) (map[string]string, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	targets := map[string]string{}
	if zf == nil {
		return targets, nil
	}
	err := eachElement(ctx, zf, lim, func(e xml.StartElement) error {
		if id := attr(e, "Id"); e.Name.Local == "Relationship" && want[id] {
			targets[id] = attr(e, "Target")
		}
		return nil
	})
	return targets, err
}

// partPath resolves a relationship target of the workbook part as excelize
// does.
func partPath(wbPart, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean(path.Dir(wbPart)+"/"+target), "/")
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// eachElement streams a small part, calling fn on each start element.
func eachElement(ctx context.Context, zf *zip.File, lim Limits, fn func(xml.StartElement) error) error {
	x, err := openPart(zf, lim)
	if err != nil {
		return err
	}
	defer x.Close()
	for {
		tok, err := x.next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if e, ok := tok.(xml.StartElement); ok {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
}

// sheetScan checks one sheet's XML a little ahead of excelize, which reads
// the same part after it: every row excelize is about to read has been
// checked whole, so a damaged or hostile row stops the read, located,
// before excelize silently ends the sheet there or holds the row.
type sheetScan struct {
	x      *xmlPart
	lim    Limits
	shared int
	at     *ParseError
	err    error
	done   bool // the part was read to its end

	row, col, cells int // the row and cell being read
	inCell, inValue bool
	cellType        string
	size            int    // bytes of the cell's text so far
	value           []byte // the start of the cell's value: a shared-string index
	dimension       string

	rec   *rowRecorder  // when sampling: keeps the rows read
	onRow func(int)     // called with each row number as its start is passed
	vb    *valueBuilder // when reading: renders the rows' values it can
}

func newSheetScan(zf *zip.File, lim Limits, shared int, at *ParseError) (*sheetScan, error) {
	x, err := openPart(zf, lim)
	if err != nil {
		return nil, at.at(0, 0, "", err)
	}
	return &sheetScan{x: x, lim: lim, shared: shared, at: at}, nil
}

func (s *sheetScan) Close() error { return s.x.Close() }

// through checks the sheet up to the end of row last (or of the part) and
// returns the first error found, located.
func (s *sheetScan) through(ctx context.Context, last int) error {
	for s.err == nil && !s.done && s.row <= last {
		tok, err := s.x.next(ctx)
		switch {
		case err == io.EOF:
			s.done = true
			s.err = s.end()
		case err != nil:
			s.err = s.at.at(s.row, s.col, "", err)
		default:
			prev := s.row
			if s.err = s.token(tok); s.err == nil {
				if s.vb != nil {
					s.vb.token(s, tok)
				}
				if s.onRow != nil && s.row != prev {
					s.onRow(s.row)
				}
			}
		}
	}
	return s.err
}

func (s *sheetScan) token(tok xml.Token) error {
	at := func(kind error, format string, args ...any) error {
		return s.at.at(s.row, s.col, "", errorf(kind, format, args...))
	}
	atRow := func(kind error, format string, args ...any) error {
		return s.at.at(s.row, 0, "", errorf(kind, format, args...))
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if s.rec != nil && s.x.depth == 1 {
			s.rec.root(s.x, t)
		}
		switch t.Name.Local {
		case "dimension":
			s.dimension = attr(t, "ref")
		case "row":
			n := s.row + 1
			if r := attr(t, "r"); r != "" {
				var err error
				if n, err = strconv.Atoi(r); err != nil || n < 1 {
					return atRow(ErrFormat, "bad row number %q after row %d", r, s.row)
				}
			}
			switch {
			case n <= s.row:
				return atRow(ErrFormat, "row %d follows row %d: rows out of order", n, s.row)
			case n > excelize.TotalRows:
				return atRow(ErrFormat, "row %d: past the last row a sheet can have (%d)", n, excelize.TotalRows)
			}
			s.row, s.col, s.cells = n, 0, 0
			if s.rec != nil {
				s.rec.rowStart(s.x, n)
			}
		case "c":
			if s.cells++; s.cells > maxColumns {
				return atRow(ErrLimit, "more than %d cells in one row: over the column limit", maxColumns)
			}
			c := s.col + 1
			if ref := attr(t, "r"); ref != "" {
				cr, rr, err := excelize.CellNameToCoordinates(ref)
				switch {
				case err != nil:
					return at(ErrFormat, "bad cell reference %q", ref)
				case rr != s.row || cr <= s.col:
					return at(ErrFormat, "cell %s out of place after column %d of row %d", ref, s.col, s.row)
				}
				c = cr
			}
			s.col, s.inCell, s.cellType, s.size, s.value = c, true, attr(t, "t"), 0, s.value[:0]
		case "v":
			s.inValue = s.inCell
			if s.rec != nil && s.inValue && s.cellType == "s" {
				s.rec.valueStart(s.x)
			}
		}
	case xml.EndElement:
		switch t.Name.Local {
		case "c":
			if s.inCell && s.cellType == "s" {
				i, err := strconv.Atoi(string(bytes.TrimSpace(s.value)))
				if err != nil || i < 0 || i >= s.shared {
					return at(ErrFormat, "shared string %q: the workbook holds %d shared strings", s.value, s.shared)
				}
				if s.rec != nil {
					s.rec.shared(i)
				}
			}
			s.inCell, s.inValue = false, false
		case "v":
			if s.rec != nil && s.inValue && s.cellType == "s" {
				s.rec.valueEnd(s.x)
			}
			s.inValue = false
		case "row":
			if s.rec != nil {
				s.rec.rowEnd(s.x)
			}
		}
	case xml.CharData:
		if !s.inCell {
			return nil
		}
		if s.size += len(t); s.size > s.lim.MaxCellBytes {
			return at(ErrLimit, "cell of more than %d bytes: over the %d-byte cell limit", s.lim.MaxCellBytes, s.lim.MaxCellBytes)
		}
		if s.inValue && len(s.value) < 32 {
			s.value = append(s.value, t[:min(len(t), 32)]...)
		}
	}
	return nil
}

// end checks the sheet's declared extent against the rows it holds.
func (s *sheetScan) end() error {
	if _, last, ok := strings.Cut(s.dimension, ":"); ok {
		if _, declared, err := excelize.CellNameToCoordinates(last); err == nil && declared > s.row {
			return s.at.at(0, 0, "", errorf(ErrFormat, "the sheet declares rows up to %d (dimension %s) but its last row is %d: it is cut short", declared, s.dimension, s.row))
		}
	}
	return nil
}

// sheetRows streams the rows of a sheet through excelize, its XML checked
// just ahead. It reads on to the end of the part after the last row, and a
// read that ends before the last row the XML holds is an error: excelize
// ends a sheet quietly at anything it cannot parse.
type sheetRows struct {
	ctx context.Context
	r   *excelize.Rows
	pre *aheadScan
	n   int // rows given
	err error

	fast bool     // the rows come from the scan's values (see wbfast.go)
	cur  []string // the values of row n, when fast
}

// rows opens the rows of sheet sh.
func (w *workbook) rows(ctx context.Context, sh *wbSheet) (*sheetRows, error) {
	at := &ParseError{File: w.name, Sheet: sh.name}
	pre, err := newSheetScan(w.parts[sh.part], w.lim, w.shared, at)
	if err != nil {
		return nil, err
	}
	r, err := w.Rows(sh.name)
	if err != nil {
		pre.Close()
		return nil, at.at(0, 0, "", errorf(ErrFormat, "read sheet: %v", err))
	}
	var vb *valueBuilder
	if w.styles == nil && !w.stylesOK {
		w.styles, w.stylesOK = w.readStyles()
	}
	if !w.plain && w.stylesOK && (w.text == nil || !w.text.bad) {
		text := w.text
		if text == nil {
			text = &sharedText{}
		}
		vb = &valueBuilder{st: w.styles, sst: text}
	}
	a := startAhead(ctx, pre, vb)
	w.scans = append(w.scans, a)
	return &sheetRows{ctx: ctx, r: r, pre: a, fast: vb != nil}, nil
}

func (s *sheetRows) Next() bool {
	if s.err != nil {
		return false
	}
	if s.err = s.pre.through(s.n + 1); s.err != nil {
		return false
	}
	if s.fast {
		cells, ok, more := s.pre.fastRow(s.n + 1)
		switch {
		case ok && more:
			s.n++
			s.cur = cells
			return true
		case ok:
			return false // the sheet's last row was given: the scan ended there
		}
		// From this row on excelize renders the values: it skips the
		// rows given.
		s.fast = false
		for range s.n {
			if !s.r.Next() {
				break
			}
		}
	}
	if s.r.Next() {
		s.n++
		return true
	}
	if s.err = s.r.Error(); s.err != nil {
		return false
	}
	if s.err = s.pre.through(math.MaxInt); s.err == nil && s.n != s.pre.last() {
		s.err = s.pre.s.at.at(s.n, 0, "", errorf(ErrFormat, "the read ended at row %d but the sheet's last row is %d: the workbook is damaged", s.n, s.pre.last()))
	}
	return false
}

func (s *sheetRows) Columns() ([]string, error) {
	if s.fast {
		return s.cur, nil
	}
	return s.r.Columns()
}
func (s *sheetRows) Err() error { return s.err }

// Close ends the read, reporting an error excelize kept for the end.
func (s *sheetRows) Close() error {
	s.pre.Close()
	return s.r.Close()
}

// aheadScan runs a sheetScan over the whole sheet on its own goroutine,
// while excelize decodes the rows on the reader's: the check and the
// decoding use both cores. through answers as sheetScan.through would
// have, waiting for the scan to get far enough.
type aheadScan struct {
	s      *sheetScan
	cancel context.CancelFunc
	ended  chan struct{}

	mu   sync.Mutex
	cond *sync.Cond
	row  int   // the last row whose start tag the scan has passed
	done bool  // the scan has ended, with err
	err  error // nil at a proper end

	queue   []valuedRow // rows rendered by the scan's valueBuilder, not yet taken
	slowRow int         // the first row the builder could not render, or 0
	closed  bool
}

// valuedRow is a row's values as the scan rendered them.
type valuedRow struct {
	num   int
	cells []string
}

// maxQueued bounds the rows rendered ahead of the reader.
const maxQueued = 1024

func startAhead(ctx context.Context, s *sheetScan, vb *valueBuilder) *aheadScan {
	ctx, cancel := context.WithCancel(ctx)
	a := &aheadScan{s: s, cancel: cancel, ended: make(chan struct{})}
	a.cond = sync.NewCond(&a.mu)
	s.onRow = func(n int) {
		a.mu.Lock()
		a.row = n
		a.cond.Broadcast()
		a.mu.Unlock()
	}
	if vb != nil {
		vb.emit = func(row int, cells []string) {
			a.mu.Lock()
			a.queue = append(a.queue, valuedRow{row, cells})
			a.cond.Broadcast()
			for len(a.queue) >= maxQueued && !a.closed {
				a.cond.Wait()
			}
			a.mu.Unlock()
		}
		vb.halt = func(row int) {
			a.mu.Lock()
			a.slowRow = row
			a.cond.Broadcast()
			a.mu.Unlock()
		}
		s.vb = vb
	}
	go func() {
		defer close(a.ended)
		err := s.through(ctx, math.MaxInt)
		if err == nil && vb != nil {
			vb.flush()
		}
		a.mu.Lock()
		a.done, a.err = true, err
		a.cond.Broadcast()
		a.mu.Unlock()
	}()
	return a
}

// through returns nil once the scan has passed the start of a row after
// row last, or the scan's error (nil at a proper end) once it has ended
// short of that: what sheetScan.through(ctx, last) returns.
func (a *aheadScan) through(last int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.row <= last && !a.done {
		a.cond.Wait()
	}
	if a.row > last {
		return nil
	}
	return a.err
}

// fastRow returns the values of row k as the scan rendered them, once
// through(k) has returned nil: ok is false when the scan could not render
// them, and more is false when the sheet has no row k.
func (a *aheadScan) fastRow(k int) (cells []string, ok, more bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.slowRow != 0 && k >= a.slowRow {
		return nil, false, false
	}
	if a.row < k {
		return nil, true, false
	}
	if len(a.queue) > 0 && a.queue[0].num == k {
		cells = a.queue[0].cells
		a.queue[0] = valuedRow{}
		a.queue = a.queue[1:]
		a.cond.Broadcast()
	}
	return cells, true, true
}

// last is the last row the scan has passed the start of.
func (a *aheadScan) last() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.row
}

// Close stops the scan and closes its part; it may be called again.
func (a *aheadScan) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.cond.Broadcast()
	a.mu.Unlock()
	a.cancel()
	<-a.ended
	return a.s.Close()
}

// xmlPart streams one XML part of a workbook with a strict tokenizer. No
// token may take more than a bound of bytes, so a giant cell or tag is
// refused before it is held, and the part must end with its root closed.
type xmlPart struct {
	rc    io.ReadCloser
	in    *tokenBound
	d     *xml.Decoder
	open  []string // names of the open elements, to maxTrack deep
	depth int
	root  bool // the root element was seen
	n     int
	start int64 // where the last token starts in the part; it ends at in.mark
}

// maxTrack is how deep end tags are matched to their start tags; deeper
// nesting is only counted, in constant memory.
const maxTrack = 256

func openPart(zf *zip.File, lim Limits) (*xmlPart, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, errorf(ErrFormat, "damaged part %s: %v", zf.Name, err)
	}
	in := &tokenBound{r: rc, max: 16*int64(lim.MaxCellBytes) + 64<<10}
	d := xml.NewDecoder(in)
	d.Strict = true
	return &xmlPart{rc: rc, in: in, d: d}, nil
}

func (x *xmlPart) Close() error { return x.rc.Close() }

// next returns the next token, io.EOF at a proper end, or an error that says
// what is wrong with the XML.
func (x *xmlPart) next(ctx context.Context) (xml.Token, error) {
	if x.n++; x.n%8192 == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	x.start = x.in.mark
	tok, err := x.d.RawToken()
	x.in.mark = x.d.InputOffset()
	var syn *xml.SyntaxError
	switch {
	case err == io.EOF:
		if x.depth > 0 || !x.root {
			return nil, errorf(ErrFormat, "damaged XML: it ends before its closing tags, cut short")
		}
		return nil, io.EOF
	case errors.Is(err, errTokenTooLong):
		return nil, errorf(ErrLimit, "an XML token of more than %d bytes: over the cell limit", x.in.max)
	case errors.As(err, &syn):
		return nil, errorf(ErrFormat, "damaged XML on line %d: %s", syn.Line, syn.Msg)
	case err != nil:
		return nil, errorf(ErrFormat, "damaged part: %v", err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if x.depth == 0 && x.root {
			return nil, errorf(ErrFormat, "damaged XML: a second root element <%s>", t.Name.Local)
		}
		x.root = true
		if x.depth < maxTrack {
			x.open = append(x.open, t.Name.Local)
		}
		x.depth++
	case xml.EndElement:
		if x.depth == 0 {
			return nil, errorf(ErrFormat, "damaged XML: </%s> closes nothing", t.Name.Local)
		}
		x.depth--
		if x.depth < maxTrack {
			if o := x.open[x.depth]; o != t.Name.Local {
				return nil, errorf(ErrFormat, "damaged XML: <%s> closed by </%s>", o, t.Name.Local)
			}
			x.open = x.open[:x.depth]
		}
	}
	return tok, nil
}

var errTokenTooLong = errors.New("XML token too long")

// tokenBound fails a read that would take the current token past max bytes;
// mark is where the token starts.
type tokenBound struct {
	r            io.Reader
	n, mark, max int64

	// When keep is set, the bytes read are kept in held, which starts at
	// offset base of the part, for a sampler to copy from.
	keep bool
	held []byte
	base int64
}

func (b *tokenBound) Read(p []byte) (int, error) {
	if b.n-b.mark > b.max {
		return 0, errTokenTooLong
	}
	n, err := b.r.Read(p)
	if b.keep {
		b.held = append(b.held, p[:n]...)
	}
	b.n += int64(n)
	return n, err
}

// span returns the kept bytes from offset from to offset to.
func (b *tokenBound) span(from, to int64) []byte {
	return b.held[from-b.base : to-b.base]
}

// drop forgets the kept bytes before offset before, once they are many
// enough for the copy to pay.
func (b *tokenBound) drop(before int64) {
	if k := int(before - b.base); k > 64<<10 && k > len(b.held)/2 {
		b.held = b.held[:copy(b.held, b.held[k:])]
		b.base = before
	}
}
