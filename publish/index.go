package publish

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/pages"
)

// indexTempPrefix starts the temporary names of index files and history
// databases being written.
const indexTempPrefix = tempPrefix + "index-"

// reindexMu serialises Reindex within the process.
var reindexMu sync.Mutex

// effectiveArrived reports whether a release effective on date (YYYY-MM-DD,
// or "" when unknown) is in effect at now. A release without a date is
// taken to be in effect.
func effectiveArrived(date string, now time.Time) bool {
	if date == "" {
		return true
	}
	t, err := time.Parse(codeset.DateLayout, date)
	if err != nil {
		return false
	}
	return !t.After(now)
}

// Reindex rebuilds, from the release folders under outDir, each system's
// history database, SYSTEM/index.json, SYSTEM/latest.json and
// SYSTEM/current.json, then the root index.json and index.html. now decides
// which release is current. Every file is replaced atomically and only
// when its content changes. Publish calls it; run it again (codeset
// reindex) when a release's effective date passes. It returns the root
// index it wrote.
func Reindex(ctx context.Context, outDir string, now time.Time) (*format.RootIndex, error) {
	if err := durable.MkdirAll(outDir); err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	unlock, err := lockTree(ctx, outDir)
	if err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	defer unlock()
	return reindex(ctx, outDir, now)
}

// reindex is Reindex for a caller that holds the tree's lock.
func reindex(ctx context.Context, outDir string, now time.Time) (*format.RootIndex, error) {
	return reindexWith(ctx, outDir, now, nil)
}

// reindexWith is reindex taking, for a system, a history database built
// ahead (see prebuildHistory), used when it holds exactly the system's
// releases and ignored otherwise.
func reindexWith(ctx context.Context, outDir string, now time.Time, ahead *aheadHistory) (*format.RootIndex, error) {
	// Each reindex reads the release folders after its own release was
	// renamed into place; run one at a time, the last one sees every
	// release and its files are the ones left.
	reindexMu.Lock()
	defer reindexMu.Unlock()
	licence, err := TreeLicence(outDir)
	if err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	root := format.RootIndex{Format: format.IndexFormat, Licence: licence, Systems: []format.SystemIndex{}}
	for _, sys := range codeset.Systems {
		dir := filepath.Join(outDir, string(sys))
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		var prebuilt builtHistory
		if ahead != nil && ahead.sys == sys {
			prebuilt = ahead.built()
		}
		idx, err := reindexSystem(ctx, outDir, sys, now, licence, prebuilt)
		if err != nil {
			return nil, fmt.Errorf("reindex %s: %w", sys, err)
		}
		if len(idx.Releases) == 0 && len(idx.Withdrawn) == 0 {
			continue
		}
		// The root index repeats the system index with paths from the root.
		r := *idx
		r.Releases = nil
		prefix := string(sys) + "/"
		if r.History != nil {
			h := *r.History
			h.Name = prefix + h.Name
			r.History = &h
		}
		if r.HistoryData != nil {
			h := *r.HistoryData
			h.Name = prefix + h.Name
			r.HistoryData = &h
		}
		for _, rel := range idx.Releases {
			rel.Path = prefix + rel.Path
			rel.Manifest = prefix + rel.Manifest
			rel.Snapshot = prefix + rel.Snapshot
			logs := map[string]string{}
			for k, v := range rel.Changelogs {
				logs[k] = prefix + v
			}
			rel.Changelogs = logs
			if rel.CodeSystem != "" {
				rel.CodeSystem = prefix + rel.CodeSystem
			}
			r.Releases = append(r.Releases, rel)
		}
		root.Systems = append(root.Systems, r)
	}
	b, err := indentedJSON(root)
	if err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	var page bytes.Buffer
	if err := pages.WriteIndex(&page, &root); err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	// The index, then its page, as writeAtomic would (durable.ReplaceFiles).
	if err := durable.ReplaceFiles(outDir, indexTempPrefix, durable.NewFile{Path: format.IndexName, Data: b}, durable.NewFile{Path: format.IndexPageName, Data: page.Bytes()}); err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	return &root, nil
}

// reindexSystem rewrites the history, index and pointers of one system.
// Every release must be published in the tree's licence mode.
func reindexSystem(ctx context.Context, outDir string, sys codeset.System, now time.Time, licence string, prebuilt builtHistory) (*format.SystemIndex, error) {
	dir := filepath.Join(outDir, string(sys))
	ms, err := releaseManifests(dir, sys)
	if err != nil {
		return nil, err
	}
	withdrawn, err := format.ReadWithdrawn(outDir, sys)
	if err != nil {
		return nil, err
	}
	idx := &format.SystemIndex{Format: format.IndexFormat, System: sys, Name: sys.Name(), Licence: licence, Releases: []format.IndexRelease{}, Withdrawn: withdrawn}
	// A withdrawn release keeps its folder but is listed nowhere else.
	ms = slices.DeleteFunc(ms, func(m *format.Manifest) bool {
		return slices.ContainsFunc(withdrawn, func(w format.WithdrawnRelease) bool { return w.Label == m.Label })
	})
	var snaps []history.Snapshot
	var latest, current *format.IndexRelease
	for _, m := range ms {
		r := format.IndexRelease{
			Label:      m.Label,
			Effective:  m.Effective,
			Previous:   m.Previous,
			Path:       m.Label + "/",
			Manifest:   path.Join(m.Label, format.ManifestName),
			Codes:      m.Counts.Codes,
			Changes:    m.Changes,
			Changelogs: map[string]string{},
		}
		if format.Licence(m.Licence) != licence {
			return nil, fmt.Errorf("%s %s is published %s in a %s tree: %w", sys, m.Label, format.Licence(m.Licence), licence, ErrLicenceMix)
		}
		snapName := format.SnapshotName(sys, m.Label)
		for _, f := range m.Files {
			if f.Name == format.CodeSystemName {
				r.CodeSystem = path.Join(m.Label, f.Name)
			}
			if f.Name == snapName {
				r.Snapshot = path.Join(m.Label, f.Name)
				r.SnapshotSHA256, r.SnapshotBytes = f.SHA256, f.Bytes
			}
		}
		if r.Snapshot == "" {
			return nil, fmt.Errorf("%s: manifest lists no %s", filepath.Join(dir, m.Label, format.ManifestName), snapName)
		}
		for _, cf := range format.ChangelogFormats {
			if slices.ContainsFunc(m.Files, func(f format.ManifestFile) bool { return f.Name == cf.Name }) {
				r.Changelogs[cf.Format] = path.Join(m.Label, cf.Name)
			}
		}
		idx.Releases = append(idx.Releases, r)
		snaps = append(snaps, history.Snapshot{Path: filepath.Join(dir, filepath.FromSlash(r.Snapshot)), SHA256: r.SnapshotSHA256})
	}
	for i := range idx.Releases {
		r := &idx.Releases[i]
		latest = r
		if effectiveArrived(r.Effective, now) {
			current = r
		}
	}

	if len(snaps) > 0 {
		ext, taken, err := writeHistoryFile(ctx, dir, snaps, prebuilt)
		if err != nil {
			return nil, err
		}
		if taken && prebuilt.sum != "" {
			// Hashed where it was built.
			idx.History = &format.ManifestFile{Name: format.HistoryName, Bytes: prebuilt.size, SHA256: prebuilt.sum}
		} else {
			n, sum, err := durable.HashFile(ctx, filepath.Join(dir, format.HistoryName))
			if err != nil {
				return nil, err
			}
			idx.History = &format.ManifestFile{Name: format.HistoryName, Bytes: n, SHA256: sum}
		}
		// The same history as text, for the code pages on a static host,
		// written after the text of the releases the history held before.
		if taken && prebuilt.data != nil {
			// Written where the history was built.
			idx.HistoryData, err = takeHistoryData(ctx, dir, filepath.Join(filepath.Dir(prebuilt.path), format.HistoryDataName), prebuilt.data)
		} else {
			idx.HistoryData, err = writeHistoryData(ctx, dir, history.After{Kept: ext.Kept, Changed: ext.Changed})
		}
		if err != nil {
			return nil, err
		}
	} else {
		for _, name := range []string{format.HistoryName, format.HistoryDataName} {
			if err := durable.Remove(dir, name); err != nil {
				return nil, err
			}
		}
	}

	// The pointers, the index and the pages are replaced in this order,
	// as writeAtomic would, with their contents synced together first
	// (see durable.ReplaceFiles).
	var files []durable.NewFile
	add := func(name string, data []byte) { files = append(files, durable.NewFile{Path: name, Data: data}) }
	flush := func() error {
		err := durable.ReplaceFiles(dir, indexTempPrefix, files...)
		files = nil
		return err
	}
	for _, p := range []struct {
		name, kind string
		rel        *format.IndexRelease
		label      **string
	}{
		{format.LatestName, format.PointerLatest, latest, &idx.Latest},
		{format.CurrentName, format.PointerCurrent, current, &idx.Current},
	} {
		if p.rel == nil {
			if err := flush(); err != nil {
				return nil, err
			}
			if err := durable.Remove(dir, p.name); err != nil {
				return nil, err
			}
			continue
		}
		label := p.rel.Label
		*p.label = &label
		ptr := format.Pointer{
			System: sys, Pointer: p.kind, Label: p.rel.Label, Effective: p.rel.Effective,
			Path: p.rel.Path, Manifest: p.rel.Manifest, Snapshot: p.rel.Snapshot,
			SHA256: p.rel.SnapshotSHA256, Bytes: p.rel.SnapshotBytes,
		}
		b, err := indentedJSON(ptr)
		if err != nil {
			return nil, err
		}
		add(p.name, b)
	}
	b, err := indentedJSON(idx)
	if err != nil {
		return nil, err
	}
	add(format.IndexName, b)
	for _, p := range []struct {
		name  string
		write func(io.Writer, *format.SystemIndex) error
	}{
		{format.IndexPageName, pages.WriteSystem},
		{format.CodePageName, pages.WriteCodePage},
		{format.ComparePageName, pages.WriteComparePage},
	} {
		var page bytes.Buffer
		if err := p.write(&page, idx); err != nil {
			return nil, err
		}
		add(p.name, page.Bytes())
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return idx, nil
}

// releaseManifests reads the manifest of every release folder of sys under
// dir, ordered by effective date then label. Temporary folders (names
// starting with ".") are skipped.
func releaseManifests(dir string, sys codeset.System) ([]*format.Manifest, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ms []*format.Manifest
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || codeset.CheckLabel(e.Name()) != nil {
			continue
		}
		m, err := format.ReadManifest(filepath.Join(dir, e.Name(), format.ManifestName))
		if err != nil {
			return nil, err
		}
		if m.System != sys || m.Label != e.Name() {
			return nil, fmt.Errorf("%s: manifest is for %s %s", filepath.Join(dir, e.Name()), m.System, m.Label)
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *format.Manifest) int {
		return cmp.Or(strings.Compare(a.Effective, b.Effective), codeset.CompareLabels(a.Label, b.Label))
	})
	return ms, nil
}

// indentedJSON is v as the index files hold it: indented JSON and a line
// feed.
func indentedJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeAtomic replaces dir/name with data, atomically.
func writeAtomic(dir, name string, data []byte) error {
	return durable.Replace(dir, name, indexTempPrefix, data)
}

// writeHistoryFile brings dir/history.sqlite up to date with the
// snapshots snaps, oldest first: it does nothing when the history already
// holds exactly them, extends it when it holds a first part of them (see
// history.Extend), and rebuilds it otherwise. The new file replaces the
// old one atomically. prebuilt, when its path is not "", is a history
// built ahead (prebuildHistory): when it holds exactly snaps it takes the
// place of the old one without anything being built. It returns what the
// history now holds beyond the old one, and whether it is prebuilt.
func writeHistoryFile(ctx context.Context, dir string, snaps []history.Snapshot, prebuilt builtHistory) (_ history.Extension, taken bool, err error) {
	dst := filepath.Join(dir, format.HistoryName)
	if history.Covers(ctx, dst, snaps) {
		return history.Extension{Kept: len(snaps), Changed: []string{}}, false, nil
	}
	if prebuilt.path != "" && history.Covers(ctx, prebuilt.path, snaps) {
		if err := os.Chmod(prebuilt.path, 0o644); err != nil {
			return history.Extension{}, false, err
		}
		if err := os.Rename(prebuilt.path, dst); err != nil {
			return history.Extension{}, false, err
		}
		aheadTaken.Add(1)
		return prebuilt.ext, true, durable.SyncDir(dir)
	}
	tmpDir, err := os.MkdirTemp(dir, indexTempPrefix+"history-*")
	if err != nil {
		return history.Extension{}, false, err
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, format.HistoryName)
	ext, err := history.Extend(ctx, tmp, dst, snaps)
	if err != nil {
		return history.Extension{}, false, err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return history.Extension{}, false, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return history.Extension{}, false, err
	}
	return ext, false, durable.SyncDir(dir)
}

// takeHistoryData puts in place of dir/history.tsv the history data
// written ahead at path, synced, whose size and SHA-256 file gives (see
// writeDataAhead): renamed into place, atomically, unless the file there
// holds the same bytes already, as writeHistoryData does.
func takeHistoryData(ctx context.Context, dir, path string, file *format.ManifestFile) (*format.ManifestFile, error) {
	aheadDataTaken.Add(1)
	dst := filepath.Join(dir, format.HistoryDataName)
	if st, err := os.Stat(dst); err == nil && st.Mode().IsRegular() && st.Size() == file.Bytes {
		if _, old, err := durable.HashFile(ctx, dst); err == nil && old == file.SHA256 {
			return file, nil
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(path, dst); err != nil {
		return nil, err
	}
	return file, durable.SyncDir(dir)
}

// writeHistoryData writes dir/history.tsv, the text form of
// dir/history.sqlite, after the one there: the lines of the releases the
// history held before (after.Kept) are copied from it, and the later
// events looked up by after.Changed (see history.WriteDataAfter), so that
// the work follows the releases added, and the file is streamed to disk and
// hashed as it is written, never held whole. Like writeAtomic it replaces
// the file atomically, and only when its content changes. It returns the
// file's size and SHA-256.
func writeHistoryData(ctx context.Context, dir string, after history.After) (_ *format.ManifestFile, err error) {
	name := format.HistoryDataName
	dst := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, indexTempPrefix+name+"-*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := durable.NewHasher()
	same, err := func() (bool, error) {
		var prev *io.SectionReader
		if f, err := os.Open(dst); err == nil {
			defer f.Close()
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				prev = io.NewSectionReader(f, 0, st.Size())
			}
		}
		after.Prev = prev
		if err := history.WriteDataAfter(ctx, filepath.Join(dir, format.HistoryName), after, io.MultiWriter(tmp, h)); err != nil {
			return false, err
		}
		n, sum := h.Sum()
		if prev == nil || prev.Size() != n {
			return false, nil
		}
		// As long as the file there: the same bytes when the same hash.
		_, old, err := durable.HashReader(ctx, prev)
		return err == nil && old == sum, nil
	}()
	if err != nil {
		return nil, err
	}
	n, sum := h.Sum()
	file := &format.ManifestFile{Name: name, Bytes: n, SHA256: sum}
	if same {
		return file, nil
	}
	if err := tmp.Chmod(0o644); err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return nil, err
	}
	tmp = nil
	return file, durable.SyncDir(dir)
}
