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
	"strings"
	"unicode/utf8"

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

// readFile reads one input file, choosing the reader by extension and
// checking that the content agrees with it.
func readFile(ctx context.Context, name string, p *Profile, fr *FileReport, rep *Report, emit emitFunc) error {
	head := make([]byte, 8)
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]

	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return &ParseError{File: name, Err: errorf(ErrFormat, "legacy Excel 97-2003 (.xls) workbook: save it as .xlsx, or use the publisher's text file")}
	case ext == ".xlsx" || ext == ".xlsm":
		if !bytes.HasPrefix(head, zipMagic) {
			return &ParseError{File: name, Err: errorf(ErrFormat, "not an XLSX workbook: the file is not a zip archive")}
		}
		return readXLSX(ctx, name, p, fr, rep, emit)
	case ext == ".csv":
		return readDelimited(ctx, name, ',', p, fr, rep, emit)
	case ext == ".tsv" || ext == ".tab":
		return readDelimited(ctx, name, '\t', p, fr, rep, emit)
	case bytes.HasPrefix(head, zipMagic):
		return readXLSX(ctx, name, p, fr, rep, emit)
	}
	return &ParseError{File: name, Err: errorf(ErrFormat, "unsupported file type %q: want .xlsx, .csv or .tsv", ext)}
}

func readXLSX(ctx context.Context, name string, p *Profile, fr *FileReport, rep *Report, emit emitFunc) error {
	wb, err := excelize.OpenFile(name)
	if err != nil {
		return &ParseError{File: name, Err: errorf(ErrFormat, "not a readable XLSX workbook: %v", err)}
	}
	defer wb.Close()
	sheets := wb.GetSheetList()
	for _, sheet := range sheets {
		rows, err := wb.Rows(sheet)
		if err != nil {
			// A chart sheet or a damaged part: it holds no codes.
			continue
		}
		found, err := scan(ctx, &xlsxRows{rows}, &ParseError{File: name, Sheet: sheet}, p, fr, rep, emit)
		if cerr := rows.Close(); err == nil && cerr != nil {
			err = &ParseError{File: name, Sheet: sheet, Err: errorf(ErrFormat, "read sheet: %v", cerr)}
		}
		if err != nil {
			return err
		}
		if found {
			fr.Sheet = sheet
			return nil
		}
	}
	return &ParseError{File: name, Err: errorf(ErrNoHeader, "no sheet with a recognisable code column: looked in the first %d rows of sheets %s for a header row with %s",
		p.HeaderScan, quoteList(sheets), p.headerWant())}
}

// xlsxRows adapts excelize's row iterator: its errors surface on Close, but
// a parse error mid-sheet must stop the scan at once.
type xlsxRows struct{ r *excelize.Rows }

func (x *xlsxRows) Next() bool                 { return x.r.Next() }
func (x *xlsxRows) Columns() ([]string, error) { return x.r.Columns() }
func (x *xlsxRows) Err() error                 { return x.r.Error() }

func readDelimited(ctx context.Context, name string, comma rune, p *Profile, fr *FileReport, rep *Report, emit emitFunc) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	found, err := scan(ctx, &csvRows{r: r}, &ParseError{File: name}, p, fr, rep, emit)
	if err != nil {
		return err
	}
	if !found {
		return &ParseError{File: name, Err: errorf(ErrNoHeader, "no recognisable header row in the first %d rows: want %s", p.HeaderScan, p.headerWant())}
	}
	return nil
}

type csvRows struct {
	r    *csv.Reader
	rec  []string
	err  error
	line int
}

func (c *csvRows) Next() bool {
	if c.err != nil {
		return false
	}
	c.rec, c.err = c.r.Read()
	if errors.Is(c.err, io.EOF) {
		c.err = nil
		return false
	}
	if c.err != nil {
		return false
	}
	if c.line == 0 && len(c.rec) > 0 {
		c.rec[0] = strings.TrimPrefix(c.rec[0], "\ufeff")
	}
	c.line++
	return true
}

func (c *csvRows) Columns() ([]string, error) { return c.rec, nil }
func (c *csvRows) Err() error                 { return c.err }

// emitFunc receives each record with its location (Row and File set).
type emitFunc func(codeset.Code, *ParseError) error

// columnMap is a header row resolved against a profile.
type columnMap struct {
	idx     map[string]int // field -> column index
	headers []string       // header row text
}

// scan finds the header row in the first p.HeaderScan rows of src, then reads
// every data row after it. It reports false when no header row was found.
func scan(ctx context.Context, src rowSource, at *ParseError, p *Profile, fr *FileReport, rep *Report, emit emitFunc) (bool, error) {
	var cols *columnMap
	row := 0
	for row < p.HeaderScan && src.Next() {
		row++
		cells, err := src.Columns()
		if err != nil {
			return false, at.at(row, "", "", errorf(ErrFormat, "read row: %v", err))
		}
		if cols = p.matchHeader(cells); cols != nil {
			break
		}
	}
	if err := src.Err(); err != nil {
		return false, at.at(row, "", "", errorf(ErrFormat, "%v", err))
	}
	if cols == nil {
		return false, nil
	}
	fr.HeaderRow = row
	for src.Next() {
		row++
		if row%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return true, err
			}
		}
		cells, err := src.Columns()
		if err != nil {
			return true, at.at(row, "", "", errorf(ErrFormat, "read row: %v", err))
		}
		c, ok, err := p.record(cells, cols, rep, func(field string, e error) error {
			i := cols.idx[field]
			col, _ := excelize.ColumnNumberToName(i + 1)
			return at.at(row, col, cols.headers[i], e)
		})
		if err != nil {
			return true, err
		}
		if !ok {
			continue
		}
		if err := emit(c, at.at(row, "", "", nil)); err != nil {
			return true, err
		}
	}
	if err := src.Err(); err != nil {
		return true, at.at(row, "", "", errorf(ErrFormat, "%v", err))
	}
	return true, nil
}

// at returns a copy of the location e pointing at row and column.
func (e *ParseError) at(row int, col, header string, err error) *ParseError {
	c := *e
	c.Row, c.Column, c.Header, c.Err = row, col, header, err
	return &c
}

// matchHeader resolves cells as a header row, or returns nil when they are
// not one: the code column and at least one descriptor column must be there.
func (p *Profile) matchHeader(cells []string) *columnMap {
	pos := map[string]int{}
	for i, c := range cells {
		k := headerKey(c)
		if _, dup := pos[k]; k != "" && !dup {
			pos[k] = i
		}
	}
	m := &columnMap{idx: map[string]int{}, headers: make([]string, len(cells))}
	for i, c := range cells {
		m.headers[i] = clean(c)
	}
	for _, col := range p.Columns {
		for _, h := range col.Headers {
			if i, ok := pos[headerKey(h)]; ok {
				m.idx[col.Field] = i
				break
			}
		}
	}
	if _, ok := m.idx[codeset.FieldCode]; !ok {
		return nil
	}
	for _, f := range descriptorFields {
		if _, ok := m.idx[f]; ok {
			return m
		}
	}
	if !p.hasDescriptors() {
		return m
	}
	return nil
}

func (p *Profile) hasDescriptors() bool {
	for _, c := range p.Columns {
		for _, f := range descriptorFields {
			if c.Field == f {
				return true
			}
		}
	}
	return false
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

// record builds the code record of one data row. It reports false for a
// blank row.
func (p *Profile) record(cells []string, cols *columnMap, rep *Report, fail func(field string, err error) error) (codeset.Code, bool, error) {
	get := func(field string) string {
		i, ok := cols.idx[field]
		if !ok || i >= len(cells) {
			return ""
		}
		return clean(cells[i])
	}
	blank := true
	for _, c := range cells {
		if clean(c) != "" {
			blank = false
			break
		}
	}
	if blank {
		return codeset.Code{}, false, nil
	}
	code := strings.ToUpper(get(codeset.FieldCode))
	if code == "" {
		return codeset.Code{}, false, fail(codeset.FieldCode, errorf(ErrMissingValue, "missing code in a row that has other values"))
	}
	if p.Width > 0 && len(code) < p.Width && allDigits(code) {
		code = strings.Repeat("0", p.Width-len(code)) + code
		rep.Padded++
	}
	cat, ok := p.category(code)
	if !ok {
		return codeset.Code{}, false, fail(codeset.FieldCode, errorf(ErrBadCode, "bad code %q: want %s", code, p.want()))
	}
	c := codeset.Code{Code: code, Category: cat}
	for _, col := range p.Columns {
		if _, ok := cols.idx[col.Field]; !ok {
			continue
		}
		v := get(col.Field)
		switch col.Field {
		case codeset.FieldCode:
		case codeset.FieldShort:
			c.Short = v
		case codeset.FieldMedium:
			c.Medium = v
		case codeset.FieldLong:
			c.Long = v
		case codeset.FieldStatus:
			c.Status = v
		default:
			if v != "" {
				if c.Attrs == nil {
					c.Attrs = map[string]string{}
				}
				c.Attrs[col.Field] = v
			}
		}
	}
	if p.hasDescriptors() && c.Short == "" && c.Medium == "" && c.Long == "" {
		first := ""
		for _, f := range descriptorFields {
			if _, ok := cols.idx[f]; ok {
				first = f
				break
			}
		}
		return codeset.Code{}, false, fail(first, errorf(ErrMissingValue, "code %s has no descriptor", code))
	}
	return c, true, nil
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

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
