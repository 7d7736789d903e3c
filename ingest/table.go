package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/richardlehane/mscfb"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/codeset/codeset"
)

// rowSource streams the rows of one sheet or text file. Row numbers are the
// count of Next calls: excelize reports missing rows as empty ones.
type rowSource interface {
	Next() bool
	Columns() ([]string, error)
	Err() error
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// readTable reads one spreadsheet or delimited file at path, choosing the
// reader by extension and checking that the content agrees with it. name is
// the file as reported in errors (for a zip member: zip/member).
func (rd *reader) table(ctx context.Context, path, name string, fr *FileReport) error {
	head, err := fileHead(path, name)
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return oleError(path, name)
	case ext == ".ods" || ext == ".ots" || ext == ".fods":
		return &ParseError{File: name, Err: errorf(ErrFormat, "%s", odsRefusal)}
	case ext == ".xlsx" || ext == ".xlsm":
		return rd.xlsx(ctx, path, name, fr)
	case ext == ".csv":
		return rd.delimited(ctx, path, name, ',', fr)
	case ext == ".tsv" || ext == ".tab":
		return rd.delimited(ctx, path, name, '\t', fr)
	}
	return &ParseError{File: name, Err: errorf(ErrFormat, "unsupported file type %q: want .xlsx, .csv, .tsv, a fixed-width text file the profile names, or the publisher's zip", ext)}
}

// odsRefusal says why an OpenDocument spreadsheet is refused.
const odsRefusal = "an OpenDocument spreadsheet (.ods), which codeset does not read: save it as .xlsx or CSV"

// fileHead returns the first 8 bytes of a file, fewer if it is shorter.
func fileHead(path, name string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	return head[:n], nil
}

// oleError says what an OLE compound file (the Office 97-2003 container) is
// and what to use instead: an encrypted (password-protected) workbook of any
// Excel version is such a file too, holding the encrypted package.
func oleError(path, name string) error {
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		if doc, err := mscfb.New(f); err == nil {
			for e, err := doc.Next(); err == nil; e, err = doc.Next() {
				if e.Name == "EncryptedPackage" || e.Name == "EncryptionInfo" {
					return &ParseError{File: name, Err: errorf(ErrFormat, "an encrypted (password-protected) Excel workbook, which codeset cannot read: open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password) and save it as .xlsx")}
				}
			}
		}
	}
	return &ParseError{File: name, Err: errorf(ErrFormat, "legacy Excel 97-2003 (.xls) workbook, which codeset does not read: %s", xlsHint(path))}
}

// xlsHint says what to use instead of a legacy .xls workbook: the
// publisher's fixed-width text file beside it, or in its zip.
func xlsHint(path string) string {
	stem := strings.TrimSuffix(path, filepath.Ext(path))
	for _, ext := range []string{".txt", ".TXT"} {
		if _, err := os.Stat(stem + ext); err == nil {
			return fmt.Sprintf("use the fixed-width text file shipped with it, %s, or save the workbook as .xlsx", filepath.Base(stem+ext))
		}
	}
	return "use the fixed-width text (.txt) file shipped in the same zip (or pass the zip itself), or save the workbook as .xlsx"
}

func (rd *reader) xlsx(ctx context.Context, path, name string, fr *FileReport) error {
	p := rd.p
	wb, err := openWorkbook(ctx, path, name, rd.lim)
	if err != nil {
		return err
	}
	defer wb.Close()
	for _, sh := range wb.readOrder() {
		found, err := rd.sheet(ctx, wb, sh, fr)
		if err != nil {
			return err
		}
		if found {
			fr.Sheet = sh.name
			if sh.hidden() {
				rd.rep.Warnings = append(rd.rep.Warnings, fmt.Sprintf("%s: read the %s sheet %q: no visible sheet has a header row with %s",
					name, sh.state, sh.name, p.headerWant()))
			}
			return nil
		}
	}
	return &ParseError{File: name, Err: errorf(ErrNoHeader, "no sheet with a recognisable code column: looked in the first %d rows of sheets %s for a header row with %s",
		p.HeaderScan, quoteFew(wb.sheetNames(), 10), p.headerWant())}
}

// sheet reads one sheet, reporting false when it has no header row.
func (rd *reader) sheet(ctx context.Context, wb *workbook, sh *wbSheet, fr *FileReport) (bool, error) {
	rows, err := wb.rows(ctx, sh)
	if err != nil {
		return false, err
	}
	at := &ParseError{File: wb.name, Sheet: sh.name}
	found, err := rd.scan(ctx, rows, at, fr)
	if cerr := rows.Close(); err == nil && cerr != nil {
		err = at.at(0, 0, "", errorf(ErrFormat, "read sheet: %v", cerr))
	}
	return found, err
}

func (rd *reader) delimited(ctx context.Context, path, name string, comma rune, fr *FileReport) error {
	p := rd.p
	f, err := openText(path, name)
	if err != nil {
		return err
	}
	defer f.Close()
	found, err := rd.scan(ctx, newCSVRows(f, name, comma), &ParseError{File: name}, fr)
	if err != nil {
		return err
	}
	if !found {
		return &ParseError{File: name, Err: errorf(ErrNoHeader, "no recognisable header row in the first %d rows: want %s", p.HeaderScan, p.headerWant())}
	}
	return nil
}

// maxRecord bounds one record of a delimited file, line breaks in quoted
// fields included, as maxLine bounds a line of a fixed-width file;
// maxColumns bounds the fields of one record: Excel's column limit.
const (
	maxRecord  = maxLine
	maxColumns = excelize.MaxColumns
)

// csvRows streams the records of a delimited file. Quotes are strict: a
// stray quote is an error, never a field that swallows the lines after it.
// A record is bounded as it is read, before encoding/csv holds it.
type csvRows struct {
	r    *csv.Reader
	in   *recordBound
	name string
	rec  []string
	err  error
	line int
}

func newCSVRows(r io.Reader, name string, comma rune) *csvRows {
	in := &recordBound{r: r, sep: byte(comma)}
	c := &csvRows{r: csv.NewReader(in), in: in, name: name}
	c.r.Comma = comma
	c.r.FieldsPerRecord = -1
	c.r.ReuseRecord = true
	return c
}

func (c *csvRows) Next() bool {
	if c.err != nil {
		return false
	}
	c.rec, c.err = c.r.Read()
	c.in.mark, c.in.seps = c.r.InputOffset(), 0
	var pe *csv.ParseError
	switch {
	case errors.Is(c.err, io.EOF):
		c.err = nil
		return false
	case errors.Is(c.err, errRecordTooLong):
		line, _ := c.r.FieldPos(0)
		c.err = &ParseError{File: c.name, Line: line, Err: errorf(ErrLimit, "record longer than %d bytes: over the record limit", maxRecord)}
		return false
	case errors.Is(c.err, errRecordTooWide):
		line, _ := c.r.FieldPos(0)
		c.err = &ParseError{File: c.name, Line: line, Err: errorf(ErrLimit, "record of more than %d separators: over the %d-column limit", maxSeparators, maxColumns)}
		return false
	case errors.As(c.err, &pe):
		msg := pe.Err.Error()
		if pe.StartLine != pe.Line {
			msg += fmt.Sprintf(", in the record that starts on line %d", pe.StartLine)
		}
		c.err = &ParseError{File: c.name, Line: pe.Line, Column: pe.Column, Err: errorf(ErrFormat,
			"%s: a stray quote? quote the whole field and double each quote inside it", msg)}
		return false
	case c.err != nil:
		c.err = &ParseError{File: c.name, Err: errorf(ErrFormat, "read: %v", c.err)}
		return false
	}
	c.line++
	if len(c.rec) > maxColumns {
		line, _ := c.r.FieldPos(0)
		c.err = &ParseError{File: c.name, Row: c.line, Line: line, Err: errorf(ErrLimit, "record of %d fields: over the %d-column limit", len(c.rec), maxColumns)}
		return false
	}
	if c.line == 1 && len(c.rec) > 0 {
		c.rec[0] = strings.TrimPrefix(c.rec[0], "\ufeff")
	}
	return true
}

func (c *csvRows) Columns() ([]string, error) { return c.rec, nil }
func (c *csvRows) Err() error                 { return c.err }

var (
	errRecordTooLong = errors.New("record too long")
	errRecordTooWide = errors.New("record too wide")
)

// maxSeparators bounds the separators read since a record began: once
// encoding/csv has a line, it splits all of it, and a megabyte of commas
// is half a million fields. Quoted separators count too, hence the margin.
const maxSeparators = 4 * maxColumns

// recordBound fails a read that would take the current record past
// maxRecord bytes or maxSeparators separators; mark is where the record
// starts, seps the separators read since the reader last set mark (the
// read-ahead of one buffer may go uncounted).
type recordBound struct {
	r       io.Reader
	sep     byte
	n, mark int64
	seps    int
}

func (b *recordBound) Read(p []byte) (int, error) {
	switch {
	case b.n-b.mark > maxRecord:
		return 0, errRecordTooLong
	case b.seps > maxSeparators:
		return 0, errRecordTooWide
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.seps += bytes.Count(p[:n], []byte{b.sep})
	return n, err
}

// emitFunc receives each record with its location (File and Row or Line
// set). header is true for rows the profile marks as headers, not codes.
// loc belongs to the reader, which reuses it for the next record: an emit
// may set its Err and return it, and copies what it keeps of it.
type emitFunc func(c codeset.Code, header bool, loc *ParseError) error

// columnMap is a header row resolved against a profile.
type columnMap struct {
	idx     map[string][]int // field -> column indexes (several for Column.All)
	headers []string         // header row text
}

// scan finds the header row in the first p.HeaderScan rows of src, then reads
// every data row after it. It reports false when no header row was found.
func (rd *reader) scan(ctx context.Context, src rowSource, at *ParseError, fr *FileReport) (bool, error) {
	p := rd.p
	var cols *columnMap
	row := 0
	for row < p.HeaderScan && src.Next() {
		row++
		cells, err := src.Columns()
		if err != nil {
			return false, at.at(row, 0, "", errorf(ErrFormat, "read row: %v", err))
		}
		var missing []string
		if cols, missing = p.matchHeader(cells); len(missing) > 0 {
			return false, at.at(row, 0, "", errorf(ErrLayout, "header row has the code column but lacks %s: found %s; the layout changed, or map the columns with --map",
				p.columnWant(missing), quoteFew(nonEmpty(cells), 60)))
		}
		if cols != nil {
			break
		}
	}
	if err := src.Err(); err != nil {
		return false, located(err, at.at(row, 0, "", nil))
	}
	if cols == nil {
		return false, nil
	}
	fr.HeaderRow = row
	data := 0
	fields := p.fields()
	cur := *at // the location handed to emit, reused row after row
	for src.Next() {
		row++
		if row%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return true, err
			}
		}
		cells, err := src.Columns()
		if err != nil {
			return true, at.at(row, 0, "", errorf(ErrFormat, "read row: %v", err))
		}
		if blankRow(cells) {
			continue
		}
		if data++; data > rd.lim.MaxRows {
			return true, at.at(row, 0, "", errorf(ErrLimit, "more than %d data rows: over the row limit", rd.lim.MaxRows))
		}
		for i, c := range cells {
			if len(c) > rd.lim.MaxCellBytes {
				return true, at.at(row, i+1, "", errorf(ErrLimit, "cell of %d bytes: over the %d-byte cell limit", len(c), rd.lim.MaxCellBytes))
			}
		}
		get := func(field string) string {
			var vals []string
			for _, i := range cols.idx[field] {
				if i < len(cells) {
					if v := clean(cells[i]); v != "" {
						vals = append(vals, v)
					}
				}
			}
			return strings.Join(vals, " ")
		}
		has := func(field string) bool { return len(cols.idx[field]) > 0 }
		fail := func(field string, e error) error {
			if i := cols.idx[field]; len(i) > 0 {
				return at.at(row, i[0]+1, cols.headers[i[0]], e)
			}
			return at.at(row, 0, "", e)
		}
		c, err := p.build(fields, get, has, false, rd.rep, fail)
		if err != nil {
			return true, err
		}
		cur.Row, cur.Err = row, nil
		if err := rd.emit(c, false, &cur); err != nil {
			return true, err
		}
	}
	if err := src.Err(); err != nil {
		return true, located(err, at.at(row, 0, "", nil))
	}
	return true, nil
}

func blankRow(cells []string) bool {
	for _, c := range cells {
		if clean(c) != "" {
			return false
		}
	}
	return true
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = clean(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// located returns err as it is when it names its place, or else at the
// place at, as a format error.
func located(err error, at *ParseError) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return err
	}
	at.Err = errorf(ErrFormat, "%v", err)
	return at
}

// at returns a copy of the location e pointing at row and column.
func (e *ParseError) at(row, col int, header string, err error) *ParseError {
	c := *e
	c.Row, c.Column, c.Header, c.Err = row, col, header, err
	return &c
}

// matchHeader resolves cells as a header row, or returns nil when they are
// not one: the code column and at least one descriptor column must be there.
// A row that has those but lacks a required column reports what is missing.
func (p *Profile) matchHeader(cells []string) (*columnMap, []string) {
	pos := map[string]int{}
	for i, c := range cells {
		k := headerKey(c)
		if _, dup := pos[k]; k != "" && !dup {
			pos[k] = i
		}
	}
	m := &columnMap{idx: map[string][]int{}, headers: make([]string, len(cells))}
	for i, c := range cells {
		m.headers[i] = clean(c)
	}
	for _, col := range p.Columns {
		for _, h := range col.Headers {
			if i, ok := pos[headerKey(h)]; ok {
				m.idx[col.Field] = append(m.idx[col.Field], i)
				if !col.All {
					break
				}
			}
		}
	}
	if len(m.idx[codeset.FieldCode]) == 0 {
		return nil, nil
	}
	hasDesc := !p.hasDescriptors()
	for _, f := range descriptorFields {
		hasDesc = hasDesc || len(m.idx[f]) > 0
	}
	var missing []string
	for _, f := range p.Required {
		if len(m.idx[f]) == 0 {
			missing = append(missing, f)
		}
	}
	switch {
	case !hasDesc:
		return nil, nil
	case len(missing) > 0:
		return nil, missing
	}
	return m, nil
}

func (p *Profile) hasDescriptors() bool {
	for _, c := range p.Columns {
		if slices.Contains(descriptorFields, c.Field) {
			return true
		}
	}
	return false
}

// columnWant names the header texts of fields, for error messages.
func (p *Profile) columnWant(fields []string) string {
	var parts []string
	for _, f := range fields {
		for _, c := range p.Columns {
			if c.Field == f {
				parts = append(parts, fmt.Sprintf("%s (%s)", f, quoteList(c.Headers)))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// headerWant describes the header row the profile looks for.
func (p *Profile) headerWant() string {
	var code, desc []string
	for _, c := range p.Columns {
		switch c.Field {
		case codeset.FieldCode:
			code = c.Headers
		case codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong:
			desc = append(desc, c.Headers...)
		}
	}
	s := "a code column (" + quoteList(code) + ")"
	if len(desc) > 0 {
		s += " and a descriptor column (" + quoteList(desc) + ")"
	}
	return s
}

// clean normalises a cell: text that is not UTF-8 is read as Windows-1252,
// non-breaking spaces become spaces, and the ends are trimmed. Inner runs of
// whitespace are kept: the diff reports them as cosmetic changes.
func clean(s string) string {
	if !utf8.ValidString(s) {
		if d, err := charmap.Windows1252.NewDecoder().String(s); err == nil {
			s = d
		}
	}
	s = strings.ReplaceAll(s, "\u00a0", " ")
	return strings.TrimSpace(s)
}

// headerKey folds a header cell for comparison: case, inner whitespace and
// line breaks do not matter.
func headerKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(clean(s)), " "))
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// quoteFew quotes the first n of ss, each cut to a readable length, and
// says how many more there are: an error stays one short line.
func quoteFew(ss []string, n int) string {
	q := make([]string, min(n, len(ss)))
	for i := range q {
		q[i] = fmt.Sprintf("%q", excerpt(ss[i]))
	}
	return joinFew(q, len(ss))
}

// joinFew joins the first items of a list of total, saying how many more
// there are: "a, b and 7 more".
func joinFew(items []string, total int) string {
	out := strings.Join(items, ", ")
	if more := total - len(items); more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
