package release

import (
	"archive/zip"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/ingest"
)

// The guards on a release's label, as named in GuardError.Guard: a label
// typo is caught before it publishes and moves latest.
const (
	// GuardSameFiles refuses files already stored under another label of
	// the system.
	GuardSameFiles = "same-files"
	// GuardLabelYear refuses a label whose year contradicts the year the
	// files state in their content (or, when the content states none, in
	// their names).
	GuardLabelYear = "label-year"
)

// labelYearRE finds the year a label names: 2026, FY2026, 2026Q2, 2026-04,
// 2026-r2.
var labelYearRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:FY)?((?:19|20)[0-9]{2})`) })

// nameYearRE finds the years a publisher's file name bears, written with
// four digits and not inside a longer number: cms_2026_dx.zip,
// HCPC2026_JAN_ANWEB.xlsx, icd10cm-codes-April-2024.txt.
var nameYearRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:^|[^0-9])((?:19|20)[0-9]{2})(?:[^0-9]|$)`) })

// checkLabel runs the label guards on rel, just read from files (rep
// says how), unless g allows them.
func (p *Pipeline) checkLabel(ctx context.Context, rel *codeset.Release, rep *ingest.Report, files []string, g Guards) error {
	if !g.AllowLabelYear {
		if err := labelYear(rel, rep, files); err != nil {
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

// yearSign is one place where a release's files state a year.
type yearSign struct {
	year  int
	file  string // the file that states it: "member (in zip)" for a zip member
	where string // how it states it, after "says YEAR"
}

// labelYear refuses a label whose year contradicts the files. The years
// the files state in their content come first: the summary block of an
// ICD-10 addenda (the counts of the new version's order file, whose name
// bears its fiscal year), the latest action effective date of HCPCS
// records, the names of a zip's members. When the content
// states years, the label's year must be one of them. Otherwise the file
// names decide, as before: the label's year must be one they bear. Files
// that state no year, and labels that name none, pass.
func labelYear(rel *codeset.Release, rep *ingest.Report, files []string) error {
	m := labelYearRE().FindStringSubmatch(rel.Label)
	if m == nil {
		return nil
	}
	want, _ := strconv.Atoi(m[1])
	signs := contentYears(rel, rep, files)
	if len(signs) == 0 {
		for _, s := range rel.Sources {
			for _, y := range nameYears(s.Name) {
				signs = append(signs, yearSign{year: y, file: s.Name, where: "in its name"})
			}
		}
	}
	for _, s := range signs {
		if s.year == want {
			return nil
		}
	}
	if len(signs) == 0 {
		return nil
	}
	s := signs[0]
	return &GuardError{Guard: GuardLabelYear, Msg: fmt.Sprintf(
		"%s %s names the year %d, but %s says %d %s: is the label a typo?", rel.System, rel.Label, want, s.file, s.year, s.where)}
}

// nameYears returns the years a name bears.
func nameYears(name string) []int {
	var ys []int
	for _, y := range nameYearRE().FindAllStringSubmatch(name, -1) {
		n, _ := strconv.Atoi(y[1])
		ys = append(ys, n)
	}
	return ys
}

// contentYears returns the years the files of rel state inside them,
// strongest first. Only signals seen to be reliable in the publishers'
// real files are used (see the README).
func contentYears(rel *codeset.Release, rep *ingest.Report, files []string) []yearSign {
	var signs []yearSign
	// Where each zip member came from, to name it.
	inZip := map[string]string{}
	var members []yearSign
	for _, f := range files {
		names, ok := zipMemberNames(f)
		if !ok {
			continue
		}
		for _, n := range names {
			base := path.Base(n)
			inZip[base] = filepath.Base(f)
			for _, y := range nameYears(base) {
				members = append(members, yearSign{year: y, file: filepath.Base(f), where: fmt.Sprintf("in the name of its member %s", n)})
			}
		}
	}
	named := func(name string) string {
		name = path.Base(filepath.ToSlash(name))
		if z, ok := inZip[name]; ok {
			return fmt.Sprintf("%s (in %s)", name, z)
		}
		return name
	}
	// The summary block ending an ICD-10 addenda counts the codes of the
	// new version's order file: icd10cm_order_2025.txt,
	// icd10pcs_order_2019.txt.
	if a, ok := rel.Declared.Against(); ok && a.ToFile != "" {
		for _, y := range nameYears(a.ToFile) {
			signs = append(signs, yearSign{year: y, file: named(rel.Declared.Source),
				where: fmt.Sprintf("in its summary block (%d codes in %s)", a.To, a.ToFile)})
		}
	}
	// HCPCS records carry the date each code's last action took effect:
	// the latest is the release's own date (2025-01-01 in the January 2025
	// file, 2020-04-01 in the April 2020 update).
	var latest time.Time
	for _, c := range rel.Codes {
		// Most records (all of ICD-10) have no such date: an empty value
		// is skipped without parsing, as each failed parse allocates an
		// error, 74k of them for ICD-10-CM.
		s := c.Meta.Get("action_effective_date")
		if s == "" {
			continue
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil && t.After(latest) {
			latest = t
		}
	}
	if !latest.IsZero() {
		data := ""
		if rep != nil {
			for _, f := range rep.Files {
				if f.Codes > 0 {
					data = named(f.Name)
					break
				}
			}
		}
		if data == "" && len(rel.Sources) > 0 {
			data = rel.Sources[0].Name
		}
		signs = append(signs, yearSign{year: latest.Year(), file: data,
			where: fmt.Sprintf("as the latest action effective date of its records (%s)", latest.Format(time.DateOnly))})
	}
	// Sheet names are not used: a sheet is often named for its release
	// (HCPCS_2018_Alpha), but people copy a workbook forward and keep
	// last year's sheet name, so it may contradict a right label.
	return append(signs, members...)
}

// zipMemberNames lists the files in zip f; false when f is no zip, or is
// a workbook (an OOXML package is a zip of parts, not of files).
func zipMemberNames(f string) ([]string, bool) {
	zr, err := zip.OpenReader(f)
	if err != nil {
		return nil, false
	}
	defer zr.Close()
	var names []string
	for _, zf := range zr.File {
		if zf.Name == "[Content_Types].xml" {
			return nil, false
		}
		if zf.FileInfo().IsDir() || strings.HasPrefix(path.Base(zf.Name), ".") || strings.HasPrefix(zf.Name, "__MACOSX/") {
			continue
		}
		names = append(names, zf.Name)
	}
	return names, true
}
