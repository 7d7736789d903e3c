package schedules

import (
	"archive/zip"
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/realfiles"
	"github.com/codeset/codeset/schedules/release"
)

// realdataDir is where the real publisher releases are kept (see
// internal/realfiles).
func realdataDir() string { return realfiles.Dir() }

// TestMain says, on stderr, when the real releases are absent: the
// acceptance tests then skip, and a run without -v shows no SKIP lines.
func TestMain(m *testing.M) {
	realfiles.Announce("schedules")
	os.Exit(m.Run())
}

// realdata returns the path of a real release file, or skips the test,
// saying so, when the real releases are absent.
func realdata(t *testing.T, name string) string {
	t.Helper()
	dir := realfiles.Need(t)
	return filepath.Join(dir, name)
}

func readReal(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(realdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealRunRecordsReconciliation runs a job on CDC's ICD-10-CM FY2024
// zip, then on CMS's FY2025 zip as shipped: the run, the ledger and the
// log agree with the FY2025 addenda, 252 + 36 + 13 = 301 declared, all
// agreed.
func TestRealRunRecordsReconciliation(t *testing.T) {
	fy24, fy25 := readReal(t, "icd10cm/2024/icd10cm-CodesDescriptions-2024.zip"), readReal(t, "icd10cm/2025/cms_2025_dx.zip")
	e := newEnv(t)
	src := &fakeSource{}
	job := &Job{Name: "icd10cm", System: codeset.ICD10CM, Source: src}
	src.set("icd10cm-CodesDescriptions-2024.zip", fy24)
	e.run(t, job)
	src.set("cms_2025_dx.zip", fy25)
	run := e.run(t, job)
	if run.Label != "FY2025" || run.Outcome != OutcomePublished {
		t.Fatalf("FY2025 run = %+v", run)
	}
	runs, err := e.ledger.Runs(context.Background(), "icd10cm", 1)
	if err != nil {
		t.Fatal(err)
	}
	rc := runs[0].Reconciliation
	if rc == nil || rc.Declared != 301 || rc.Agreed != 301 || rc.Disagreements != 0 || rc.Unexplained != 0 || len(rc.First) != 0 {
		t.Fatalf("ledger: FY2024 → FY2025 reconciliation %+v; want declared 301, agreed 301, no disagreement", rc)
	}
	if !strings.Contains(rc.Source, "addenda_2025.txt") {
		t.Errorf("reconciliation source %q, want an FY2025 addenda", rc.Source)
	}
}

// hcpcsCodeRE matches the HCPC field of a record once trimmed: a level II
// code (letter and four digits) or a modifier (two characters).
var hcpcsCodeRE = regexp.MustCompile(`^(?:[A-Z][0-9]{4}|[A-Z0-9]{2})$`)

// hcpcsTXTCodes reads the codes of the fixed-width HCPCS TXT member of a
// zip on its own, from the record layout (HCPCS20xx_recordlayout.txt):
// HCPC in columns 1-5 (modifiers right-aligned), RECID in column 11, 3
// for the first record of a procedure and 7 for a modifier's (4 and 8
// continue a long description). Lines that are not such records (the
// disclaimer before the data) are skipped. It shares nothing with ingest.
func hcpcsTXTCodes(t *testing.T, zipPath, member string) map[string]bool {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(member)
	if err != nil {
		t.Fatalf("%s: %v", zipPath, err)
	}
	defer f.Close()
	codes := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if len(line) < 11 || (line[10] != '3' && line[10] != '7') {
			continue
		}
		if code := strings.TrimSpace(line[:5]); hcpcsCodeRE.MatchString(code) {
			codes[code] = true
		}
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if len(codes) < 1000 {
		t.Fatalf("%s!%s: only %d codes read; the record layout changed?", zipPath, member, len(codes))
	}
	return codes
}

// TestRealHCPCS2025After2020 runs a job on the 2020 HCPCS zip, then on the
// January 2025 zip exactly as shipped (TXT, data workbook, corrections,
// transaction report and more in one zip): the new codes (added,
// including those that arrive already discontinued) are exactly the codes
// present only in the 2025 file, the deleted ones exactly those only in
// 2020, and every old and new code is counted once. The two sets come from
// the TXT records, read here independently of ingest.
func TestRealHCPCS2025After2020(t *testing.T) {
	zip20, zip25 := realdata(t, "hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip"), realdata(t, "hcpcs/2025/hcpcs-2025.zip")
	old := hcpcsTXTCodes(t, zip20, "HCPC2020_ANWEB_w_disclaimer.txt")
	new := hcpcsTXTCodes(t, zip25, "HCPC2025_JAN_ANWEB_12172024.txt")
	onlyNew, onlyOld, both := map[string]bool{}, map[string]bool{}, 0
	for c := range new {
		if old[c] {
			both++
		} else {
			onlyNew[c] = true
		}
	}
	for c := range old {
		if !new[c] {
			onlyOld[c] = true
		}
	}

	e := newEnv(t)
	src := &fakeSource{}
	// 2020 → 2025 drops the codes ended in between: more than the
	// default share of deletions.
	guards := release.Guards{AllowMassDelete: true}
	src.set(filepath.Base(zip20), readReal(t, "hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip"))
	e.run(t, &Job{Name: "hcpcs", System: codeset.HCPCS, Source: src, Label: "2020", Guards: guards})
	src.set(filepath.Base(zip25), readReal(t, "hcpcs/2025/hcpcs-2025.zip"))
	run := e.run(t, &Job{Name: "hcpcs", System: codeset.HCPCS, Source: src, Label: "2025", Guards: guards})
	l := run.Result.Changelog
	if run.Codes != len(new) {
		t.Errorf("2025: %d codes stored, the TXT has %d", run.Codes, len(new))
	}

	added, deleted, seen := map[string]bool{}, map[string]bool{}, map[string]int{}
	alreadyEnded := 0
	for _, c := range l.Changes {
		seen[c.Code]++
		switch c.Kind {
		case codeset.Added:
			added[c.Code] = true
			if c.AlreadyDiscontinued {
				alreadyEnded++
			}
		case codeset.Reactivated:
			t.Errorf("%s reactivated: no release before 2020 is stored", c.Code)
		case codeset.Deleted:
			deleted[c.Code] = true
		}
	}
	diffSets := func(what string, got, want map[string]bool) {
		t.Helper()
		var missing, extra []string
		for c := range want {
			if !got[c] {
				missing = append(missing, c)
			}
		}
		for c := range got {
			if !want[c] {
				extra = append(extra, c)
			}
		}
		slices.Sort(missing)
		slices.Sort(extra)
		if len(missing)+len(extra) > 0 {
			t.Errorf("%s: %d codes, want %d; missing %v, extra %v", what, len(got), len(want), first(missing), first(extra))
		}
	}
	diffSets("added 2020 → 2025 vs codes only in the 2025 TXT", added, onlyNew)
	diffSets("deleted 2020 → 2025 vs codes only in the 2020 TXT", deleted, onlyOld)

	// Every code of either file counted once: the summary's new side
	// covers the 2025 file, its old side the 2020 file.
	for code, n := range seen {
		if n != 1 {
			t.Errorf("%s counted %d times", code, n)
		}
	}
	s := l.Summary
	oldSide := s.Deleted + s.Unchanged
	for _, c := range l.Changes {
		if c.Kind != codeset.Deleted && old[c.Code] {
			oldSide++
		}
	}
	if newSide := s.Added + s.Revised + s.Cosmetic + s.Reactivated + s.Discontinued + s.Unchanged; newSide != len(new) || oldSide != len(old) {
		t.Errorf("summary %+v covers %d new and %d old codes; the TXTs have %d and %d", s, newSide, oldSide, len(new), len(old))
	}
	if s.Added != len(onlyNew) || s.AddedDiscontinued != alreadyEnded || s.Deleted != len(onlyOld) {
		t.Errorf("summary added %d (%d already discontinued), deleted %d; want %d (%d flagged), %d", s.Added, s.AddedDiscontinued, s.Deleted, len(onlyNew), alreadyEnded, len(onlyOld))
	}
	t.Logf("HCPCS 2020 → 2025: %d codes in 2020, %d in 2025, %d in both; added %d (%d already discontinued), deleted %d",
		len(old), len(new), both, s.Added, s.AddedDiscontinued, s.Deleted)
}

// first returns up to ten of codes, for a message.
func first(codes []string) []string {
	return codes[:min(len(codes), 10)]
}
