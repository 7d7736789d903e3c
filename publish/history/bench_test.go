package history

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/publish/snapshot"
)

// The history benchmarks extend a history of two synthetic releases of n
// codes (internal/synth: ~1% added, ~1% deleted, ~2% revised, 0.1%
// whitespace-only, some deleted codes coming back) by a third, as
// publishing the third release does. ns/change is ns/op divided by the
// third release's changes; the per-change figure staying flat from 10k to
// 100k codes shows the work follows the changes, not the codes.
//
// BenchmarkUpdate* time history.Update whole: copying the previous file,
// comparing the two snapshots (snapshot.Compare) and applying the changes.
// BenchmarkApply* time only the applying (the SQL of one release) on a
// copy of the previous file. cpu-ns/change is the process's CPU time
// (user and system) over the timed part, per change: on a shared machine
// it says more than the wall clock.

func BenchmarkUpdate10k(b *testing.B)  { benchUpdate(b, 10_000, false) }
func BenchmarkUpdate100k(b *testing.B) { benchUpdate(b, 100_000, false) }
func BenchmarkApply10k(b *testing.B)   { benchUpdate(b, 10_000, true) }
func BenchmarkApply100k(b *testing.B)  { benchUpdate(b, 100_000, true) }

func benchUpdate(b *testing.B, n int, applyOnly bool) {
	ctx := context.Background()
	rels := synth.Series(3, n, 3)
	snaps := writeSeries(b, rels)
	dir := b.TempDir()
	base := filepath.Join(dir, "base.sqlite")
	if err := Update(ctx, base, "", snaps[:2]); err != nil {
		b.Fatal(err)
	}
	l := diff.Compare(rels[1], rels[2], diff.Earlier(rels[0]))
	changes := len(l.Changes)
	info, err := snapshot.ReadInfo(ctx, snaps[2].Path)
	if err != nil {
		b.Fatal(err)
	}
	dst := filepath.Join(dir, "dst.sqlite")
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		os.Remove(dst)
		if applyOnly {
			if err := copyFile(dst, base); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := cpuTime()
		if !applyOnly {
			err = Update(ctx, dst, base, snaps)
		} else {
			err = applyFile(ctx, dst, l, info, snaps[2].SHA256, 3)
		}
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - t0
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(changes), "ns/change")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(changes), "cpu-ns/change")
	b.ReportMetric(float64(changes), "changes")
}

// applyFile applies l to the history at path as step does, without the
// comparison.
func applyFile(ctx context.Context, path string, l *codeset.Changelog, info snapshot.Info, sum string, seq int) error {
	return dbfile.OnConn(ctx, path, dbfile.CreateQuery, func(conn *sql.Conn) error {
		return apply(ctx, conn, l, info, sum, seq)
	})
}

// BenchmarkFirst100k times history.Update adding a first release of
// 100,000 synthetic codes to an empty history, as publishing a first
// release does: copied from the snapshot in SQL. BenchmarkFirstGeneric100k
// is the same through the comparison and apply, the path first replaces
// and must match byte for byte. ns/code and cpu-ns/code are per code.
func BenchmarkFirst100k(b *testing.B)        { benchFirst(b, 100_000, false) }
func BenchmarkFirstGeneric100k(b *testing.B) { benchFirst(b, 100_000, true) }

func benchFirst(b *testing.B, n int, generic bool) {
	ctx := context.Background()
	snaps := writeSeries(b, synth.Series(1, n, 1))
	genericFirst = generic
	defer func() { genericFirst = false }()
	dst := filepath.Join(b.TempDir(), "first.sqlite")
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		os.Remove(dst)
		b.StartTimer()
		t0 := cpuTime()
		if err := Update(ctx, dst, "", snaps); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - t0
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/code")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/code")
}

// BenchmarkApplyAfter times applying the changes of a release of 20,000
// synthetic codes to a history of 2 releases and to one of 20: the
// history grows with every release, the work of adding one should not.
// cpu-ns/change is per change of the release added.
func BenchmarkApplyAfter(b *testing.B) {
	ctx := context.Background()
	rels := synth.Series(17, 20_000, 21)
	snaps := writeSeries(b, rels)
	for _, held := range []int{2, 20} {
		b.Run(fmt.Sprint(held), func(b *testing.B) {
			dir := b.TempDir()
			base := filepath.Join(dir, "base.sqlite")
			if err := Update(ctx, base, "", snaps[:held]); err != nil {
				b.Fatal(err)
			}
			l := diff.Compare(rels[held-1], rels[held], diff.Earlier(rels[:held-1]...))
			info, err := snapshot.ReadInfo(ctx, snaps[held].Path)
			if err != nil {
				b.Fatal(err)
			}
			dst := filepath.Join(dir, "dst.sqlite")
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				os.Remove(dst)
				if err := copyFile(dst, base); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := cpuTime()
				if err := applyFile(ctx, dst, l, info, snaps[held].SHA256, held+1); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - t0
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(len(l.Changes)), "cpu-ns/change")
			b.ReportMetric(float64(len(l.Changes)), "changes")
		})
	}
}
