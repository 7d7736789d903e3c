package ingest

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/realfiles"
)

// realdataDir is where the real publisher releases are kept (see
// internal/realfiles).
func realdataDir() string { return realfiles.Dir() }

// TestMain says, on stderr, when the real releases are absent: the
// acceptance tests then skip, and a run without -v shows no SKIP lines.
func TestMain(m *testing.M) {
	realfiles.Announce("ingest")
	os.Exit(m.Run())
}

// realdata returns the path of a real release file, or skips the test,
// saying so, when the real releases are absent.
func realdata(t *testing.T, name string) string {
	t.Helper()
	dir := realfiles.Need(t)
	path := filepath.Join(dir, filepath.FromSlash(name))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("real release file missing from %s: %v", dir, err)
	}
	return path
}

// readReal reads real release files with the built-in profile of sys.
func readReal(t *testing.T, sys codeset.System, label string, names ...string) (*codeset.Release, *Report) {
	t.Helper()
	var files []string
	for _, n := range names {
		files = append(files, realdata(t, n))
	}
	p, err := Builtin(sys)
	if err != nil {
		t.Fatal(err)
	}
	eff, _ := codeset.DefaultEffective(sys, label)
	rel, rep, err := Read(context.Background(), Options{Profile: p, Label: label, Effective: eff}, files...)
	if err != nil {
		t.Fatalf("read %s: %v", strings.Join(names, ", "), err)
	}
	return rel, rep
}

// TestRealTransitions reads real releases exactly as shipped and diffs
// neighbours: the counts are the publishers' own (SOURCES.md).
func TestRealTransitions(t *testing.T) {
	if testing.Short() {
		t.Skip("reads about 100 MB of real releases; skipped with -short")
	}
	tests := []struct {
		name                    string
		sys                     codeset.System
		old, new                string // zips
		oldLabel, newLabel      string
		added, deleted, revised int
		shortTitle              int // changes of the short title alone, apart from the revised
		longRevised             int // of the revised, those whose long title changed
		oldCodes, newCodes      int
		declared, disagreements int
	}{
		{"ICD-10-CM FY2017 to FY2018", codeset.ICD10CM, "icd10cm/2017/cms_2017_dx.zip", "icd10cm/2018/cms_2018_dx.zip", "FY2017", "FY2018",
			// CMS's own list: 226 revisions, all of the code title. The
			// short titles, read from the order file, show 11 changes of
			// the short title alone that CMS made without listing them ("0
			// revisions to short title only"), e.g. H35.3113 "...w/o sbfvl
			// involv" to "...w/o sbfvl invl": their own kind, undeclared.
			360, 142, 226, 11, 226, 71486, 71704, 728, 11},
		{"ICD-10-PCS FY2018 to FY2019", codeset.ICD10PCS, "icd10pcs/2018/cms_2018_pr.zip", "icd10pcs/2019/cms_2019_pr.zip", "FY2018", "FY2019",
			// The addenda: "8 revisions to both long and short titles".
			392, 216, 8, 0, 8, 78705, 78881, 616, 0},
		// CDC's April 2024 update changes nothing: month-named members, a
		// summary-only addenda.
		{"ICD-10-CM FY2024 to April 2024", codeset.ICD10CM, "icd10cm/2024/icd10cm-CodesDescriptions-2024.zip", "icd10cm/2024-april/icd10cm-Codes-Descriptions-April-2024.zip", "FY2024", "2024-04",
			0, 0, 0, 0, 0, 74044, 74044, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, _ := readReal(t, tt.sys, tt.oldLabel, tt.old)
			cur, _ := readReal(t, tt.sys, tt.newLabel, tt.new)
			if len(old.Codes) != tt.oldCodes || len(cur.Codes) != tt.newCodes {
				t.Errorf("codes: %d and %d, want %d and %d", len(old.Codes), len(cur.Codes), tt.oldCodes, tt.newCodes)
			}
			if len(old.Headers) == 0 || len(cur.Headers) == 0 {
				t.Errorf("header rows: %d and %d, want the order files' headers kept", len(old.Headers), len(cur.Headers))
			}
			l := diff.Compare(old, cur, nil)
			s := l.Summary
			t.Logf("%s: %+v", tt.name, s)
			if s.Added != tt.added || s.Deleted != tt.deleted || s.Revised != tt.revised || s.ShortTitle != tt.shortTitle || s.Reactivated != 0 || s.Discontinued != 0 {
				t.Errorf("summary %+v, want %d added, %d deleted, %d revised, %d short-title", s, tt.added, tt.deleted, tt.revised, tt.shortTitle)
			}
			long := 0
			for _, c := range l.Changes {
				if _, ok := c.Fields[codeset.FieldLong]; ok && c.Kind == codeset.Revised {
					long++
				}
			}
			if long != tt.longRevised {
				t.Errorf("%d long-title revisions, want %d", long, tt.longRevised)
			}
			r := l.Reconciliation
			if r == nil {
				t.Fatal("no reconciliation")
			}
			changes := map[string]codeset.Change{}
			for _, c := range l.Changes {
				changes[c.Code] = c
			}
			var undeclared []string
			for _, d := range r.Disagreements {
				c := changes[d.Code]
				if _, short := c.Fields[codeset.FieldShort]; d.Declared != "" || c.Kind != codeset.ShortTitle || len(c.Fields) != 1 || !short {
					t.Errorf("disagreement %+v: want only undeclared short-title changes, got %s %+v", d, c.Kind, c.Fields)
				}
				undeclared = append(undeclared, codeset.ICD10CM.Display(d.Code))
			}
			t.Logf("undeclared short-title changes: %v", undeclared)
			if r.Declared != tt.declared || r.Agreed != tt.declared || len(r.Disagreements) != tt.disagreements {
				t.Errorf("reconciliation: %d declared, %d agreed, %d disagreements; want %d, %d, %d",
					r.Declared, r.Agreed, len(r.Disagreements), tt.declared, tt.declared, tt.disagreements)
			}
			against, ok := cur.Declared.Against()
			if !ok || against.From != len(old.Codes) || against.To != len(cur.Codes) {
				t.Errorf("summary block %+v, %v: want it made against %d codes, giving %d", against, ok, len(old.Codes), len(cur.Codes))
			}
		})
	}
}

// TestRealHCPCS2025 reads the January 2025 HCPCS zip exactly as shipped:
// the fixed-width TXT, the data workbook, a corrections file and a
// transaction report side by side.
func TestRealHCPCS2025(t *testing.T) {
	rel, rep := readReal(t, codeset.HCPCS, "2025", "hcpcs/2025/hcpcs-2025.zip")
	if len(rel.Codes) != 8642 {
		t.Errorf("%d codes, want 8642", len(rel.Codes))
	}
	if len(rep.Files) != 1 || !strings.HasSuffix(rep.Files[0].Name, "/HCPC2025_JAN_ANWEB_12172024.txt") {
		t.Errorf("read %+v, want the fixed-width TXT, as every year", rep.Files)
	}
	actions := map[string]int{}
	for _, c := range rel.Codes {
		actions[c.Meta.Get("action")]++
	}
	want := map[string]int{"A": 168, "C": 57, "D": 91, "N": 8321, "P": 2, "S": 2, "T": 1}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Errorf("ACTION CD counts %v, want %v", actions, want)
	}
	d := rel.Declared
	for _, src := range []string{"ACTION CD", "HCPCS transaction report HCPC2025_JAN_Transaction Report_12172024.xlsx", "HCPCS corrections file HCPC2025_JAN_ANWEB_Corrections_12172024.xlsx"} {
		if !strings.Contains(d.Source, src) {
			t.Errorf("declaration source %q does not name %q", d.Source, src)
		}
	}
	// The transaction report says what ACTION CD says; the corrections add
	// the descriptor fixes that ACTION CD leaves at N.
	extra := map[string]string{}
	for _, c := range d.Changes {
		if len(c.Detail) > 1 {
			extra[c.Code] = c.Detail
		}
	}
	wantExtra := map[string]string{"C7537": "Revise LD", "C7538": "Revise LD"}
	if fmt.Sprint(extra) != fmt.Sprint(wantExtra) || len(d.Changes) != 321+len(wantExtra) {
		t.Errorf("declared %d changes, beyond ACTION CD %v; want %d and %v", len(d.Changes), extra, 321+len(wantExtra), wantExtra)
	}
	for _, w := range rep.Warnings {
		t.Logf("warning: %s", w)
	}
	t.Logf("HCPCS 2025: %d codes, %d declared changes (%s)", len(rel.Codes), len(d.Changes), d.Source)
}

// TestRealHCPCSFormatsAgree reads the TXT and the XLSX of one release: every
// field of every code is the same, whitespace at the records' split points
// included, so a change of source format between years is no change.
func TestRealHCPCSFormatsAgree(t *testing.T) {
	tests := []struct {
		label, txt, xlsx string
		differ           []string // codes whose text the publisher made differ
	}{
		// The XLSX gives E0210 and E0776 a fourth type of service (R) that
		// their TXT records lack ("ALP", "AEP" in columns 261-265).
		{"2019", "hcpcs/2019/HCPC2019_CONTR_ANWEB.txt", "hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx", []string{"E0210", "E0776"}},
		// In the 2025 XLSX, G0503's long description is also cut at 1,194
		// of its 1,253 characters; the TXT has it whole.
		{"2025", "hcpcs/2025/hcpcs-2025.zip", "", []string{"E0210", "E0776", "G0503"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			txt, _ := readReal(t, codeset.HCPCS, tt.label, tt.txt)
			xlsx := tt.xlsx
			if xlsx == "" {
				xlsx = unzipMember(t, realdata(t, tt.txt), "HCPC2025_JAN_ANWEB_12172024.xlsx")
			} else {
				xlsx = realdata(t, xlsx)
			}
			p, _ := Builtin(codeset.HCPCS)
			xl, _, err := Read(context.Background(), Options{Profile: p, Label: tt.label}, xlsx)
			if err != nil {
				t.Fatal(err)
			}
			if len(txt.Codes) != len(xl.Codes) {
				t.Fatalf("TXT %d codes, XLSX %d", len(txt.Codes), len(xl.Codes))
			}
			var differ []string
			for i, c := range txt.Codes {
				x := xl.Codes[i]
				if f := diff.Fields(x, c); len(f) > 0 {
					differ = append(differ, c.Code)
					if len(differ) <= 3 {
						t.Logf("%s differs: %+v", c.Code, f)
					}
				}
			}
			if fmt.Sprint(differ) != fmt.Sprint(tt.differ) {
				t.Errorf("codes that differ between TXT and XLSX: %v, want %v", differ, tt.differ)
			}
			if tt.label != "2019" {
				return
			}
			// Without the split-point rule, the formats differ in spacing.
			p.Continuation.Wrap = 0
			raw, _, err := Read(context.Background(), Options{Profile: p, Label: tt.label}, xlsx)
			if err != nil {
				t.Fatal(err)
			}
			spacing := 0
			for i, c := range txt.Codes {
				if x := raw.Codes[i]; x.Long != c.Long && diff.SameWords(x.Long, c.Long) {
					spacing++
				}
			}
			if spacing != 13 {
				t.Errorf("without Wrap, %d long descriptions differ in spacing only, want the 13 split points", spacing)
			}
		})
	}
}

// unzipMember copies one member of a zip into a temporary file.
func unzipMember(t *testing.T, zipPath, member string) string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name == member {
			dst := filepath.Join(t.TempDir(), member)
			if err := unpack(zf, dst, DefaultLimits); err != nil {
				t.Fatal(err)
			}
			return dst
		}
	}
	t.Fatalf("%s holds no %s", zipPath, member)
	return ""
}

// TestRealHCPCSFormatChange diffs the 2019 XLSX with the 2020 zip, which
// the TXT is read from: the spacing lost at the TXT's split points (13
// long descriptions) is no cosmetic change.
func TestRealHCPCSFormatChange(t *testing.T) {
	old, _ := readReal(t, codeset.HCPCS, "2019", "hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx")
	cur, _ := readReal(t, codeset.HCPCS, "2020", "hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip")
	l := diff.Compare(old, cur, nil)
	t.Logf("2019 XLSX to 2020 zip: %+v", l.Summary)
	var cosmetic []string
	for _, c := range l.Changes {
		if c.Kind == codeset.Cosmetic {
			cosmetic = append(cosmetic, c.Code)
		}
	}
	if len(cosmetic) != 0 {
		t.Errorf("cosmetic changes %v, want none: the spacing differences are the TXT's split points", cosmetic)
	}
}

// TestRealHCPCSEveryRelease reads every HCPCS release kept, as shipped:
// each year's packaging and quirks (header rows after disclaimers, legacy
// XLS beside the TXT, two-digit ASC dates in 2018, quarterly workbooks).
func TestRealHCPCSEveryRelease(t *testing.T) {
	tests := []struct {
		label, file string
		codes       int
	}{
		{"2017", "hcpcs/2017/2017-Alpha-Numeric-HCPCS-File.zip", 6498},
		{"2018", "hcpcs/2018/HCPC2018_CONTR_ANWEB_disc.xlsx", 6559},
		{"2018-zip", "hcpcs/2018/2018-Alpha-Numeric-HCPCS-File.zip", 6559},
		{"2019", "hcpcs/2019/2019-Alpha-Numeric-HCPCS-File.zip", 6800},
		{"2020", "hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip", 7079},
		{"2020-04", "hcpcs/2020-quarterly/anweb_2020_04.xlsx", 0},
		{"2020-07", "hcpcs/2020-quarterly/anweb_2020_07.xlsx", 0},
		{"2020-10", "hcpcs/2020-quarterly/anweb_2020_10.xlsx", 0},
		{"2025", "hcpcs/2025/hcpcs-2025.zip", 8642},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			rel, rep := readReal(t, codeset.HCPCS, tt.label, tt.file)
			if tt.codes > 0 && len(rel.Codes) != tt.codes {
				t.Errorf("%d codes, want %d", len(rel.Codes), tt.codes)
			}
			t.Logf("%s: %d codes from %s; %d warnings", tt.label, len(rel.Codes), rep.Files[0].Name, len(rep.Warnings))
		})
	}
}

// TestRealTransactionReportPRN reads CMS's fixed-width transaction reports
// (the .prn "Changes by Action Code" of 2017-2020), recognised by their
// content whatever their name: a header line in one of four spellings
// (2018's "HCPCS/Modifier CodeType of Change" runs two headers together;
// 2020's follows ten lines of notes with a cp1252 apostrophe), actions cut
// at their column's width ("Long Description Chang"). Each declares what
// the data file's ACTION CD does, code for code.
func TestRealTransactionReportPRN(t *testing.T) {
	p, err := Builtin(codeset.HCPCS)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		data, prn                string
		rows                     int // codes listed
		added, discontinued, rev int
		reactivated              int
		missing                  []string // codes of the data file the report lacks
	}{
		{"hcpcs/2017/HCPC17_CONTR_ANWEB.xlsx", "hcpcs/2017/HCPCS2017_Trans Report_ChangesbyAction.prn", 6498, 278, 147, 170, 1, nil},
		// SOURCES.md: modifier L1 is in the 2018 file but not in its report.
		{"hcpcs/2018/HCPC2018_CONTR_ANWEB_disc.xlsx", "hcpcs/2018/HCPC18_Trans_Report_Alpha_ChangesbyAction.prn", 6558, 152, 40, 135, 0, []string{"L1"}},
		{"hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx", "hcpcs/2019/Changes_by_ActionCode.prn", 6800, 228, 49, 151, 0, nil},
		{"hcpcs/2020/HCPC2020_ANWEB_w_disclaimer.txt", "hcpcs/2020/Changes_by_ActionCode.prn", 7079, 250, 99, 82, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.prn, func(t *testing.T) {
			path := realdata(t, tt.prn)
			s, err := sniff(path, path, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			id := p.classify(s)
			if id.role != roleDeclaration || !id.text || id.decl.Name != "HCPCS transaction report" {
				t.Fatalf("recognised as %q (%s), want the transaction report in text", id.role, id.looks)
			}
			rep := &Report{}
			rd := &reader{p: p, rep: rep, lim: DefaultLimits}
			rows, err := rd.declarationText(context.Background(), input{name: path, path: path, role: roleDeclaration, decl: id.decl})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Warnings) != 0 {
				t.Errorf("warnings: %q", rep.Warnings)
			}
			kinds := map[codeset.ChangeKind]int{}
			byCode := map[string]codeset.ChangeKind{}
			for _, r := range rows {
				kinds[r.Kind]++
				byCode[r.Code] = r.Kind
			}
			if len(rows) != tt.rows || kinds[codeset.Added] != tt.added || kinds[codeset.Discontinued] != tt.discontinued ||
				kinds[codeset.Revised] != tt.rev || kinds[codeset.Reactivated] != tt.reactivated {
				t.Errorf("%d rows, kinds %v; want %d rows, %d added, %d discontinued, %d revised, %d reactivated",
					len(rows), kinds, tt.rows, tt.added, tt.discontinued, tt.rev, tt.reactivated)
			}
			// Code for code, the report says what ACTION CD says.
			rel, _ := readReal(t, codeset.HCPCS, tt.prn[len("hcpcs/"):len("hcpcs/2017")], tt.data)
			action := map[string]codeset.ChangeKind{}
			for _, d := range rel.Declared.Changes {
				action[d.Code] = d.Kind
			}
			var missing []string
			for _, c := range rel.Codes {
				k, ok := byCode[c.Code]
				if !ok {
					missing = append(missing, c.Code)
					continue
				}
				if k != action[c.Code] {
					t.Errorf("%s: the report declares %q, ACTION CD %q (%s)", c.Code, k, action[c.Code], c.Meta.Get("action"))
				}
			}
			if fmt.Sprint(missing) != fmt.Sprint(tt.missing) {
				t.Errorf("codes the report lacks: %v, want %v", missing, tt.missing)
			}
		})
	}
}
