package ingest

import (
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/codeset/codeset"
)

// addendaLine matches one change line of the ICD-10 addenda files, e.g.
// "Add:         C810A   Nodular lymphocyte..." or "Revise from: A7741 ...".
// The order addenda of ICD-10-CM put the order file's valid flag before
// the code ("Add:         1 A4154 ..."): 1 for a code, 0 for a header.
var addendaLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(Add|Delete|Revise from|Revise to):\s+(?:([01])\s+)?(\S+)`)
})

// The summary block that ends an addenda (or is all of it):
//
//	Codes
//	  73674 codes in icd10cm_order_2023.txt
//	  74044 codes in icd10cm_order_2024.txt
//	    395 additions
//	     25 deletions
//	     13 revisions
var (
	summaryPart   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*(Codes|Headers)\s*$`) })
	summaryCount  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([0-9]+)\s+(codes|headers)\s+in\s+(\S+)\s*$`) })
	summaryChange = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([0-9]+)\s+(additions|deletions|revisions)\s*$`) })
)

// readAddenda reads the publisher's list of changes from an ICD-10 addenda
// file. Lines for header rows (flagged 0, or codes that are not valid codes
// of the system, such as the 3-character ICD-10-PCS table headers) are not
// changes to codes and are left out. A revision, given as a "Revise from"
// and a "Revise to" line, counts once. The summary block is kept in
// Declaration.Counts; an addenda of only that block declares no change.
func readAddenda(in input, p *Profile) (*codeset.Declaration, error) {
	f, err := openText(in.path, in.name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseAddenda(f, in.name, p)
}

func parseAddenda(r io.Reader, name string, p *Profile) (*codeset.Declaration, error) {
	type key struct {
		code string
		kind codeset.ChangeKind
	}
	seen := map[key]bool{}
	d := &codeset.Declaration{Source: filepath.Base(name)}
	declare := func(code string, kind codeset.ChangeKind, detail string) {
		k := key{code, kind}
		if kind == codeset.ShortTitle {
			k.kind = codeset.Revised // one revision of a code, whichever title
		}
		if seen[k] {
			return
		}
		seen[k] = true
		d.Changes = append(d.Changes, codeset.DeclaredChange{Code: code, Kind: kind, Detail: detail})
	}
	// A revision is a "Revise from" line and a "Revise to" line. In an
	// order addenda both carry the short and the long title, so the pair
	// tells a revision of the short title alone; whether the file is one
	// is known at its end: every change line has the order file's shape.
	type revision struct {
		code     string
		from, to titles
		paired   bool
	}
	var revs []revision
	pending := map[string]int{} // code → index in revs of a "Revise from" awaiting its "Revise to"
	orderShaped := true
	sc := newLineScanner(r)
	at := &ParseError{File: name}
	line, changeLines := 0, 0
	var sum summaryReader
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if err := sc.cutShort(at, line, text); err != nil {
			return nil, err
		}
		idx := addendaLine().FindStringSubmatchIndex(text)
		if idx == nil {
			if err := sum.line(text); err != nil {
				return nil, &ParseError{File: name, Line: line, Err: err}
			}
			continue
		}
		m := submatches(text, idx)
		changeLines++
		t := orderTitles(text, idx[6])
		orderShaped = orderShaped && t.ok
		if m[2] == "0" {
			continue // a header row of the order file
		}
		code := strings.ToUpper(m[3])
		for _, r := range p.Strip {
			code = strings.ReplaceAll(code, string(r), "")
		}
		if _, ok := p.category(code); !ok {
			continue
		}
		switch m[1] {
		case "Add":
			declare(code, codeset.Added, m[1])
		case "Delete":
			declare(code, codeset.Deleted, m[1])
		case "Revise from":
			pending[code] = len(revs)
			revs = append(revs, revision{code: code, from: t})
		case "Revise to":
			if i, ok := pending[code]; ok {
				revs[i].to, revs[i].paired = t, true
				delete(pending, code)
			} else {
				revs = append(revs, revision{code: code, to: t})
			}
		}
	}
	for _, r := range revs {
		if orderShaped && r.paired && sameWords(r.from.long, r.to.long) && !sameWords(r.from.short, r.to.short) {
			declare(r.code, codeset.ShortTitle, "Revise (short title only)")
		} else {
			declare(r.code, codeset.Revised, "Revise")
		}
	}
	if err := sc.failure(at, line+1, "not an addenda file"); err != nil {
		return nil, err
	}
	d.Counts = sum.done()
	if changeLines == 0 && len(d.Counts) == 0 {
		return nil, &ParseError{File: name, Err: errorf(ErrLayout, "no Add:, Delete: or Revise lines and no summary block (\"N codes in FILE\", \"N additions\"): not an addenda file")}
	}
	sort.Slice(d.Changes, func(i, j int) bool {
		if d.Changes[i].Code != d.Changes[j].Code {
			return d.Changes[i].Code < d.Changes[j].Code
		}
		return d.Changes[i].Kind < d.Changes[j].Kind
	})
	return d, nil
}

// submatches returns the texts of the submatches at idx, "" for those
// that did not match.
func submatches(text string, idx []int) []string {
	m := make([]string, len(idx)/2)
	for i := range m {
		if idx[2*i] >= 0 {
			m[i] = text[idx[2*i]:idx[2*i+1]]
		}
	}
	return m
}

// titles are the short and long titles of an order addenda line.
type titles struct {
	short, long string
	ok          bool // the line has the order file's shape
}

// orderTitleWidth is the width of the short title in the ICD-10 order files
// and their addenda: the short title fills 60 columns, then a space, then
// the long title.
const (
	orderCodeWidth  = 7
	orderTitleWidth = 60
)

// orderTitles reads the titles of an order addenda line whose code starts
// at byte at: the code field (7 columns) and a space, the short title (60
// columns), a space, the long title. A line of another shape (a codes
// addenda: the code title alone) is not ok.
func orderTitles(text string, at int) titles {
	rest := strings.TrimRight(text, " \r")
	start := at + orderCodeWidth + 1
	if len(rest) < start+orderTitleWidth+2 || rest[start+orderTitleWidth] != ' ' || rest[start-1] != ' ' {
		return titles{}
	}
	short := rest[start : start+orderTitleWidth]
	long := strings.TrimSpace(rest[start+orderTitleWidth+1:])
	if long == "" || strings.TrimSpace(short) == "" {
		return titles{}
	}
	return titles{short: strings.TrimSpace(short), long: long, ok: true}
}

// sameWords reports whether a and b differ at most in whitespace.
func sameWords(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// summaryReader collects the parts of an addenda's summary block. A part
// starts at its "Codes" or "Headers" title, or at its first count line; the
// first count line names the version the addenda was made against, the
// second the new one. A part repeated with the same numbers (CDC's April
// 2024 order addenda print "Codes" twice) is kept once.
type summaryReader struct {
	parts []codeset.DeclaredCounts
	cur   *codeset.DeclaredCounts
}

func (s *summaryReader) line(text string) error {
	if m := summaryPart().FindStringSubmatch(text); m != nil {
		s.flush()
		s.cur = &codeset.DeclaredCounts{Part: strings.ToLower(m[1])}
		return nil
	}
	if m := summaryCount().FindStringSubmatch(text); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return errorf(ErrBadValue, "bad count %q in the summary block", m[1])
		}
		if s.cur == nil || (s.cur.ToFile != "") || (s.cur.Part != "" && s.cur.Part != m[2]) {
			s.flush()
			s.cur = &codeset.DeclaredCounts{Part: m[2]}
		}
		s.cur.Part = m[2]
		if s.cur.FromFile == "" {
			s.cur.FromFile, s.cur.From = m[3], n
		} else {
			s.cur.ToFile, s.cur.To = m[3], n
		}
		return nil
	}
	if m := summaryChange().FindStringSubmatch(text); m != nil && s.cur != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return errorf(ErrBadValue, "bad count %q in the summary block", m[1])
		}
		switch m[2] {
		case "additions":
			s.cur.Added = n
		case "deletions":
			s.cur.Deleted = n
		case "revisions":
			s.cur.Revised = n
		}
	}
	return nil
}

func (s *summaryReader) flush() {
	if s.cur == nil || s.cur.FromFile == "" {
		s.cur = nil
		return
	}
	for _, p := range s.parts {
		if p == *s.cur {
			s.cur = nil
			return
		}
	}
	s.parts = append(s.parts, *s.cur)
	s.cur = nil
}

func (s *summaryReader) done() []codeset.DeclaredCounts {
	s.flush()
	return s.parts
}

// addendaLike reports whether the first lines of a text file look like an
// ICD-10 addenda of p's system: a change line for one of its codes, or a
// summary block. flagged tells that the change lines carry the order
// file's valid flag (an order addenda).
func (p *Profile) addendaLike(lines []string) (ok, flagged bool) {
	counts, changes, valid := 0, 0, 0
	for _, l := range lines {
		if m := addendaLine().FindStringSubmatch(l); m != nil {
			changes++
			flagged = flagged || m[2] != ""
			if _, ok := p.category(p.stripCode(m[3])); ok || m[2] == "0" {
				valid++
			}
			continue
		}
		if summaryCount().MatchString(l) || summaryChange().MatchString(l) {
			counts++
		}
	}
	// Most change lines name codes of the system (header rows aside).
	if changes > 0 {
		return valid*2 > changes, flagged
	}
	return counts >= 2, false
}
