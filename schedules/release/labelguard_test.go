package release

import (
	"archive/zip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/ingest"
	"github.com/codeset/codeset/internal/realfiles"
	"github.com/codeset/codeset/publish/snapshot"
)

// realdataDir is where the real publisher releases are kept (see
// internal/realfiles).
func realdataDir() string { return realfiles.Dir() }

// TestMain says, on stderr, when the real releases are absent: the
// acceptance tests then skip, and a run without -v shows no SKIP lines.
func TestMain(m *testing.M) {
	realfiles.Announce("schedules/release")
	os.Exit(m.Run())
}

// realdata returns the path of a real release file, or skips the test,
// saying so, when the real releases are absent.
func realdata(t *testing.T, name string) string {
	t.Helper()
	dir := realfiles.Need(t)
	return filepath.Join(dir, name)
}

// copyAs copies file into a temporary folder under a new name, as a user
// who renamed a download would have it.
func copyAs(t *testing.T, file, name string) string {
	t.Helper()
	src, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(t.TempDir(), name)
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	return dst
}

// labelCase ingests files as release label of sys into a fresh data
// directory: refused with every part of want in the message (and, with
// override, let through by AllowLabelYear), or, when want is empty,
// accepted.
type labelCase struct {
	name  string
	sys   codeset.System
	label string
	files func(t *testing.T) []string
	want  []string
}

func (tt labelCase) run(t *testing.T, override bool) {
	t.Run(tt.name, func(t *testing.T) {
		p := &Pipeline{Store: snapshot.Store{Dir: t.TempDir()}, OutDir: t.TempDir()}
		req := Request{System: tt.sys, Label: tt.label, Files: tt.files(t)}
		_, err := p.Ingest(context.Background(), req)
		if len(tt.want) == 0 {
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			return
		}
		var ge *GuardError
		if !errors.As(err, &ge) || ge.Guard != GuardLabelYear {
			t.Fatalf("err = %v, want the label-year guard", err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("refusal %q lacks %q", err, w)
			}
		}
		if p.Store.Exists(tt.sys, tt.label) {
			t.Errorf("a refused label was stored")
		}
		t.Logf("refused: %v", err)
		if !override {
			return
		}
		// The override lets it through.
		req.Guards.AllowLabelYear = true
		if _, err := p.Ingest(context.Background(), req); err != nil {
			t.Errorf("with AllowLabelYear: %v", err)
		}
	})
}

// TestLabelYearFromContent refuses a label whose year the content of the
// real files contradicts, whatever the files are called, and names the
// file, the year it says and where; a label that agrees passes.
func TestLabelYearFromContent(t *testing.T) {
	real := func(names ...string) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			var files []string
			for _, n := range names {
				files = append(files, realdata(t, n))
			}
			return files
		}
	}
	renamed := func(name, as string) func(t *testing.T) []string {
		return func(t *testing.T) []string { return []string{copyAs(t, realdata(t, name), as)} }
	}
	for _, tt := range []labelCase{
		// ICD-10-CM FY2026: the addenda's summary block counts the codes
		// of icd10cm_order_2026.txt; the members bear 2026 too.
		{"cms_2026_dx.zip as FY2027", codeset.ICD10CM, "FY2027", real("icd10cm/2026/cms_2026_dx.zip"),
			[]string{"icd10cm FY2027 names the year 2027, but ", "(in cms_2026_dx.zip) says 2026 in its summary block (74719 codes in icd10cm_order_2026.txt)"}},
		{"cms_2026_dx.zip as FY2026", codeset.ICD10CM, "FY2026", real("icd10cm/2026/cms_2026_dx.zip"), nil},
		// Renamed with no year, or with the wrong one: the content tells.
		{"cms_2026_dx.zip renamed release.zip, as FY2025", codeset.ICD10CM, "FY2025", renamed("icd10cm/2026/cms_2026_dx.zip", "release.zip"),
			[]string{"says 2026 in its summary block"}},
		{"cms_2026_dx.zip renamed cms_2025_dx.zip, as FY2025", codeset.ICD10CM, "FY2025", renamed("icd10cm/2026/cms_2026_dx.zip", "cms_2025_dx.zip"),
			[]string{"says 2026 in its summary block"}},
		// CDC's April 2024 update: members named by month, an addenda of
		// only the summary block, which names icd10cm_order_2024.txt.
		{"April 2024 update as FY2024", codeset.ICD10CM, "FY2024", real("icd10cm/2024-april/icd10cm-Codes-Descriptions-April-2024.zip"), nil},
		{"April 2024 update as FY2025", codeset.ICD10CM, "FY2025", real("icd10cm/2024-april/icd10cm-Codes-Descriptions-April-2024.zip"),
			[]string{"says 2024 in its summary block (74044 codes in icd10cm_order_2024.txt)"}},
		// ICD-10-PCS FY2019: the order addenda's summary names
		// icd10pcs_order_2019.txt.
		{"cms_2019_pr.zip as FY2020", codeset.ICD10PCS, "FY2020", real("icd10pcs/2019/cms_2019_pr.zip"),
			[]string{"says 2019 in its summary block (78881 codes in icd10pcs_order_2019.txt)"}},
		// HCPCS January 2025 as shipped: the latest action effective date
		// of the TXT records is 2025-01-01. The members' 12172024 is a
		// date stamp, not a year.
		{"hcpcs-2025.zip as 2026", codeset.HCPCS, "2026", real("hcpcs/2025/hcpcs-2025.zip"),
			[]string{"HCPC2025_JAN_ANWEB_12172024.txt (in hcpcs-2025.zip) says 2025 as the latest action effective date of its records (2025-01-01)"}},
		{"hcpcs-2025.zip as 2025", codeset.HCPCS, "2025", real("hcpcs/2025/hcpcs-2025.zip"), nil},
		// A workbook renamed without a year: its records still say 2019.
		{"2019 workbook renamed anweb.xlsx, as 2020", codeset.HCPCS, "2020", renamed("hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx", "anweb.xlsx"),
			[]string{"anweb.xlsx says 2019 as the latest action effective date of its records (2019-01-01)"}},
		{"2019 workbook renamed anweb.xlsx, as 2019", codeset.HCPCS, "2019", renamed("hcpcs/2019/HCPC2019_CONTR_ANWEB.xlsx", "anweb.xlsx"), nil},
		// 2018 (sheet HCPCS_2018_Alpha, not used); the April 2020 update's latest
		// action took effect on 2020-04-01.
		{"2018 workbook as 2018", codeset.HCPCS, "2018", real("hcpcs/2018/HCPC2018_CONTR_ANWEB_disc.xlsx"), nil},
		{"April 2020 update as 2020-04", codeset.HCPCS, "2020-04", real("hcpcs/2020-quarterly/anweb_2020_04.xlsx"), nil},
		{"April 2020 update as 2021", codeset.HCPCS, "2021", real("hcpcs/2020-quarterly/anweb_2020_04.xlsx"),
			[]string{"says 2020 as the latest action effective date of its records (2020-04-01)"}},
	} {
		tt.run(t, false)
	}
}

// TestLabelYearFromGeneratedContent: a zip whose name and members bear no
// year, holding an addenda whose summary block names the FY2025 order
// file, is refused as FY2026 and passes as FY2025; without the addenda it
// states no year and passes as anything.
func TestLabelYearFromGeneratedContent(t *testing.T) {
	write := func(addenda bool) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			path := filepath.Join(t.TempDir(), "upload.zip")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			zw := zip.NewWriter(f)
			members := map[string]string{"codes.txt": "A000    Cholera due to Vibrio cholerae 01, biovar cholerae\r\nA011    Typhoid fever, unspecified\r\n"}
			if addenda {
				members["changes.txt"] = "Add:         A011    Typhoid fever, unspecified\r\n\r\nCodes\r\n      1 codes in icd10cm_order_2024.txt\r\n" +
					"      2 codes in icd10cm_order_2025.txt\r\n      1 additions\r\n      0 deletions\r\n      0 revisions\r\n"
			}
			for name, text := range members {
				w, err := zw.Create(name)
				if err != nil {
					t.Fatal(err)
				}
				io.WriteString(w, text)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			return []string{path}
		}
	}
	for _, tt := range []labelCase{
		{"summary names 2025, as FY2026", codeset.ICD10CM, "FY2026", write(true),
			[]string{"icd10cm FY2026 names the year 2026, but changes.txt (in upload.zip) says 2025 in its summary block (2 codes in icd10cm_order_2025.txt)"}},
		{"summary names 2025, as FY2025", codeset.ICD10CM, "FY2025", write(true), nil},
		{"no year anywhere, as FY2030", codeset.ICD10CM, "FY2030", write(false), nil},
	} {
		tt.run(t, true)
	}
}

// TestContentYearSigns: a date stamp inside a longer number (CMS's
// 12172024) is not a year; a sheet name is no sign (a workbook copied
// forward keeps last year's).
func TestContentYearSigns(t *testing.T) {
	if got := nameYears("HCPC2025_JAN_ANWEB_12172024.txt"); len(got) != 1 || got[0] != 2025 {
		t.Errorf("years of HCPC2025_JAN_ANWEB_12172024.txt = %v, want [2025]", got)
	}
	rel := &codeset.Release{System: codeset.CPT, Label: "2026", Sources: []codeset.SourceFile{{Name: "CPT2026.xlsx"}}}
	rep := &ingest.Report{Files: []ingest.FileReport{{Name: "/tmp/x/CPT2026.xlsx", Sheet: "Codes_2025", Codes: 3}}}
	if err := labelYear(rel, rep, nil); err != nil {
		t.Errorf("sheet Codes_2025 in CPT2026.xlsx as 2026: %v", err)
	}
}
