package ingest

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/codeset/codeset"
)

// addendaLine matches one change line of the ICD-10 addenda files, e.g.
// "Add:         C810A   Nodular lymphocyte..." or "Revise from: A7741 ...".
var addendaLine = regexp.MustCompile(`^(Add|Delete|Revise from|Revise to):\s+(\S+)`)

// readAddenda reads the publisher's list of changes from an ICD-10 addenda
// file. Lines for header rows (codes that are not valid codes of the system,
// such as the 3-character ICD-10-PCS table headers) and the summary at the
// end are not changes to codes and are left out. A revision, given as a
// "Revise from" and a "Revise to" line, counts once.
func readAddenda(in input, p *Profile) (*codeset.Declaration, error) {
	f, err := openText(in.path, in.name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type key struct {
		code string
		kind codeset.ChangeKind
	}
	seen := map[key]bool{}
	d := &codeset.Declaration{Source: filepath.Base(in.name)}
	sc := newLineScanner(f)
	at := &ParseError{File: in.name}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if err := sc.cutShort(at, line, text); err != nil {
			return nil, err
		}
		m := addendaLine.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		code := strings.ToUpper(m[2])
		for _, r := range p.Strip {
			code = strings.ReplaceAll(code, string(r), "")
		}
		if _, ok := p.category(code); !ok {
			continue
		}
		kind := codeset.Revised
		switch m[1] {
		case "Add":
			kind = codeset.Added
		case "Delete":
			kind = codeset.Deleted
		}
		k := key{code, kind}
		if seen[k] {
			continue
		}
		seen[k] = true
		detail := m[1]
		if kind == codeset.Revised {
			detail = "Revise"
		}
		d.Changes = append(d.Changes, codeset.DeclaredChange{Code: code, Kind: kind, Detail: detail})
	}
	if err := sc.failure(at, line+1, "not an addenda file"); err != nil {
		return nil, err
	}
	if len(d.Changes) == 0 {
		return nil, &ParseError{File: in.name, Err: errorf(ErrLayout, "no Add:, Delete: or Revise lines for %s codes: not an addenda file", p.System)}
	}
	sort.Slice(d.Changes, func(i, j int) bool {
		if d.Changes[i].Code != d.Changes[j].Code {
			return d.Changes[i].Code < d.Changes[j].Code
		}
		return d.Changes[i].Kind < d.Changes[j].Kind
	})
	return d, nil
}
