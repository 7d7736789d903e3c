package publish

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
)

// Names of the files that describe the published tree. They change as
// releases are published or take effect; release folders never do.
const (
	IndexName       = "index.json" // at the root and in each system folder
	IndexPageName   = "index.html" // at the root: the page people open
	LatestName      = "latest.json"
	CurrentName     = "current.json"
	indexFormat     = 1
	pointerLatest   = "latest"
	pointerCurrent  = "current"
	indexTempPrefix = tempPrefix + "index-"
)

// Pointer names one release of a system; it is written as
// SYSTEM/latest.json (the release with the latest effective date) and
// SYSTEM/current.json (the latest release whose effective date has arrived).
// Paths are relative to the system folder, so the tree can be served from
// any base URL.
type Pointer struct {
	System    codeset.System `json:"system"`
	Pointer   string         `json:"pointer"` // "latest" or "current"
	Label     string         `json:"label"`
	Effective string         `json:"effective"`
	Path      string         `json:"path"`     // release folder, e.g. "2026/"
	Manifest  string         `json:"manifest"` // e.g. "2026/manifest.json"
	Snapshot  string         `json:"snapshot"` // e.g. "2026/cpt-2026.sqlite"
	SHA256    string         `json:"sha256"`   // of the snapshot
	Bytes     int64          `json:"bytes"`    // of the snapshot
}

// IndexRelease describes one release in an index. Paths are relative to
// the folder of the index file that holds it.
type IndexRelease struct {
	Label          string            `json:"label"`
	Effective      string            `json:"effective"`
	Previous       string            `json:"previous"`
	Path           string            `json:"path"`
	Manifest       string            `json:"manifest"`
	Snapshot       string            `json:"snapshot"`
	SnapshotSHA256 string            `json:"snapshot_sha256"`
	SnapshotBytes  int64             `json:"snapshot_bytes"`
	Codes          int               `json:"codes"`
	Changes        codeset.Summary   `json:"changes"`
	Changelogs     map[string]string `json:"changelogs"` // format ("html", "md", ...) to path
}

// SystemIndex is SYSTEM/index.json: every published release of a system,
// oldest first, the two pointers and the history database.
type SystemIndex struct {
	Format   int            `json:"format"`
	System   codeset.System `json:"system"`
	Name     string         `json:"name"`
	Latest   *string        `json:"latest"`  // label, null when nothing is published
	Current  *string        `json:"current"` // label, null until a release takes effect
	History  *ManifestFile  `json:"history"` // history database, path relative to the folder
	Releases []IndexRelease `json:"releases"`
}

// RootIndex is the index.json at the root of the published tree: every
// system with its releases, paths relative to the root.
type RootIndex struct {
	Format  int           `json:"format"`
	Systems []SystemIndex `json:"systems"`
}

// changelogFormats maps the short format names used in indexes to files.
var changelogFormats = []struct{ format, name string }{
	{"html", ChangelogHTML},
	{"md", ChangelogMarkdown},
	{"json", ChangelogJSON},
	{"csv", ChangelogCSV},
	{"xlsx", ChangelogXLSX},
}

// reindexMu serialises Reindex within the process.
var reindexMu sync.Mutex

// effectiveArrived reports whether a release effective on date (YYYY-MM-DD,
// or "" when unknown) is in effect at now. A release without a date is
// taken to be in effect.
func effectiveArrived(date string, now time.Time) bool {
	if date == "" {
		return true
	}
	t, err := time.Parse(dateLayout, date)
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
func Reindex(ctx context.Context, outDir string, now time.Time) (*RootIndex, error) {
	if err := mkdirAllSync(outDir); err != nil {
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
func reindex(ctx context.Context, outDir string, now time.Time) (*RootIndex, error) {
	// Each reindex reads the release folders after its own release was
	// renamed into place; run one at a time, the last one sees every
	// release and its files are the ones left.
	reindexMu.Lock()
	defer reindexMu.Unlock()
	root := RootIndex{Format: indexFormat, Systems: []SystemIndex{}}
	for _, sys := range codeset.Systems {
		dir := filepath.Join(outDir, string(sys))
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		idx, err := reindexSystem(ctx, outDir, sys, now)
		if err != nil {
			return nil, fmt.Errorf("reindex %s: %w", sys, err)
		}
		if len(idx.Releases) == 0 {
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
		for _, rel := range idx.Releases {
			rel.Path = prefix + rel.Path
			rel.Manifest = prefix + rel.Manifest
			rel.Snapshot = prefix + rel.Snapshot
			logs := map[string]string{}
			for k, v := range rel.Changelogs {
				logs[k] = prefix + v
			}
			rel.Changelogs = logs
			r.Releases = append(r.Releases, rel)
		}
		root.Systems = append(root.Systems, r)
	}
	if err := writeJSONAtomic(outDir, IndexName, root); err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	var page bytes.Buffer
	if err := writeIndexPage(&page, &root); err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	if err := writeAtomic(outDir, IndexPageName, page.Bytes()); err != nil {
		return nil, fmt.Errorf("reindex: %w", err)
	}
	return &root, nil
}

// reindexSystem rewrites the history, index and pointers of one system.
func reindexSystem(ctx context.Context, outDir string, sys codeset.System, now time.Time) (*SystemIndex, error) {
	dir := filepath.Join(outDir, string(sys))
	ms, err := releaseManifests(dir, sys)
	if err != nil {
		return nil, err
	}
	idx := &SystemIndex{Format: indexFormat, System: sys, Name: SystemName(sys), Releases: []IndexRelease{}}
	var snaps []string
	var latest, current *IndexRelease
	for _, m := range ms {
		r := IndexRelease{
			Label:      m.Label,
			Effective:  m.Effective,
			Previous:   m.Previous,
			Path:       m.Label + "/",
			Manifest:   path.Join(m.Label, ManifestName),
			Codes:      m.Counts.Codes,
			Changes:    m.Changes,
			Changelogs: map[string]string{},
		}
		snapName := SnapshotName(sys, m.Label)
		for _, f := range m.Files {
			if f.Name == snapName {
				r.Snapshot = path.Join(m.Label, f.Name)
				r.SnapshotSHA256, r.SnapshotBytes = f.SHA256, f.Bytes
			}
		}
		if r.Snapshot == "" {
			return nil, fmt.Errorf("%s: manifest lists no %s", filepath.Join(dir, m.Label, ManifestName), snapName)
		}
		for _, cf := range changelogFormats {
			if slices.ContainsFunc(m.Files, func(f ManifestFile) bool { return f.Name == cf.name }) {
				r.Changelogs[cf.format] = path.Join(m.Label, cf.name)
			}
		}
		idx.Releases = append(idx.Releases, r)
		snaps = append(snaps, filepath.Join(dir, filepath.FromSlash(r.Snapshot)))
	}
	for i := range idx.Releases {
		r := &idx.Releases[i]
		latest = r
		if effectiveArrived(r.Effective, now) {
			current = r
		}
	}

	if len(snaps) > 0 {
		if err := writeHistoryFile(ctx, dir, snaps); err != nil {
			return nil, err
		}
		n, sum, err := hashFile(filepath.Join(dir, HistoryName))
		if err != nil {
			return nil, err
		}
		idx.History = &ManifestFile{Name: HistoryName, Bytes: n, SHA256: sum}
	} else if err := removeAtomic(dir, HistoryName); err != nil {
		return nil, err
	}

	for _, p := range []struct {
		name, kind string
		rel        *IndexRelease
		label      **string
	}{
		{LatestName, pointerLatest, latest, &idx.Latest},
		{CurrentName, pointerCurrent, current, &idx.Current},
	} {
		if p.rel == nil {
			if err := removeAtomic(dir, p.name); err != nil {
				return nil, err
			}
			continue
		}
		label := p.rel.Label
		*p.label = &label
		ptr := Pointer{
			System: sys, Pointer: p.kind, Label: p.rel.Label, Effective: p.rel.Effective,
			Path: p.rel.Path, Manifest: p.rel.Manifest, Snapshot: p.rel.Snapshot,
			SHA256: p.rel.SnapshotSHA256, Bytes: p.rel.SnapshotBytes,
		}
		if err := writeJSONAtomic(dir, p.name, ptr); err != nil {
			return nil, err
		}
	}
	if err := writeJSONAtomic(dir, IndexName, idx); err != nil {
		return nil, err
	}
	return idx, nil
}

// releaseManifests reads the manifest of every release folder of sys under
// dir, ordered by effective date then label. Temporary folders (names
// starting with ".") are skipped.
func releaseManifests(dir string, sys codeset.System) ([]*Manifest, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ms []*Manifest
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || codeset.CheckLabel(e.Name()) != nil {
			continue
		}
		m, err := ReadManifest(filepath.Join(dir, e.Name(), ManifestName))
		if err != nil {
			return nil, err
		}
		if m.System != sys || m.Label != e.Name() {
			return nil, fmt.Errorf("%s: manifest is for %s %s", filepath.Join(dir, e.Name()), m.System, m.Label)
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *Manifest) int {
		return cmp.Or(strings.Compare(a.Effective, b.Effective), codeset.CompareLabels(a.Label, b.Label))
	})
	return ms, nil
}

// ReadPointer reads SYSTEM/latest.json or SYSTEM/current.json under outDir;
// which is "latest" or "current".
func ReadPointer(outDir string, sys codeset.System, which string) (*Pointer, error) {
	if which != pointerLatest && which != pointerCurrent {
		return nil, fmt.Errorf("read pointer: unknown pointer %q: want latest or current", which)
	}
	var ptr Pointer
	if err := readJSON(os.ReadFile, filepath.Join(outDir, string(sys), which+".json"), "pointer", &ptr); err != nil {
		return nil, err
	}
	return &ptr, nil
}

// writeJSONAtomic writes v as indented JSON to dir/name with writeAtomic.
func writeJSONAtomic(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(dir, name, append(b, '\n'))
}

// writeAtomic replaces dir/name with data: a temporary file in dir is
// written, synced and renamed over the old one, then dir is synced. A file
// that already holds data is left alone, so its time stamps stay put.
func writeAtomic(dir, name string, data []byte) (err error) {
	dst := filepath.Join(dir, name)
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
		return nil
	}
	f, err := os.CreateTemp(dir, indexTempPrefix+name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncDir(dir)
}

// removeAtomic removes dir/name if it exists and syncs dir.
func removeAtomic(dir, name string) error {
	err := os.Remove(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

//go:embed index.html.tmpl
var indexPageText string

// indexPage renders the root index.html from the root index.
var indexPage = template.Must(template.New("index").Funcs(template.FuncMap{
	"deref": func(s *string) string { return *s },
	"base":  path.Base,
}).Parse(indexPageText))

// writeIndexPage writes the page listing every system, its releases and
// their changelogs and downloads.
func writeIndexPage(w io.Writer, root *RootIndex) error {
	if err := indexPage.Execute(w, root); err != nil {
		return fmt.Errorf("write index page: %w", err)
	}
	return nil
}
