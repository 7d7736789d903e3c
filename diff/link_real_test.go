package diff_test

import (
	"context"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/ingest"
	"github.com/codeset/codeset/internal/realfiles"
)

// realdata finds the real publisher releases kept beside the repository in
// ../shared/realdata (or where CODESET_REALDATA points). Tests that need
// them skip only when that folder is absent, and say so on stderr as well,
// so that a run without -v in the package directory shows it.
func realdata(t *testing.T) string {
	t.Helper()
	return realfiles.Need(t)
}

// The real ICD-10-CM releases, by label, and the file each is read from.
var cmFiles = map[string]string{
	"FY2017":  "icd10cm/2017/cms_2017_dx.zip",
	"FY2018":  "icd10cm/2018/cms_2018_dx.zip",
	"FY2023":  "icd10cm/2023/icd10-Order-CodeFiles2023.zip",
	"2023-04": "icd10cm/2023-april/cms_2023_dx.zip",
	"FY2024":  "icd10cm/2024/icd10cm-CodesDescriptions-2024.zip",
	"FY2025":  "icd10cm/2025/cms_2025_dx.zip",
	"FY2026":  "icd10cm/2026/cms_2026_dx.zip",
}

var (
	relMu    sync.Mutex
	relCache = map[string]*codeset.Release{}
)

// release reads a real release once per test binary.
func release(t *testing.T, sys codeset.System, label, file string) *codeset.Release {
	t.Helper()
	relMu.Lock()
	defer relMu.Unlock()
	key := string(sys) + "/" + label
	if r, ok := relCache[key]; ok {
		return r
	}
	p, err := ingest.Builtin(sys)
	if err != nil {
		t.Fatal(err)
	}
	eff, _ := codeset.DefaultEffective(sys, label)
	r, _, err := ingest.Read(context.Background(), ingest.Options{Profile: p, Label: label, Effective: eff}, filepath.Join(realdata(t), file))
	if err != nil {
		t.Fatal(err)
	}
	relCache[key] = r
	return r
}

func cmRelease(t *testing.T, label string) *codeset.Release {
	return release(t, codeset.ICD10CM, label, cmFiles[label])
}

// conversionTable reads a CDC conversion table with ingest's crosswalk reader.
func conversionTable(t *testing.T, name string) []codeset.Replacement {
	t.Helper()
	cp, err := ingest.BuiltinCrosswalk(codeset.ICD10CM)
	if err != nil {
		t.Fatal(err)
	}
	links, _, err := ingest.ReadCrosswalk(context.Background(), filepath.Join(realdata(t), "icd10cm/conversion-tables", name), ingest.CrosswalkOptions{Profile: cp})
	if err != nil {
		t.Fatal(err)
	}
	return links
}

// tableRow is one row of a conversion table as this test reads it, apart
// from ingest: the current code, its effective date, and the previous codes
// with ranges and categories expanded.
type tableRow struct {
	current   string
	effective time.Time
	previous  []string
}

var (
	tableCode = `[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?`
	// A previous code, perhaps the start of a range ("H02.101-H02.106")
	// or a category ("I63.-", "R11-").
	tablePrev = regexp.MustCompile(`(` + tableCode + `)\.?(\s*-\s*(` + tableCode + `)?)?`)
)

// readTable reads a conversion table XLSX straight with excelize: the rows
// after the header, the previous codes expanded against codes (sorted).
func readTable(t *testing.T, name string, codes []string) []tableRow {
	t.Helper()
	wb, err := excelize.OpenFile(filepath.Join(realdata(t), "icd10cm/conversion-tables", name))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, err := wb.GetRows(wb.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	nodot := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), ".", "") }
	var out []tableRow
	header := false
	for _, r := range rows {
		if len(r) > 0 && strings.TrimSpace(r[0]) == "Current code assignment" {
			header = true
			continue
		}
		if !header || len(r) < 3 || strings.TrimSpace(r[0]) == "" {
			continue
		}
		row := tableRow{current: nodot(r[0])}
		e := strings.TrimSpace(r[1])
		if len(e) == 4 {
			y, _ := time.Parse("2006", e)
			row.effective = y.AddDate(0, 9, 0) // October 1 of the year
		} else if row.effective, err = time.Parse("01/02/06", e); err != nil {
			t.Fatalf("%s: effective %q of %s", name, e, r[0])
		}
		for _, m := range tablePrev.FindAllStringSubmatch(r[2], -1) {
			first := nodot(m[1])
			switch {
			case m[2] == "": // one code
				row.previous = append(row.previous, first)
			case m[3] == "": // a category: every code that starts with it
				for _, c := range codes {
					if strings.HasPrefix(c, first) {
						row.previous = append(row.previous, c)
					}
				}
			default: // a range: its last code includes the codes below it
				last := nodot(m[3])
				for _, c := range codes {
					if c >= first && (c <= last || strings.HasPrefix(c, last)) {
						row.previous = append(row.previous, c)
					}
				}
			}
		}
		out = append(out, row)
	}
	return out
}

func codeList(rels ...*codeset.Release) []string {
	var all []string
	for _, r := range rels {
		for _, c := range r.Codes {
			all = append(all, c.Code)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// checkAgainstTable links old to new with the conversion table and checks
// every deleted code's replacements and every added code's predecessors
// against the table as this test reads it. It returns the changelog.
func checkAgainstTable(t *testing.T, old, new *codeset.Release, table string) *codeset.Changelog {
	t.Helper()
	new = withReplacements(new, conversionTable(t, table))
	l := diff.Compare(old, new, nil)
	if l.Replacements == nil {
		t.Fatalf("%s → %s: not linked", old.Label, new.Label)
	}
	replacedBy, replaces := map[string][]string{}, map[string][]string{}
	for _, r := range readTable(t, table, codeList(old, new)) {
		if !r.effective.After(old.Effective) || r.effective.After(new.Effective) {
			continue
		}
		for _, p := range r.previous {
			replacedBy[p] = append(replacedBy[p], r.current)
			replaces[r.current] = append(replaces[r.current], p)
		}
	}
	uniq := func(ss []string) []string {
		if len(ss) == 0 {
			return nil
		}
		ss = slices.Clone(ss)
		slices.Sort(ss)
		return slices.Compact(ss)
	}
	for _, c := range l.Changes {
		var got, want []string
		switch c.Kind {
		case codeset.Deleted:
			got, want = c.ReplacedBy, uniq(replacedBy[c.Code])
		case codeset.Added:
			got, want = c.Replaces, uniq(replaces[c.Code])
		default:
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s → %s: %s %s: links %v, the table gives %v", old.Label, new.Label, c.Kind, c.Code, got, want)
		}
	}
	return l
}

func withReplacements(r *codeset.Release, links []codeset.Replacement) *codeset.Release {
	c := *r
	c.Replacements = links
	return &c
}

// replacedCount counts the deleted codes of l and those with a replacement.
func replacedCount(l *codeset.Changelog) (deleted, replaced int, none []string) {
	for _, c := range l.Changes {
		if c.Kind != codeset.Deleted {
			continue
		}
		deleted++
		if len(c.ReplacedBy) > 0 {
			replaced++
		} else {
			none = append(none, c.Code)
		}
	}
	return deleted, replaced, none
}

// TestRealICD10CMConversionTable links FY2024 to FY2025 with the FY2025
// conversion table, and FY2017 to FY2018 with the FY2018 one.
func TestRealICD10CMConversionTable(t *testing.T) {
	realdata(t)
	// FY2018 deleted the subsequent-encounter and sequela codes of brain
	// injuries with death (S06.xx7D/S, S06.xx8D/S, 72 codes) and the
	// thumb's "proximal" and "distal" interphalangeal joint codes (S63.13-,
	// S63.14-, 36): the table names no replacement for them.
	fy2018Unnamed := regexp.MustCompile(`^(S06[0-9X]{2}[78][DS]|S631[34][1-6][ADS])$`)
	tests := []struct {
		from, to, table   string
		deleted, replaced int
		// unnamed tells the deleted codes that have no replacement named.
		unnamed func(string) bool
		unknown []string // codes named in the table that are in neither release
	}{
		// C83.39 is split into C83.390 and C83.398, but the table gives
		// Z85.72 as their previous code.
		{"FY2024", "FY2025", "icd-10-cm-conversion-table-FY2025.xlsx", 36, 35, func(c string) bool { return c == "C8339" }, nil},
		// The table also names category H33.2, not a code, as previous
		// code of H44.2C1-H44.2C9.
		{"FY2017", "FY2018", "ICD-10-CM-Conversion-Table-FY18-Effective-10-1-2017.xlsx", 142, 34, fy2018Unnamed.MatchString, []string{"H332"}},
	}
	for _, tt := range tests {
		l := checkAgainstTable(t, cmRelease(t, tt.from), cmRelease(t, tt.to), tt.table)
		deleted, replaced, none := replacedCount(l)
		if deleted != tt.deleted || replaced != tt.replaced {
			t.Errorf("%s → %s: %d deleted, %d with a replacement named; want %d, %d", tt.from, tt.to, deleted, replaced, tt.deleted, tt.replaced)
		}
		for _, c := range none {
			if !tt.unnamed(c) {
				t.Errorf("%s → %s: %s deleted with no replacement named", tt.from, tt.to, c)
			}
		}
		var unknown []string
		for _, p := range l.LinkProblems {
			switch p.Kind {
			case codeset.UnknownCode:
				unknown = append(unknown, p.Other)
			case codeset.ReplacementDeleted:
				t.Errorf("%s → %s: %+v", tt.from, tt.to, p)
			}
		}
		if unknown = slices.Compact(unknown); !reflect.DeepEqual(unknown, tt.unknown) {
			t.Errorf("%s → %s: codes in neither release %v, want %v", tt.from, tt.to, unknown, tt.unknown)
		}
		t.Logf("%s → %s with %s: %d deleted, %d with a replacement named; %d links; %d without", tt.from, tt.to, tt.table, deleted, replaced, len(l.Replacements), len(none))
	}
}

// TestRealICD10CMDeletedSince2023 checks the count: the conversion
// tables name a replacement for 94 of the 96 codes deleted between FY2023
// and FY2026, through the April 2023 update.
func TestRealICD10CMDeletedSince2023(t *testing.T) {
	realdata(t)
	links := conversionTable(t, "ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx")
	labels := []string{"FY2023", "2023-04", "FY2024", "FY2025", "FY2026"}
	deleted, replaced := 0, 0
	var none []string
	for i := 1; i < len(labels); i++ {
		old, new := cmRelease(t, labels[i-1]), cmRelease(t, labels[i])
		l := diff.Compare(old, withReplacements(new, links), nil)
		d, r, n := replacedCount(l)
		deleted, replaced, none = deleted+d, replaced+r, append(none, n...)
		t.Logf("%s → %s: %d deleted, %d with a replacement named", old.Label, new.Label, d, r)
	}
	if deleted != 96 || replaced != 94 {
		t.Errorf("FY2023 → FY2026: %d deleted, %d with a replacement named; want 96, 94", deleted, replaced)
	}
	// H36 (deleted in FY2024) went to H36.811-H36.89, which the table
	// gives as from H35.20-H35.23; C83.39 (FY2025) as above.
	if want := []string{"H36", "C8339"}; !reflect.DeepEqual(none, want) {
		t.Errorf("deleted without a replacement named: %v, want %v", none, want)
	}
}

// TestRealICD10CMChain follows replacement chains across releases to the
// codes valid in FY2026.
func TestRealICD10CMChain(t *testing.T) {
	realdata(t)
	// The links of several releases: FY2017's conversion table (its
	// previous release is not among the files, so its ranges expand against
	// FY2017 alone), then each transition's links.
	fy2017 := cmRelease(t, "FY2017")
	links := diff.Expand(conversionTable(t, "ICD-10-CM_ConversionTable-FY17.xlsx"), fy2017)
	for _, tr := range []struct{ from, to, table string }{
		{"FY2017", "FY2018", "ICD-10-CM-Conversion-Table-FY18-Effective-10-1-2017.xlsx"},
		{"FY2023", "2023-04", "ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx"},
		{"2023-04", "FY2024", "ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx"},
		{"FY2024", "FY2025", "icd-10-cm-conversion-table-FY2025.xlsx"},
		{"FY2025", "FY2026", "ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx"},
	} {
		old, new := cmRelease(t, tr.from), cmRelease(t, tr.to)
		links = append(links, diff.Compare(old, withReplacements(new, conversionTable(t, tr.table)), nil).Replacements...)
	}
	// The cumulative FY2026 table alone also spans the years whose
	// releases are not among the files (FY2019 to FY2022).
	all := []*codeset.Release{fy2017}
	for _, l := range []string{"FY2018", "FY2023", "2023-04", "FY2024", "FY2025", "FY2026"} {
		all = append(all, cmRelease(t, l))
	}
	cumulative := diff.Expand(conversionTable(t, "ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx"), all...)

	today := diff.Valid(cmRelease(t, "FY2026"))
	tests := []struct {
		name           string
		links          []codeset.Replacement
		code           string
		current, ended []string
	}{
		// E78.0 (to FY2016) became E78.00 and E78.01 in FY2017; E78.01
		// became E78.010, E78.011 and E78.019 in FY2026.
		{"releases", links, "E780", []string{"E7800", "E78010", "E78011", "E78019"}, nil},
		// F50.8 (to FY2016) → F50.81 (FY2017-FY2024) → F50.810-F50.819
		// (FY2025), and F50.89, still valid.
		{"releases", links, "F508", []string{"F50810", "F50811", "F50812", "F50813", "F50814", "F50819", "F5089"}, nil},
		{"releases", links, "F5081", []string{"F50810", "F50811", "F50812", "F50813", "F50814", "F50819"}, nil},
		// A valid code is its own successor, though codes were carved out
		// of it (L98.495 and others in FY2018).
		{"releases", links, "L98499", []string{"L98499"}, nil},
		// No replacement named: the chain ends.
		{"releases", links, "C8339", nil, []string{"C8339"}},
		// Z59.8 (to FY2021) → Z59.81 (FY2022; Z59.811-Z59.819 since
		// FY2023) and Z59.89.
		{"cumulative table", cumulative, "Z598", []string{"Z59811", "Z59812", "Z59819", "Z5989"}, nil},
		{"cumulative table", cumulative, "E780", []string{"E7800", "E78010", "E78011", "E78019"}, nil},
	}
	for _, tt := range tests {
		cur, ended := diff.Successors(tt.code, tt.links, today)
		if !reflect.DeepEqual(cur, tt.current) || !reflect.DeepEqual(ended, tt.ended) {
			t.Errorf("%s: Successors(%s) = %v, ended %v; want %v, %v", tt.name, tt.code, cur, ended, tt.current, tt.ended)
		}
	}
}

// TestRealHCPCSXref links HCPCS 2017 to 2018 and 2018 to 2019 with the
// XREF fields of the codes each release discontinues.
func TestRealHCPCSXref(t *testing.T) {
	realdata(t)
	rels := map[string]*codeset.Release{
		"2017": release(t, codeset.HCPCS, "2017", "hcpcs/2017/HCPC17_CONTR_ANWEB.xlsx"),
		"2018": release(t, codeset.HCPCS, "2018", "hcpcs/2018/HCPC2018_CONTR_ANWEB_disc.xlsx"),
		"2019": release(t, codeset.HCPCS, "2019", "hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx"),
	}
	tests := []struct {
		from, to     string
		ended, named int
		want         map[string][]string // replacements of some ended codes
		problems     map[codeset.LinkProblemKind]int
		deleted      map[string]string // replacement-deleted problems: code → replacement
	}{
		{
			from: "2017", to: "2018", ended: 150, named: 27,
			want: map[string][]string{"C9484": {"J1428"}, "G0202": {"77067"}, "G0478": {"80306"}},
			// XREFs to CPT codes (HCPCS Level I: 77065-77067, 80305-80307,
			// 99483, 99484, 99492-99494) are in neither HCPCS release.
			problems: map[codeset.LinkProblemKind]int{codeset.NoReplacement: 123, codeset.UnknownCode: 11, codeset.ReplacementDeleted: 1},
			// C9487's XREF names Q9989, which 2018 discontinues too.
			deleted: map[string]string{"C9487": "Q9989"},
		},
		{
			// C9030 came in a quarterly update (July 2018) after the
			// annual 2018 file and ends with 2019: new and discontinued.
			from: "2018", to: "2019",
			want: map[string][]string{"C9030": {"J9057"}},
		},
	}
	for _, tt := range tests {
		old, new := rels[tt.from], rels[tt.to]
		l := diff.Compare(old, withReplacements(new, ingest.FieldReplacements(new, ingest.XrefField)), nil)
		got := map[string][]string{}
		ended, named := 0, 0
		for _, c := range l.Changes {
			if c.Kind == codeset.Discontinued || c.Kind == codeset.Deleted || c.AlreadyDiscontinued {
				ended++
				if len(c.ReplacedBy) > 0 {
					named++
				}
				got[c.Code] = c.ReplacedBy
			}
		}
		for code, want := range tt.want {
			if !reflect.DeepEqual(got[code], want) {
				t.Errorf("%s → %s: %s replaced by %v, want %v", tt.from, tt.to, code, got[code], want)
			}
		}
		kinds := map[codeset.LinkProblemKind]int{}
		deleted := map[string]string{}
		for _, p := range l.LinkProblems {
			kinds[p.Kind]++
			if p.Kind == codeset.ReplacementDeleted {
				deleted[p.Code] = p.Other
			}
		}
		t.Logf("%s → %s: %d discontinued or deleted, %d with an XREF; %d links; problems %v", tt.from, tt.to, ended, named, len(l.Replacements), kinds)
		if tt.problems == nil {
			continue
		}
		if ended != tt.ended || named != tt.named || !reflect.DeepEqual(kinds, tt.problems) || !reflect.DeepEqual(deleted, tt.deleted) {
			t.Errorf("%s → %s: %d ended, %d with an XREF, problems %v, replacements deleted %v; want %d, %d, %v, %v",
				tt.from, tt.to, ended, named, kinds, deleted, tt.ended, tt.named, tt.problems, tt.deleted)
		}
	}
}
