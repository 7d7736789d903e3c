package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/changelog"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/pages"
	"github.com/codeset/codeset/publish/snapshot"
)

// ErrPublished reports a release that is already in the published tree.
var ErrPublished = codeset.NewError(codeset.ErrConflict, "already published")

// changelogWriters are the changelog renderers, by the file each writes.
var changelogWriters = []struct {
	name  string
	write func(io.Writer, *codeset.Changelog) error
}{
	{format.ChangelogMarkdown, changelog.WriteMarkdown},
	{format.ChangelogJSON, format.WriteChangelog},
	{format.ChangelogHTML, changelog.WriteHTML},
	{format.ChangelogCSV, changelog.WriteCSV},
	{format.ChangelogXLSX, changelog.WriteXLSX},
}

// checkRelease validates sys and label before they name directories.
func checkRelease(sys codeset.System, label string) error {
	if _, err := codeset.ParseSystem(string(sys)); err != nil {
		return err
	}
	return codeset.CheckLabel(label)
}

// Publish is PublishAt with the wall clock deciding which release is
// current.
func Publish(ctx context.Context, outDir string, snapshotPath string, rel *codeset.Release, l *codeset.Changelog) (*format.Manifest, error) {
	return PublishAt(ctx, outDir, snapshotPath, rel, l, time.Now())
}

// PublishAt creates the folder OUT/SYSTEM/LABEL holding a copy of the
// snapshot at snapshotPath, the changelog l as Markdown, JSON, HTML, CSV and
// XLSX, SHA256SUMS and a manifest, and returns the manifest. The folder is
// built under a temporary name and renamed into place, so it appears
// complete or not at all; then the indexes, pointers and history database
// are rebuilt (see Reindex), with now deciding which release is current. If
// that fails the release folder is taken back. PublishAt never changes a
// published release: if the folder exists it fails with an error wrapping
// ErrPublished.
func PublishAt(ctx context.Context, outDir string, snapshotPath string, rel *codeset.Release, l *codeset.Changelog, now time.Time) (*format.Manifest, error) {
	return PublishWith(ctx, outDir, snapshotPath, rel, l, now, Options{})
}

// Options are what a caller that stores the snapshot itself adds to
// PublishAt.
type Options struct {
	// Store, when set, writes the snapshot at snapshotPath. It runs
	// while the release's other files are rendered (on another core),
	// and the snapshot is copied into the release folder once it
	// returns. Its error is returned as it is.
	Store func(ctx context.Context) error
	// Ready, when set, is called once every file of the release folder
	// is written and synced, just before the folder is renamed into
	// place; an error stops the publication. A pipeline records there
	// that the release is being published to the tree.
	Ready func() error
}

// PublishWith is PublishAt with the snapshot stored, and the tree
// recorded, by the caller as opts says.
func PublishWith(ctx context.Context, outDir string, snapshotPath string, rel *codeset.Release, l *codeset.Changelog, now time.Time, opts Options) (_ *format.Manifest, err error) {
	if rel == nil || l == nil {
		return nil, errors.New("publish: nil release or changelog")
	}
	if err := checkRelease(rel.System, rel.Label); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if l.System != rel.System || l.To != rel.Label {
		return nil, fmt.Errorf("publish %s %s: changelog is for %s %s", rel.System, rel.Label, l.System, l.To)
	}
	sysDir := filepath.Join(outDir, string(rel.System))
	final := format.ReleaseDir(outDir, rel.System, rel.Label)
	if _, err := os.Lstat(final); err == nil {
		return nil, publishedError(rel.System, rel.Label, final)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	if err := durable.MkdirAll(sysDir); err != nil {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	unlock, err := lockTree(ctx, outDir)
	if err != nil {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	defer unlock()
	tmp, err := os.MkdirTemp(sysDir, tempPrefix+rel.Label+"-*")
	if err != nil {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	// MkdirTemp makes the folder private; a web server running as another
	// user must be able to read it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}

	licence, err := TreeLicence(outDir)
	if err != nil {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	effective, err := introduced(ctx, outDir, rel, l)
	if err != nil {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	var eff string
	if !rel.Effective.IsZero() {
		eff = rel.Effective.Format(codeset.DateLayout)
	}
	ahead, buildAhead := prebuildHistory(ctx, outDir, rel.System, rel.Label, eff, licence)
	if ahead != nil {
		defer ahead.remove()
	}
	m, err := buildRelease(ctx, tmp, snapshotPath, rel, l, licence, effective, opts.Store, buildAhead)
	var serr storeError
	if errors.As(err, &serr) {
		return nil, serr.err
	}
	if err != nil {
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	if opts.Ready != nil {
		if err := opts.Ready(); err != nil {
			return nil, err
		}
	}
	// rename(2) fails on a non-empty target, so a folder published since
	// the check above is never replaced.
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Lstat(final); serr == nil {
			return nil, publishedError(rel.System, rel.Label, final)
		}
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	if err := durable.SyncDir(sysDir); err != nil {
		// The release is in place; only its durability is in doubt.
		return m, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	if _, err := reindexWith(ctx, outDir, now, ahead); err != nil {
		// Readers must not find a release the indexes do not list: take
		// it back and put the indexes as they were.
		if uerr := unpublish(outDir, rel.System, rel.Label); uerr != nil {
			return nil, fmt.Errorf("publish %s %s: %w (and rolling back: %v; run codeset reindex)", rel.System, rel.Label, err, uerr)
		}
		if _, rerr := reindex(context.WithoutCancel(ctx), outDir, now); rerr != nil {
			return nil, fmt.Errorf("publish %s %s: %w (and restoring the indexes: %v; run codeset reindex)", rel.System, rel.Label, err, rerr)
		}
		return nil, fmt.Errorf("publish %s %s: %w", rel.System, rel.Label, err)
	}
	return m, nil
}

func publishedError(sys codeset.System, label, path string) error {
	return fmt.Errorf("release %s %s %w at %s", sys, label, ErrPublished, path)
}

// storeError carries the error of Options.Store out of buildRelease
// unwrapped.
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }

// buildRelease fills the temporary folder dir and returns its manifest.
// In a codes-only tree (licence) the snapshot is written anew from rel
// without descriptor text, and the changelogs leave it out too. effective
// gives when codes took effect, for the CodeSystem. store, when not nil,
// writes the snapshot at snapshotPath first. ahead, when not nil, is
// called once: with the stored snapshot and its SHA-256 (given once
// hashed) once the snapshot is in dir, in a goroutine of its own, or with
// "" when it is not.
//
// The snapshot (stored, copied into dir and hashed) and the other files
// (rendered and hashed as they are written) are made at the same time, on
// two cores: neither needs the other, only the release and its changelog.
func buildRelease(ctx context.Context, dir, snapshotPath string, rel *codeset.Release, l *codeset.Changelog, licence string, effective map[string]string, store func(context.Context) error, ahead func(snap string, sum func() (string, error))) (*format.Manifest, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if licence == format.LicenceCodesOnly {
		rel, l = withoutText(rel), changelogWithoutText(l)
	}
	sums := newFileSums()
	// The first error stops the other side and is the one returned.
	var once sync.Once
	var first error
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// The history extended by the release is built from the moment
		// the snapshot is in the folder, beside the rest of it (and
		// beside the snapshot's hashing, which it needs only at its end)
		// rather than after it.
		var hashed *snapshotSum
		err := buildSnapshot(ctx, dir, snapshotPath, rel, licence, store, sums, func() {
			if ahead != nil {
				hashed = &snapshotSum{done: make(chan struct{})}
				go ahead(snapshotPath, hashed.wait)
			}
		})
		switch {
		case hashed != nil:
			if f, ok := sums.get(format.SnapshotName(rel.System, rel.Label)); err == nil && ok {
				hashed.sum = f.SHA256
			} else {
				hashed.err = errors.New("snapshot not hashed")
			}
			close(hashed.done)
		case ahead != nil:
			ahead("", nil)
		}
		if err != nil {
			fail(err)
		}
	})
	// While the snapshot is stored, its progress is the one shown.
	rctx := ctx
	if store != nil {
		rctx = codeset.WithProgress(ctx, nil)
	}
	if err := renderFiles(rctx, dir, rel, l, licence, effective, sums); err != nil {
		fail(err)
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	codeset.ReportProgress(ctx, "publishing", len(changelogWriters), len(changelogWriters))

	m := &format.Manifest{
		System:      rel.System,
		Label:       rel.Label,
		Previous:    l.From,
		ToolVersion: codeset.Version,
		Licence:     licence,
		Sources:     slices.Clone(rel.Sources),
		Counts:      format.ManifestCounts{Codes: len(rel.Codes), Categories: codeset.CategoryCounts(rel.Codes)},
		Changes:     l.Summary,
		Files:       []format.ManifestFile{},
	}
	if !rel.Effective.IsZero() {
		m.Effective = rel.Effective.Format(codeset.DateLayout)
	}
	if m.Sources == nil {
		m.Sources = []codeset.SourceFile{}
	}
	// Every file in the folder is listed, each with the hash of the bytes
	// written to it (the snapshot's read back from its copy); a file that
	// was not hashed so is hashed from disk.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Name() == format.ManifestName {
			continue
		}
		f, ok := sums.get(e.Name())
		if !ok {
			n, sum, err := durable.HashFile(ctx, filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			f = format.ManifestFile{Name: e.Name(), Bytes: n, SHA256: sum}
		}
		m.Files = append(m.Files, f)
	}
	slices.SortFunc(m.Files, func(a, b format.ManifestFile) int { return strings.Compare(a.Name, b.Name) })
	var list bytes.Buffer
	for _, f := range m.Files {
		fmt.Fprintf(&list, "%s  %s\n", f.SHA256, f.Name)
	}
	n, sum, err := durable.HashReader(ctx, bytes.NewReader(list.Bytes()))
	if err != nil {
		return nil, err
	}
	m.Files = append(m.Files, format.ManifestFile{Name: format.SumsName, Bytes: n, SHA256: sum})
	slices.SortFunc(m.Files, func(a, b format.ManifestFile) int { return strings.Compare(a.Name, b.Name) })

	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	// Written, then synced together: the folder is renamed into place
	// only once both are on disk and the folder synced.
	if err := durable.WriteNewFiles(
		durable.NewFile{Path: filepath.Join(dir, format.SumsName), Data: list.Bytes()},
		durable.NewFile{Path: filepath.Join(dir, format.ManifestName), Data: append(b, '\n')},
	); err != nil {
		return nil, err
	}
	if err := durable.SyncDir(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// snapshotSum is the SHA-256 of a release's snapshot, set once it is
// hashed: done is closed then.
type snapshotSum struct {
	done chan struct{}
	sum  string
	err  error
}

// wait returns the SHA-256 once it is known.
func (s *snapshotSum) wait() (string, error) {
	<-s.done
	return s.sum, s.err
}

// buildSnapshot stores the snapshot (store, when not nil), puts it into
// dir (a copy of snapshotPath, or in a codes-only tree a snapshot of rel
// written anew) and hashes what is there. placed is called once the
// snapshot is in dir and checked, before it is hashed.
func buildSnapshot(ctx context.Context, dir, snapshotPath string, rel *codeset.Release, licence string, store func(context.Context) error, sums *fileSums, placed func()) error {
	if store != nil {
		if err := store(ctx); err != nil {
			return storeError{err}
		}
	}
	snap := filepath.Join(dir, format.SnapshotName(rel.System, rel.Label))
	if licence == format.LicenceCodesOnly {
		if err := snapshot.Write(ctx, snap, rel); err != nil {
			return err
		}
	} else if err := durable.LinkOrCopy(snap, snapshotPath); err != nil {
		// Stored snapshots are written once and never changed in place
		// (a crosswalk attached to an unpublished one replaces the file):
		// the release folder can share the stored file's bytes.
		return err
	}
	// Check the copy, not the source: it is what readers will download.
	info, err := snapshot.ReadInfo(ctx, snap)
	if err != nil {
		return err
	}
	if info.System != rel.System || info.Label != rel.Label {
		return fmt.Errorf("snapshot %s holds %s %s", snapshotPath, info.System, info.Label)
	}
	placed()
	n, sum, err := durable.HashFile(ctx, snap)
	if err != nil {
		return err
	}
	sums.put(format.ManifestFile{Name: filepath.Base(snap), Bytes: n, SHA256: sum})
	return nil
}

// renderFiles writes the changelogs, the CodeSystem, the search index and
// the records of rel into dir, hashing each as it is written.
func renderFiles(ctx context.Context, dir string, rel *codeset.Release, l *codeset.Changelog, licence string, effective map[string]string, sums *fileSums) error {
	create := func(name string, fill func(io.Writer) error) error {
		h := durable.NewHasher()
		if err := durable.CreateNew(filepath.Join(dir, name), func(w io.Writer) error { return fill(io.MultiWriter(w, h)) }); err != nil {
			return err
		}
		n, sum := h.Sum()
		sums.put(format.ManifestFile{Name: name, Bytes: n, SHA256: sum})
		return nil
	}
	for i, cw := range changelogWriters {
		codeset.ReportProgress(ctx, "publishing", i, len(changelogWriters))
		if err := ctx.Err(); err != nil {
			return err
		}
		// Streamed to the file: a first release of a million codes has
		// changelogs of hundreds of megabytes.
		if err := create(cw.name, func(w io.Writer) error { return cw.write(w, l) }); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Compact and streamed: an ICD-10-CM release has some 100,000 concepts.
	if err := create(format.CodeSystemName, func(w io.Writer) error { return format.WriteCodeSystem(w, rel, effective, licence) }); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := create(format.SearchIndexName, func(w io.Writer) error { return pages.WriteSearchIndex(w, rel) }); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return create(format.RecordsName, func(w io.Writer) error { return pages.WriteRecords(w, rel) })
}

// fileSums gathers the size and hash of the files of a release folder as
// they are written, from two goroutines.
type fileSums struct {
	mu    sync.Mutex
	files map[string]format.ManifestFile
}

func newFileSums() *fileSums { return &fileSums{files: map[string]format.ManifestFile{}} }

func (s *fileSums) put(f format.ManifestFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[f.Name] = f
}

func (s *fileSums) get(name string) (format.ManifestFile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[name]
	return f, ok
}

// Published reports whether release label of sys is published under outDir.
func Published(outDir string, sys codeset.System, label string) bool {
	if checkRelease(sys, label) != nil {
		return false
	}
	_, err := os.Lstat(format.ReleaseDir(outDir, sys, label))
	return err == nil
}

// Unpublish removes the published folder of release label of sys. It exists
// to roll back a release published earlier in the same run when a later
// step fails; published releases are otherwise never removed. It leaves the
// indexes alone: call Reindex afterwards.
func Unpublish(outDir string, sys codeset.System, label string) error {
	if err := checkRelease(sys, label); err != nil {
		return fmt.Errorf("unpublish: %w", err)
	}
	unlock, err := lockTree(context.Background(), outDir)
	if err != nil {
		return fmt.Errorf("unpublish %s %s: %w", sys, label, err)
	}
	defer unlock()
	return unpublish(outDir, sys, label)
}

// unpublish is Unpublish for a caller that holds the tree's lock.
func unpublish(outDir string, sys codeset.System, label string) error {
	sysDir := filepath.Join(outDir, string(sys))
	final := format.ReleaseDir(outDir, sys, label)
	if _, err := os.Lstat(final); err != nil {
		return fmt.Errorf("unpublish %s %s: %w", sys, label, err)
	}
	// Move the folder aside first so readers never see it half removed.
	aside, err := os.MkdirTemp(sysDir, tempPrefix+"unpublish-"+label+"-*")
	if err != nil {
		return fmt.Errorf("unpublish %s %s: %w", sys, label, err)
	}
	gone := filepath.Join(aside, label)
	if err := os.Rename(final, gone); err != nil {
		os.Remove(aside)
		return fmt.Errorf("unpublish %s %s: %w", sys, label, err)
	}
	if err := durable.SyncDir(sysDir); err != nil {
		return fmt.Errorf("unpublish %s %s: %w", sys, label, err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("unpublish %s %s: %w", sys, label, err)
	}
	return nil
}

// tempPrefix starts the name of every temporary file or folder in the
// published tree: release folders being built or taken back, index files
// and history databases being written. Readers skip such names.
const tempPrefix = ".tmp-"

// lockTree takes the lock of the published tree under outDir, which must
// exist, and removes what writers killed earlier left behind: temporary
// release folders and index files at the root and in each system folder.
// Publish, Reindex and Unpublish hold it, so two runs never interleave
// their writes and the last index written lists every release.
func lockTree(ctx context.Context, outDir string) (unlock func(), err error) {
	unlock, err = durable.LockDir(ctx, outDir)
	if err != nil {
		return nil, err
	}
	isTemp := func(name string) bool { return strings.HasPrefix(name, tempPrefix) }
	dirs := []string{outDir}
	for _, sys := range codeset.Systems {
		dirs = append(dirs, filepath.Join(outDir, string(sys)))
	}
	for _, d := range dirs {
		if err := durable.RemoveLeftovers(d, isTemp); err != nil {
			unlock()
			return nil, err
		}
	}
	return unlock, nil
}
