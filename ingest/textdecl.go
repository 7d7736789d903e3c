package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/codeset/codeset"
)

// A declaration file may also come as fixed-width text: CMS's HCPCS
// transaction reports as .prn files ("Changes by Action Code", 2017-2020)
// and its corrections files of 2018 and 2019. The columns are found from
// the header row: the code is the first word of a line, the action the
// text after it up to the column that follows the action's header (the
// short description, the effective date), or to the end of the line. CMS
// cuts an action that does not fit its column ("Long Description Chang",
// "Discontin"), so the action's known values match by their start.

// minCut is the shortest cut action matched by its start to a known value.
const minCut = 8

// textHeader finds d's header in a line of text: the code header, then the
// action header after it. end is where the action's column ends: the start
// of the next header, or -1 when the action is the last column.
func (d *DeclarationFile) textHeader(line string) (end int, ok bool) {
	// Byte for byte: strings.ToLower would lengthen a cp1252 byte (2020's
	// notes hold one) and shift every column after it.
	low := asciiLower(line)
	action, actionEnd := -1, -1
	for _, h := range d.Action {
		if i := strings.Index(low, asciiLower(h)); i >= 0 && (action < 0 || i < action) {
			action, actionEnd = i, i+len(h)
		}
	}
	if action <= 0 {
		return 0, false
	}
	code := false
	for _, h := range d.Code {
		if i := strings.Index(low[:action], asciiLower(h)); i >= 0 {
			code = true
		}
	}
	if !code {
		return 0, false
	}
	rest := line[actionEnd:]
	if t := strings.TrimLeft(rest, " \t"); t != "" {
		return actionEnd + len(rest) - len(t), true
	}
	return -1, true
}

// asciiLower lower-cases the ASCII letters of s and keeps every other byte,
// so that byte offsets stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// textRow splits a data line into its code and action.
func textRow(line string, end int) (code, action string) {
	t := strings.TrimLeft(line, " \t")
	start := len(line) - len(t)
	i := strings.IndexAny(t, " \t")
	if i < 0 {
		return t, ""
	}
	code = t[:i]
	from := start + i
	switch {
	case end < 0 || end > len(line):
		action = line[from:]
	case end > from:
		action = line[from:end]
	}
	return code, strings.TrimSpace(action)
}

// kindText is kind for an action read from a fixed-width column: a value
// cut short matches the known values it starts, when they all declare the
// same kind.
func (d *DeclarationFile) kindText(action string) (codeset.ChangeKind, bool) {
	if k, ok := d.kind(action); ok || d.Kinds == nil {
		return k, ok
	}
	key := headerKey(action)
	if len(key) < minCut {
		return "", false
	}
	var kind codeset.ChangeKind
	found := false
	for v, k := range d.kinds {
		if !strings.HasPrefix(v, key) {
			continue
		}
		if found && k != kind {
			return "", false
		}
		kind, found = k, true
	}
	return kind, found
}

// textFits reports whether the sampled lines of a text file are this kind
// of declaration file: its header row, then lines whose first word is a
// valid code and, with Kinds, whose action is known.
func (d *DeclarationFile) textFits(p *Profile, lines []string) bool {
	for h, line := range lines {
		if h >= p.HeaderScan {
			return false
		}
		end, ok := d.textHeader(line)
		if !ok {
			continue
		}
		seen := 0
		for _, data := range lines[h+1:] {
			if seen == checkRows {
				break
			}
			if strings.TrimSpace(data) == "" {
				continue
			}
			code, action := textRow(data, end)
			if _, ok := p.category(p.stripCode(code)); !ok {
				return false
			}
			if d.Kinds != nil {
				if _, ok := d.kindText(action); !ok {
					return false
				}
			}
			seen++
		}
		return seen > 0
	}
	return false
}

// isWorkbook reports whether the file at path is a zip (an XLSX workbook)
// rather than text.
func isWorkbook(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(zipMagic))
	n, _ := f.Read(head)
	return bytes.Equal(head[:n], zipMagic)
}

// declarationText reads the rows of a fixed-width declaration file: every
// code with its action, kind "" for an action that declares no change.
func (rd *reader) declarationText(ctx context.Context, in input) ([]codeset.DeclaredChange, error) {
	d, p := in.decl, rd.p
	f, err := openText(in.path, in.name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := newLineScanner(f)
	at := &ParseError{File: in.name}
	line, end, header := 0, 0, false
	var out []codeset.DeclaredChange
	data := 0
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		text := strings.TrimRight(sc.Text(), "\r")
		if !header {
			if line > p.HeaderScan {
				break
			}
			end, header = d.textHeader(text)
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if data++; data > rd.lim.MaxRows {
			return nil, at.atLine(line, 0, "", errorf(ErrLimit, "more than %d data lines: over the row limit", rd.lim.MaxRows))
		}
		raw, action := textRow(text, end)
		code := p.stripCode(raw)
		if _, ok := p.category(code); !ok {
			return nil, at.atLine(line, 1, "", errorf(ErrBadCode, "bad code %q in the %s: want %s", raw, d.Name, p.want()))
		}
		kind, ok := d.kindText(action)
		if !ok {
			rd.rep.Warnings = append(rd.rep.Warnings, fmt.Sprintf("%s line %d: unknown action %q in the %s for %s: left out of the declared changes", in.name, line, action, d.Name, code))
			continue
		}
		out = append(out, codeset.DeclaredChange{Code: code, Kind: kind, Detail: action})
	}
	if err := sc.failure(at, line+1, "not a "+d.Name); err != nil {
		return nil, err
	}
	if !header {
		return nil, &ParseError{File: in.name, Err: errorf(ErrNoHeader, "no header line of the %s in the first %d lines: want a code column (%s) and an action column (%s)",
			d.Name, p.HeaderScan, quoteList(d.Code), quoteList(d.Action))}
	}
	return out, nil
}
