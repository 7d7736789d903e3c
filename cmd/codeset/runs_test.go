package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset/schedules"
)

// writeICDZip writes a CDC-style ICD-10-CM zip: a codes file ("CODE title"
// per entry) and, when addenda is not empty, a codes addenda.
func writeICDZip(t *testing.T, path, year string, codes []string, addenda string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	add := func(name, text string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	for _, c := range codes {
		code, title, _ := strings.Cut(c, " ")
		fmt.Fprintf(&b, "%-7s %s\r\n", code, title)
	}
	add("icd10cm_codes_"+year+".txt", b.String())
	if addenda != "" {
		add("icd10cm_codes_addenda_"+year+".txt", addenda)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRunsShowReconciliation runs two generated ICD-10-CM releases, the
// second with an addenda that declares a code its codes file lacks:
// codes runs shows the comparison with the publisher's list under the
// run's row, within 100 columns, and --json has it whole.
func TestRunsShowReconciliation(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	fy24, fy25 := filepath.Join(dir, "icd10cm_2024.zip"), filepath.Join(dir, "icd10cm_2025.zip")
	writeICDZip(t, fy24, "2024", []string{"A000 Cholera due to Vibrio cholerae 01, biovar cholerae", "A001 Cholera due to Vibrio cholerae 01, biovar eltor",
		"A009 Cholera, unspecified", "B001 Eczema herpeticum"}, "")
	writeICDZip(t, fy25, "2025", []string{"A000 Cholera due to Vibrio cholerae 01, biovar cholerae", "A009 Cholera, unspecified",
		"A011 Typhoid fever, unspecified", "B001 Eczema herpeticum"},
		"Delete:      A001    Cholera due to Vibrio cholerae 01, biovar eltor\r\n"+
			"Add:         A011    Typhoid fever, unspecified\r\n"+
			"Add:         C000    Malignant neoplasm of external upper lip\r\n")
	for _, f := range []string{fy24, fy25} {
		if _, stderr, err := run(t, data, out, "run", "--allow-mass-delete", f); err != nil {
			t.Fatalf("run %s: %v\n%s", f, err, stderr)
		}
	}
	stdout, _, err := run(t, data, out, "runs")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	// The zone line, the header, FY2025's row and its lines (the first
	// disagreement wrapped), then FY2024's row alone: its release has no
	// publisher's list.
	if len(lines) < 6 || !strings.Contains(lines[2], "FY2025") ||
		lines[3] != "    publisher's list: declared 3, agreed 2, 1 disagreements, 1 unexplained" ||
		!strings.HasPrefix(lines[4], "    first: C00.0: declared ") || !strings.Contains(lines[4], "computed absent") ||
		!strings.Contains(lines[len(lines)-1], "FY2024") || strings.Count(stdout, "publisher's list") != 1 {
		t.Errorf("codeset runs:\n%s", stdout)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > runsWidth {
			t.Errorf("codeset runs prints a line of %d columns: %q", n, l)
		}
	}
	stdout, _, err = run(t, data, out, "runs", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var runs []schedules.Run
	if err := json.Unmarshal([]byte(stdout), &runs); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(runs) != 2 || runs[1].Reconciliation != nil {
		t.Fatalf("runs --json: %s", stdout)
	}
	rc := runs[0].Reconciliation
	if rc == nil || rc.Declared != 3 || rc.Agreed != 2 || rc.Disagreements != 1 || rc.Unexplained != 1 || len(rc.First) != 1 ||
		rc.First[0].Code != "C000" || rc.First[0].Computed != "absent" || rc.First[0].Reason == "" || rc.First[0].Explained {
		t.Errorf("runs --json reconciliation %+v", rc)
	}
	if !strings.Contains(stdout, `"reconciliation": {`) || !strings.Contains(stdout, `"unexplained": 1`) {
		t.Errorf("runs --json lacks the reconciliation's keys:\n%s", stdout)
	}
}
