package release

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/codeset/codeset"
)

// ErrRefused reports a release that a publish guard stopped; it is of kind
// codeset.ErrRefused.
var ErrRefused = codeset.NewError(codeset.ErrRefused, "refused by a publish guard")

// Guards are the checks a release must pass before it is published, so that
// a truncated or mangled file never replaces a good code table. The zero
// value checks with the default thresholds.
type Guards struct {
	// MaxDeleteShare is the largest share of the previous release's codes
	// that may be deleted (default 0.05).
	MaxDeleteShare float64
	// MinKeepShare is the smallest size of the new release as a share of
	// the previous one (default 0.8).
	MinKeepShare float64
	// The Allow fields let one run through a guard on purpose.
	AllowMassDelete bool
	AllowShrink     bool
	AllowLostField  bool
	// AllowSameFiles and AllowLabelYear let a release through the label
	// guards (GuardSameFiles, GuardLabelYear).
	AllowSameFiles bool
	AllowLabelYear bool
	// Strict refuses a release whose reconciliation with the publisher's
	// own list has a disagreement nothing explains (see
	// codeset.Reconciliation.Unexplained).
	Strict bool
}

// Override returns g with what a user asked for on release day: the
// allowances of o, o's delete share when set, and strict when either asks
// for it. Thresholds of a job stay unless o sets them.
func (g Guards) Override(o Guards) Guards {
	if o.MaxDeleteShare > 0 {
		g.MaxDeleteShare = o.MaxDeleteShare
	}
	if o.MinKeepShare > 0 {
		g.MinKeepShare = o.MinKeepShare
	}
	g.AllowMassDelete, g.AllowShrink, g.AllowLostField = o.AllowMassDelete, o.AllowShrink, o.AllowLostField
	g.AllowSameFiles, g.AllowLabelYear = o.AllowSameFiles, o.AllowLabelYear
	g.Strict = g.Strict || o.Strict
	return g
}

// GuardError is a refusal: which guard refused and what it found. The
// front ends say how to override it in their own terms (a command-line
// flag, a job setting), from Guard.
type GuardError struct {
	Guard string // GuardMassDelete, GuardShrink or GuardLostField
	Msg   string
}

// The guards, as named in GuardError.Guard.
const (
	GuardMassDelete = "mass-delete"
	GuardShrink     = "shrink"
	GuardLostField  = "lost-field"
	// GuardStrict is the refusal of a strict run; it has no allow flag:
	// run without --strict (or strict = false) to let it through.
	GuardStrict = "strict"
)

func (e *GuardError) Error() string { return "refused to publish: " + e.Msg }

// Is makes errors.Is(err, ErrRefused), and of the kind codeset.ErrRefused,
// true for every refusal.
func (e *GuardError) Is(target error) bool {
	return target == ErrRefused || target == codeset.ErrRefused
}

// lostFieldShare is how full a field must have been in the previous release
// for its disappearance to count as a lost column.
const lostFieldShare = 0.5

// Validate refuses thresholds that are not shares: NaN, negative or more
// than 1. A NaN threshold would turn its guard off, as every comparison
// with NaN is false. Zero means the default.
func (g Guards) Validate() error {
	for _, t := range []struct {
		name string
		v    float64
	}{{"max-delete-share", g.MaxDeleteShare}, {"min-keep-share", g.MinKeepShare}} {
		if math.IsNaN(t.v) || t.v < 0 || t.v > 1 {
			return codeset.NewError(codeset.ErrInvalid, "bad %s %v: want a share between 0 and 1", t.name, t.v)
		}
	}
	return nil
}

// check runs the guards on a new release against the previous one (nil for
// a first release, which passes), both in memory.
func (g Guards) check(old, new *codeset.Release, l *codeset.Changelog) error {
	return g.checkPrior(context.Background(), priorOf(old), new, l)
}

// prior is what the guards need to know of the previous release, without
// holding its codes: its label and number of codes, and whether it had a
// code (asked only about codes the changelog cannot place, see lostFill).
type prior struct {
	Label string
	Codes int
	Has   func(ctx context.Context, code string) (bool, error)
}

// priorOf describes old, in memory (nil for none).
func priorOf(old *codeset.Release) *prior {
	if old == nil {
		return nil
	}
	in := make(map[string]bool, len(old.Codes))
	for _, c := range old.Codes {
		in[c.Code] = true
	}
	return &prior{Label: old.Label, Codes: len(old.Codes), Has: func(_ context.Context, code string) (bool, error) { return in[code], nil }}
}

// checkPrior is check against the previous release described by old.
func (g Guards) checkPrior(ctx context.Context, old *prior, new *codeset.Release, l *codeset.Changelog) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if u := l.Reconciliation.Unexplained(); g.Strict && len(u) > 0 {
		d := u[0]
		decl := d.Declared
		if decl == "" {
			decl = "nothing"
		}
		return &GuardError{Guard: GuardStrict, Msg: fmt.Sprintf(
			"%s %s: %d of the %d disagreements with the publisher's list are unexplained, e.g. %s: declared %s, computed %s: %s",
			new.System, new.Label, len(u), len(l.Reconciliation.Disagreements), new.System.Display(d.Code), decl, d.Computed, d.Reason)}
	}
	if old == nil || old.Codes == 0 {
		return nil
	}
	maxDel := g.MaxDeleteShare
	if maxDel <= 0 {
		maxDel = 0.05
	}
	minKeep := g.MinKeepShare
	if minKeep <= 0 {
		minKeep = 0.8
	}
	n := old.Codes
	if share := float64(l.Summary.Deleted) / float64(n); share > maxDel && !g.AllowMassDelete {
		return &GuardError{Guard: GuardMassDelete, Msg: fmt.Sprintf(
			"%s %s would delete %d of the %d codes of %s (%.1f%%), more than the %.1f%% allowed",
			new.System, new.Label, l.Summary.Deleted, n, old.Label, 100*share, 100*maxDel)}
	}
	if float64(len(new.Codes)) < minKeep*float64(n) && !g.AllowShrink {
		return &GuardError{Guard: GuardShrink, Msg: fmt.Sprintf(
			"%s %s has %d codes, %s had %d: fewer than %.0f%% of them",
			new.System, new.Label, len(new.Codes), old.Label, n, 100*minKeep)}
	}
	if g.AllowLostField {
		return nil
	}
	oldFill, err := lostFill(ctx, old, fill(new.Codes), l)
	if err != nil {
		return err
	}
	var lost []string
	for f, c := range oldFill {
		if float64(c) >= lostFieldShare*float64(n) {
			lost = append(lost, f)
		}
	}
	if len(lost) > 0 {
		sort.Strings(lost)
		f := lost[0]
		return &GuardError{Guard: GuardLostField, Msg: fmt.Sprintf(
			"field %s was filled for %d of the %d codes of %s and is empty for all %d codes of %s %s: the file may have lost a column",
			f, oldFill[f], n, old.Label, len(new.Codes), new.System, new.Label)}
	}
	return nil
}

// lostFill counts, for each field no code of the new release fills
// (newFill, from fill, has no count for it), the codes of the previous
// release that filled it, from the changelog l alone: such a code is
// either deleted (its record is the old one) or changed in that field
// (diff.Fields lists every field that differs, with the old value), since
// a code unchanged in it has it empty as the new release does. Only a
// reactivated code is ambiguous, its fields being against the previous
// release when it was there (a lifted termination) and against its last
// record otherwise: old.Has tells, asked only when the answer counts.
// The work is that of the changes, not of the previous release's codes.
func lostFill(ctx context.Context, old *prior, newFill map[string]int, l *codeset.Changelog) (map[string]int, error) {
	m := map[string]int{}
	lost := func(f, v string) bool {
		return v != "" && newFill[f] == 0 && f != codeset.FieldCategory && f != codeset.FieldStatus
	}
	for c := range l.All() {
		switch c.Kind {
		case codeset.Added:
		case codeset.Deleted:
			for _, f := range []string{codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong} {
				if lost(f, c.Record.Field(f)) {
					m[f]++
				}
			}
			for k, v := range c.Record.Attrs {
				if lost(k, v) {
					m[k]++
				}
			}
		default:
			var fs []string
			for f, fc := range c.Fields {
				if lost(f, fc.Before) {
					fs = append(fs, f)
				}
			}
			if len(fs) == 0 {
				continue
			}
			if c.Kind == codeset.Reactivated {
				had, err := old.Has(ctx, c.Code)
				if err != nil {
					return nil, err
				}
				if !had {
					continue
				}
			}
			for _, f := range fs {
				m[f]++
			}
		}
	}
	return m, nil
}

// fill counts, for each field, the codes that have a value in it.
func fill(codes []codeset.Code) map[string]int {
	m := map[string]int{}
	for _, c := range codes {
		for _, f := range []string{codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong} {
			if c.Field(f) != "" {
				m[f]++
			}
		}
		for k, v := range c.Attrs {
			if v != "" {
				m[k]++
			}
		}
	}
	return m
}
