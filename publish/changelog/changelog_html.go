package changelog

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/pages"
)

//go:embed changelog.html.tmpl
var changelogHTMLText string

// changelogHTML renders the HTML changelog; html/template escapes every
// value, so publisher text cannot inject markup.
// It is parsed at its first use, not when the program starts.
var changelogHTML = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("changelog").Funcs(template.FuncMap{
		"style":  func() template.CSS { return pages.Style },
		"script": func() template.JS { return pages.SearchScript },
	}).Parse(changelogHTMLText))
})

// htmlChangelog is what the HTML template sees.
type htmlChangelog struct {
	Title      string
	System     codeset.System
	Name       string
	Dot        int
	From, To   string
	FromDate   string
	ToDate     string
	Counts     []htmlCount
	Notes      []string // Summary.Notes
	Unchanged  int
	Categories []string
	// ShowCategory is set for systems with categories (CPT); the column
	// and its filter are left out for the others.
	ShowCategory bool
	// ShowMeta adds the publisher's action code, termination date and
	// "use instead" to every row (HCPCS).
	ShowMeta bool
	// First is set for a first release: the page shows its summary and
	// the downloads rather than every code as added.
	First bool
	// ByCategory counts a first release's codes per category.
	ByCategory []htmlCount
	Codes      int
	Sections   []htmlSection
	Downloads  []htmlLink
	Legend     []htmlLegend
	// Reconciliation is nil when the publisher declares no changes.
	Reconciliation *htmlReconciliation
	// Links is nil when the new release states no replacement links.
	Links *htmlLinks
}

type htmlLink struct{ Name, Href string }

type htmlLegend struct{ Label, Field string }

type htmlLinks struct {
	Summary  string
	Problems []htmlProblem
}

// htmlProblem is a link problem with Code and Other in display form and
// the stored codes the code page is asked for; OtherStored is empty when
// Other is not one code of a release (a category, a range, a code in
// neither release).
type htmlProblem struct {
	codeset.LinkProblem
	Stored, OtherStored string
}

type htmlReconciliation struct {
	Source           string
	Declared, Agreed int
	Rows             []htmlDisagreement
}

// htmlDisagreement is a disagreement with Code in display form and Stored
// as the code page is asked for it.
type htmlDisagreement struct {
	codeset.Disagreement
	Stored string
}

type htmlCount struct {
	Kind  codeset.ChangeKind
	Title string
	Label string // kindLabel(Kind)
	N     int
}

type htmlSection struct {
	Kind   codeset.ChangeKind
	Title  string
	Fields bool // rows show a field with before and after
	// Codes counts the codes of the section; a revised code has a row
	// per field that changed.
	Codes int
	// LinkHeader heads the column of replacement links, when shown.
	LinkHeader string
	Rows       []htmlRow
}

type htmlRow struct {
	Code, Stored, Category, Description string
	Field, FieldLabel, Before, After    string
	Segments                            []htmlSegment
	Links                               string // the codes replaced by or replaced, in display form
	Action, Terminated, UseInstead      string
}

// htmlSegment is one run of a word-level revision: Op is "eq", "del" or
// "ins".
type htmlSegment struct {
	Op, Text string
}

// WriteHTML writes l as one self-contained HTML page in the look of the
// other published pages: links to the index, the system's page and every
// download of the release, a search box, counts at the top, a section per
// change kind headed by its count of codes, revised wording highlighted
// word by word with <del> and <ins>, readable field names with a legend,
// a filter by change kind (and category, where the system has them) that
// runs in the page, and a print stylesheet. A first release shows its
// summary and downloads instead of every code as added. The page loads
// nothing from elsewhere but the search index.
func WriteHTML(w io.Writer, l *codeset.Changelog) error {
	name := l.System.Name()
	v := htmlChangelog{System: l.System, Name: name, Dot: l.System.Facts().Dot, From: l.From, To: l.To, Unchanged: l.Summary.Unchanged,
		ShowCategory: len(l.System.Facts().Categories) > 0, First: l.From == ""}
	if l.From == "" {
		v.Title = fmt.Sprintf("%s %s: first release", name, l.To)
	} else {
		v.Title = fmt.Sprintf("%s changes: %s → %s", name, l.From, l.To)
		v.FromDate = effectiveText(l.FromEffective)
	}
	v.ToDate = effectiveText(l.ToEffective)
	v.Downloads = []htmlLink{
		{"SQLite snapshot", format.SnapshotName(l.System, l.To)},
		{"Changelog (Excel)", format.ChangelogXLSX},
		{"Changelog (CSV)", format.ChangelogCSV},
		{"Changelog (JSON)", format.ChangelogJSON},
		{"Changelog (Markdown)", format.ChangelogMarkdown},
		{"Search index", format.SearchIndexName},
		{"manifest.json", format.ManifestName},
		{"SHA256SUMS", format.SumsName},
	}

	changes := sortedChanges(l)
	cats := map[string]bool{}
	for c := range changes.All() {
		cats[c.Category] = true
		if _, ok := c.Record.Meta.Lookup("action"); ok {
			v.ShowMeta = true
		}
	}
	for c := range cats {
		v.Categories = append(v.Categories, c)
	}
	slices.SortFunc(v.Categories, codeset.CompareCategories)

	v.Notes = l.Summary.Notes()
	fields := map[string]bool{}
	for _, k := range shownKinds(l) {
		v.Counts = append(v.Counts, htmlCount{Kind: k, Title: kindTitle(k), Label: kindLabel(k), N: l.Summary.Count(k)})
		v.Codes += l.Summary.Count(k)
		if v.First {
			continue
		}
		sec := htmlSection{Kind: k, Title: kindTitle(k), Fields: hasFields(k), LinkHeader: linkHeader(l, k)}
		if v.ShowMeta && sec.LinkHeader == "replaced by" {
			sec.LinkHeader = "" // the "use instead" column says it
		}
		for c := range changes.All() {
			if c.Kind != k {
				continue
			}
			sec.Codes++
			row := htmlRow{Code: l.System.Display(c.Code), Stored: c.Code, Category: c.Category, Description: describe(c), Links: linkCell(l, sec.LinkHeader, c)}
			if v.ShowMeta {
				row.Action, row.Terminated, row.UseInstead = recordMeta(l.System, c)
				row.Action = actionText(row.Action)
			}
			if !sec.Fields || len(c.Fields) == 0 {
				sec.Rows = append(sec.Rows, row)
				continue
			}
			for _, f := range slices.Sorted(maps.Keys(c.Fields)) {
				fc := c.Fields[f]
				fields[f] = true
				r := row
				r.Field, r.FieldLabel, r.Before, r.After = f, fieldLabel(f), fc.Before, fc.After
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
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		v.Legend = append(v.Legend, htmlLegend{Label: fieldLabel(f), Field: f})
	}
	if v.First && v.ShowCategory {
		n := map[string]int{}
		for c := range changes.All() {
			n[c.Category]++
		}
		for _, c := range v.Categories {
			v.ByCategory = append(v.ByCategory, htmlCount{Title: c, N: n[c]})
		}
	}

	if r := l.Reconciliation; r != nil {
		v.Reconciliation = &htmlReconciliation{Source: r.Source, Declared: r.Declared, Agreed: r.Agreed}
		for _, d := range r.Disagreements {
			row := htmlDisagreement{Disagreement: d, Stored: d.Code}
			row.Code = l.System.Display(d.Code)
			v.Reconciliation.Rows = append(v.Reconciliation.Rows, row)
		}
	}

	if l.Replacements != nil {
		v.Links = &htmlLinks{Summary: linkSummary(l)}
		for _, p := range l.LinkProblems {
			row := htmlProblem{LinkProblem: p, Stored: p.Code}
			if p.Kind == codeset.ReplacementDeleted {
				row.OtherStored = p.Other
			}
			row.Code, row.Other = l.System.Display(p.Code), displayOther(l.System, p.Other)
			v.Links.Problems = append(v.Links.Problems, row)
		}
	}

	var b bytes.Buffer
	if err := changelogHTML().Execute(&b, v); err != nil {
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
