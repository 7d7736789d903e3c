package ingest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/codeset/codeset"
)

// Profile is the layout contract of one code system's files: which columns
// mean what, recognised by their header text, which fixed-width layouts its
// text files use, how files are picked out of a publisher's zip, and which
// code shapes are valid. Profiles are data: the built-in ones are the JSON
// files in profiles/, and a user can load another with LoadProfile or extend
// one with Map.
type Profile struct {
	System codeset.System `json:"system"`
	// Columns lists the fields to read from spreadsheets and CSV files. Each
	// is found by any of its header names; the first name present wins.
	Columns []Column `json:"columns"`
	// Required lists fields a header row must have besides the code and a
	// descriptor. A header row that has the code but lacks one of these is
	// a layout change, reported as such.
	Required []string `json:"required,omitempty"`
	// Codes lists the valid code shapes. A code must match one; the match
	// sets the code's category.
	Codes []CodeShape `json:"codes"`
	// Width is the fixed width of an all-digit code. Shorter all-digit codes
	// lost their leading zeros in a spreadsheet and are padded, with a
	// warning. Zero disables padding.
	Width int `json:"width,omitempty"`
	// Strip lists characters removed from codes, e.g. the dot of ICD-10-CM
	// codes written S72.001A.
	Strip string `json:"strip,omitempty"`
	// HeaderScan is how many rows at the top of a sheet are searched for the
	// header row (default 50).
	HeaderScan int `json:"header_scan,omitempty"`
	// Meta lists fields that are the publisher's per-release bookkeeping:
	// stored in Code.Meta and never compared.
	Meta []string `json:"meta,omitempty"`
	// Dates lists fields holding YYYYMMDD dates, stored as YYYY-MM-DD.
	Dates []string `json:"dates,omitempty"`
	// DiscontinuedWhen names a field that, when set, marks a code as
	// discontinued though still shipped (HCPCS termination date).
	DiscontinuedWhen string `json:"discontinued_when,omitempty"`
	// Continuation says which rows continue the previous record.
	Continuation *Continuation `json:"continuation,omitempty"`
	// Declared reads the publisher's declared change of each code from a
	// field (HCPCS ACTION CD).
	Declared *DeclaredRule `json:"declared,omitempty"`
	// Members lists the profile's kinds of files, in order of preference:
	// a zip's members and files given on their own are recognised by their
	// content (a fixed layout, a header row, addenda lines); the name
	// patterns only break ties.
	Members []Member `json:"members,omitempty"`
	// Declarations lists workbooks in which the publisher lists its changes
	// apart from the data file (HCPCS transaction report and corrections).
	Declarations []DeclarationFile `json:"declarations,omitempty"`
}

// Column maps a record field to the header names it may appear under.
type Column struct {
	// Field is code, short, medium, long, status or the name of an attribute.
	Field   string   `json:"field"`
	Headers []string `json:"headers"`
	// All reads every listed header that is present and joins the values
	// with a space (HCPCS XREF1 to XREF5), instead of the first one.
	All bool `json:"all,omitempty"`
}

// CodeShape is one valid shape of code.
type CodeShape struct {
	Category string `json:"category"`
	Pattern  string `json:"pattern"` // regular expression, anchored
	Want     string `json:"want"`    // the shape in words, for error messages
	re       *regexp.Regexp
}

// Continuation describes rows that carry the rest of the previous record's
// text: their Field is one of Values, and their Append field is added to
// the previous record's, after a space.
type Continuation struct {
	Field  string   `json:"field"`
	Values []string `json:"values"`
	Append string   `json:"append"`
	// Wrap, when set, is the width of the fixed-width records over which
	// the publisher splits the Append field, at word boundaries. The
	// whitespace at a split point is lost in the text file, so it is
	// reduced to one space in every source format: a change of format
	// between releases then never shows as a change of spacing.
	Wrap int `json:"wrap,omitempty"`
}

// DeclaredRule maps the values of a field to declared change kinds.
type DeclaredRule struct {
	Field  string                        `json:"field"`
	Source string                        `json:"source"` // what to call it in reports
	Kinds  map[string]codeset.ChangeKind `json:"kinds"`
	// Ignore lists values that declare no change (HCPCS N). Any value in
	// neither Kinds nor Ignore is an error.
	Ignore []string `json:"ignore"`
}

// Member recognises one kind of publisher file by its name.
type Member struct {
	// Role is "codes" for the code list or "addenda" for the publisher's
	// list of changes.
	Role string `json:"role"`
	// Pattern is a case-insensitive regular expression on the base name.
	// It breaks ties between files of the same kind; content decides the
	// kind.
	Pattern string `json:"pattern"`
	// Also marks a code file that is read beside a more preferred one when
	// both are given (or in one zip), for the fields that one lacks: the
	// ICD-10-CM order file adds short titles and header rows to the codes
	// file. On its own it is the code file.
	Also bool `json:"also,omitempty"`
	// Fixed is the layout of a fixed-width text file; nil for spreadsheets
	// and CSV files, which are read by Columns.
	Fixed *FixedLayout `json:"fixed,omitempty"`
	re    *regexp.Regexp
}

// FixedLayout describes a fixed-width text file.
type FixedLayout struct {
	Name   string       `json:"name"` // for error messages
	Fields []FixedField `json:"fields"`
	// Record, when set, is a regular expression a record line matches.
	// Up to Preamble lines before the first record that do not match are
	// skipped (disclaimers); after it, every non-blank line must match.
	Record   string `json:"record,omitempty"`
	Preamble int    `json:"preamble,omitempty"`
	// Length is the length of a record in bytes. A shorter record line is
	// cut short, except a continuation record (see Profile.Continuation).
	// Zero: a line must reach the end of the last closed field and the first
	// column of an open one.
	Length int `json:"length,omitempty"`
	// Blank lists 1-based columns that must be spaces: the gaps between
	// fields. A character there means the layout moved.
	Blank []int `json:"blank,omitempty"`
	// Check maps fields to regular expressions their values must match.
	Check map[string]string `json:"check,omitempty"`
	// Header marks rows that are headers rather than codes (ICD-10 order
	// files: billable flag 0).
	Header *FieldValue `json:"header,omitempty"`
	record *regexp.Regexp
	check  map[string]*regexp.Regexp
}

// FixedField is one field of a fixed-width record, in 1-based inclusive
// columns. End 0 reads to the end of the line.
type FixedField struct {
	Field string `json:"field"`
	Start int    `json:"start"`
	End   int    `json:"end,omitempty"`
	// List, when non-zero, splits the field into values of this width and
	// joins the non-blank ones with a space (repeated fields such as XREF).
	List int `json:"list,omitempty"`
}

// FieldValue names a field and one of its values.
type FieldValue struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// descriptorFields are the fields of which a header row needs at least one.
var descriptorFields = []string{codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong}

//go:embed profiles/*.json
var builtinFS embed.FS

// Builtin returns a fresh copy of the built-in profile of sys.
func Builtin(sys codeset.System) (*Profile, error) {
	data, err := builtinFS.ReadFile("profiles/" + string(sys) + ".json")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile for %s: pass a profile file with --profile", sys)
	}
	p, err := parseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("built-in profile %s: %w", sys, err)
	}
	return p, nil
}

// LoadProfile reads a profile from a JSON file.
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	p, err := parseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return p, nil
}

func parseProfile(data []byte) (*Profile, error) {
	var p Profile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	if err := p.compile(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Map makes header the preferred name of field, adding the field when the
// profile lacks it. The spec is "field=Header Name".
func (p *Profile) Map(spec string) error {
	field, header, ok := strings.Cut(spec, "=")
	field, header = strings.TrimSpace(field), strings.TrimSpace(header)
	if !ok || field == "" || header == "" {
		return fmt.Errorf("bad column mapping %q: want field=Header Name", spec)
	}
	if field == codeset.FieldCategory {
		return fmt.Errorf("bad column mapping %q: the category comes from the code's shape", spec)
	}
	for i := range p.Columns {
		if p.Columns[i].Field == field {
			p.Columns[i].Headers = append([]string{header}, p.Columns[i].Headers...)
			return nil
		}
	}
	p.Columns = append(p.Columns, Column{Field: field, Headers: []string{header}})
	return nil
}

func (p *Profile) compile() error {
	if p.System == "" {
		return fmt.Errorf("profile names no system")
	}
	if _, err := codeset.ParseSystem(string(p.System)); err != nil {
		return err
	}
	hasCode := false
	for _, c := range p.Columns {
		if c.Field == "" || len(c.Headers) == 0 {
			return fmt.Errorf("column %q: want a field and at least one header", c.Field)
		}
		hasCode = hasCode || c.Field == codeset.FieldCode
	}
	if !hasCode {
		return fmt.Errorf("profile has no %q column", codeset.FieldCode)
	}
	if len(p.Codes) == 0 {
		return fmt.Errorf("profile lists no code shapes")
	}
	for i := range p.Codes {
		re, err := regexp.Compile(`^(?:` + p.Codes[i].Pattern + `)$`)
		if err != nil {
			return fmt.Errorf("code shape %q: %w", p.Codes[i].Pattern, err)
		}
		p.Codes[i].re = re
	}
	if p.HeaderScan == 0 {
		p.HeaderScan = 50
	}
	for i := range p.Members {
		m := &p.Members[i]
		if m.Role != roleCodes && m.Role != roleAddenda {
			return fmt.Errorf("member %q: role %q: want %q or %q", m.Pattern, m.Role, roleCodes, roleAddenda)
		}
		re, err := regexp.Compile(`(?i)` + m.Pattern)
		if err != nil {
			return fmt.Errorf("member pattern %q: %w", m.Pattern, err)
		}
		m.re = re
		if m.Fixed != nil {
			if err := m.Fixed.compile(); err != nil {
				return fmt.Errorf("member %q: %w", m.Pattern, err)
			}
		}
	}
	for i := range p.Declarations {
		if err := p.Declarations[i].compile(); err != nil {
			return err
		}
	}
	if d := p.Declared; d != nil {
		for v, k := range d.Kinds {
			if !slices.Contains(codeset.ChangeKinds, k) {
				return fmt.Errorf("declared value %q: unknown change kind %q", v, k)
			}
		}
	}
	return nil
}

func (l *FixedLayout) compile() error {
	hasCode := false
	for _, f := range l.Fields {
		if f.Start < 1 || (f.End != 0 && f.End < f.Start) || f.List < 0 {
			return fmt.Errorf("fixed field %q: bad columns %d-%d", f.Field, f.Start, f.End)
		}
		hasCode = hasCode || f.Field == codeset.FieldCode
	}
	if !hasCode {
		return fmt.Errorf("fixed layout %q has no code field", l.Name)
	}
	if l.Length < 0 {
		return fmt.Errorf("fixed layout %q: bad length %d", l.Name, l.Length)
	}
	if l.Record != "" {
		re, err := regexp.Compile(l.Record)
		if err != nil {
			return fmt.Errorf("record pattern %q: %w", l.Record, err)
		}
		l.record = re
	}
	l.check = map[string]*regexp.Regexp{}
	for f, pat := range l.Check {
		re, err := regexp.Compile(`^(?:` + pat + `)$`)
		if err != nil {
			return fmt.Errorf("check %q: %w", f, err)
		}
		l.check[f] = re
	}
	return nil
}

// category returns the category of a valid code, or false.
func (p *Profile) category(code string) (string, bool) {
	for _, s := range p.Codes {
		if s.re.MatchString(code) {
			return s.Category, true
		}
	}
	return "", false
}

// want describes the valid code shapes, for error messages.
func (p *Profile) want() string {
	var ws []string
	for _, s := range p.Codes {
		ws = append(ws, s.Want)
	}
	switch len(ws) {
	case 1:
		return ws[0]
	default:
		return strings.Join(ws[:len(ws)-1], ", ") + " or " + ws[len(ws)-1]
	}
}
