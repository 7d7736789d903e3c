package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
)

// realdataDir is where the real publisher releases are kept: beside the
// repository in ../shared/realdata, or where CODESET_REALDATA points.
func realdataDir() string {
	if dir := os.Getenv("CODESET_REALDATA"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "shared", "realdata")
}

// TestMain says, on stderr, when the real releases are absent: the
// acceptance tests then skip, and a run without -v shows no SKIP lines.
func TestMain(m *testing.M) {
	if _, err := os.Stat(filepath.Join(realdataDir(), "SOURCES.md")); err != nil {
		fmt.Fprintf(os.Stderr, "ingest: real releases not found at %s (set CODESET_REALDATA): the acceptance tests on real files are skipped\n", realdataDir())
	}
	os.Exit(m.Run())
}

// realdata returns the path of a real release file, or skips the test,
// saying so, when the real releases are absent.
func realdata(t *testing.T, name string) string {
	t.Helper()
	dir := realdataDir()
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Skipf("real releases not found at %s (set CODESET_REALDATA): %v", dir, err)
	}
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

func TestRealExplore(t *testing.T) {
	for _, tt := range []struct {
		sys   codeset.System
		label string
		files []string
	}{
		{codeset.HCPCS, "2025", []string{"hcpcs/2025/hcpcs-2025.zip"}},
		{codeset.ICD10CM, "2024-04", []string{"icd10cm/2024-april/icd10cm-Codes-Descriptions-April-2024.zip"}},
		{codeset.ICD10CM, "FY2017", []string{"icd10cm/2017/cms_2017_dx.zip"}},
		{codeset.ICD10PCS, "FY2019", []string{"icd10pcs/2019/cms_2019_pr.zip"}},
	} {
		rel, rep := readReal(t, tt.sys, tt.label, tt.files...)
		t.Logf("%s %s: %d codes, %d headers, files %+v", tt.sys, tt.label, len(rel.Codes), len(rel.Headers), rep.Files)
		if rel.Declared != nil {
			t.Logf("declared %s: %d changes, counts %+v", rel.Declared.Source, len(rel.Declared.Changes), rel.Declared.Counts)
		}
		for i, w := range rep.Warnings {
			if i < 8 {
				t.Logf("warning: %s", w)
			}
		}
		_ = diff.Compare
	}
}
