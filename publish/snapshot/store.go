package snapshot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

// ErrNoRelease reports a release that has no snapshot in the store.
var ErrNoRelease = codeset.NewError(codeset.ErrNotFound, "no such release")

// Store is a directory of snapshots laid out as DIR/SYSTEM/LABEL.sqlite.
type Store struct {
	Dir string
}

// Path returns where the snapshot of release label of sys lives.
func (s Store) Path(sys codeset.System, label string) string {
	return filepath.Join(s.Dir, string(sys), label+format.SnapshotExt)
}

// Exists reports whether the store holds a snapshot of release label of sys.
func (s Store) Exists(sys codeset.System, label string) bool {
	if codeset.CheckLabel(label) != nil || sys == "" {
		return false
	}
	st, err := os.Stat(s.Path(sys, label))
	return err == nil && st.Mode().IsRegular()
}

// Get reads the snapshot of release label of sys. A missing snapshot gives
// an error wrapping ErrNoRelease.
func (s Store) Get(ctx context.Context, sys codeset.System, label string) (*codeset.Release, error) {
	if _, err := codeset.ParseSystem(string(sys)); err != nil {
		return nil, err
	}
	if err := codeset.CheckLabel(label); err != nil {
		return nil, err
	}
	path := s.Path(sys, label)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s %s (no %s); run codeset releases --system %s to list releases", ErrNoRelease, sys, label, path, sys)
	}
	r, err := Read(ctx, path)
	if err != nil {
		return nil, err
	}
	if r.System != sys || r.Label != label {
		return nil, fmt.Errorf("read snapshot %s: holds %s %s, want %s %s", path, r.System, r.Label, sys, label)
	}
	return r, nil
}

// Locate returns the path of the snapshot of release label of sys after
// checking that it holds that release, without reading its codes. A
// missing snapshot gives an error wrapping ErrNoRelease.
func (s Store) Locate(ctx context.Context, sys codeset.System, label string) (string, error) {
	if _, err := codeset.ParseSystem(string(sys)); err != nil {
		return "", err
	}
	if err := codeset.CheckLabel(label); err != nil {
		return "", err
	}
	path := s.Path(sys, label)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s %s (no %s); run codeset releases --system %s to list releases", ErrNoRelease, sys, label, path, sys)
	}
	info, err := ReadInfo(ctx, path)
	if err != nil {
		return "", err
	}
	if info.System != sys || info.Label != label {
		return "", fmt.Errorf("read snapshot %s: holds %s %s, want %s %s", path, info.System, info.Label, sys, label)
	}
	return path, nil
}

// List returns the snapshots of sys ordered by effective date then label,
// or of every known system, system by system, when sys is "". A missing
// directory holds no snapshots. Temporary files (names starting with ".")
// are ignored.
func (s Store) List(ctx context.Context, sys codeset.System) ([]Info, error) {
	systems := []codeset.System{sys}
	if sys == "" {
		systems = codeset.Systems
	}
	var all []Info
	for _, sys := range systems {
		infos, err := s.list(ctx, sys)
		if err != nil {
			return nil, err
		}
		all = append(all, infos...)
	}
	return all, nil
}

// list returns the snapshots of one system, ordered.
func (s Store) list(ctx context.Context, sys codeset.System) ([]Info, error) {
	infos, _, err := s.listWith(ctx, sys)
	return infos, err
}

// listWith is list, also returning the catalogue entries of the
// snapshots (see CatalogueName), in file name order. A snapshot the
// catalogue holds, as the same file, is not opened.
func (s Store) listWith(ctx context.Context, sys codeset.System) ([]Info, []catalogEntry, error) {
	dir := filepath.Join(s.Dir, string(sys))
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list releases: %w", err)
	}
	known := readCatalogue(dir)
	type found struct {
		name string
		st   fs.FileInfo
		info Info
		err  error
	}
	var files []found
	var unknown []int // the files the catalogue does not vouch for
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, format.SnapshotExt) || !e.Type().IsRegular() {
			continue
		}
		// Stat'ed before it is read: a file changed in between is
		// catalogued under the identity it had before, and so read
		// again next time.
		st, _ := e.Info()
		info, ok := known[name].info(filepath.Join(dir, name), st)
		if !ok {
			unknown = append(unknown, len(files))
		}
		files = append(files, found{name: name, st: st, info: info})
	}
	// The others are opened and read, two at a time: each is a few
	// milliseconds of a listing that commands such as diff wait for.
	readInfos(len(unknown), func(i int) {
		f := &files[unknown[i]]
		f.info, f.err = ReadInfo(ctx, filepath.Join(dir, f.name))
	})
	var infos []Info
	var cat []catalogEntry
	for _, f := range files {
		if f.err != nil {
			return nil, nil, f.err
		}
		info := f.info
		// A renamed file would make Get return a release other than the
		// one asked for, so the name must match the content.
		if label := strings.TrimSuffix(f.name, format.SnapshotExt); info.System != sys || info.Label != label {
			return nil, nil, fmt.Errorf("read snapshot %s: holds %s %s, want %s %s", info.Path, info.System, info.Label, sys, label)
		}
		infos = append(infos, info)
		if f.st != nil {
			cat = append(cat, entryOf(f.name, f.st, info))
		}
	}
	slices.SortFunc(infos, func(a, b Info) int {
		return cmp.Or(a.Effective.Compare(b.Effective), codeset.CompareLabels(a.Label, b.Label))
	})
	return infos, cat, nil
}

// readInfos calls read(i) for each i below n, two at a time.
func readInfos(n int, read func(i int)) {
	if n < 2 {
		for i := range n {
			read(i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for i := range next {
				read(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
