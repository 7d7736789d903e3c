package ingest

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/codeset/codeset"
)

// Profile is the layout contract of one code system's files: which columns
// mean what, recognised by their header text, and which code shapes are
// valid. Profiles are data; a user can load one from JSON or extend a
// built-in one with Map.
type Profile struct {
	System codeset.System `json:"system"`
	// Columns lists the fields to read. Each is found by any of its header
	// names; the first name present in the header row wins.
	Columns []Column `json:"columns"`
	// Codes lists the valid code shapes. A code must match one; the match
	// sets the code's category.
	Codes []CodeShape `json:"codes"`
	// Width is the fixed width of an all-digit code. Shorter all-digit codes
	// lost their leading zeros in a spreadsheet and are padded, with a
	// warning. Zero disables padding.
	Width int `json:"width,omitempty"`
	// HeaderScan is how many rows at the top of a sheet are searched for the
	// header row (default 50).
	HeaderScan int `json:"header_scan,omitempty"`
}

// Column maps a record field to the header names it may appear under.
type Column struct {
	// Field is code, short, medium, long, status or the name of an attribute.
	Field   string   `json:"field"`
	Headers []string `json:"headers"`
}

// CodeShape is one valid shape of code.
type CodeShape struct {
	Category string `json:"category"`
	Pattern  string `json:"pattern"` // regular expression, anchored
	Want     string `json:"want"`    // the shape in words, for error messages
	re       *regexp.Regexp
}

// descriptorFields are the fields of which a header row needs at least one.
var descriptorFields = []string{codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong}

var builtin = map[codeset.System]Profile{
	codeset.CPT: {
		System: codeset.CPT,
		Columns: []Column{
			{Field: codeset.FieldCode, Headers: []string{"CPT Code", "Code", "CPT", "HCPCS Code", "Procedure Code"}},
			{Field: codeset.FieldShort, Headers: []string{"Short Descriptor", "Short Description", "Short Desc"}},
			{Field: codeset.FieldMedium, Headers: []string{"Medium Descriptor", "Medium Description", "Medium Desc"}},
			{Field: codeset.FieldLong, Headers: []string{"Long Descriptor", "Long Description", "Full Descriptor", "Descriptor", "Description"}},
			{Field: codeset.FieldStatus, Headers: []string{"Status", "Code Status"}},
		},
		Codes: []CodeShape{
			{Category: codeset.CategoryI, Pattern: `[0-9]{5}`, Want: "5 digits (Category I)"},
			{Category: codeset.CategoryII, Pattern: `[0-9]{4}F`, Want: "4 digits + F (Category II)"},
			{Category: codeset.CategoryIII, Pattern: `[0-9]{4}T`, Want: "4 digits + T (Category III)"},
			{Category: codeset.CategoryPLA, Pattern: `[0-9]{4}U`, Want: "4 digits + U (PLA)"},
		},
		Width: 5,
	},
}

// Builtin returns a copy of the built-in profile of sys.
func Builtin(sys codeset.System) (*Profile, error) {
	p, ok := builtin[sys]
	if !ok {
		return nil, fmt.Errorf("no built-in profile for %s: pass a profile file with --profile", sys)
	}
	p.Columns = append([]Column(nil), p.Columns...)
	p.Codes = append([]CodeShape(nil), p.Codes...)
	return &p, p.compile()
}

// LoadProfile reads a profile from a JSON file.
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	var p Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	if err := p.compile(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
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
