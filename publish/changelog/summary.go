package changelog

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/codeset/codeset"
)

// WriteSummary writes the one-screen summary of a run: the counts of each
// change kind, overall and per category when the system has categories.
func WriteSummary(w io.Writer, rel *codeset.Release, l *codeset.Changelog) error {
	name := rel.System.Name()
	fmt.Fprintf(w, "%s %s, %s: %d codes\n", name, rel.Label, effectiveText(rel.Effective), len(rel.Codes))
	if l.From == "" {
		fmt.Fprintf(w, "first release of %s: every code is added\n", name)
	} else {
		fmt.Fprintf(w, "compared with %s, %s\n", l.From, effectiveText(l.FromEffective))
	}

	// Unchanged codes are not in the changelog: derive them per category
	// from the release's codes less its changed ones.
	cats := codeset.CategoryCounts(rel.Codes)
	byCat := l.ByCategory()
	var names []string
	for c := range cats {
		names = append(names, c)
	}
	for c := range byCat {
		if _, ok := cats[c]; !ok {
			names = append(names, c)
		}
	}
	slices.SortFunc(names, codeset.CompareCategories)
	showCats := len(names) > 1 || (len(names) == 1 && names[0] != "")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "change\ttotal")
	if showCats {
		for _, c := range names {
			fmt.Fprintf(tw, "\t%s", c)
		}
	}
	fmt.Fprintln(tw)
	row := func(label string, total int, per func(cat string) int) {
		fmt.Fprintf(tw, "%s\t%d", label, total)
		if showCats {
			for _, c := range names {
				fmt.Fprintf(tw, "\t%d", per(c))
			}
		}
		fmt.Fprintln(tw)
	}
	for _, k := range shownKinds(l) {
		row(kindLabel(k), l.Summary.Count(k), func(c string) int {
			if s := byCat[c]; s != nil {
				return s.Count(k)
			}
			return 0
		})
	}
	row("unchanged", l.Summary.Unchanged, func(c string) int {
		n := cats[c]
		if s := byCat[c]; s != nil {
			// Deleted codes are not in the new release.
			n -= s.Added + s.Revised + s.ShortTitle + s.Cosmetic + s.Reactivated + s.Discontinued
		}
		return n
	})
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range l.Summary.Notes() {
		fmt.Fprintln(w, n)
	}
	if l.Replacements != nil {
		writeLinkSummary(w, l)
	}
	if r := l.Reconciliation; r != nil {
		writeReconciliation(w, l.System, r)
	}
	return nil
}

// summaryDisagreements is how many disagreements the terminal summary
// lists; the changelogs list them all.
const summaryDisagreements = 5

// writeLinkSummary says how many of the codes that went away the
// publisher names a replacement for, and how many links do not add up.
func writeLinkSummary(w io.Writer, l *codeset.Changelog) {
	counts := map[codeset.ChangeKind][2]int{}
	for c := range l.All() {
		n := counts[c.Kind]
		n[0]++
		if len(c.ReplacedBy) > 0 || len(c.Replaces) > 0 {
			n[1]++
		}
		counts[c.Kind] = n
	}
	for _, k := range []codeset.ChangeKind{codeset.Deleted, codeset.Discontinued} {
		if n := counts[k]; n[0] > 0 {
			fmt.Fprintf(w, "%s %d, %d with a replacement named by the publisher\n", k, n[0], n[1])
		}
	}
	for _, k := range []codeset.ChangeKind{codeset.Added, codeset.Reactivated} {
		if n := counts[k]; n[1] > 0 {
			fmt.Fprintf(w, "%s %d, %d named as replacing a code\n", k, n[0], n[1])
		}
	}
	if n := len(l.LinkProblems); n > 0 {
		byKind := map[codeset.LinkProblemKind]int{}
		for _, p := range l.LinkProblems {
			byKind[p.Kind]++
		}
		var parts []string
		for _, k := range []codeset.LinkProblemKind{codeset.NoReplacement, codeset.UnknownCode, codeset.ReplacementDeleted} {
			if byKind[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", byKind[k], k))
			}
		}
		fmt.Fprintf(w, "replacement links: %d problems (%s); see the changelog\n", n, strings.Join(parts, ", "))
	}
}

// writeReconciliation shows the comparison with the publisher's own list:
// how many changes it declares, how many the diff confirms, and the first
// few disagreements with their reasons.
func writeReconciliation(w io.Writer, sys codeset.System, r *codeset.Reconciliation) {
	fmt.Fprintf(w, "publisher's list (%s): declared %d, agreed %d, %s\n", r.Source, r.Declared, r.Agreed, reconciliationLine(r))
	for i, d := range r.Disagreements {
		if i == summaryDisagreements {
			fmt.Fprintf(w, "  ... and %d more; see the changelog\n", len(r.Disagreements)-i)
			break
		}
		decl := d.Declared
		if decl == "" {
			decl = "nothing"
		}
		fmt.Fprintf(w, "  %s: declared %s, computed %s: %s\n", sys.Display(d.Code), decl, d.Computed, d.Reason)
	}
}
