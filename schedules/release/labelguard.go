package release

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/codeset/codeset"
)

// The guards on a release's label, as named in GuardError.Guard: a label
// typo is caught before it publishes and moves latest.
const (
	// GuardSameFiles refuses files already stored under another label of
	// the system.
	GuardSameFiles = "same-files"
	// GuardLabelYear refuses a label whose year no file name bears when the
	// file names do bear a year.
	GuardLabelYear = "label-year"
)

// labelYearRE finds the year a label names: 2026, FY2026, 2026Q2, 2026-04,
// 2026-r2.
var labelYearRE = regexp.MustCompile(`^(?:FY)?((?:19|20)[0-9]{2})`)

// nameYearRE finds the years a publisher's file name bears, written with
// four digits and not inside a longer number: cms_2026_dx.zip,
// HCPC2026_JAN_ANWEB.xlsx, icd10cm-codes-April-2024.txt.
var nameYearRE = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)[0-9]{2})(?:[^0-9]|$)`)

// checkLabel runs the label guards on rel, just read, unless g allows them.
func (p *Pipeline) checkLabel(ctx context.Context, rel *codeset.Release, g Guards) error {
	if !g.AllowLabelYear {
		if err := labelYear(rel); err != nil {
			return err
		}
	}
	if g.AllowSameFiles || len(rel.Sources) == 0 {
		return nil
	}
	infos, err := p.list(ctx, rel.System)
	if err != nil {
		return err
	}
	mine := sourceSums(rel.Sources)
	for _, in := range infos {
		if in.Label != rel.Label && slices.Equal(sourceSums(in.Sources), mine) {
			return &GuardError{Guard: GuardSameFiles, Msg: fmt.Sprintf(
				"the files of %s %s (%s) are already stored as release %s: is the label a typo?",
				rel.System, rel.Label, rel.Sources[0].Name, in.Label)}
		}
	}
	return nil
}

// sourceSums returns the sorted SHA-256 of sources: the same files in any
// order are the same release.
func sourceSums(sources []codeset.SourceFile) []string {
	var sums []string
	for _, s := range sources {
		sums = append(sums, s.SHA256)
	}
	slices.Sort(sums)
	return sums
}

// labelYear refuses a label whose year is none of the years the file names
// bear. Files whose names bear no year, and labels that name no year, pass.
func labelYear(rel *codeset.Release) error {
	m := labelYearRE.FindStringSubmatch(rel.Label)
	if m == nil {
		return nil
	}
	want, _ := strconv.Atoi(m[1])
	var seen []string
	for _, s := range rel.Sources {
		for _, y := range nameYearRE.FindAllStringSubmatch(s.Name, -1) {
			if n, _ := strconv.Atoi(y[1]); n == want {
				return nil
			}
			seen = append(seen, y[1]+" in "+s.Name)
		}
	}
	if len(seen) == 0 {
		return nil
	}
	return &GuardError{Guard: GuardLabelYear, Msg: fmt.Sprintf(
		"%s %s names the year %d, but the files say %s: is the label a typo?", rel.System, rel.Label, want, seen[0])}
}
