package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/codeset/codeset"
)

// Link attaches the publisher's replacement links to the changes of l, the
// changelog of old to new, and reconciles the two. It returns a copy of l;
// l and the releases are left as they are.
//
// links are usually new.Replacements: a crosswalk may be cumulative, so only
// the links that take effect after old and no later than new (or that carry
// no date, or when a release has none) are considered, and of those only the
// links that touch a change: a deleted or discontinued Old, an added or
// reactivated New. Ranges are expanded to the codes of old and new.
//
// The copy has ReplacedBy and Replaces set on the changes, the links used in
// Replacements (never nil) and what does not add up in LinkProblems: a
// deleted or discontinued code with no replacement named, a link naming a
// code (or a range matching no code) in neither release, a replacement that
// is itself deleted or discontinued in the same release.
func Link(l *codeset.Changelog, old, new *codeset.Release, links []codeset.Replacement) *codeset.Changelog {
	out := *l
	out.Changes = slices.Clone(l.Changes)
	out.Replacements = []codeset.Replacement{}
	out.LinkProblems = nil

	kind := make(map[string]codeset.ChangeKind, len(l.Changes))
	ended := map[string]bool{} // added already discontinued: arrived and gone
	for _, c := range l.Changes {
		kind[c.Code] = c.Kind
		ended[c.Code] = c.AlreadyDiscontinued
	}
	gone := func(code string) bool {
		k := kind[code]
		return k == codeset.Deleted || k == codeset.Discontinued || ended[code]
	}
	arrived := func(code string) bool { k := kind[code]; return k == codeset.Added || k == codeset.Reactivated }
	all := unionCodes(old, new)
	known := func(code string) bool { _, ok := slices.BinarySearch(all, code); return ok }

	var lo, hi time.Time
	if old != nil {
		lo = old.Effective
	}
	if new != nil {
		hi = new.Effective
	}
	problem := func(code string, k codeset.LinkProblemKind, other, source, reason string) {
		out.LinkProblems = append(out.LinkProblems, codeset.LinkProblem{Code: code, Kind: k, Other: other, Source: source, Reason: reason})
	}
	type pair struct{ old, new, source string }
	seen := map[pair]bool{}
	replacedBy, replaces := map[string][]string{}, map[string][]string{}
	for _, r := range links {
		if !inWindow(r.Effective, lo, hi) {
			continue
		}
		olds, news := expandSide(all, r.Old, r.OldThrough), expandSide(all, r.New, r.NewThrough)
		// A range that matches nothing is reported when the other side of
		// the link is a change of this transition.
		if len(olds) == 0 && slices.ContainsFunc(news, arrived) {
			for _, n := range news {
				if arrived(n) {
					problem(n, codeset.UnknownCode, r.Old+"-"+r.OldThrough, r.Source, fmt.Sprintf("replaces the range %s-%s, which matches no code of either release", r.Old, r.OldThrough))
				}
			}
		}
		if len(news) == 0 && slices.ContainsFunc(olds, gone) {
			for _, o := range olds {
				if gone(o) {
					problem(o, codeset.UnknownCode, r.New+"-"+r.NewThrough, r.Source, fmt.Sprintf("replaced by the range %s-%s, which matches no code of either release", r.New, r.NewThrough))
				}
			}
		}
		for _, o := range olds {
			for _, n := range news {
				if !gone(o) && !arrived(n) {
					continue
				}
				p := pair{o, n, r.Source}
				if seen[p] {
					continue
				}
				seen[p] = true
				e := r
				e.Old, e.New, e.OldThrough, e.NewThrough = o, n, "", ""
				out.Replacements = append(out.Replacements, e)
				if gone(o) {
					replacedBy[o] = append(replacedBy[o], n)
				}
				if arrived(n) {
					replaces[n] = append(replaces[n], o)
				}
				switch {
				case !known(o):
					problem(n, codeset.UnknownCode, o, r.Source, fmt.Sprintf("named as replacing %s, which is in neither release%s", o, category(all, o)))
				case !known(n):
					problem(o, codeset.UnknownCode, n, r.Source, fmt.Sprintf("named as replaced by %s, which is in neither release%s", n, category(all, n)))
				case gone(n):
					problem(o, codeset.ReplacementDeleted, n, r.Source, fmt.Sprintf("named as replaced by %s, which is %s in the same release", n, kind[n]))
				}
			}
		}
	}
	for i := range out.Changes {
		c := &out.Changes[i]
		c.ReplacedBy, c.Replaces = sortedUnique(replacedBy[c.Code]), sortedUnique(replaces[c.Code])
		if (c.Kind == codeset.Deleted || c.Kind == codeset.Discontinued || c.AlreadyDiscontinued) && len(c.ReplacedBy) == 0 {
			what := string(c.Kind)
			if c.AlreadyDiscontinued {
				what += " already discontinued"
			}
			problem(c.Code, codeset.NoReplacement, "", "", fmt.Sprintf("%s, and the publisher names no replacement", what))
		}
	}
	sort.SliceStable(out.Replacements, func(i, j int) bool {
		a, b := out.Replacements[i], out.Replacements[j]
		if a.Old != b.Old {
			return a.Old < b.Old
		}
		return a.New < b.New
	})
	sort.SliceStable(out.LinkProblems, func(i, j int) bool {
		a, b := out.LinkProblems[i], out.LinkProblems[j]
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Other < b.Other
	})
	return &out
}

// inWindow reports whether a link taking effect at e belongs to the
// transition from a release effective at lo to one effective at hi. A date
// that is not known does not exclude the link.
func inWindow(e, lo, hi time.Time) bool {
	if e.IsZero() {
		return true
	}
	if !lo.IsZero() && !e.After(lo) {
		return false
	}
	return hi.IsZero() || !e.After(hi)
}

// Expand returns links with every range replaced by one link per code of
// the given releases that it covers, marked StatedRange; a range that
// covers no code is dropped. Links that are not ranges are kept as they are.
func Expand(links []codeset.Replacement, releases ...*codeset.Release) []codeset.Replacement {
	all := unionCodes(releases...)
	var out []codeset.Replacement
	for _, r := range links {
		for _, o := range expandSide(all, r.Old, r.OldThrough) {
			for _, n := range expandSide(all, r.New, r.NewThrough) {
				e := r
				e.Old, e.New, e.OldThrough, e.NewThrough = o, n, "", ""
				out = append(out, e)
			}
		}
	}
	return out
}

// expandSide returns the codes of sorted that the range first-last covers,
// or first alone when last is empty (a single code, known or not).
func expandSide(sorted []string, first, last string) []string {
	if last == "" {
		return []string{first}
	}
	i, _ := slices.BinarySearch(sorted, first)
	var out []string
	// The codes a range covers are contiguous in sorted order: those from
	// first up to last, then those that start with last.
	for ; i < len(sorted) && codeset.InRange(sorted[i], first, last); i++ {
		out = append(out, sorted[i])
	}
	return out
}

// category says, for a code in neither release that heads codes of them
// (a publisher naming category H33.2 for H33.20-H33.23), what it heads.
func category(sorted []string, code string) string {
	heads := expandSide(sorted, code, code)
	switch len(heads) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(": a category, not a code, of %s", heads[0])
	}
	return fmt.Sprintf(": a category, not a code, of %d codes %s to %s", len(heads), heads[0], heads[len(heads)-1])
}

// unionCodes returns the codes of the releases, sorted and unique.
func unionCodes(releases ...*codeset.Release) []string {
	var all []string
	for _, r := range releases {
		if r == nil {
			continue
		}
		for _, c := range r.Codes {
			all = append(all, c.Code)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

func sortedUnique(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return slices.Compact(ss)
}

// Successors follows replacement links from code to the codes valid today:
// a code that is valid is its own successor; one that is not is replaced
// by the successors of the codes that replace it (A → B → C: A's successors
// are C when B is gone). links are expanded links of any number of releases
// (Changelog.Replacements, or Expand). ended lists the codes met on the way
// that are not valid and have no replacement: the chain stops there. Both
// are sorted; cycles are followed once.
func Successors(code string, links []codeset.Replacement, valid func(string) bool) (current, ended []string) {
	next := map[string][]string{}
	for _, r := range links {
		if r.IsRange() || r.Old == r.New {
			continue
		}
		next[r.Old] = append(next[r.Old], r.New)
	}
	seen := map[string]bool{}
	var walk func(c string)
	walk = func(c string) {
		if seen[c] {
			return
		}
		seen[c] = true
		switch {
		case valid(c):
			current = append(current, c)
		case len(next[c]) == 0:
			ended = append(ended, c)
		default:
			for _, n := range next[c] {
				walk(n)
			}
		}
	}
	walk(code)
	return sortedUnique(current), sortedUnique(ended)
}

// Valid returns a test for the codes valid in rel, for Successors: codes
// of the release that are not discontinued.
func Valid(rel *codeset.Release) func(string) bool {
	return func(code string) bool {
		i, ok := slices.BinarySearchFunc(rel.Codes, code, func(c codeset.Code, code string) int { return strings.Compare(c.Code, code) })
		return ok && rel.Codes[i].Status != codeset.StatusDiscontinued
	}
}
