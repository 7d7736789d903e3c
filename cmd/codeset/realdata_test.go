package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/realfiles"
	"github.com/codeset/codeset/publish/snapshot"
)

// realdata finds the real publisher releases kept beside the repository in
// ../shared/realdata (or where CODESET_REALDATA points). The acceptance
// tests below skip, saying so, only when that folder is absent.
func realdata(t *testing.T) string {
	t.Helper()
	return realfiles.Need(t)
}

// changelogJSON is the part of the published JSON changelog these tests read.
type changelogJSON struct {
	Summary codeset.Summary `json:"summary"`
	Changes []struct {
		Code       string            `json:"code"`
		Change     string            `json:"change"`
		ReplacedBy []json.RawMessage `json:"replaced_by"`
		Replaces   []json.RawMessage `json:"replaces"`
	} `json:"changes"`
	Reconciliation *struct {
		Declared      int `json:"declared"`
		Agreed        int `json:"agreed"`
		Disagreements []struct {
			Display  string `json:"display"`
			Declared string `json:"declared"`
			Computed string `json:"computed"`
			Reason   string `json:"reason"`
		} `json:"disagreements"`
	} `json:"reconciliation"`
}

// publishRun runs "codeset run" exactly as a user would and reads back the
// published JSON changelog of release SYSTEM/LABEL, named by rel.
func publishRun(t *testing.T, data, out, rel string, args ...string) changelogJSON {
	t.Helper()
	stdout, stderr, err := run(t, data, out, append([]string{"run"}, args...)...)
	if err != nil {
		t.Fatalf("codeset run %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	t.Logf("codeset run %s\n%s", strings.Join(args, " "), stdout)
	raw, err := os.ReadFile(filepath.Join(out, rel, "changelog.json"))
	if err != nil {
		t.Fatal(err)
	}
	var l changelogJSON
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRealICD10CM(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	// CDC's FY2023 zip, then CMS's April 2023 update: no --system, no
	// --effective; the zips identify themselves and the labels give the dates.
	publishRun(t, data, out, "icd10cm/FY2023", "--release", "FY2023", filepath.Join(rd, "icd10cm/2023/icd10-Order-CodeFiles2023.zip"))
	tests := []struct {
		label, zip                string
		added, deleted, revised   int
		shortTitle, cosmetic      int
		declared                  int
		disagreements             []string // display codes
		disagreementKind, because string
	}{
		{"2023-04", "icd10cm/2023-april/cms_2023_dx.zip", 42, 7, 1, 0, 0, 50, nil, "", ""},
		// The publisher's "13 revised codes", the nine short titles its
		// order addenda revise apart (M32.15...), and Y07.45's whitespace.
		{"FY2024", "icd10cm/2024/icd10cm-CodesDescriptions-2024.zip", 395, 25, 13, 9, 1, 442, []string{"Y07.45"}, "cosmetic", "whitespace-only fix"},
		{"FY2025", "icd10cm/2025/cms_2025_dx.zip", 252, 36, 13, 0, 0, 301, nil, "", ""},
		{"FY2026", "icd10cm/2026/cms_2026_dx.zip", 487, 28, 38, 0, 0, 553, nil, "", ""},
	}
	for _, tt := range tests {
		l := publishRun(t, data, out, "icd10cm/"+tt.label, "--system", "icd10cm", "--release", tt.label, filepath.Join(rd, tt.zip))
		s := l.Summary
		if s.Added != tt.added || s.Deleted != tt.deleted || s.Revised != tt.revised || s.ShortTitle != tt.shortTitle || s.Cosmetic != tt.cosmetic || s.Reactivated != 0 {
			t.Errorf("%s: summary %+v, want %d added, %d deleted, %d revised, %d short-title, %d cosmetic", tt.label, s, tt.added, tt.deleted, tt.revised, tt.shortTitle, tt.cosmetic)
		}
		r := l.Reconciliation
		if r == nil {
			t.Fatalf("%s: no reconciliation against the addenda", tt.label)
		}
		var codes []string
		for _, d := range r.Disagreements {
			codes = append(codes, d.Display)
			if d.Computed != tt.disagreementKind || !strings.Contains(d.Reason, tt.because) {
				t.Errorf("%s: disagreement %+v, want %s because %q", tt.label, d, tt.disagreementKind, tt.because)
			}
		}
		if !reflect.DeepEqual(codes, tt.disagreements) || r.Declared != tt.declared || r.Agreed != tt.declared {
			t.Errorf("%s: reconciliation declared %d agreed %d disagreements %v, want %d, %d, %v", tt.label, r.Declared, r.Agreed, codes, tt.declared, tt.declared, tt.disagreements)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "icd10cm", "FY2024", "changelog.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| Y07.45 |") {
		t.Errorf("FY2024 Markdown changelog does not show Y07.45 with its dot")
	}
	if !strings.Contains(string(md), "## Short title only (9)") || !strings.Contains(string(md), "| M32.15 |  | short | Tubulo-interstitial neuropath in sys lupus erythematosus | Tubulo-interstitial nephrop in sys lupus erythematosus |") {
		t.Errorf("FY2024 Markdown changelog does not show M32.15's short title apart, before and after")
	}

	// A non-neighbour diff combines the addenda of every stored release in
	// between: FY2026's list alone left ~790 false disagreements.
	stdout, stderr, err := run(t, data, out, "diff", "--system", "icd10cm", "--from", "FY2023", "--to", "FY2026", "--format", "json")
	if err != nil {
		t.Fatalf("codeset diff --from FY2023 --to FY2026: %v\n%s", err, stderr)
	}
	var l changelogJSON
	if err := json.Unmarshal([]byte(stdout), &l); err != nil {
		t.Fatal(err)
	}
	if r := l.Reconciliation; r == nil || len(r.Disagreements) != 0 || r.Declared != r.Agreed {
		t.Errorf("FY2023 → FY2026: reconciliation %+v, want every combined declaration agreed", r)
	} else {
		t.Logf("FY2023 → FY2026: declared %d, agreed %d, %d disagreements", r.Declared, r.Agreed, len(r.Disagreements))
	}
}

// TestRealICD10CMShortTitles runs FY2017, then FY2018, as a user would:
// the publisher's 360 / 142 / 226, and apart from them the eleven short
// titles CMS changed without listing them, at the terminal and in the
// changelog.
func TestRealICD10CMShortTitles(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	publishRun(t, data, out, "icd10cm/FY2017", "--release", "FY2017", filepath.Join(rd, "icd10cm/2017/cms_2017_dx.zip"))
	stdout, stderr, err := run(t, data, out, "run", "--release", "FY2018", filepath.Join(rd, "icd10cm/2018/cms_2018_dx.zip"))
	if err != nil {
		t.Fatalf("codeset run FY2018: %v\n%s", err, stderr)
	}
	for _, want := range []string{"revised", "short title only", "H35.3113: declared nothing, computed short-title: short title only, not declared"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("terminal summary lacks %q:\n%s", want, stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^revised +226$`).MatchString(stdout) || !regexp.MustCompile(`(?m)^short title only +11$`).MatchString(stdout) {
		t.Errorf("terminal summary does not count 226 revised and 11 short title only:\n%s", stdout)
	}
	raw, err := os.ReadFile(filepath.Join(out, "icd10cm", "FY2018", "changelog.json"))
	if err != nil {
		t.Fatal(err)
	}
	var l changelogJSON
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	if s := l.Summary; s.Added != 360 || s.Deleted != 142 || s.Revised != 226 || s.ShortTitle != 11 {
		t.Errorf("FY2018 summary %+v, want 360 / 142 / 226 and 11 short-title", s)
	}
	short := 0
	for _, c := range l.Changes {
		if c.Change == string(codeset.ShortTitle) {
			short++
		}
	}
	if short != 11 || l.Reconciliation == nil || len(l.Reconciliation.Disagreements) != 11 {
		t.Errorf("FY2018 changelog: %d short-title changes, reconciliation %+v; want 11 and 11 undeclared", short, l.Reconciliation)
	}
}

func TestRealICD10PCS(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	publishRun(t, data, out, "icd10pcs/FY2024", "--system", "icd10pcs", "--release", "FY2024", filepath.Join(rd, "icd10pcs/2024/cms_2024_pr.zip"))
	l := publishRun(t, data, out, "icd10pcs/FY2025", "--system", "icd10pcs", "--release", "FY2025", filepath.Join(rd, "icd10pcs/2025/cms_2025_pr.zip"))
	if s := l.Summary; s.Added != 371 || s.Deleted != 61 || s.Revised != 0 || s.Cosmetic != 0 {
		t.Errorf("2024 to 2025: summary %+v, want 371 added, 61 deleted, 0 revised", s)
	}
	if r := l.Reconciliation; r == nil || len(r.Disagreements) != 0 || r.Agreed != r.Declared || r.Declared != 432 {
		t.Errorf("2024 to 2025: reconciliation %+v, want 432 declared changes, all agreed", r)
	}
	rel, err := snapshot.Read(context.Background(), filepath.Join(data, "icd10pcs", "FY2025.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	// The order file's table headers (flag 0) are kept apart, not counted.
	if len(rel.Codes) != 78948 || len(rel.Headers) == 0 {
		t.Errorf("FY2025: %d codes and %d header rows, want 78948 codes and the headers kept", len(rel.Codes), len(rel.Headers))
	}
}

func TestRealHCPCS(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	// ACTION CD counts per year, from the table in SOURCES.md.
	actions := map[string]map[string]int{
		"2017": {"A": 278, "D": 147, "C": 124, "B": 1, "S": 2, "F": 1, "P": 38, "T": 4, "R": 1, "N": 5902},
		"2018": {"A": 152, "D": 40, "C": 50, "S": 19, "F": 2, "P": 64, "N": 6232},
		"2019": {"A": 228, "D": 49, "C": 94, "B": 1, "S": 8, "F": 1, "P": 47, "N": 6372},
		"2020": {"A": 250, "D": 99, "C": 70, "S": 2, "P": 10, "N": 6648},
	}
	years := []struct {
		label, file string
		codes       int
	}{
		{"2017", "hcpcs/2017/HCPC17_CONTR_ANWEB.xlsx", 6498},
		{"2018", "hcpcs/2018/HCPC2018_CONTR_ANWEB_disc.xlsx", 6559},
		{"2019", "hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx", 6800},
		{"2020", "hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip", 7079}, // the zip holds .xls and .txt: the TXT is read
	}
	rels := map[string]*codeset.Release{}
	for _, y := range years {
		// No --system: the files identify themselves.
		l := publishRun(t, data, out, "hcpcs/"+y.label, "--release", y.label, filepath.Join(rd, y.file))
		if y.label == "2018" {
			// XREF1 of the discontinued C9484 names J1428.
			if got := replacedBy(t, l, "C9484"); !reflect.DeepEqual(got, []string{"J1428"}) {
				t.Errorf("2018: C9484 replaced by %v in changelog.json, want [J1428]", got)
			}
		}
		rel, err := snapshot.Read(context.Background(), filepath.Join(data, "hcpcs", y.label+".sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		rels[y.label] = rel
		if len(rel.Codes) != y.codes {
			t.Errorf("%s: %d codes, want %d", y.label, len(rel.Codes), y.codes)
		}
		got := map[string]int{}
		for _, c := range rel.Codes {
			got[c.Meta.Get("action")]++
		}
		if !reflect.DeepEqual(got, actions[y.label]) {
			t.Errorf("%s: ACTION CD counts %v, want %v", y.label, got, actions[y.label])
		}
		// Action D codes are reported as discontinued, with their
		// termination date, while still in the file.
		for _, c := range rel.Codes {
			if c.Meta.Get("action") == "D" && (c.Status != codeset.StatusDiscontinued || c.Meta.Get("termination_date") == "") {
				t.Errorf("%s: %s has action D but status %q, termination date %q", y.label, c.Code, c.Status, c.Meta.Get("termination_date"))
				break
			}
		}
	}
	for _, label := range []string{"2019", "2020"} {
		g := find(rels[label], "G0503")
		if !strings.HasPrefix(g.Long, "Subsequent psychiatric collaborative care management, first 60 minutes") ||
			!strings.HasSuffix(g.Long, "prepared for discharge from active treatment") || len(g.Long) < 1000 {
			t.Errorf("%s: G0503 long description is not whole: %q", label, g.Long)
		}
	}

	// The 2019 fixed-width TXT gives the same codes and descriptors as the
	// 2019 XLSX. Where a long description spans records, the TXT cannot
	// keep a double space that fell on a record boundary: those compare
	// equal up to whitespace.
	if _, stderr, err := run(t, data, out, "ingest", "--system", "hcpcs", "--release", "2019-txt", "--effective", "2019-01-01",
		filepath.Join(rd, "hcpcs/2019/HCPC2019_CONTR_ANWEB.txt")); err != nil {
		t.Fatalf("ingest 2019 TXT: %v\n%s", err, stderr)
	}
	txt, err := snapshot.Read(context.Background(), filepath.Join(data, "hcpcs", "2019-txt.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if len(txt.Codes) != 6800 {
		t.Fatalf("2019 TXT: %d codes, want 6800", len(txt.Codes))
	}
	spacing := 0
	for i, c := range txt.Codes {
		x := rels["2019"].Codes[i]
		if c.Code != x.Code || c.Short != x.Short || !diff.SameWords(c.Long, x.Long) {
			t.Errorf("2019 TXT %s differs from the XLSX %s: short %q vs %q, long %q vs %q", c.Code, x.Code, c.Short, x.Short, c.Long, x.Long)
			continue
		}
		if c.Long != x.Long {
			spacing++
		}
	}
	t.Logf("2019 TXT vs XLSX: 6800 codes, same descriptors; %d long descriptions differ only in spacing at record boundaries", spacing)
}

func TestRealLegacyXLS(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	_, _, err := run(t, filepath.Join(dir, "data"), filepath.Join(dir, "public"), "run", "--system", "hcpcs", "--release", "2020",
		filepath.Join(rd, "hcpcs/2020/HCPC2020_ANWEB_w_disclaimer.xls"))
	if err == nil || !strings.Contains(err.Error(), "legacy Excel 97-2003 (.xls)") || !strings.Contains(err.Error(), "HCPC2020_ANWEB_w_disclaimer.txt") {
		t.Errorf("err = %v, want a refusal that points to the TXT", err)
	}
}

func find(r *codeset.Release, code string) codeset.Code {
	for _, c := range r.Codes {
		if c.Code == code {
			return c
		}
	}
	return codeset.Code{}
}

// replacedBy returns the codes changelog.json names as replacing code.
func replacedBy(t *testing.T, l changelogJSON, code string) []string {
	t.Helper()
	for _, c := range l.Changes {
		if c.Code != code {
			continue
		}
		out := []string{}
		for _, raw := range c.ReplacedBy {
			var x struct{ Code string }
			if err := json.Unmarshal(raw, &x); err != nil {
				t.Fatal(err)
			}
			out = append(out, x.Code)
		}
		return out
	}
	t.Errorf("changelog.json has no change of %s", code)
	return nil
}

// TestRealICD10CMConversionTableRun runs FY2024, then FY2025 with CDC's
// FY2025 conversion table given beside the release, through the command
// line: every deleted code lists in changelog.json exactly the
// replacements the table gives, read here straight from the workbook with
// ranges and categories expanded.
func TestRealICD10CMConversionTableRun(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	publishRun(t, data, out, "icd10cm/FY2024", "--release", "FY2024", filepath.Join(rd, "icd10cm/2024/icd10cm-CodesDescriptions-2024.zip"))
	table := filepath.Join(rd, "icd10cm/conversion-tables/icd-10-cm-conversion-table-FY2025.xlsx")
	// No --system: the zip names it, and the table goes with the release.
	stdout, stderr, err := run(t, data, out, "run", "--release", "FY2025", filepath.Join(rd, "icd10cm/2025/cms_2025_dx.zip"), table)
	if err != nil {
		t.Fatalf("codeset run FY2025 with the table: %v\n%s", err, stderr)
	}
	if want := "deleted 36, 35 with a replacement named by the publisher"; !strings.Contains(stdout, want) {
		t.Errorf("terminal summary lacks %q:\n%s", want, stdout)
	}
	raw, err := os.ReadFile(filepath.Join(out, "icd10cm", "FY2025", "changelog.json"))
	if err != nil {
		t.Fatal(err)
	}
	var l changelogJSON
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, label := range []string{"FY2024", "FY2025"} {
		rel, err := snapshot.Read(context.Background(), filepath.Join(data, "icd10cm", label+".sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rel.Codes {
			codes = append(codes, c.Code)
		}
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	want := tableReplacements(t, table, codes, time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	deleted, named := 0, 0
	for _, c := range l.Changes {
		if c.Change != "deleted" {
			continue
		}
		deleted++
		got := replacedBy(t, l, c.Code)
		if len(got) > 0 {
			named++
		}
		w := want[c.Code]
		if w == nil {
			w = []string{}
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("FY2025: %s replaced by %v in changelog.json, the table gives %v", c.Code, got, w)
		}
	}
	if deleted != 36 || named != 35 {
		t.Errorf("FY2025: %d deleted, %d with a replacement; want 36, 35", deleted, named)
	}
	// The snapshot keeps the table's links as stated.
	rel, err := snapshot.Read(context.Background(), filepath.Join(data, "icd10cm", "FY2025.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Replacements) < 1000 || !slices.ContainsFunc(rel.Sources, func(s codeset.SourceFile) bool { return s.Name == filepath.Base(table) }) {
		t.Errorf("FY2025 snapshot: %d links, sources %v; want the cumulative table's links and the table among the sources", len(rel.Replacements), rel.Sources)
	}
}

// tableReplacements reads a CDC conversion table straight with excelize
// and returns, for each previous code, its current codes (sorted), of the
// rows effective after lo and no later than hi. Previous codes are
// expanded against codes (sorted): a range "H02.101-H02.106" holds the
// codes from first to last and those under last, a category "I63.-" every
// code under it.
func tableReplacements(t *testing.T, file string, codes []string, lo, hi time.Time) map[string][]string {
	t.Helper()
	wb, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, err := wb.GetRows(wb.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	code := `[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?`
	prev := regexp.MustCompile(`(` + code + `)\.?(\s*-\s*(` + code + `)?)?`)
	nodot := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), ".", "") }
	out := map[string][]string{}
	header := false
	for _, r := range rows {
		if len(r) > 0 && strings.TrimSpace(r[0]) == "Current code assignment" {
			header = true
			continue
		}
		if !header || len(r) < 3 || strings.TrimSpace(r[0]) == "" {
			continue
		}
		var eff time.Time
		if e := strings.TrimSpace(r[1]); len(e) == 4 {
			y, _ := time.Parse("2006", e)
			eff = y.AddDate(0, 9, 0)
		} else if eff, err = time.Parse("01/02/06", e); err != nil {
			t.Fatalf("effective %q of %s", e, r[0])
		}
		if !eff.After(lo) || eff.After(hi) {
			continue
		}
		cur := nodot(r[0])
		for _, m := range prev.FindAllStringSubmatch(r[2], -1) {
			first := nodot(m[1])
			switch {
			case m[2] == "":
				out[first] = append(out[first], cur)
			case m[3] == "":
				for _, c := range codes {
					if strings.HasPrefix(c, first) {
						out[c] = append(out[c], cur)
					}
				}
			default:
				last := nodot(m[3])
				for _, c := range codes {
					if c >= first && (c <= last || strings.HasPrefix(c, last)) {
						out[c] = append(out[c], cur)
					}
				}
			}
		}
	}
	for k, v := range out {
		slices.Sort(v)
		out[k] = slices.Compact(v)
	}
	return out
}

// TestRealHCPCSCorrectionsEvidence runs 2018 with CMS's 2018 corrections
// zip beside it (four versions, .xlsx and .prn), then 2019 from the stored
// 2018: C9488's revision, on no list, is explained by the 2018 corrections
// read back from the snapshot, and the fixed-width transaction report given
// beside the 2019 zip is read as a declaration.
func TestRealHCPCSCorrectionsEvidence(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	publishRun(t, data, out, "hcpcs/2018", "--system", "hcpcs", "--release", "2018",
		filepath.Join(rd, "hcpcs/2018/2018-Alpha-Numeric-HCPCS-File.zip"), filepath.Join(rd, "hcpcs/2018/2018-HCPCS-Alpha-Numeric-Corrections.zip"))
	l := publishRun(t, data, out, "hcpcs/2019", "--system", "hcpcs", "--release", "2019",
		filepath.Join(rd, "hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx"), filepath.Join(rd, "hcpcs/2019/Changes_by_ActionCode.prn"))
	if l.Reconciliation == nil {
		t.Fatal("no reconciliation")
	}
	found := false
	for _, d := range l.Reconciliation.Disagreements {
		if d.Display == "C9488" {
			found = true
			if !strings.Contains(d.Reason, `2018's corrections say "Change ASC Ind/ASC eff date"`) {
				t.Errorf("C9488: %q; want the 2018 corrections cited", d.Reason)
			}
		}
	}
	if !found {
		t.Errorf("C9488 is not among the disagreements: %+v", l.Reconciliation.Disagreements)
	}
	raw, err := os.ReadFile(filepath.Join(out, "hcpcs", "2019", "changelog.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "HCPCS transaction report Changes_by_ActionCode.prn") {
		t.Errorf("the 2019 changelog does not name the .prn transaction report among its sources")
	}
}
