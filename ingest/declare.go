package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

// DeclarationFile describes a workbook in which a publisher lists changes
// apart from its data file: CMS's HCPCS transaction report (every code with
// its action spelled out) and its corrections file (errata to an earlier
// posting of the same release, in free text). Such a file is recognised by
// its header row and, when Kinds is set, by its action values.
type DeclarationFile struct {
	// Name says what the file is, in messages: "transaction report".
	Name string `json:"name"`
	// Code and Action list the header names of the code and action columns.
	Code   []string `json:"code"`
	Action []string `json:"action"`
	// Kinds maps the action values (compared without case or extra
	// spaces) to change kinds; Ignore lists values that declare no change.
	// A file is recognised by these values; another value while reading is
	// left out with a warning naming its cell.
	Kinds  map[string]codeset.ChangeKind `json:"kinds,omitempty"`
	Ignore []string                      `json:"ignore,omitempty"`
	// Rules classify free-text actions: the first whose pattern (case
	// insensitive) matches gives the kind; an empty kind declares no
	// change. An action no rule matches is left out with a warning.
	Rules []DeclarationRule `json:"rules,omitempty"`
	// Evidence keeps every row of the file, as read, in
	// Declaration.Errata: a corrections file's rows explain changes that
	// no list declares, in the release it corrects and the one after.
	Evidence bool `json:"evidence,omitempty"`
	kinds    map[string]codeset.ChangeKind
}

// DeclarationRule is one rule of DeclarationFile.Rules.
type DeclarationRule struct {
	Pattern string             `json:"pattern"`
	Kind    codeset.ChangeKind `json:"kind"`
	re      *regexp.Regexp
}

func (d *DeclarationFile) compile() error {
	if d.Name == "" || len(d.Code) == 0 || len(d.Action) == 0 {
		return fmt.Errorf("declaration file %q: want a name, code headers and action headers", d.Name)
	}
	if (d.Kinds == nil) == (d.Rules == nil) {
		return fmt.Errorf("declaration file %q: want either kinds or rules", d.Name)
	}
	d.kinds = map[string]codeset.ChangeKind{}
	for v, k := range d.Kinds {
		if !slices.Contains(codeset.ChangeKinds, k) {
			return fmt.Errorf("declaration file %q: value %q: unknown change kind %q", d.Name, v, k)
		}
		d.kinds[headerKey(v)] = k
	}
	for _, v := range d.Ignore {
		d.kinds[headerKey(v)] = ""
	}
	for i := range d.Rules {
		r := &d.Rules[i]
		if r.Kind != "" && !slices.Contains(codeset.ChangeKinds, r.Kind) {
			return fmt.Errorf("declaration file %q: rule %q: unknown change kind %q", d.Name, r.Pattern, r.Kind)
		}
		re, err := regexp.Compile(`(?i)` + r.Pattern)
		if err != nil {
			return fmt.Errorf("declaration file %q: rule %q: %w", d.Name, r.Pattern, err)
		}
		r.re = re
	}
	return nil
}

// header finds the code and action columns in a row, or returns -1s.
func (d *DeclarationFile) header(row []string) (code, action int) {
	code, action = -1, -1
	for i, c := range row {
		k := headerKey(c)
		if code < 0 && slices.ContainsFunc(d.Code, func(h string) bool { return headerKey(h) == k }) {
			code = i
		}
		if action < 0 && slices.ContainsFunc(d.Action, func(h string) bool { return headerKey(h) == k }) {
			action = i
		}
	}
	if code < 0 || action < 0 {
		return -1, -1
	}
	return code, action
}

// fits reports whether the sampled rows of a sheet are this kind of file:
// a header row with its code and action columns, then, when strict, valid
// codes and (with Kinds) only known actions.
func (d *DeclarationFile) fits(p *Profile, rows [][]string, strict bool) bool {
	for r, row := range rows {
		if r >= p.HeaderScan {
			return false
		}
		ci, ai := d.header(row)
		if ci < 0 {
			continue
		}
		if !strict {
			// By its header row alone, a sheet whose header has the data
			// file's other columns (RECID, prices...) is the data file.
			return !p.richHeader(row)
		}
		seen := 0
		for _, data := range rows[r+1:] {
			if seen == checkRows {
				break
			}
			code := cell(data, ci)
			if code == "" {
				continue
			}
			if _, ok := p.category(p.stripCode(code)); !ok {
				return false
			}
			if d.Kinds != nil {
				if _, ok := d.kinds[headerKey(cell(data, ai))]; !ok {
					return false
				}
			}
			seen++
		}
		return seen > 0
	}
	return false
}

// richHeader reports whether row is a data header row with columns beyond
// the code, the descriptors and the declared action, which a declaration
// file also has.
func (p *Profile) richHeader(row []string) bool {
	cols, _ := p.matchHeader(row)
	if cols == nil {
		return false
	}
	for f := range cols.idx {
		switch {
		case f == codeset.FieldCode || slices.Contains(descriptorFields, f):
		case p.Declared != nil && f == p.Declared.Field:
		default:
			return true
		}
	}
	return false
}

// kind returns the change an action value declares ("" for none), and
// whether the value is understood.
func (d *DeclarationFile) kind(action string) (codeset.ChangeKind, bool) {
	if d.Kinds != nil {
		k, ok := d.kinds[headerKey(action)]
		return k, ok
	}
	for _, r := range d.Rules {
		if r.re.MatchString(action) {
			return r.Kind, true
		}
	}
	return "", false
}

func cell(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return clean(row[i])
}

// stripCode upper-cases a code and removes the profile's Strip characters.
func (p *Profile) stripCode(code string) string {
	code = strings.ToUpper(code)
	for _, r := range p.Strip {
		code = strings.ReplaceAll(code, string(r), "")
	}
	return code
}

// readDeclarationFile reads the changes a declaration workbook lists, from
// its first sheet that has the file's header row (the transaction report's
// sheets list the same changes in two orders).
//
// Every row is returned, those that declare no change with kind "" (the
// corrections file's "Do not terminate"): the caller keeps them as
// evidence. A fixed-width text file is read by declarationText.
func (rd *reader) declarationFile(ctx context.Context, in input) ([]codeset.DeclaredChange, error) {
	if !isWorkbook(in.path) {
		return rd.declarationText(ctx, in)
	}
	d := in.decl
	wb, err := openWorkbook(ctx, in.path, in.name, rd.lim)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	for _, sh := range wb.readOrder() {
		rows, err := wb.rows(ctx, sh)
		if err != nil {
			return nil, err
		}
		out, found, err := rd.declarationSheet(ctx, d, rows, &ParseError{File: in.name, Sheet: sh.name})
		if cerr := rows.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil || found {
			return out, err
		}
	}
	return nil, &ParseError{File: in.name, Err: errorf(ErrNoHeader, "no sheet with the %s's header row: want a code column (%s) and an action column (%s)",
		d.Name, quoteList(d.Code), quoteList(d.Action))}
}

func (rd *reader) declarationSheet(ctx context.Context, d *DeclarationFile, src rowSource, at *ParseError) ([]codeset.DeclaredChange, bool, error) {
	p := rd.p
	ci, ai, row := -1, -1, 0
	for row < p.HeaderScan && ci < 0 && src.Next() {
		row++
		cells, err := src.Columns()
		if err != nil {
			return nil, false, at.at(row, 0, "", errorf(ErrFormat, "read row: %v", err))
		}
		ci, ai = d.header(cells)
	}
	if ci < 0 {
		return nil, false, src.Err()
	}
	codeCol := ci + 1
	actCol, _ := excelize.ColumnNumberToName(ai + 1)
	var out []codeset.DeclaredChange
	data := 0
	for src.Next() {
		row++
		if row%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, true, err
			}
		}
		cells, err := src.Columns()
		if err != nil {
			return nil, true, at.at(row, 0, "", errorf(ErrFormat, "read row: %v", err))
		}
		if blankRow(cells) {
			continue
		}
		if data++; data > rd.lim.MaxRows {
			return nil, true, at.at(row, 0, "", errorf(ErrLimit, "more than %d data rows: over the row limit", rd.lim.MaxRows))
		}
		raw := cell(cells, ci)
		code := p.stripCode(raw)
		if _, ok := p.category(code); !ok {
			return nil, true, at.at(row, codeCol, "", errorf(ErrBadCode, "bad code %q in the %s: want %s", raw, d.Name, p.want()))
		}
		action := cell(cells, ai)
		kind, ok := d.kind(action)
		// The data file's action field is the authority; a word this file
		// adds (CMS rewords its reports) loses one declared change, not
		// the release.
		switch {
		case !ok && d.Kinds != nil:
			rd.rep.Warnings = append(rd.rep.Warnings, fmt.Sprintf("%s col %s: unknown action %q in the %s for %s: left out of the declared changes; known: %s",
				locString(at.at(row, 0, "", nil)), actCol, action, d.Name, code, quoteList(d.values())))
			continue
		case !ok:
			rd.rep.Warnings = append(rd.rep.Warnings, fmt.Sprintf("%s col %s: cannot tell what %q declares for %s; left out of the declared changes", locString(at.at(row, 0, "", nil)), actCol, action, code))
			continue
		}
		out = append(out, codeset.DeclaredChange{Code: code, Kind: kind, Detail: action})
	}
	if err := src.Err(); err != nil {
		return nil, true, at.at(row, 0, "", errorf(ErrFormat, "%v", err))
	}
	return out, true, nil
}

// values lists the action values Kinds and Ignore know, sorted.
func (d *DeclarationFile) values() []string {
	var vs []string
	for v := range d.Kinds {
		vs = append(vs, v)
	}
	vs = append(vs, d.Ignore...)
	sort.Strings(vs)
	return vs
}

// addDeclared adds the changes of a declaration file to base, the release's
// declaration from its own action field (nil when it has none). The action
// field is the authority: another file adds only codes it does not cover,
// and a different word for a covered code is a warning.
func addDeclared(base *codeset.Declaration, name string, d *DeclarationFile, extra []codeset.DeclaredChange, rep *Report) *codeset.Declaration {
	if base == nil {
		base = &codeset.Declaration{}
	}
	have := map[string]codeset.DeclaredChange{}
	for _, c := range base.Changes {
		have[c.Code] = c
	}
	added := 0
	for _, c := range extra {
		if prev, ok := have[c.Code]; ok {
			if prev.Kind != c.Kind {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: the %s says %q (%s) for %s where %s says %q (%s); kept %s", filepath.Base(name), d.Name, c.Detail, c.Kind,
					c.Code, sourceName(base), prev.Detail, prev.Kind, sourceName(base)))
			}
			continue
		}
		have[c.Code] = c
		base.Changes = append(base.Changes, c)
		added++
	}
	src := fmt.Sprintf("%s %s", d.Name, filepath.Base(name))
	if base.Source == "" {
		base.Source = src
	} else {
		base.Source += "; " + src
	}
	sort.Slice(base.Changes, func(i, j int) bool {
		if base.Changes[i].Code != base.Changes[j].Code {
			return base.Changes[i].Code < base.Changes[j].Code
		}
		return base.Changes[i].Kind < base.Changes[j].Kind
	})
	return base
}

// errata turns the rows of an evidence file into Declaration.Errata: each
// with the publisher's words and the file that says them.
func errata(name string, rows []codeset.DeclaredChange) []codeset.DeclaredChange {
	out := make([]codeset.DeclaredChange, 0, len(rows))
	for _, r := range rows {
		r.Detail = fmt.Sprintf("%q (%s)", r.Detail, filepath.Base(name))
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func sourceName(d *codeset.Declaration) string {
	if d.Source == "" {
		return "the data file"
	}
	first, _, _ := strings.Cut(d.Source, ";")
	return first
}
