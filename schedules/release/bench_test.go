package release

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/realfiles"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/snapshot"
)

// BenchmarkRun times Pipeline.Run of a real release after the one before
// it, as codeset run does: ingest, the comparison with the stored
// release, the guards, the snapshot, every published file and the
// indexes and history of the tree. The earlier release is stored and
// published once, before the timer; each iteration starts from a fresh
// copy of that data directory and tree (copied outside the timer). It
// skips, saying so, when the real releases are absent.
func BenchmarkRun(b *testing.B) {
	for _, bc := range []struct {
		name           string
		sys            codeset.System
		prev, label    string
		prevFile, file string
	}{
		{"ICD10CM", codeset.ICD10CM, "FY2024", "FY2025", "icd10cm/2024/icd10cm-CodesDescriptions-2024.zip", "icd10cm/2025/cms_2025_dx.zip"},
		{"ICD10PCS", codeset.ICD10PCS, "FY2024", "FY2025", "icd10pcs/2024/cms_2024_pr.zip", "icd10pcs/2025/cms_2025_pr.zip"},
		{"HCPCS", codeset.HCPCS, "2020", "2025", "hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip", "hcpcs/2025/hcpcs-2025.zip"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			seed := b.TempDir()
			p := &Pipeline{Store: snapshot.Store{Dir: filepath.Join(seed, "data")}, OutDir: filepath.Join(seed, "public")}
			if _, err := p.Run(ctx, Request{System: bc.sys, Label: bc.prev, Files: []string{realfiles.Path(b, bc.prevFile)}}); err != nil {
				b.Fatal(err)
			}
			file := realfiles.Path(b, bc.file)
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "run")
				if err := os.CopyFS(dir, os.DirFS(seed)); err != nil {
					b.Fatal(err)
				}
				// The copy's dirty pages are written out now, not during
				// the run's own syncs.
				if err := syncTree(dir); err != nil {
					b.Fatal(err)
				}
				q := &Pipeline{Store: snapshot.Store{Dir: filepath.Join(dir, "data")}, OutDir: filepath.Join(dir, "public")}
				b.StartTimer()
				if _, err := q.Run(ctx, Request{System: bc.sys, Label: bc.label, Files: []string{file}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// syncTree flushes every file under dir to stable storage.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		return durable.SyncFile(path)
	})
}
