package diff

import (
	"slices"
	"strings"
	"time"

	"github.com/codeset/codeset"
)

// Part is a release of which Codes holds only some codes: those a
// comparison needs (see CompareParts). Size is the number of codes of the
// whole release, which the reconciliation checks against the publisher's
// totals.
type Part struct {
	Release *codeset.Release
	Size    int
}

// CompareParts is CompareAcross of releases held in part, for a caller
// that reads them from storage by key rather than whole. It gives the
// changelog CompareAcross gives of the whole releases, except that
// Summary.Unchanged counts only the unchanged codes both parts hold, when:
//
//   - old and new hold every code that differs between the whole releases
//     (on the side or sides that have it);
//   - both hold, where they have them, the codes the publisher declares
//     changed in new or in any release of between (see DeclaredCodes);
//   - both hold, where they have them, the codes that NeedLinks collects
//     from the codes of either release when new carries replacement links.
//
// The releases of between need hold no codes. old.Release may be nil, as
// for a first release, and new must then hold every code.
func CompareParts(old, new Part, earlier map[string]codeset.Code, between []Part) *codeset.Changelog {
	sizes := map[*codeset.Release]int{new.Release: new.Size}
	if old.Release != nil {
		sizes[old.Release] = old.Size
	}
	rels := make([]*codeset.Release, len(between))
	for i, b := range between {
		rels[i] = b.Release
		sizes[b.Release] = b.Size
	}
	// The parts hold mostly changes: room for one per code of either is
	// allocated once rather than grown.
	room := len(new.Release.Codes)
	if old.Release != nil {
		room = unionSize(old.Release.Codes, new.Release.Codes)
	}
	return compareAcross(old.Release, new.Release, earlier, rels, func(r *codeset.Release) int { return sizes[r] }, room)
}

// unionSize counts the codes of a and b, both sorted by code.
func unionSize(a, b []codeset.Code) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].Code < b[j].Code:
			i++
		case b[j].Code < a[i].Code:
			j++
		default:
			i++
			j++
		}
		n++
	}
	return n + len(a) - i + len(b) - j
}

// wholeSize is the size of a release that holds all its codes.
func wholeSize(r *codeset.Release) int { return len(r.Codes) }

// DeclaredCodes returns the codes the publisher declares changed in any of
// rels (nil ones are skipped), sorted and unique: the codes the
// reconciliation looks up in both releases compared.
func DeclaredCodes(rels ...*codeset.Release) []string {
	var codes []string
	for _, r := range rels {
		if r == nil || r.Declared == nil {
			continue
		}
		for _, d := range r.Declared.Changes {
			codes = append(codes, d.Code)
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// LinkCodes collects, from the codes of two releases met in code order,
// the codes Link looks at when it attaches replacement links: for every
// link that takes effect between the releases, the codes each side of it
// covers (a single code, or the codes of a range) and the first code after
// them, where Link's walk along the sorted codes stops. Link of releases
// that hold at least these codes gives what it gives of the whole
// releases.
type LinkCodes struct {
	pending []keyRange // by first, not yet reached
	active  []keyRange // reached, walk not yet stopped
	codes   []string
}

// keyRange is a side of a link: first through last as codeset.InRange
// reads them.
type keyRange struct{ first, last string }

// NeedLinks returns the LinkCodes of links for a comparison of a release
// effective at lo with one effective at hi (links out of that window are
// not looked at). It returns nil when there are no links to look at.
func NeedLinks(links []codeset.Replacement, lo, hi time.Time) *LinkCodes {
	var rs []keyRange
	side := func(first, through string) keyRange {
		if through == "" {
			return keyRange{first, first}
		}
		return keyRange{first, through}
	}
	for _, r := range links {
		if !inWindow(r.Effective, lo, hi) {
			continue
		}
		rs = append(rs, side(r.Old, r.OldThrough), side(r.New, r.NewThrough))
	}
	if len(rs) == 0 {
		return nil
	}
	cmp := func(a, b keyRange) int {
		if c := strings.Compare(a.first, b.first); c != 0 {
			return c
		}
		return strings.Compare(a.last, b.last)
	}
	slices.SortFunc(rs, cmp)
	return &LinkCodes{pending: slices.Compact(rs)}
}

// See takes the next code of either release, in ascending order, each
// code once.
func (n *LinkCodes) See(code string) {
	if n == nil {
		return
	}
	for len(n.pending) > 0 && n.pending[0].first <= code {
		n.active = append(n.active, n.pending[0])
		n.pending = n.pending[1:]
	}
	if len(n.active) == 0 {
		return
	}
	n.codes = append(n.codes, code)
	// The walk over a range goes on while codes are in it and stops at
	// the first that is not, which Link looks at too.
	n.active = slices.DeleteFunc(n.active, func(r keyRange) bool { return !codeset.InRange(code, r.first, r.last) })
}

// Codes returns the codes collected, sorted and unique.
func (n *LinkCodes) Codes() []string {
	if n == nil {
		return nil
	}
	return n.codes
}
