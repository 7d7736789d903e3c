package diff

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/codeset/codeset"
)

// Outcomes of a code in the computed diff besides the change kinds, and
// the combined declarations that name no change kind.
const (
	unchanged = "unchanged"
	absent    = "absent"
	// gone: declared added, then deleted, across the releases combined:
	// the code is in neither release compared.
	gone = "added, then deleted"
	// back: declared deleted (or discontinued), then added (or
	// reactivated): the code is in both releases compared.
	back = "deleted, then added"
)

// step is one release's declaration of one code.
type step struct {
	label string
	d     codeset.DeclaredChange
}

// Reconcile compares the changelog l of old to new with the changes the
// publisher declared, and explains every code where they differ.
//
// between holds the releases stored between old and new, oldest first: each
// publisher list is against its own previous version, so the lists of
// between and of new are combined, code by code, into the net change from
// old to new. A deleted code that old already showed as discontinued is
// expected, not a disagreement: its discontinuation was declared before.
//
// Every disagreement gives its reason from evidence: the dates in the
// record (HCPCS ADD DT, ACT EFF DT, TERM DT), the previous release's own
// list, the summary block naming a version that was never ingested. Where
// nothing explains it, the reason says "not declared" and the disagreement
// is not Explained.
func Reconcile(l *codeset.Changelog, old, new *codeset.Release, between ...*codeset.Release) *codeset.Reconciliation {
	return reconcile(l, old, new, between, wholeSize)
}

// reconcile is Reconcile with size giving the number of codes of each
// release, which may hold only some of them (see CompareParts).
func reconcile(l *codeset.Changelog, old, new *codeset.Release, between []*codeset.Release, size func(*codeset.Release) int) *codeset.Reconciliation {
	steps := append(append([]*codeset.Release(nil), between...), new)
	rec := &codeset.Reconciliation{}
	var sources []string
	byCode := map[string][]step{}
	for _, r := range steps {
		if len(steps) > 1 {
			rec.Combined = append(rec.Combined, r.Label)
		}
		if r.Declared == nil {
			if len(steps) > 1 {
				sources = append(sources, r.Label+": none")
			}
			continue
		}
		if len(steps) > 1 {
			sources = append(sources, r.Label+": "+r.Declared.Source)
		} else {
			sources = append(sources, r.Declared.Source)
		}
		for _, d := range r.Declared.Changes {
			byCode[d.Code] = append(byCode[d.Code], step{r.Label, d})
		}
	}
	rec.Source = strings.Join(sources, "; ")
	rec.Declared = len(byCode)

	computed := make(map[string]codeset.Change, len(l.Changes))
	for _, c := range l.Changes {
		computed[c.Code] = c
	}
	inNew := make(map[string]codeset.Code, len(new.Codes))
	for _, c := range new.Codes {
		inNew[c.Code] = c
	}
	inOld := map[string]codeset.Code{}
	for _, c := range old.Codes {
		inOld[c.Code] = c
	}
	oldDeclared := map[string]codeset.DeclaredChange{}
	if old.Declared != nil {
		for _, d := range old.Declared.Changes {
			oldDeclared[d.Code] = d
		}
	}
	outcome := func(code string) string {
		if c, ok := computed[code]; ok {
			return string(c.Kind)
		}
		if _, ok := inNew[code]; ok {
			return unchanged
		}
		return absent
	}
	ev := evidence{sys: new.System, old: old, new: new, oldDeclared: oldDeclared, missing: missingVersion(old, new, between, size),
		errata: errataOf(append([]*codeset.Release{old}, steps...))}

	codes := make([]string, 0, len(byCode))
	for c := range byCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, code := range codes {
		ss := byCode[code]
		net := ""
		var words []string
		for _, s := range ss {
			net = compose(net, s.d.Kind)
			if len(steps) > 1 {
				words = append(words, fmt.Sprintf("%s (%s)", s.d.Detail, s.label))
			} else {
				words = append(words, s.d.Detail)
			}
		}
		got := outcome(code)
		if agrees(net, got, computed[code]) {
			rec.Agreed++
			continue
		}
		_, wasOld := inOld[code]
		reason, explained := ev.declared(code, net, ss[len(ss)-1].d, got, wasOld, inNew[code], inOld[code])
		rec.Disagreements = append(rec.Disagreements, ev.finish(codeset.Disagreement{
			Code: code, Declared: strings.Join(words, ", "), Computed: got, Reason: reason, Explained: explained,
		}))
	}
	for _, c := range l.Changes {
		if _, ok := byCode[c.Code]; ok {
			continue
		}
		if c.Kind == codeset.Deleted && c.Record.Status == codeset.StatusDiscontinued {
			continue
		}
		reason, explained := ev.undeclared(c, inNew[c.Code], inOld[c.Code])
		rec.Disagreements = append(rec.Disagreements, ev.finish(codeset.Disagreement{
			Code: c.Code, Computed: string(c.Kind), Reason: reason, Explained: explained,
		}))
	}
	sort.Slice(rec.Disagreements, func(i, j int) bool { return rec.Disagreements[i].Code < rec.Disagreements[j].Code })
	return rec
}

// compose folds the next declared kind of a code into the net declared
// change so far.
func compose(net string, next codeset.ChangeKind) string {
	k := string(next)
	switch net {
	case "", gone:
		return k
	case string(codeset.Added), string(codeset.Reactivated):
		if next == codeset.Deleted {
			return gone
		}
		return net // added, then revised or discontinued: still new
	case string(codeset.Deleted):
		if next == codeset.Added || next == codeset.Reactivated {
			return back
		}
	case string(codeset.Discontinued):
		if next == codeset.Reactivated || next == codeset.Added {
			return back
		}
		if next == codeset.Revised || next == codeset.ShortTitle {
			return net
		}
	case back:
		if next == codeset.Revised || next == codeset.ShortTitle {
			return back
		}
	case string(codeset.Revised):
		if next == codeset.ShortTitle {
			return net // the title revised, then the short title: revised
		}
	case string(codeset.ShortTitle):
		if next == codeset.ShortTitle || next == codeset.Revised {
			return k
		}
	}
	return k
}

// agrees reports whether the net declared change of a code and its
// computed outcome match. A publisher says "add" for a code that comes
// back, so added and reactivated agree both ways; a re-used code is
// declared added and computed revised.
func agrees(net, got string, c codeset.Change) bool {
	switch net {
	case string(codeset.Added), string(codeset.Reactivated):
		return got == string(codeset.Added) || got == string(codeset.Reactivated) || c.Reused
	case string(codeset.Discontinued):
		// Added by an update and ended by a later one; or ended, then
		// dropped from the file a year on (HCPCS).
		return got == string(codeset.Discontinued) || (c.AlreadyDiscontinued && (got == string(codeset.Added) || got == string(codeset.Reactivated))) ||
			got == string(codeset.Deleted)
	case string(codeset.Deleted):
		return got == string(codeset.Deleted) || got == absent
	case gone:
		return got == absent
	case back:
		return got != absent && got != string(codeset.Deleted)
	}
	return got == net
}

// evidence is what a reason may point at.
type evidence struct {
	sys         codeset.System
	old, new    *codeset.Release
	oldDeclared map[string]codeset.DeclaredChange
	// missing, when not "", says that the new release's list was made
	// against a version that was never ingested.
	missing string
	// errata holds, by code, the rows of the corrections files read with
	// old, the releases between and new, in words.
	errata map[string][]string
}

// errataOf gathers the corrections rows of rels by code: "2018's
// corrections say "Change ASC Ind/ASC eff" (V4_HCPC2018_Corrections.prn)".
func errataOf(rels []*codeset.Release) map[string][]string {
	m := map[string][]string{}
	for _, r := range rels {
		if r == nil || r.Declared == nil {
			continue
		}
		// CMS posts its corrections in versions (V1-V4) that repeat the
		// rows before, and as .xlsx and .prn, where the words are cut at
		// the column's width ("Change Ac"): each row is cited once, from
		// its first file, in its longest words.
		type row struct{ words, detail string }
		byCode := map[string][]row{}
		for _, d := range r.Declared.Errata {
			words := d.Detail
			if i := strings.LastIndex(words, " ("); i > 0 {
				words = strings.Trim(words[:i], `"`)
			}
			byCode[d.Code] = append(byCode[d.Code], row{words, d.Detail})
		}
		for code, rows := range byCode {
			for i, x := range rows {
				shadowed := false
				for j, y := range rows {
					if i != j && strings.HasPrefix(y.words, x.words) && (len(y.words) > len(x.words) || j < i) {
						shadowed = true
						break
					}
				}
				if !shadowed {
					m[code] = append(m[code], fmt.Sprintf("%s's corrections say %s", r.Label, x.detail))
				}
			}
		}
	}
	return m
}

// list names the publisher's list in the system's words.
func (e evidence) list() string {
	if e.sys == codeset.HCPCS {
		return "ACTION CD"
	}
	return "the addenda"
}

// finish adds to a disagreement nothing else explains what the
// publisher's corrections files say of the code, or the missing-version
// explanation.
func (e evidence) finish(d codeset.Disagreement) codeset.Disagreement {
	if says := e.errata[d.Code]; !d.Explained && len(says) > 0 {
		d.Reason += "; " + strings.Join(says, "; ")
		d.Explained = true
	}
	if !d.Explained && e.missing != "" {
		d.Reason += "; " + e.missing
		d.Explained = true
	}
	return d
}

// missingVersion says when the new release's list names, in its summary
// block, a previous version whose code count differs from old's (or from
// the last release between): that version was never ingested.
func missingVersion(old, new *codeset.Release, between []*codeset.Release, size func(*codeset.Release) int) string {
	prev := old
	if len(between) > 0 {
		prev = between[len(between)-1]
	}
	a, ok := new.Declared.Against()
	if !ok || a.From == size(prev) {
		return ""
	}
	from := a.FromFile
	if from == "" {
		from = "a previous version"
	}
	return fmt.Sprintf("the publisher's list is against %s (%d codes), not %s (%d codes): a version never ingested, whose changes are counted here",
		from, a.From, prev.Label, size(prev))
}

// date reads an ISO date from a record's bookkeeping.
func date(c codeset.Code, name string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, c.Meta.Get(name))
	return t, err == nil
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// added explains a code new since old from its ADD DT: a date after old took
// effect is an update between the two; the date old took effect means old's
// file missed it (a correction after it was published).
func (e evidence) added(rec codeset.Code) (string, bool) {
	// Only old's own addition explains it: a discontinuation (a lifted
	// termination's D) says nothing of why the code is back.
	if d, ok := e.oldDeclared[rec.Code]; ok && (d.Kind == codeset.Added || d.Kind == codeset.Reactivated) {
		return fmt.Sprintf("%s's own list declares it (%s) though %s's file lacks it: a correction after that file", e.old.Label, d.Detail, e.old.Label), true
	}
	t, ok := date(rec, "add_date")
	switch {
	case !ok:
		return "", false
	case t.After(e.old.Effective) && t.Before(e.new.Effective):
		return fmt.Sprintf("ADD DT %s: added by a quarterly update after %s took effect", day(t), e.old.Label), true
	case t.Equal(e.old.Effective):
		return fmt.Sprintf("ADD DT %s is when %s took effect, yet %s's file lacks it: added to %s after its file was published", day(t), e.old.Label, e.old.Label, e.old.Label), true
	}
	return "", false
}

func (e evidence) declared(code, net string, last codeset.DeclaredChange, got string, wasOld bool, rec, oldRec codeset.Code) (string, bool) {
	words := net
	switch {
	case got == absent && net == gone:
		return "declared added, then deleted, yet the code is in a release compared", false
	case got == absent && net != string(codeset.Deleted):
		return fmt.Sprintf("declared %s, but the code is not in %s: not declared deleted", words, e.new.Label), false
	case net == string(codeset.Deleted) && !wasOld:
		return fmt.Sprintf("declared deleted, but the code was not in %s either", e.old.Label), false
	case net == string(codeset.Added) && (got == unchanged || got == string(codeset.Revised) || got == string(codeset.ShortTitle) || got == string(codeset.Cosmetic)):
		if d, ok := e.oldDeclared[code]; ok && (d.Kind == codeset.Added || d.Kind == codeset.Reactivated) {
			return fmt.Sprintf("declared added by %s already (%s): the publisher repeats the action", e.old.Label, d.Detail), true
		}
		if r, ok := e.added(rec); ok {
			return fmt.Sprintf("declared added, but already in %s: %s", e.old.Label, r), true
		}
		return fmt.Sprintf("declared added, but already in %s: not explained by the record", e.old.Label), false
	case got == string(codeset.Added) || got == string(codeset.Reactivated):
		if r, ok := e.added(rec); ok {
			return fmt.Sprintf("declared %s, but new since %s: %s, then %s", words, e.old.Label, r, words), true
		}
		return fmt.Sprintf("declared %s, but new since %s: its addition is not declared", words, e.old.Label), false
	case (net == string(codeset.Revised) || net == string(codeset.ShortTitle)) && got == string(codeset.Cosmetic):
		return "declared revised, but only whitespace changed", true
	case net == string(codeset.Revised) && got == string(codeset.ShortTitle):
		return "declared a revision of the title, but only the short title changed; the long title is unchanged", false
	case net == string(codeset.ShortTitle) && got == string(codeset.Revised):
		return "declared a revision of the short title only, but the long title changed too", false
	case got == unchanged:
		if a, ok := date(rec, "action_effective_date"); ok {
			if b, ok := date(oldRec, "action_effective_date"); ok && !a.Equal(b) {
				return fmt.Sprintf("declared %s (%s), but no compared field changed; ACT EFF DT moved %s → %s: the change is in a field codeset keeps as bookkeeping or does not read", words, last.Detail, day(b), day(a)), true
			}
		}
		return fmt.Sprintf("declared %s (%s), but no field codeset compares changed since %s: not explained", words, last.Detail, e.old.Label), false
	}
	return fmt.Sprintf("declared %s, computed %s: not explained", words, got), false
}

func (e evidence) undeclared(c codeset.Change, rec, oldRec codeset.Code) (string, bool) {
	not := "not in " + e.list()
	switch c.Kind {
	case codeset.Cosmetic:
		return "whitespace-only fix; publishers do not list these", true
	case codeset.ShortTitle:
		return "short title only, not declared: the publisher's order addenda do not list it; its long title is unchanged", false
	case codeset.Added, codeset.Reactivated:
		if r, ok := e.added(rec); ok {
			return fmt.Sprintf("%s, %s: %s", c.Kind, not, r), true
		}
		return fmt.Sprintf("%s, but not declared", c.Kind), false
	case codeset.Deleted:
		if d, ok := e.oldDeclared[c.Code]; ok && d.Kind == codeset.Deleted {
			return fmt.Sprintf("deleted, %s; %s's own list declared it deleted (%s)", not, e.old.Label, d.Detail), true
		}
		if e.sys == codeset.HCPCS {
			return fmt.Sprintf("deleted without a discontinuation: not declared, and %s did not discontinue it", e.old.Label), false
		}
		return "deleted, but not declared", false
	case codeset.Discontinued:
		if t, ok := date(rec, "termination_date"); ok {
			if t.Before(e.old.Effective) {
				return fmt.Sprintf("discontinued, %s: TERM DT %s is before %s took effect, so %s's file should have shown it ended (corrected after it)", not, day(t), e.old.Label, e.old.Label), true
			}
			if t.Before(e.new.Effective) {
				return fmt.Sprintf("discontinued, %s: TERM DT %s, ended by a quarterly update during %s", not, day(t), e.old.Label), true
			}
		}
		return "discontinued, but not declared", false
	}
	// Revised.
	if d, ok := e.oldDeclared[c.Code]; ok && d.Kind == codeset.Revised {
		if act, ok := oldRec.Meta.Lookup("action"); !ok || act != d.Detail {
			// Declared by a file beside the record (the corrections).
			return fmt.Sprintf("revised, %s; %s's own list revised it after its file (%s)", not, e.old.Label, d.Detail), true
		}
	}
	if a, ok := date(rec, "action_effective_date"); ok {
		b, _ := date(oldRec, "action_effective_date")
		switch {
		case !a.Equal(b) && a.After(e.old.Effective) && a.Before(e.new.Effective):
			return fmt.Sprintf("revised, %s: ACT EFF DT %s, changed by a quarterly update after %s took effect", not, day(a), e.old.Label), true
		case !a.Equal(b) && a.Equal(e.old.Effective):
			return fmt.Sprintf("revised, %s: ACT EFF DT moved %s → %s, when %s took effect: corrected after %s's file was published", not, day(b), day(a), e.old.Label, e.old.Label), true
		}
	}
	if d, ok := e.oldDeclared[c.Code]; ok {
		return fmt.Sprintf("revised, but not declared (%s declared %s for it; this change is on no list)", e.old.Label, d.Detail), false
	}
	return "revised, but not declared", false
}
