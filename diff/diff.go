// Package diff compares two releases of one code system.
//
// It is pure: releases in, a changelog out. Nothing here reads files or
// databases; the caller supplies the releases and, for reactivation, the
// records seen in releases before the older one.
package diff

import (
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/codeset/codeset"
)

// Compare joins old and new on the code and classifies every difference.
//
// old may be nil for a system's first release: every code is then added.
// earlier holds, for codes absent from old, the record last seen in a release
// before old; a code in new that is missing from old but present in earlier
// is reactivated rather than added. earlier may be nil.
func Compare(old, new *codeset.Release, earlier map[string]codeset.Code) *codeset.Changelog {
	return CompareAcross(old, new, earlier, nil)
}

// CompareAcross is Compare for releases that are not neighbours: between
// holds the releases stored between old and new, oldest first, whose
// declarations the reconciliation combines with new's (each publisher list
// is against its own previous version).
func CompareAcross(old, new *codeset.Release, earlier map[string]codeset.Code, between []*codeset.Release) *codeset.Changelog {
	return compareAcross(old, new, earlier, between, wholeSize, 0)
}

// compareAcross is CompareAcross with size giving the number of codes of
// each release (see CompareParts) and room for that many changes.
func compareAcross(old, new *codeset.Release, earlier map[string]codeset.Code, between []*codeset.Release, size func(*codeset.Release) int, room int) *codeset.Changelog {
	l := &codeset.Changelog{System: new.System, To: new.Label, ToEffective: new.Effective, Changes: make([]codeset.Change, 0, room)}
	// A code the publisher declares added that the old release had with
	// another text is re-used with a new meaning (HCPCS G9890 in 2019).
	declaredAdd := map[string]bool{}
	if new.Declared != nil {
		for _, d := range new.Declared.Changes {
			if d.Kind == codeset.Added {
				declaredAdd[d.Code] = true
			}
		}
	}
	var prev []codeset.Code
	if old != nil {
		l.From, l.FromEffective = old.Label, old.Effective
		prev = old.Codes
	}
	cur := new.Codes
	shortTitles := new.System.Facts().ShortTitles
	add := func(c codeset.Change) {
		l.Summary.AddChange(c)
		l.Changes = append(l.Changes, c)
	}
	// Both slices are sorted by code, so one merge pass joins them.
	i, j := 0, 0
	for i < len(prev) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(prev) && prev[i].Code < cur[j].Code):
			o := prev[i]
			add(codeset.Change{Code: o.Code, Kind: codeset.Deleted, Category: o.Category, Record: o})
			i++
		case i == len(prev) || cur[j].Code < prev[i].Code:
			n := cur[j]
			// New to this comparison and already ended (added and
			// discontinued by updates in between) is still new: counted
			// once, among the added, and flagged.
			ended := n.Status == codeset.StatusDiscontinued
			if e, ok := earlier[n.Code]; ok {
				add(codeset.Change{Code: n.Code, Kind: codeset.Reactivated, Category: n.Category, Fields: Fields(e, n), Record: n, AlreadyDiscontinued: ended})
			} else {
				add(codeset.Change{Code: n.Code, Kind: codeset.Added, Category: n.Category, Record: n, AlreadyDiscontinued: ended})
			}
			j++
		default:
			o, n := prev[i], cur[j]
			fields := Fields(o, n)
			switch {
			case len(fields) == 0:
				l.Summary.Unchanged++
			case n.Status == codeset.StatusDiscontinued && o.Status != codeset.StatusDiscontinued:
				add(codeset.Change{Code: n.Code, Kind: codeset.Discontinued, Category: n.Category, Fields: fields, Record: n})
			case o.Status == codeset.StatusDiscontinued && n.Status != codeset.StatusDiscontinued:
				// A lifted termination date (HCPCS ACTION R): the code
				// is back in use.
				add(codeset.Change{Code: n.Code, Kind: codeset.Reactivated, Category: n.Category, Fields: fields, Record: n})
			case onlyWhitespace(fields):
				add(codeset.Change{Code: n.Code, Kind: codeset.Cosmetic, Category: n.Category, Fields: fields, Record: n})
			case shortTitles && onlyShortTitle(fields):
				add(codeset.Change{Code: n.Code, Kind: codeset.ShortTitle, Category: n.Category, Fields: fields, Record: n})
			default:
				add(codeset.Change{Code: n.Code, Kind: codeset.Revised, Category: n.Category, Fields: fields, Record: n,
					Reused: declaredAdd[n.Code] && textChanged(fields)})
			}
			i++
			j++
		}
	}
	if len(l.Changes) == 0 {
		l.Changes = nil // as without room
	}
	// The publisher's list is against its own previous version; a first
	// release has nothing to compare it with.
	if old != nil && declares(append(slices.Clone(between), new)) {
		l.Reconciliation = reconcile(l, old, new, between, size)
	}
	// A first release replaces nothing.
	if len(new.Replacements) > 0 && old != nil {
		l = Link(l, old, new, new.Replacements)
	}
	return l
}

// Fields returns the fields whose values differ between a and b, or nil.
func Fields(a, b codeset.Code) map[string]codeset.FieldChange {
	var m map[string]codeset.FieldChange
	check := func(name string) {
		if x, y := a.Field(name), b.Field(name); x != y {
			if m == nil {
				m = map[string]codeset.FieldChange{}
			}
			m[name] = codeset.FieldChange{Before: x, After: y}
		}
	}
	for _, f := range []string{codeset.FieldCategory, codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong, codeset.FieldStatus} {
		check(f)
	}
	for _, k := range attrNames(a, b) {
		check(k)
	}
	return m
}

func attrNames(a, b codeset.Code) []string {
	var names []string
	for k := range a.Attrs {
		names = append(names, k)
	}
	for k := range b.Attrs {
		if _, ok := a.Attrs[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// textChanged reports whether a descriptor changed in more than whitespace.
func textChanged(fields map[string]codeset.FieldChange) bool {
	for _, name := range []string{codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong} {
		if f, ok := fields[name]; ok && !SameWords(f.Before, f.After) {
			return true
		}
	}
	return false
}

// declares reports whether any of rels carries a publisher's list.
func declares(rels []*codeset.Release) bool {
	for _, r := range rels {
		if r != nil && r.Declared != nil {
			return true
		}
	}
	return false
}

func onlyWhitespace(fields map[string]codeset.FieldChange) bool {
	for _, f := range fields {
		if !SameWords(f.Before, f.After) {
			return false
		}
	}
	return true
}

// onlyShortTitle reports whether the short title is the only field that
// changed in more than whitespace (ICD-10: the long title, the code title
// the publishers count revisions of, is unchanged).
func onlyShortTitle(fields map[string]codeset.FieldChange) bool {
	f, ok := fields[codeset.FieldShort]
	if !ok || SameWords(f.Before, f.After) {
		return false
	}
	for name, f := range fields {
		if name != codeset.FieldShort && !SameWords(f.Before, f.After) {
			return false
		}
	}
	return true
}

// SameWords reports whether a and b differ at most in whitespace: runs of
// spaces, tabs, non-breaking spaces or line breaks, and leading or trailing
// whitespace.
func SameWords(a, b string) bool {
	// The words are compared one by one as strings.FieldsFunc(s,
	// unicode.IsSpace) would split them, without building either list.
	for {
		var wa, wb string
		wa, a = nextWord(a)
		wb, b = nextWord(b)
		if wa != wb {
			return false
		}
		if wa == "" {
			return true
		}
	}
}

// nextWord returns the first run of s that is not whitespace (empty when
// there is none) and what follows it.
func nextWord(s string) (w, rest string) {
	// isSpace reports whether s starts with whitespace, and its length.
	isSpace := func(s string) (bool, int) {
		if c := s[0]; c < utf8.RuneSelf {
			return c == ' ' || '\t' <= c && c <= '\r', 1
		}
		r, n := utf8.DecodeRuneInString(s)
		return unicode.IsSpace(r), n
	}
	i := 0
	for i < len(s) {
		sp, n := isSpace(s[i:])
		if !sp {
			break
		}
		i += n
	}
	j := i
	for j < len(s) {
		sp, n := isSpace(s[j:])
		if sp {
			break
		}
		j += n
	}
	return s[i:j], s[j:]
}

// Earlier folds a series of releases, oldest first, into the record last
// seen for each code: the earlier argument of Compare.
func Earlier(releases ...*codeset.Release) map[string]codeset.Code {
	m := map[string]codeset.Code{}
	for _, r := range releases {
		for _, c := range r.Codes {
			m[c.Code] = c
		}
	}
	return m
}
