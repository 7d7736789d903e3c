package snapshot

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset/internal/synth"
)

// BenchmarkWrite writes a 100,000-code synthetic release as a snapshot.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	rel := synth.Series(1, 100_000, 1)[0]
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := Write(ctx, filepath.Join(dir, fmt.Sprint(i), "x.sqlite"), rel); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/code")
}

// BenchmarkRead reads a 100,000-code snapshot whole.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	rel := synth.Series(1, 100_000, 1)[0]
	path := filepath.Join(b.TempDir(), "x.sqlite")
	if err := Write(ctx, path, rel); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Read(ctx, path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/code")
}

// BenchmarkCompare compares two stored 100,000-code snapshots a release
// apart (about 4% of the codes differ).
func BenchmarkCompare(b *testing.B) {
	ctx := context.Background()
	rels := synth.Series(1, 100_000, 2)
	dir := b.TempDir()
	a, c := filepath.Join(dir, "a.sqlite"), filepath.Join(dir, "b.sqlite")
	if err := Write(ctx, a, rels[0]); err != nil {
		b.Fatal(err)
	}
	if err := Write(ctx, c, rels[1]); err != nil {
		b.Fatal(err)
	}
	cpu := processCPU()
	for b.Loop() {
		if _, err := Compare(ctx, a, c, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/code")
	reportCPU(b, cpu)
}

// reportCPU reports the process's CPU time (user and system, all threads)
// since cpu per op, the figure to compare on a shared machine, where the
// time an op takes depends on what else runs.
func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	}
}
