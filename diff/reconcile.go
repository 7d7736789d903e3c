package diff

import (
	"fmt"
	"sort"

	"github.com/codeset/codeset"
)

// Outcomes of a code in the computed diff besides the change kinds.
const (
	unchanged = "unchanged"
	absent    = "absent"
)

// Reconcile compares the changelog l of old to new with the changes the
// publisher declared in new.Declared, and explains every code where they
// differ. A deleted code that old already showed as discontinued is
// expected, not a disagreement: its discontinuation was declared before.
func Reconcile(l *codeset.Changelog, old, new *codeset.Release) *codeset.Reconciliation {
	decl := new.Declared
	rec := &codeset.Reconciliation{Source: decl.Source, Declared: len(decl.Changes)}
	computed := make(map[string]codeset.Change, len(l.Changes))
	for _, c := range l.Changes {
		computed[c.Code] = c
	}
	inNew := make(map[string]codeset.Code, len(new.Codes))
	for _, c := range new.Codes {
		inNew[c.Code] = c
	}
	inOld := map[string]codeset.Code{}
	if old != nil {
		for _, c := range old.Codes {
			inOld[c.Code] = c
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

	declared := map[string]bool{}
	for _, d := range decl.Changes {
		declared[d.Code] = true
		got := outcome(d.Code)
		if agrees(d.Kind, got) {
			rec.Agreed++
			continue
		}
		_, wasOld := inOld[d.Code]
		rec.Disagreements = append(rec.Disagreements, codeset.Disagreement{
			Code: d.Code, Declared: d.Detail, Computed: got, Reason: declaredReason(d, got, wasOld),
		})
	}
	for _, c := range l.Changes {
		if declared[c.Code] {
			continue
		}
		if c.Kind == codeset.Deleted && c.Record.Status == codeset.StatusDiscontinued {
			continue
		}
		rec.Disagreements = append(rec.Disagreements, codeset.Disagreement{
			Code: c.Code, Computed: string(c.Kind), Reason: undeclaredReason(c, inNew[c.Code]),
		})
	}
	sort.Slice(rec.Disagreements, func(i, j int) bool { return rec.Disagreements[i].Code < rec.Disagreements[j].Code })
	return rec
}

// agrees reports whether a declared kind and a computed outcome match. A
// publisher says "add" for a code that comes back, so added and
// reactivated agree both ways.
func agrees(declared codeset.ChangeKind, computed string) bool {
	switch declared {
	case codeset.Added, codeset.Reactivated:
		return computed == string(codeset.Added) || computed == string(codeset.Reactivated)
	}
	return computed == string(declared)
}

func declaredReason(d codeset.DeclaredChange, got string, wasOld bool) string {
	switch {
	case got == absent && d.Kind != codeset.Deleted:
		return fmt.Sprintf("declared %s, but the code is not in the new release", d.Kind)
	case got == absent && !wasOld:
		return "declared deleted, but the code was not in the previous release compared either: it went away in an update between the two"
	case d.Kind == codeset.Added && (got == unchanged || got == string(codeset.Revised) || got == string(codeset.Cosmetic)):
		return "declared added, but the code was already in the previous release compared: added by an update between the two (e.g. a quarterly or April update)"
	case got == string(codeset.Added) || got == string(codeset.Reactivated):
		return fmt.Sprintf("declared %s, but the code is new since the previous release compared: added by an update between the two, then %s", d.Kind, d.Kind)
	case d.Kind == codeset.Revised && got == string(codeset.Cosmetic):
		return "declared revised, but only whitespace changed"
	case d.Kind == codeset.Revised && got == unchanged:
		return fmt.Sprintf("declared revised (%s), but no compared field changed: the revision is in a field the profile does not compare, or was made by an update between the releases compared", d.Detail)
	case got == unchanged:
		return fmt.Sprintf("declared %s, but the record is unchanged from the previous release compared: the declaration may be against another previous version", d.Kind)
	}
	return fmt.Sprintf("declared %s, computed %s", d.Kind, got)
}

func undeclaredReason(c codeset.Change, rec codeset.Code) string {
	action := rec.Meta["action"]
	switch c.Kind {
	case codeset.Cosmetic:
		return "whitespace-only fix not in the publisher's list"
	case codeset.Added, codeset.Reactivated:
		if action != "" {
			return fmt.Sprintf("%s, but ACTION CD is %s: added by a quarterly update after the previous release compared", c.Kind, action)
		}
		return fmt.Sprintf("%s, but not declared: added by an update between the releases compared", c.Kind)
	case codeset.Deleted:
		return "deleted, but not declared and not discontinued in the previous release"
	case codeset.Discontinued:
		if t := rec.Meta["termination_date"]; t != "" {
			return fmt.Sprintf("discontinued (termination date %s) but not declared: ended by an update after the previous release compared", t)
		}
		return "discontinued but not declared"
	}
	if action != "" {
		return fmt.Sprintf("%s, but ACTION CD is %s: changed by a quarterly update after the previous release compared", c.Kind, action)
	}
	return fmt.Sprintf("%s, but not declared", c.Kind)
}
