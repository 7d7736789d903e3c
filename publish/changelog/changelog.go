package changelog

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
)

// kindTitle is the heading of the section or sheet of changes of kind k:
// the kind's name, capitalised ("Added").
// describe is a change's description with its flags in words before it:
// "[re-used with a new meaning] ..." or "[already discontinued ...] ...".
func describe(c codeset.Change) string {
	if n := c.Note(); n != "" {
		return "[" + n + "] " + c.Record.Description()
	}
	return c.Record.Description()
}

// reconciliationLine counts a reconciliation's disagreements, and says
// how many nothing explains and which releases' lists it combines.
func reconciliationLine(r *codeset.Reconciliation) string {
	s := fmt.Sprintf("%d disagreements, %d unexplained", len(r.Disagreements), len(r.Unexplained()))
	if len(r.Combined) > 0 {
		s += "; lists combined: " + strings.Join(r.Combined, ", ")
	}
	return s
}

func kindTitle(k codeset.ChangeKind) string {
	l := kindLabel(k)
	return strings.ToUpper(l[:1]) + l[1:]
}

// kindLabel is how summaries name kind k: its name, except for the ICD-10
// short-title changes, "short title only".
func kindLabel(k codeset.ChangeKind) string {
	if k == codeset.ShortTitle {
		return "short title only"
	}
	return string(k)
}

// hasFields reports whether changes of kind k carry fields with before and
// after values.
func hasFields(k codeset.ChangeKind) bool {
	return k == codeset.Revised || k == codeset.ShortTitle || k == codeset.Cosmetic || k == codeset.Reactivated || k == codeset.Discontinued
}

// shownKinds are the change kinds a changelog of l lists: the five every
// system has, discontinued where the system has it or it occurs, and
// short-title changes where the system has short titles listed apart
// (ICD-10) or they occur.
func shownKinds(l *codeset.Changelog) []codeset.ChangeKind {
	var ks []codeset.ChangeKind
	for _, k := range codeset.ChangeKinds {
		switch {
		case k == codeset.Discontinued && l.System != codeset.HCPCS && l.Summary.Discontinued == 0:
		case k == codeset.ShortTitle && !l.System.Facts().ShortTitles && l.Summary.ShortTitle == 0:
		default:
			ks = append(ks, k)
		}
	}
	return ks
}

// WriteMarkdown writes l as a changelog for people: a title, the effective
// dates, a summary table, a per-category table when changes have
// categories, and one table per change kind. Revised descriptors get a
// word-level rendering (~~deleted~~ **inserted**); cosmetic ones show
// otherwise invisible whitespace.
func WriteMarkdown(w io.Writer, l *codeset.Changelog) error {
	bw := bufio.NewWriterSize(w, 64<<10) // a 74k-code changelog is about 0.5 MB: a few writes, not a hundred
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	name := l.System.Name()

	if l.From == "" {
		p("# %s changes: %s (first release)\n\n", name, l.To)
		p("- Release: %s, %s\n", l.To, effectiveText(l.ToEffective))
		p("- Previous release: none; this is the first release recorded\n")
	} else {
		p("# %s changes: %s → %s\n\n", name, l.From, l.To)
		p("- From: %s, %s\n", l.From, effectiveText(l.FromEffective))
		p("- To: %s, %s\n", l.To, effectiveText(l.ToEffective))
	}

	p("\n## Summary\n\n")
	p("| change | codes |\n|---|---:|\n")
	kinds := shownKinds(l)
	code := func(c string) string { return cell(l.System.Display(c)) }
	for _, k := range kinds {
		p("| %s | %d |\n", kindLabel(k), l.Summary.Count(k))
	}
	p("| unchanged | %d |\n", l.Summary.Unchanged)
	for _, n := range l.Summary.Notes() {
		p("\n- %s\n", n)
	}

	changes := sortedChanges(l)
	// The word diffs of revised rows, most of the work, are rendered in
	// the background from now on.
	// A first release's changes are not held (changes.Changes is nil),
	// and none of them is revised.
	revised := startRevisedRows(changes.Changes, kinds, code)
	defer revised.close()

	hasCategory := false
	for c := range changes.All() {
		if c.Category != "" {
			hasCategory = true
			break
		}
	}
	if hasCategory {
		byCat := l.ByCategory()
		cats := make([]string, 0, len(byCat))
		for c := range byCat {
			cats = append(cats, c)
		}
		slices.SortFunc(cats, codeset.CompareCategories)
		p("\n## By category\n\n| category |")
		for _, k := range kinds {
			p(" %s |", kindLabel(k))
		}
		p("\n|---|%s\n", strings.Repeat("---:|", len(kinds)))
		for _, c := range cats {
			label := c
			if label == "" {
				label = "(none)"
			}
			p("| %s |", cell(label))
			for _, k := range kinds {
				p(" %d |", byCat[c].Count(k))
			}
			p("\n")
		}
	}

	mw := mdWriter{w: bw, dot: l.System.Facts().Dot}
	for _, k := range kinds {
		// The changes of kind k are picked from changes as they are
		// written: a copy of them would be the whole changelog again in
		// a first release.
		n := 0
		for c := range changes.All() {
			if c.Kind == k {
				n++
			}
		}
		if n == 0 {
			continue
		}
		of := func(yield func(codeset.Change) bool) {
			for c := range changes.All() {
				if c.Kind == k && !yield(c) {
					return
				}
			}
		}
		p("\n## %s (%d)\n\n", kindTitle(k), n)
		switch k {
		case codeset.Revised, codeset.ShortTitle:
			p("| code | category | field | before | after | change |\n|---|---|---|---|---|---|\n")
			revised.write(bw, k)
		case codeset.Cosmetic:
			p("| code | category | field | before | after |\n|---|---|---|---|---|\n")
			for c := range of {
				for _, f := range slices.Sorted(maps.Keys(c.Fields)) {
					fc := c.Fields[f]
					p("| %s | %s | %s | %s | %s |\n", code(c.Code), cell(c.Category), cell(f),
						cell(visibleSpace(fc.Before)), cell(visibleSpace(fc.After)))
				}
			}
		case codeset.Discontinued:
			lh := linkHeader(l, k)
			p("| code | category | termination date | description |%s\n|---|---|---|---|%s\n", mdExtra(lh, lh), mdRule(lh))
			for c := range of {
				p("| %s | %s | %s | %s |%s\n", code(c.Code), cell(c.Category), cell(c.Record.Meta.Get("termination_date")), cell(describe(c)), mdExtra(lh, linkCell(l, lh, c)))
			}
		default:
			// The rows of a first release: a million in a release of a
			// million codes, so written without fmt.
			lh := linkHeader(l, k)
			p("| code | category | description |%s\n|---|---|---|%s\n", mdExtra(lh, lh), mdRule(lh))
			for c := range of {
				bw.WriteString("| ")
				mw.code(c.Code)
				bw.WriteString(" | ")
				mw.cell(c.Category)
				bw.WriteString(" | ")
				if n := c.Note(); n != "" {
					mw.cell("[" + n + "] ")
				}
				mw.cell(c.Record.Description())
				bw.WriteString(" |")
				if lh != "" {
					bw.WriteByte(' ')
					mw.cell(linkCell(l, lh, c))
					bw.WriteString(" |")
				}
				bw.WriteByte('\n')
			}
		}
	}
	if l.Replacements != nil {
		p("\n## Replacement links\n\n%s", cell(linkSummary(l)))
		if len(l.LinkProblems) == 0 {
			p("\n")
		} else {
			p(" What does not add up (%d):\n\n| code | problem | other code | stated in | why |\n|---|---|---|---|---|\n", len(l.LinkProblems))
			for _, lp := range l.LinkProblems {
				p("| %s | %s | %s | %s | %s |\n", code(lp.Code), cell(string(lp.Kind)), cell(displayOther(l.System, lp.Other)), cell(lp.Source), cell(lp.Reason))
			}
		}
	}
	if r := l.Reconciliation; r != nil {
		p("\n## Reconciliation with the publisher's list\n\n")
		p("The publisher declares %d changes (%s); the computed diff confirms %d. ", r.Declared, cell(r.Source), r.Agreed)
		if len(r.Disagreements) == 0 {
			p("They agree on every code.\n")
		} else {
			p("They disagree on %d codes (%s):\n\n", len(r.Disagreements), reconciliationLine(r))
			p("| code | declared | computed | why | explained |\n|---|---|---|---|---|\n")
			for _, d := range r.Disagreements {
				decl := d.Declared
				if decl == "" {
					decl = "(nothing)"
				}
				p("| %s | %s | %s | %s | %s |\n", code(d.Code), cell(decl), cell(d.Computed), cell(d.Reason), yesNo(d.Explained))
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown changelog: %w", err)
	}
	return nil
}

// linkHeader names the column of replacement links that changes of kind
// k get: "replaced by" for deleted and discontinued codes, "replaces" for
// added and reactivated ones; "" for other kinds, or when the new release
// states no links at all (then there is nothing to show).
func linkHeader(l *codeset.Changelog, k codeset.ChangeKind) string {
	if l.Replacements == nil {
		return ""
	}
	switch k {
	case codeset.Deleted, codeset.Discontinued:
		return "replaced by"
	case codeset.Added, codeset.Reactivated:
		return "replaces"
	}
	return ""
}

// linkCodes returns the codes c is replaced by (or replaces, by its kind)
// in display form, separated by ", ".
func linkCodes(sys codeset.System, c codeset.Change) string {
	codes := c.Replaces
	if c.Kind == codeset.Deleted || c.Kind == codeset.Discontinued {
		codes = c.ReplacedBy
	}
	out := make([]string, len(codes))
	for i, x := range codes {
		out[i] = sys.Display(x)
	}
	return strings.Join(out, ", ")
}

// linkCell is the link column's cell for c under header lh: "" when the
// column is not shown, "(none named)" for a deleted code without one.
func linkCell(l *codeset.Changelog, lh string, c codeset.Change) string {
	if lh == "" {
		return ""
	}
	s := linkCodes(l.System, c)
	if s == "" && lh == "replaced by" {
		return "(none named)"
	}
	return s
}

// mdExtra and mdRule add an optional last column, shown when its header
// is not empty, to a Markdown table row and to its rule.
func mdExtra(header, v string) string {
	if header == "" {
		return ""
	}
	return " " + cell(v) + " |"
}

func mdRule(header string) string {
	if header == "" {
		return ""
	}
	return "---|"
}

// displayOther shows the other code of a link problem, a code or a
// "first-last" range, in display form.
func displayOther(sys codeset.System, other string) string {
	if other == "" {
		return ""
	}
	if first, last, ok := strings.Cut(other, "-"); ok {
		return sys.Display(first) + "-" + sys.Display(last)
	}
	return sys.Display(other)
}

// linkSummary says in one sentence how many of the codes that went away
// the publisher names a replacement for.
func linkSummary(l *codeset.Changelog) string {
	gone, named, arrived, replacing := 0, 0, 0, 0
	for c := range l.All() {
		switch c.Kind {
		case codeset.Deleted, codeset.Discontinued:
			gone++
			if len(c.ReplacedBy) > 0 {
				named++
			}
		case codeset.Added, codeset.Reactivated:
			arrived++
			if len(c.Replaces) > 0 {
				replacing++
			}
		}
	}
	links := "links"
	if len(l.Replacements) == 1 {
		links = "link"
	}
	return fmt.Sprintf("The publisher names a replacement for %d of the %d codes deleted or discontinued; %d of the %d codes added or reactivated replace a code (%d %s).",
		named, gone, replacing, arrived, len(l.Replacements), links)
}

// effectiveText describes an effective date for the Markdown header.
func effectiveText(t time.Time) string {
	if t.IsZero() {
		return "effective date not recorded"
	}
	return "effective " + t.Format(codeset.DateLayout)
}

// cellEscaper escapes what would break a table row or start inline
// formatting in a cell; newlines become <br>, the one line break a cell
// can hold.
var cellEscaper = strings.NewReplacer(
	`\`, `\\`,
	`|`, `\|`,
	`*`, `\*`,
	`_`, `\_`,
	`~`, `\~`,
	"`", "\\`",
	`<`, `&lt;`,
	"\r\n", "<br>",
	"\n", "<br>",
	"\r", "<br>",
)

// cell returns s escaped for a Markdown table cell.
func cell(s string) string {
	if !needsEscape(s) {
		return s
	}
	return cellEscaper.Replace(s)
}

// needsEscape reports whether cellEscaper changes s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '|', '*', '_', '~', '`', '<', '\r', '\n':
			return true
		}
	}
	return false
}

// mdWriter writes table cells without building them as strings first.
type mdWriter struct {
	w   *bufio.Writer
	dot int // the system's Dot
}

// cell writes s escaped for a Markdown table cell.
func (m mdWriter) cell(s string) {
	if needsEscape(s) {
		cellEscaper.WriteString(m.w, s)
		return
	}
	m.w.WriteString(s)
}

// code writes a code in display form (codeset.System.Display) as a cell.
func (m mdWriter) code(c string) {
	if m.dot > 0 && len(c) > m.dot {
		m.cell(c[:m.dot])
		m.w.WriteByte('.')
		m.cell(c[m.dot:])
		return
	}
	m.cell(c)
}

// sortedChanges returns l with its changes sorted by code, stably: l
// itself when they already are, as a comparison gives them (and a first
// release's made from its sorted codes by codeset.AllAdded), else a copy
// of l holding a sorted copy of the changes. Read them with Len and At.
func sortedChanges(l *codeset.Changelog) *codeset.Changelog {
	sorted := true
	for i, prev := 1, ""; i <= l.Len(); i++ {
		code := l.At(i - 1).Code
		if i > 1 && code < prev {
			sorted = false
			break
		}
		prev = code
	}
	if sorted {
		return l
	}
	out := *l.Holding()
	out.Changes = slices.Clone(out.Changes)
	slices.SortStableFunc(out.Changes, func(a, b codeset.Change) int { return strings.Compare(a.Code, b.Code) })
	return &out
}

// writeCell appends cell(s) to b.
func writeCell(b *strings.Builder, s string) {
	if !needsEscape(s) {
		b.WriteString(s)
		return
	}
	cellEscaper.WriteString(b, s) // a strings.Builder takes every write
}

// wordDiff renders the word-level difference of two values as one table
// cell: deleted words struck through, inserted words in bold.
func wordDiff(before, after string) string {
	var b strings.Builder
	writeWordDiff(&b, before, after)
	return b.String()
}

// writeWordDiff appends wordDiff(before, after) to b.
func writeWordDiff(b *strings.Builder, before, after string) {
	prev := diff.Segment{Op: diff.Equal}
	for _, seg := range diff.Words(before, after) {
		switch seg.Op {
		case diff.Delete:
			writeMark(b, "~~", seg.Text)
		case diff.Insert:
			// A replaced word reads "~~old~~ **new**", not "~~old~~**new**".
			if prev.Op == diff.Delete && !endsInSpace(prev.Text) && !startsWithSpace(seg.Text) {
				b.WriteByte(' ')
			}
			writeMark(b, "**", seg.Text)
		default:
			writeCell(b, seg.Text)
		}
		prev = seg
	}
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

func endsInSpace(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsSpace(r)
}

// writeMark appends text to b wrapped in a Markdown emphasis marker.
// Markdown ignores a marker next to whitespace, so surrounding whitespace
// goes outside it, and a change of whitespace alone is shown with visible
// symbols.
func writeMark(b *strings.Builder, m, text string) {
	inner := strings.TrimSpace(text)
	if inner == "" {
		b.WriteString(m)
		writeCell(b, visibleSpace(text))
		b.WriteString(m)
		return
	}
	i := strings.Index(text, inner)
	writeCell(b, text[:i])
	b.WriteString(m)
	writeCell(b, inner)
	b.WriteString(m)
	writeCell(b, text[i+len(inner):])
}

// visibleSpace makes whitespace a reader could not otherwise see visible:
// spaces that are doubled, leading or trailing become ␣, tabs ␉,
// non-breaking spaces ⍽ and line breaks ↵.
func visibleSpace(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		switch {
		case c == ' ':
			lone := i > 0 && i < len(r)-1 && r[i-1] != ' ' && r[i+1] != ' '
			if lone {
				b.WriteRune(' ')
			} else {
				b.WriteRune('␣')
			}
		case c == '\t':
			b.WriteRune('␉')
		case c == '\u00a0':
			b.WriteRune('⍽')
		case c == '\n':
			b.WriteRune('↵')
		case c == '\r':
			b.WriteRune('␍')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
