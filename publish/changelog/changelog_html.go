package changelog

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
)

//go:embed changelog.html.tmpl
var changelogHTMLText string

// changelogHTML renders the HTML changelog; html/template escapes every
// value, so publisher text cannot inject markup.
var changelogHTML = template.Must(template.New("changelog").Parse(changelogHTMLText))

// htmlChangelog is what the HTML template sees.
type htmlChangelog struct {
	Title      string
	System     string
	From, To   string
	FromDate   string
	ToDate     string
	Counts     []htmlCount
	Notes      []string // Summary.Notes
	Unchanged  int
	Categories []string
	Sections   []htmlSection
	// Reconciliation is nil when the publisher declares no changes.
	Reconciliation *htmlReconciliation
	// Links is nil when the new release states no replacement links.
	Links *htmlLinks
}

type htmlLinks struct {
	Summary  string
	Problems []codeset.LinkProblem // Code and Other in display form
}

type htmlReconciliation struct {
	Source           string
	Declared, Agreed int
	Rows             []codeset.Disagreement // Code in display form
}

type htmlCount struct {
	Kind  codeset.ChangeKind
	Title string
	N     int
}

type htmlSection struct {
	Kind   codeset.ChangeKind
	Title  string
	Fields bool // rows show a field with before and after
	// LinkHeader heads the column of replacement links, when shown.
	LinkHeader string
	Rows       []htmlRow
}

type htmlRow struct {
	Code, Category, Description string
	Field, Before, After        string
	Segments                    []htmlSegment
	Links                       string // the codes replaced by or replaced, in display form
}

// htmlSegment is one run of a word-level revision: Op is "eq", "del" or
// "ins".
type htmlSegment struct {
	Op, Text string
}

// WriteHTML writes l as one self-contained HTML page: counts at the top, a
// section per change kind, revised wording highlighted word by word with
// <del> and <ins>, a filter by change kind and category that runs in the
// page, and a print stylesheet. The page loads nothing from elsewhere.
func WriteHTML(w io.Writer, l *codeset.Changelog) error {
	name := l.System.Name()
	v := htmlChangelog{System: name, From: l.From, To: l.To, Unchanged: l.Summary.Unchanged}
	if l.From == "" {
		v.Title = fmt.Sprintf("%s changes: %s (first release)", name, l.To)
	} else {
		v.Title = fmt.Sprintf("%s changes: %s → %s", name, l.From, l.To)
		v.FromDate = effectiveText(l.FromEffective)
	}
	v.ToDate = effectiveText(l.ToEffective)

	changes := slices.Clone(l.Changes)
	slices.SortStableFunc(changes, func(a, b codeset.Change) int { return strings.Compare(a.Code, b.Code) })
	cats := map[string]bool{}
	for _, c := range changes {
		cats[c.Category] = true
	}
	for c := range cats {
		v.Categories = append(v.Categories, c)
	}
	slices.SortFunc(v.Categories, codeset.CompareCategories)

	v.Notes = l.Summary.Notes()
	for _, k := range shownKinds(l) {
		v.Counts = append(v.Counts, htmlCount{Kind: k, Title: kindTitle(k), N: l.Summary.Count(k)})
		sec := htmlSection{Kind: k, Title: kindTitle(k), Fields: hasFields(k), LinkHeader: linkHeader(l, k)}
		for _, c := range changes {
			if c.Kind != k {
				continue
			}
			row := htmlRow{Code: l.System.Display(c.Code), Category: c.Category, Description: describe(c), Links: linkCell(l, sec.LinkHeader, c)}
			if !sec.Fields || len(c.Fields) == 0 {
				sec.Rows = append(sec.Rows, row)
				continue
			}
			for _, f := range slices.Sorted(maps.Keys(c.Fields)) {
				fc := c.Fields[f]
				r := row
				r.Field, r.Before, r.After = f, fc.Before, fc.After
				r.Segments = htmlSegments(fc.Before, fc.After)
				if k == codeset.Cosmetic {
					// Show the whitespace that is the whole change.
					r.Before, r.After = visibleSpace(fc.Before), visibleSpace(fc.After)
					for i, s := range r.Segments {
						if s.Op != "eq" {
							r.Segments[i].Text = visibleSpace(s.Text)
						}
					}
				}
				sec.Rows = append(sec.Rows, r)
			}
		}
		if len(sec.Rows) > 0 {
			v.Sections = append(v.Sections, sec)
		}
	}

	if r := l.Reconciliation; r != nil {
		v.Reconciliation = &htmlReconciliation{Source: r.Source, Declared: r.Declared, Agreed: r.Agreed}
		for _, d := range r.Disagreements {
			d.Code = l.System.Display(d.Code)
			v.Reconciliation.Rows = append(v.Reconciliation.Rows, d)
		}
	}

	if l.Replacements != nil {
		v.Links = &htmlLinks{Summary: linkSummary(l)}
		for _, p := range l.LinkProblems {
			p.Code, p.Other = l.System.Display(p.Code), displayOther(l.System, p.Other)
			v.Links.Problems = append(v.Links.Problems, p)
		}
	}

	var b bytes.Buffer
	if err := changelogHTML.Execute(&b, v); err != nil {
		return fmt.Errorf("write html changelog: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write html changelog: %w", err)
	}
	return nil
}

// htmlSegments splits a revision into kept, deleted and inserted runs.
func htmlSegments(before, after string) []htmlSegment {
	var segs []htmlSegment
	prev := diff.Segment{Op: diff.Equal}
	for _, s := range diff.Words(before, after) {
		op := "eq"
		switch s.Op {
		case diff.Delete:
			op = "del"
		case diff.Insert:
			op = "ins"
			// A replaced word reads "old new", not "oldnew", as in the
			// Markdown changelog.
			if prev.Op == diff.Delete && !endsInSpace(prev.Text) && !startsWithSpace(s.Text) {
				segs = append(segs, htmlSegment{Op: "eq", Text: " "})
			}
		}
		segs = append(segs, htmlSegment{Op: op, Text: s.Text})
		prev = s
	}
	return segs
}
