package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

// CrosswalkProfile is the layout contract of a publisher's crosswalk: a
// sheet or CSV file that links codes that go away to the codes that replace
// them, such as CDC's ICD-10-CM conversion table ("Current code assignment
// | Effective | Previous Code(s) Assignment", the current code linked from
// a list of previous codes) or a deleted-code crosswalk (deleted code →
// replacement codes). Like Profile it is data: the built-in ones are the
// JSON files in crosswalks/, and LoadCrosswalkProfile reads another.
//
// The key column holds one code per row; the list column holds one or more
// codes, ranges (H02.101-H02.106) or categories (I63.-), separated by ',',
// ';', '&' or "and", perhaps with words around them ("a code from R11-");
// "None" names none.
type CrosswalkProfile struct {
	System codeset.System `json:"system"`
	// Name says what the file is, for reports.
	Name string `json:"name"`
	// Key is the side of the link the key column holds: "new" when each
	// row gives a current code and its previous codes, "old" when it gives
	// a deleted code and its replacements.
	Key string `json:"key"`
	// Old and New are the header names of the columns of the codes that go
	// away and of the codes that replace them; the first name present wins.
	Old []string `json:"old"`
	New []string `json:"new"`
	// Effective lists the header names of the effective-date column, if
	// any: a year, a date or an Excel serial date, or empty.
	Effective []string `json:"effective,omitempty"`
	// YearMonth is the month a bare year in the effective column stands
	// for: CDC's "2017" is October 1, 2017 (10). Default January.
	YearMonth int `json:"year_month,omitempty"`
	// HeaderScan is how many rows at the top of a sheet are searched for
	// the header row (default 50).
	HeaderScan int `json:"header_scan,omitempty"`

	codes *Profile // the system's profile: code shapes, dot, width
	table *Profile // the layout the table reader applies
}

// Fields of a crosswalk row as the table reader returns them.
const (
	crosswalkList      = "list"
	crosswalkEffective = "effective"
)

//go:embed crosswalks/*.json
var crosswalkFS embed.FS

// BuiltinCrosswalk returns a fresh copy of the built-in crosswalk profile of
// sys.
func BuiltinCrosswalk(sys codeset.System) (*CrosswalkProfile, error) {
	data, err := crosswalkFS.ReadFile("crosswalks/" + string(sys) + ".json")
	if err != nil {
		return nil, fmt.Errorf("no built-in crosswalk profile for %s: pass one", sys)
	}
	cp, err := parseCrosswalkProfile(data)
	if err != nil {
		return nil, fmt.Errorf("built-in crosswalk profile %s: %w", sys, err)
	}
	return cp, nil
}

// LoadCrosswalkProfile reads a crosswalk profile from a JSON file. Its code
// shapes are those of the built-in profile of its system.
func LoadCrosswalkProfile(path string) (*CrosswalkProfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read crosswalk profile: %w", err)
	}
	cp, err := parseCrosswalkProfile(data)
	if err != nil {
		return nil, fmt.Errorf("crosswalk profile %s: %w", path, err)
	}
	return cp, nil
}

func parseCrosswalkProfile(data []byte) (*CrosswalkProfile, error) {
	var cp CrosswalkProfile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cp); err != nil {
		return nil, err
	}
	if err := cp.compile(); err != nil {
		return nil, err
	}
	return &cp, nil
}

func (cp *CrosswalkProfile) compile() error {
	base, err := Builtin(cp.System)
	if err != nil {
		return err
	}
	var key, list []string
	switch cp.Key {
	case "new":
		key, list = cp.New, cp.Old
	case "old":
		key, list = cp.Old, cp.New
	default:
		return fmt.Errorf("key %q: want \"old\" or \"new\"", cp.Key)
	}
	if len(key) == 0 || len(list) == 0 {
		return fmt.Errorf("want header names for both the old and the new column")
	}
	if cp.YearMonth == 0 {
		cp.YearMonth = 1
	}
	if cp.YearMonth < 1 || cp.YearMonth > 12 {
		return fmt.Errorf("year_month %d: want 1 to 12", cp.YearMonth)
	}
	t := &Profile{
		System:     cp.System,
		Columns:    []Column{{Field: codeset.FieldCode, Headers: key}, {Field: crosswalkList, Headers: list}},
		Required:   []string{crosswalkList},
		Strip:      base.Strip,
		Width:      base.Width,
		HeaderScan: cp.HeaderScan,
	}
	for _, s := range base.Codes {
		t.Codes = append(t.Codes, CodeShape{Category: s.Category, Pattern: s.Pattern, Want: s.Want})
	}
	if len(cp.Effective) > 0 {
		t.Columns = append(t.Columns, Column{Field: crosswalkEffective, Headers: cp.Effective})
	}
	if err := t.compile(); err != nil {
		return err
	}
	cp.codes, cp.table = base, t
	return nil
}

// CrosswalkOptions describe a crosswalk read.
type CrosswalkOptions struct {
	Profile *CrosswalkProfile
	// Limits bound the input; zero fields take DefaultLimits.
	Limits Limits
}

// ReadCrosswalk reads the replacement links of one crosswalk file: an XLSX
// workbook (any case of extension), a CSV or TSV file, or a zip, from which
// every spreadsheet member whose header row is a crosswalk's is read. The
// file is recognised by its header row, not its name: one that has none is
// ErrNoHeader. Ranges and categories are kept as stated (OldThrough or
// NewThrough set); diff.Link expands them against the releases compared.
func ReadCrosswalk(ctx context.Context, file string, opts CrosswalkOptions) ([]codeset.Replacement, *Report, error) {
	cp := opts.Profile
	if cp == nil || cp.table == nil {
		return nil, nil, errors.New("ingest: no crosswalk profile")
	}
	lim := opts.Limits.orDefault()
	rep := &Report{}
	f, err := openFile(file)
	if err != nil {
		return nil, nil, err
	}
	f.Close()
	if !isZip(file) {
		links, err := cp.readTable(ctx, file, file, lim, rep)
		if err != nil {
			return nil, nil, err
		}
		return links, rep, nil
	}
	links, found, err := cp.readZip(ctx, file, lim, rep)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, &ParseError{File: file, Err: errorf(ErrNoHeader, "no member is a %s: no spreadsheet in the zip has a header row with %s", cp.Name, cp.table.columnWant([]string{codeset.FieldCode, crosswalkList}))}
	}
	return links, rep, nil
}

// ReadCrosswalks picks the crosswalks out of the input files of a release
// by their header rows and reads their links. rest holds the files that
// are not crosswalks, to be read as the release; a zip always stays in
// rest, and its crosswalk members, if any, are read too.
func ReadCrosswalks(ctx context.Context, opts CrosswalkOptions, files ...string) (links []codeset.Replacement, rest []string, rep *Report, err error) {
	rep = &Report{}
	for _, f := range files {
		l, r, err := ReadCrosswalk(ctx, f, opts)
		if isZip(f) {
			rest = append(rest, f)
		}
		switch {
		case errors.Is(err, ErrNoHeader) || errors.Is(err, ErrFormat):
			if !isZip(f) {
				rest = append(rest, f)
			}
			continue
		case err != nil:
			return nil, nil, nil, err
		}
		links = append(links, l...)
		rep.Files = append(rep.Files, r.Files...)
		rep.Warnings = append(rep.Warnings, r.Warnings...)
		rep.Padded += r.Padded
	}
	return links, rest, rep, nil
}

// readZip reads every spreadsheet member of the zip at file that is a
// crosswalk, and reports whether there was one.
func (cp *CrosswalkProfile) readZip(ctx context.Context, file string, lim Limits, rep *Report) ([]codeset.Replacement, bool, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, false, &ParseError{File: file, Err: errorf(ErrFormat, "not a readable zip archive: %v", err)}
	}
	defer zr.Close()
	dir, err := os.MkdirTemp("", "codeset-crosswalk-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(dir)
	var links []codeset.Replacement
	found := false
	for i, zf := range zr.File {
		base := path.Base(zf.Name)
		if zf.FileInfo().IsDir() || strings.HasPrefix(zf.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		switch strings.ToLower(path.Ext(base)) {
		case ".xlsx", ".xlsm", ".csv", ".tsv", ".tab":
		default:
			continue
		}
		name := file + "/" + zf.Name
		dst := filepath.Join(dir, fmt.Sprintf("%d-%s", i, base))
		if err := unpack(zf, dst, lim); err != nil {
			return nil, false, &ParseError{File: name, Err: err}
		}
		l, err := cp.readTable(ctx, dst, name, lim, rep)
		os.Remove(dst)
		switch {
		case errors.Is(err, ErrNoHeader) || errors.Is(err, ErrFormat):
			continue
		case err != nil:
			return nil, false, err
		}
		found = true
		links = append(links, l...)
	}
	return links, found, nil
}

// readTable reads the links of one spreadsheet or delimited file with the
// table reader every other input goes through (limits, header search,
// located errors). name is the file as reported.
func (cp *CrosswalkProfile) readTable(ctx context.Context, file, name string, lim Limits, rep *Report) ([]codeset.Replacement, error) {
	source := path.Base(filepath.ToSlash(name))
	var links []codeset.Replacement
	var badField string // the field of a row's value error, to locate its column
	emit := func(c codeset.Code, _ bool, loc *ParseError) error {
		items, err := cp.parseList(c.Attrs[crosswalkList])
		if err != nil {
			badField, loc.Err = crosswalkList, err
			return loc
		}
		eff, err := cp.parseEffective(c.Attrs[crosswalkEffective])
		if err != nil {
			badField, loc.Err = crosswalkEffective, err
			return loc
		}
		how := codeset.StatedDirect
		if len(items) > 1 {
			how = codeset.StatedList
		}
		for _, it := range items {
			r := codeset.Replacement{Source: source, Effective: eff, How: how}
			if it.last != "" {
				r.How = codeset.StatedRange
			}
			if cp.Key == "new" {
				r.New, r.Old, r.OldThrough = c.Code, it.first, it.last
			} else {
				r.Old, r.New, r.NewThrough = c.Code, it.first, it.last
			}
			links = append(links, r)
		}
		return nil
	}
	rd := &reader{p: cp.table, rep: rep, lim: lim, emit: emit}
	fr := FileReport{Name: name}
	if err := rd.table(ctx, file, name, &fr); err != nil {
		var pe *ParseError
		if badField != "" && errors.As(err, &pe) && pe.Column == 0 {
			pe.Column, pe.Header = cp.locate(file, badField, lim)
		}
		return nil, err
	}
	fr.Codes = len(links)
	rep.Files = append(rep.Files, fr)
	return links, nil
}

// locate finds the column number and header text of field in the header
// row of file, which the table reader has already read within its limits.
// The reader hands rows over without their columns, so a value error found
// in a row is placed here.
func (cp *CrosswalkProfile) locate(file, field string, lim Limits) (int, string) {
	s, err := sniff(file, filepath.Base(file), lim)
	if err != nil {
		return 0, ""
	}
	rows := s.csvRows()
	for _, sh := range s.sheets {
		rows = append(rows, sh.rows...)
	}
	for _, r := range rows {
		if cols, _ := cp.table.matchHeader(r); cols != nil && len(cols.idx[field]) > 0 {
			i := cols.idx[field][0]
			return i + 1, cols.headers[i]
		}
	}
	return 0, ""
}

// listItem is one code of a crosswalk list (last empty) or a range of codes
// from first through last; a category such as "I63.-" is I63 through I63.
type listItem struct{ first, last string }

// fillers are the words publishers put around the codes of a list: "G11.8
// and E23.0", "K59.09 AND Code from categories T36-T50", "Codes in
// Categories T15-T19", "a code from R11-", "None".
var fillers = map[string]bool{
	"and": true, "or": true, "plus": true, "a": true, "an": true, "any": true, "code": true, "codes": true,
	"from": true, "in": true, "of": true, "category": true, "categories": true, "see": true, "also": true,
	"use": true, "none": true, "n/a": true,
}

// listSeparators split the items of a list.
func listSeparator(r rune) bool {
	return r == ',' || r == ';' || r == '&' || r == '+' || unicode.IsSpace(r)
}

// parseList reads the codes of a list cell. A single code is one item; a
// range joins two codes with '-' (spaces around it allowed); a code
// followed by '-' is its category.
func (cp *CrosswalkProfile) parseList(s string) ([]listItem, error) {
	toks := strings.FieldsFunc(s, listSeparator)
	var items []listItem
	bad := func(format string, args ...any) error {
		return errorf(ErrBadValue, "bad list %q: %s; want codes, ranges such as A01.1-A01.9 or categories such as I63.-, separated by ',', ';', '&' or \"and\"", s, fmt.Sprintf(format, args...))
	}
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if !strings.ContainsAny(tok, "0123456789") {
			switch {
			case fillers[strings.ToLower(tok)]:
				continue
			case tok == "-" && len(items) > 0 && items[len(items)-1].last == "" && i+1 < len(toks) && strings.ContainsAny(toks[i+1], "0123456789") && !strings.Contains(toks[i+1], "-"):
				// "H02.101 - H02.106": a range written with spaces.
				last, err := cp.listCode(toks[i+1], s)
				if err != nil {
					return nil, err
				}
				if first := items[len(items)-1].first; backwards(first, last) {
					return nil, bad("range %q runs backwards", first+" - "+toks[i+1])
				}
				items[len(items)-1].last = last
				i++
				continue
			case tok == "-" && len(toks) == 1:
				continue // a dash alone: none
			}
			return nil, bad("unexpected text %q", tok)
		}
		parts := strings.Split(tok, "-")
		switch {
		case len(parts) == 1:
			c, err := cp.listCode(tok, s)
			if err != nil {
				return nil, err
			}
			items = append(items, listItem{first: c})
		case len(parts) == 2 && parts[0] != "" && parts[1] == "":
			c, err := cp.listCode(strings.TrimRight(parts[0], "."), s)
			if err != nil {
				return nil, err
			}
			items = append(items, listItem{first: c, last: c})
		case len(parts) == 2 && parts[0] != "":
			first, err := cp.listCode(parts[0], s)
			if err != nil {
				return nil, err
			}
			last, err := cp.listCode(parts[1], s)
			if err != nil {
				return nil, err
			}
			if backwards(first, last) {
				return nil, bad("range %q runs backwards", tok)
			}
			items = append(items, listItem{first: first, last: last})
		default:
			return nil, bad("unexpected text %q", tok)
		}
	}
	return items, nil
}

// backwards reports whether a range from first to last covers nothing: its
// last code sorts before its first and does not head it.
func backwards(first, last string) bool {
	return last < first && !strings.HasPrefix(first, last)
}

// listCode normalises and checks one code of a list: upper case, without
// the system's dot, zero-padded like the code column, and of a valid shape
// (a category such as T36 is one, for ICD-10-CM).
func (cp *CrosswalkProfile) listCode(tok, list string) (string, error) {
	code := strings.ToUpper(tok)
	for _, r := range cp.codes.Strip {
		code = strings.ReplaceAll(code, string(r), "")
	}
	if w := cp.codes.Width; w > 0 && len(code) < w && allDigits(code) {
		code = strings.Repeat("0", w-len(code)) + code
	}
	if _, ok := cp.codes.category(code); !ok {
		return "", errorf(ErrBadCode, "bad code %q in list %q: want %s", tok, list, cp.codes.want())
	}
	return code, nil
}

var yearOnly = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{4}$`) })

// dateLayouts are the ways an effective date appears once a spreadsheet
// has formatted it (CDC: "04/01/20") or a person has typed it.
var dateLayouts = []string{"01/02/06", "1/2/06", "01/02/2006", "1/2/2006", "2006-01-02", "01-02-06", "1-2-06", "01-02-2006",
	"January 2, 2006", "Jan 2, 2006", "2-Jan-06", "2-Jan-2006", "20060102",
	"1/2/06 15:04", "1/2/2006 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z"}

// parseEffective reads an effective-date cell: empty (no date), a year (the
// first of the profile's month in it), a date, or an Excel serial date.
func (cp *CrosswalkProfile) parseEffective(s string) (time.Time, error) {
	switch {
	case s == "":
		return time.Time{}, nil
	case yearOnly().MatchString(s):
		y, _ := strconv.Atoi(s)
		if y >= 1900 && y <= 2200 {
			return time.Date(y, time.Month(cp.YearMonth), 1, 0, 0, 0, 0, time.UTC), nil
		}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	}
	// An Excel serial date, in a CSV file or a cell without a date format:
	// days since 1899-12-30, from 1 (1900) to 109574 (2199).
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1 && f < 109575 {
		t, err := excelize.ExcelDateToTime(math.Floor(f), false)
		if err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, errorf(ErrBadValue, "bad effective date %q: want a year, a date such as 10/01/2024 or an Excel serial date", s)
}

// XrefField is the field of the built-in HCPCS profile that holds XREF1 to
// XREF5, the codes to use instead of a discontinued code.
const XrefField = "xref"

// FieldReplacements returns the replacements a release names in its own
// records: for each discontinued code, the codes in field (space-separated,
// as a profile with Column.All or FixedField.List joins them), e.g. the
// HCPCS XREF of a discontinued code. The links take effect with the release
// and name its first source file.
func FieldReplacements(rel *codeset.Release, field string) []codeset.Replacement {
	source := field
	if len(rel.Sources) > 0 {
		source = rel.Sources[0].Name
	}
	var out []codeset.Replacement
	for _, c := range rel.Codes {
		if c.Status != codeset.StatusDiscontinued {
			continue
		}
		news := strings.Fields(c.Field(field))
		how := codeset.StatedDirect
		if len(news) > 1 {
			how = codeset.StatedList
		}
		for _, n := range news {
			out = append(out, codeset.Replacement{Old: c.Code, New: strings.ToUpper(n), Source: source, Effective: rel.Effective, How: how})
		}
	}
	return out
}

// recognises reports whether the sampled file has a header row of cp's
// crosswalk within the rows searched for one.
func (cp *CrosswalkProfile) recognises(s *sample) bool {
	var sheets [][][]string
	switch s.shape {
	case shapeWorkbook:
		for _, sh := range s.sheets {
			sheets = append(sheets, sh.rows)
		}
	case shapeText:
		sheets = append(sheets, s.csvRows())
	}
	for _, rows := range sheets {
		for i, row := range rows {
			if i >= cp.table.HeaderScan {
				break
			}
			if m, _ := cp.table.matchHeader(row); m != nil {
				return true
			}
		}
	}
	return false
}

// crosswalkSystems returns the systems whose built-in crosswalk profile
// recognises the file at f (not a zip) by its header row.
func crosswalkSystems(f string, lim Limits) ([]codeset.System, error) {
	s, err := sniff(f, f, lim)
	if err != nil {
		return nil, err
	}
	var out []codeset.System
	for _, sys := range codeset.Systems {
		cp, err := BuiltinCrosswalk(sys)
		if err != nil {
			continue
		}
		if cp.recognises(s) {
			out = append(out, sys)
		}
	}
	return out, nil
}
