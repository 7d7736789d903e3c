package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/codeset/codeset"
)

// BenchmarkReadICD10CM measures Read of the real ICD-10-CM FY2025 zip: the
// fixed-width code file and the order file read beside it, about 74,000
// codes. It skips, saying so, when the real releases are absent.
func BenchmarkReadICD10CM(b *testing.B) {
	path := filepath.Join(realdataDir(), "icd10cm", "2025", "cms_2025_dx.zip")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("real release not found (set CODESET_REALDATA): %v", err)
	}
	p, err := Builtin(codeset.ICD10CM)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Profile: p, Label: "FY2025"}
	ctx := context.Background()
	n := 0
	for b.Loop() {
		rel, _, err := Read(ctx, opts, path)
		if err != nil {
			b.Fatal(err)
		}
		n = len(rel.Codes)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/code")
}
