package publish

import (
	"cmp"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
)

// aheadTaken counts the histories built ahead that a re-index took, for
// the tests.
var aheadTaken atomic.Int64

// aheadDataTaken counts the history data files written ahead that a
// re-index took, for the tests.
var aheadDataTaken atomic.Int64

// aheadHistory is the system's history database extended by the release
// being published, built while the release's other files are rendered
// (on the core the snapshot was stored on) rather than after the release
// folder is in place: the re-index then only renames it. For a release of
// a million codes that is the history's first build, some seconds; for
// ICD-10-CM's next release a tenth of a second off the end of the run.
type aheadHistory struct {
	sys  codeset.System
	dir  string // the temporary folder it is built in
	done chan struct{}
	ok   bool              // built, holding the releases published and the new one
	ext  history.Extension // what the build added to the published history
	size int64             // the built file's size and SHA-256, or "" when not hashed
	sum  string
	data *format.ManifestFile // the history data written beside it (see writeDataAhead), or nil
	once sync.Once
}

// builtHistory is a history built ahead: its file, and what it added to
// the published history it started from.
type builtHistory struct {
	path string
	ext  history.Extension
	size int64
	sum  string // SHA-256 of the file, or "" when not known
	// data, when not nil, is the history data (history.tsv) of the built
	// history, written after the published one beside it, in the same
	// folder: what writeHistoryData would write once the history is in
	// place.
	data *format.ManifestFile
}

// built returns the built history, with path "" when there is none; it
// waits for the build.
func (a *aheadHistory) built() builtHistory {
	<-a.done
	if !a.ok {
		return builtHistory{}
	}
	return builtHistory{path: filepath.Join(a.dir, format.HistoryName), ext: a.ext, size: a.size, sum: a.sum, data: a.data}
}

// remove removes what is left of the build (the history, when the
// re-index did not take it).
func (a *aheadHistory) remove() {
	a.once.Do(func() {
		<-a.done
		os.RemoveAll(a.dir)
	})
}

// prebuildHistory returns nil unless the release (label, effective) comes
// after every release published of sys in the full tree at outDir, the
// case in which the history is the published one extended (a codes-only
// tree's snapshots are not the stored ones). Otherwise it returns a
// history to build and build, which builds it from the release's snapshot
// at snap (the stored one: it stays where it is while the release folder
// is renamed), whose SHA-256 sum gives (it may wait for the hash), or,
// when snap is "", notes that there is nothing to build. build must be
// called once.
func prebuildHistory(ctx context.Context, outDir string, sys codeset.System, label, effective, licence string) (*aheadHistory, func(snap string, sum func() (string, error))) {
	if licence == format.LicenceCodesOnly {
		return nil, nil
	}
	sysDir := filepath.Join(outDir, string(sys))
	ms, err := releaseManifests(sysDir, sys)
	if err != nil {
		return nil, nil
	}
	withdrawn, err := format.ReadWithdrawn(outDir, sys)
	if err != nil {
		return nil, nil
	}
	ms = slices.DeleteFunc(ms, func(m *format.Manifest) bool {
		return slices.ContainsFunc(withdrawn, func(w format.WithdrawnRelease) bool { return w.Label == m.Label })
	})
	var snaps []history.Snapshot
	for _, m := range ms {
		if cmp.Or(strings.Compare(effective, m.Effective), codeset.CompareLabels(label, m.Label)) <= 0 {
			return nil, nil
		}
		name := format.SnapshotName(sys, m.Label)
		i := slices.IndexFunc(m.Files, func(f format.ManifestFile) bool { return f.Name == name })
		if i < 0 {
			return nil, nil
		}
		snaps = append(snaps, history.Snapshot{Path: filepath.Join(sysDir, m.Label, name), SHA256: m.Files[i].SHA256})
	}
	dir, err := os.MkdirTemp(sysDir, indexTempPrefix+"history-ahead-*")
	if err != nil {
		return nil, nil
	}
	a := &aheadHistory{sys: sys, dir: dir, done: make(chan struct{})}
	// The published history is copied (and the copy synced) now, while
	// the release's snapshot is being written: what is left once the
	// snapshot is stored is the release's own work.
	path := filepath.Join(dir, format.HistoryName)
	copied := make(chan error, 1)
	go func() { copied <- history.Copy(ctx, path, filepath.Join(sysDir, format.HistoryName)) }()
	return a, func(snap string, sum func() (string, error)) {
		defer close(a.done)
		err := <-copied
		if snap == "" || err != nil {
			return
		}
		// A failure here costs only time: the re-index builds the
		// history as it always does.
		all := append(snaps, history.Snapshot{Path: snap, Sum: sum})
		ext, err := history.ExtendFile(ctx, path, all)
		a.ok, a.ext = err == nil, ext
		if !a.ok {
			return
		}
		// Hashed here too, off the end of the run: the index lists the
		// history's SHA-256, and the file is not changed again. Its text
		// form is written at the same time, on the other core: both only
		// read the history, and the text grows with it.
		var wg sync.WaitGroup
		wg.Go(func() {
			if n, sum, err := durable.HashFile(ctx, path); err == nil {
				a.size, a.sum = n, sum
			}
		})
		wg.Go(func() {
			a.data, _ = writeDataAhead(ctx, sysDir, dir, ext)
		})
		wg.Wait()
	}
}

// writeDataAhead writes to dir/history.tsv the history data of the
// history dir/history.sqlite, which extends the published one of sysDir
// as ext tells, after the published history data (see writeHistoryData),
// synced, and returns its size and SHA-256. The tree's lock is held from
// here to the re-index, so the published files it starts from are those
// the re-index finds; the file is what writeHistoryData would write once
// the history is in place, and it takes its place. On failure the re-index
// writes it as always.
func writeDataAhead(ctx context.Context, sysDir, dir string, ext history.Extension) (_ *format.ManifestFile, err error) {
	dst := filepath.Join(dir, format.HistoryDataName)
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	h := durable.NewHasher()
	after := history.After{Kept: ext.Kept, Changed: ext.Changed}
	if prev, err := os.Open(filepath.Join(sysDir, format.HistoryDataName)); err == nil {
		defer prev.Close()
		if st, err := prev.Stat(); err == nil && st.Mode().IsRegular() {
			after.Prev = io.NewSectionReader(prev, 0, st.Size())
		}
	}
	if err := history.WriteDataAfter(ctx, filepath.Join(dir, format.HistoryName), after, io.MultiWriter(f, h)); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return nil, err
	}
	n, sum := h.Sum()
	return &format.ManifestFile{Name: format.HistoryDataName, Bytes: n, SHA256: sum}, nil
}
