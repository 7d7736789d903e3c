package changelog

import (
	"fmt"
	"io"
	"slices"
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
		row(string(k), l.Summary.Count(k), func(c string) int {
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
			n -= s.Added + s.Revised + s.Cosmetic + s.Reactivated + s.Discontinued
		}
		return n
	})
	return tw.Flush()
}
