package ingest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codeset/codeset"
)

// build makes the record of one data row or line from its field values.
// fields are the profile's fields (Profile.fields, computed once per file);
// get returns a field's cleaned value, has whether the source has the field
// at all; fail locates an error at a field. A header row (ICD-10 order
// files) skips code validation: header codes are shorter than codes.
func (p *Profile) build(fields []string, get func(string) string, has func(string) bool, header bool, rep *Report, fail func(string, error) error) (codeset.Code, error) {
	code := strings.ToUpper(get(codeset.FieldCode))
	for _, r := range p.Strip {
		code = strings.ReplaceAll(code, string(r), "")
	}
	if code == "" {
		return codeset.Code{}, fail(codeset.FieldCode, errorf(ErrMissingValue, "missing code in a row that has other values"))
	}
	c := codeset.Code{Code: code}
	if !header {
		if p.Width > 0 && len(code) < p.Width && allDigits(code) {
			code = strings.Repeat("0", p.Width-len(code)) + code
			c.Code = code
			rep.Padded++
		}
		cat, ok := p.category(code)
		if !ok {
			return codeset.Code{}, fail(codeset.FieldCode, errorf(ErrBadCode, "bad code %q: want %s", code, p.want()))
		}
		c.Category = cat
	}
	for _, f := range fields {
		if f == codeset.FieldCode || !has(f) {
			continue
		}
		v := get(f)
		if v != "" && slices.Contains(p.Dates, f) {
			d, err := isoDate(v)
			if err != nil {
				return codeset.Code{}, fail(f, errorf(ErrBadValue, "bad %s %q: %v", f, v, err))
			}
			v = d
		}
		switch {
		case slices.Contains(p.Meta, f):
			if v != "" {
				if c.Meta == nil {
					c.Meta = make(codeset.Meta, 0, len(p.Meta))
				}
				c.Meta.Set(f, v)
			}
		case v != "" || slices.Contains(codeRecordFields, f):
			// Descriptors and status are set even when empty; an empty
			// attribute is left out.
			c.SetField(f, v)
		}
	}
	if p.DiscontinuedWhen != "" && get(p.DiscontinuedWhen) != "" {
		c.Status = codeset.StatusDiscontinued
	}
	if !header && !p.continues(c) && p.hasDescriptors() && c.Short == "" && c.Medium == "" && c.Long == "" {
		first := ""
		for _, f := range descriptorFields {
			if has(f) {
				first = f
				break
			}
		}
		return codeset.Code{}, fail(first, errorf(ErrMissingValue, "code %s has no descriptor", code))
	}
	return c, nil
}

// codeRecordFields are the fields a Code has as struct fields rather than
// attributes.
var codeRecordFields = []string{codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong, codeset.FieldStatus}

// fields lists every field the profile reads, in a stable order.
func (p *Profile) fields() []string {
	var fs []string
	add := func(f string) {
		if !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	for _, c := range p.Columns {
		add(c.Field)
	}
	for _, m := range p.Members {
		if m.Fixed != nil {
			for _, f := range m.Fixed.Fields {
				add(f.Field)
			}
		}
	}
	return fs
}

// continues reports whether c is a continuation of the previous record.
func (p *Profile) continues(c codeset.Code) bool {
	k := p.Continuation
	return k != nil && slices.Contains(k.Values, c.Field(k.Field)+c.Meta.Get(k.Field))
}

// isoDate turns a publisher's YYYYMMDD date into YYYY-MM-DD.
func isoDate(s string) (string, error) {
	t, err := time.Parse("20060102", s)
	if err != nil {
		return "", fmt.Errorf("want a date YYYYMMDD")
	}
	return t.Format(time.DateOnly), nil
}

// declared reads the publisher's declared change of each code from the
// profile's Declared field.
func (p *Profile) declared(codes []codeset.Code) (*codeset.Declaration, error) {
	rule := p.Declared
	if rule == nil {
		return nil, nil
	}
	d := &codeset.Declaration{Source: rule.Source}
	for _, c := range codes {
		v := c.Field(rule.Field) + c.Meta.Get(rule.Field)
		if v == "" || slices.Contains(rule.Ignore, v) {
			continue
		}
		k, ok := rule.Kinds[v]
		if !ok {
			return nil, errorf(ErrBadValue, "code %s: unknown %s %q", c.Code, rule.Source, v)
		}
		d.Changes = append(d.Changes, codeset.DeclaredChange{Code: c.Code, Kind: k, Detail: v})
	}
	return d, nil
}

// unwrap reduces the whitespace at the points where the publisher's
// fixed-width records split the continued field (Continuation.Wrap) to one
// space, in every record whatever its source format. The text file cannot
// keep a double space that fell on a split (the 2019 XLSX and 2020 TXT of
// HCPCS differ so in 13 long descriptions); the spreadsheet can. Reduced in
// both, a change of source format between releases never shows as a change
// of spacing. Elsewhere whitespace is kept, so a publisher's own spacing
// fix still shows as cosmetic.
func (p *Profile) unwrap(codes []codeset.Code) {
	k := p.Continuation
	if k == nil || k.Wrap <= 0 {
		return
	}
	for i := range codes {
		if v := codes[i].Field(k.Append); len(v) > k.Wrap {
			codes[i].SetField(k.Append, unwrapText(v, k.Wrap))
		}
	}
}

// unwrapText splits s as the publisher's records do, at the last space
// within each width characters (a word may end the final record at the
// last column, not another), and joins the pieces with one space. A piece
// without a space is left whole.
func unwrapText(s string, width int) string {
	r := []rune(s)
	var parts []string
	for len(r) > width {
		cut := -1
		for i := width - 1; i > 0; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		if cut < 0 {
			break
		}
		parts = append(parts, strings.TrimRight(string(r[:cut]), " "))
		for cut < len(r) && r[cut] == ' ' {
			cut++
		}
		r = r[cut:]
	}
	parts = append(parts, string(r))
	return strings.Join(parts, " ")
}
