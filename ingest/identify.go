package ingest

import (
	"bufio"
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
)

// Files are recognised by their content; names only break ties. A sample
// of the top of a file is taken once, without knowing the code system, and
// each profile then says what the sample is to it.

// Roles of a publisher file besides roleCodes and roleAddenda.
const (
	// roleAlso is a code file read beside the preferred one, for the
	// fields that one lacks (the ICD-10-CM order file's short titles).
	roleAlso = "also"
	// roleDeclaration is a publisher's list of changes in a workbook (the
	// HCPCS corrections file and transaction report).
	roleDeclaration = "declaration"
)

// Sample sizes: enough lines to get past the HCPCS disclaimers, and rows to
// find a header row and look at some data under it.
const (
	sampleBytes = 64 << 10
	sampleLines = 200
	sampleRows  = 80
	checkLines  = 40 // record lines checked against a fixed layout
	checkRows   = 20 // data rows whose codes and actions are checked
)

// Shapes of a file's content.
const (
	shapeText     = "text"
	shapeWorkbook = "workbook"
	shapeLegacy   = "xls"
	shapePDF      = "pdf"
	shapeZip      = "zip"
	shapeBinary   = "binary"
)

// sample is the top of one file.
type sample struct {
	shape  string
	lines  []string      // text: the first lines, CR and trailing blanks trimmed
	sheets []sheetSample // workbook: the first rows of every sheet
	err    error         // workbook: why it could not be opened
	ext    string        // lower-case extension of the name
}

type sheetSample struct {
	name string
	rows [][]string
}

// sniff takes a sample of the file at path, within lim. name is the file as
// it is reported (a zip member's name) and gives the extension.
func sniff(path, name string, lim Limits) (*sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	head := make([]byte, sampleBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, &ParseError{File: name, Err: errorf(ErrFormat, "read: %v", err)}
	}
	head = head[:n]
	s := &sample{ext: strings.ToLower(filepath.Ext(name))}
	switch {
	case bytes.HasPrefix(head, oleMagic):
		s.shape = shapeLegacy
	case bytes.HasPrefix(head, []byte("%PDF")):
		s.shape = shapePDF
	case bytes.HasPrefix(head, zipMagic):
		if st, err := f.Stat(); err == nil && st.Size() > lim.MaxFileBytes {
			return nil, &ParseError{File: name, Err: errorf(ErrLimit, "%d bytes: over the %d-byte input limit", st.Size(), lim.MaxFileBytes)}
		}
		s.shape = shapeWorkbook
		s.sheets, s.err = workbookSample(path, lim)
		if s.err != nil && s.ext != ".xlsx" && s.ext != ".xlsm" {
			s.shape = shapeZip
		}
	case textLike(head):
		s.shape = shapeText
		sc := bufio.NewScanner(bytes.NewReader(head))
		sc.Buffer(make([]byte, 0, 64<<10), sampleBytes+1)
		for sc.Scan() && len(s.lines) < sampleLines {
			s.lines = append(s.lines, strings.TrimRight(sc.Text(), "\r"))
		}
		// The last line of a cut sample may be cut too.
		if n == sampleBytes && len(s.lines) > 1 && len(s.lines) < sampleLines {
			s.lines = s.lines[:len(s.lines)-1]
		}
	default:
		s.shape = shapeBinary
	}
	return s, nil
}

// textLike reports whether head looks like text: no NUL bytes and mostly
// printable (Windows-1252 bytes are fine).
func textLike(head []byte) bool {
	if len(head) == 0 {
		return true
	}
	ctrl := 0
	for _, b := range head {
		switch {
		case b == 0:
			return false
		case b < 0x20 && b != '\t' && b != '\r' && b != '\n' && b != '\f':
			ctrl++
		}
	}
	return ctrl*100 < len(head)
}

// workbookSample reads the first rows of every sheet of an XLSX workbook,
// through the same bounded scanner as the main read (see sampleWorkbook).
func workbookSample(path string, lim Limits) ([]sheetSample, error) {
	out, err := sampleWorkbook(context.Background(), path, lim)
	if errors.Is(err, errSampleFallback) {
		return workbookSampleExcelize(path, lim)
	}
	return out, err
}

// workbookSampleExcelize takes the sample of workbookSample by opening the
// workbook with excelize: every part unpacked, the shared strings parsed.
func workbookSampleExcelize(path string, lim Limits) ([]sheetSample, error) {
	ctx := context.Background()
	wb, err := openWorkbook(ctx, path, path, lim)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	wb.plain = true
	var out []sheetSample
	for _, sh := range wb.readOrder() {
		rows, err := wb.rows(ctx, sh)
		if err != nil {
			continue
		}
		ss := sheetSample{name: sh.name}
		for i := 0; i < sampleRows && rows.Next(); i++ {
			cells, err := rows.Columns()
			if err != nil {
				break
			}
			ss.rows = append(ss.rows, cells)
		}
		rows.Close()
		out = append(out, ss)
	}
	return out, nil
}

// csvSample reads the first rows of a delimited text sample.
func (s *sample) csvRows() [][]string {
	comma := ','
	if s.ext == ".tsv" || s.ext == ".tab" {
		comma = '\t'
	}
	r := csv.NewReader(strings.NewReader(strings.Join(s.lines, "\n")))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = comma, -1, true
	var out [][]string
	for len(out) < sampleRows {
		rec, err := r.Read()
		if err != nil {
			break
		}
		out = append(out, rec)
	}
	if len(out) > 0 && len(out[0]) > 0 {
		out[0][0] = strings.TrimPrefix(out[0][0], "\ufeff")
	}
	return out
}

// ident is what a file is to one profile.
type ident struct {
	role    string           // roleCodes, roleAddenda, roleDeclaration, or "" when unknown
	member  *Member          // the profile member whose layout or kind it fits, if any
	decl    *DeclarationFile // the kind of declaration, for roleDeclaration
	flagged bool             // an addenda whose change lines carry the order file's flag
	text    bool             // a declaration file in fixed-width text, not a workbook
	byName  bool             // recognised by its name only: its content fits no kind
	looks   string           // what it is, in words
}

// classify says what a sampled file is to p.
func (p *Profile) classify(s *sample) ident {
	return p.classifyAs(s, false)
}

// recognises reports whether p's content rules fit a sampled file,
// strictly: a spreadsheet by its header row and valid codes, not by its
// header row alone. Detect asks this of every profile.
func (p *Profile) recognises(s *sample) ident {
	return p.classifyAs(s, true)
}

func (p *Profile) classifyAs(s *sample, strictOnly bool) ident {
	switch s.shape {
	case shapeLegacy:
		return ident{looks: "a legacy Excel 97-2003 (.xls) workbook, which codeset does not read"}
	case shapePDF:
		return ident{looks: "a PDF document"}
	case shapeZip:
		return ident{looks: "a zip archive"}
	case shapeBinary:
		return ident{looks: "a binary file"}
	case shapeWorkbook:
		if s.err != nil {
			return ident{looks: fmt.Sprintf("an unreadable workbook (%v)", s.err)}
		}
		return p.classifyTable(s.sheets, "workbook", strictOnly)
	}
	if s.ext == ".csv" || s.ext == ".tsv" || s.ext == ".tab" {
		if id := p.classifyTable([]sheetSample{{rows: s.csvRows()}}, "delimited file", strictOnly); id.role != "" {
			return id
		}
	}
	for i := range p.Members {
		m := &p.Members[i]
		if m.Fixed != nil && p.fitsFixed(m.Fixed, s.lines) {
			return ident{role: roleCodes, member: m, looks: "a " + m.Fixed.Name}
		}
	}
	for i := range p.Declarations {
		if d := &p.Declarations[i]; d.textFits(p, s.lines) {
			return ident{role: roleDeclaration, decl: d, text: true, looks: "a " + d.Name + " (fixed-width text)"}
		}
	}
	if p.hasAddenda() {
		if ok, flagged := p.addendaLike(s.lines); ok {
			what := "an addenda (the publisher's list of changes)"
			if flagged {
				what = "an order addenda (the publisher's list of changes to codes and headers)"
			}
			return ident{role: roleAddenda, flagged: flagged, looks: what}
		}
	}
	return ident{looks: describeText(s.lines)}
}

// classifyTable says what a workbook (or delimited file) is: a data file
// whose header row the profile's columns recognise and whose codes (and
// declared actions) it accepts, or one of the profile's declaration files.
// Content that fits best wins: a declaration file whose actions are all
// known, then a data file whose codes and actions are, then a declaration
// file by its header row, then a data file by its header row (whose
// reader then says which cell is wrong).
func (p *Profile) classifyTable(sheets []sheetSample, what string, strictOnly bool) ident {
	data := ident{role: roleCodes, member: p.tableMember(), looks: "a " + string(p.System) + " data " + what}
	for _, strict := range []bool{true, false} {
		if !strict && strictOnly {
			break
		}
		for _, sh := range sheets {
			for i := range p.Declarations {
				d := &p.Declarations[i]
				if d.fits(p, sh.rows, strict) {
					return ident{role: roleDeclaration, decl: d, looks: "a " + d.Name}
				}
			}
		}
		for _, sh := range sheets {
			if p.dataFits(sh.rows, strict) {
				return data
			}
		}
	}
	var names []string
	for _, sh := range sheets {
		first := ""
		for _, r := range sh.rows {
			if cells := nonEmpty(r); len(cells) > 0 {
				first = excerpt(strings.Join(cells, " | "))
				break
			}
		}
		if sh.name != "" {
			names = append(names, fmt.Sprintf("%q (first row %q)", sh.name, first))
		} else {
			names = append(names, fmt.Sprintf("first row %q", first))
		}
	}
	if what == "workbook" {
		return ident{looks: "a workbook with sheets " + strings.Join(names, ", ")}
	}
	return ident{looks: "a " + what + " with " + strings.Join(names, ", ")}
}

// dataFits reports whether sampled rows are a data sheet of p: a header
// row the columns recognise and, when strict, valid codes and declared
// actions under it.
func (p *Profile) dataFits(rows [][]string, strict bool) bool {
	for r, row := range rows {
		if r >= p.HeaderScan {
			return false
		}
		cols, missing := p.matchHeader(row)
		if cols == nil && len(missing) == 0 {
			continue
		}
		if !strict {
			return true
		}
		return cols != nil && p.codesValid(cols, rows[r+1:])
	}
	return false
}

// codesValid reports whether the codes of the first data rows under a
// header row are valid codes of p, and their declared actions known: what
// tells a CPT sheet from an ICD-10 one when both say "Code" and
// "Description", and a HCPCS data file from a transaction report.
func (p *Profile) codesValid(cols *columnMap, rows [][]string) bool {
	seen := 0
	for _, row := range rows {
		if seen == checkRows {
			break
		}
		if blankRow(row) {
			continue
		}
		code := ""
		for _, i := range cols.idx["code"] {
			if i < len(row) {
				code = strings.ToUpper(clean(row[i]))
				break
			}
		}
		for _, r := range p.Strip {
			code = strings.ReplaceAll(code, string(r), "")
		}
		if code == "" {
			continue
		}
		if p.Width > 0 && len(code) < p.Width && allDigits(code) {
			code = strings.Repeat("0", p.Width-len(code)) + code
		}
		if _, ok := p.category(code); !ok {
			return false
		}
		if rule := p.Declared; rule != nil {
			for _, i := range cols.idx[rule.Field] {
				if v := cell(row, i); v != "" && !slices.Contains(rule.Ignore, v) {
					if _, ok := rule.Kinds[v]; !ok {
						return false
					}
				}
			}
		}
		seen++
	}
	return seen > 0
}

// tableMember returns the first member that names a spreadsheet (one
// without a fixed layout), or nil.
func (p *Profile) tableMember() *Member {
	for i := range p.Members {
		if p.Members[i].Role == roleCodes && p.Members[i].Fixed == nil {
			return &p.Members[i]
		}
	}
	return nil
}

func (p *Profile) hasAddenda() bool {
	for _, m := range p.Members {
		if m.Role == roleAddenda {
			return true
		}
	}
	return false
}

// fitsFixed reports whether the first record lines of a text sample fit a
// fixed-width layout: the record pattern, the blank gaps, the field checks
// and, on lines that are not header rows, a valid code.
func (p *Profile) fitsFixed(l *FixedLayout, lines []string) bool {
	started, checked, withDigits := false, 0, 0
	for i, text := range lines {
		if checked == checkLines {
			break
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if l.record != nil && !l.record.MatchString(text) {
			if !started && i < l.Preamble {
				continue
			}
			return false
		}
		started = true
		ok, digits := p.fixedLineOK(l, text)
		if !ok {
			return false
		}
		checked++
		if digits {
			withDigits++
		}
	}
	// Every code system here puts digits in its codes: a line of prose
	// ("Nothing to see here.") may fit the shape of a code, not a file of
	// them.
	return checked > 0 && withDigits > 0
}

// fixedLineOK checks one record line against a layout, and tells whether
// its code has a digit.
func (p *Profile) fixedLineOK(l *FixedLayout, text string) (ok, digits bool) {
	for _, col := range l.Blank {
		if col <= len(text) && text[col-1] != ' ' {
			return false, false
		}
	}
	values := map[string]string{}
	for _, fd := range l.Fields {
		values[fd.Field] = fd.cut(text)
	}
	for fld, re := range l.check {
		if !re.MatchString(values[fld]) {
			return false, false
		}
	}
	code := p.stripCode(values["code"])
	digits = strings.ContainsAny(code, "0123456789")
	if l.Header != nil && values[l.Header.Field] == l.Header.Value {
		return code != "", digits
	}
	_, ok = p.category(code)
	return ok, digits
}

// describeText says what a text file looks like, for messages: its first
// non-blank line.
func describeText(lines []string) string {
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" {
			if !utf8.ValidString(t) {
				t = clean(t)
			}
			return fmt.Sprintf("a text file starting %q", excerpt(t))
		}
	}
	return "an empty text file"
}
