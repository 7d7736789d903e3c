package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
	"github.com/codeset/codeset/schedules/release"
)

// demoMarker marks a directory as demo output, which the demo may wipe.
const demoMarker = ".codeset-demo"

// demoReleases are the bundled synthetic CPT releases, oldest first, with
// the deleted-code crosswalk given beside each later one.
var demoReleases = []struct{ label, file, crosswalk string }{
	{"2024", "cpt-2024.xlsx", ""},
	{"2025", "cpt-2025.xlsx", "cpt-2025-crosswalk.csv"},
	{"2026", "cpt-2026.xlsx", "cpt-2026-crosswalk.csv"},
}

func (m *Main) demoCommand(ctx context.Context, args []string) error {
	fset := m.flags("demo", "[--dir DIR] [--fixtures DIR]",
		"Run the release pipeline on the three bundled synthetic CPT releases (2024, 2025, 2026),\n"+
			"each compared with the one before and given with its deleted-code crosswalk,\n"+
			"into a fresh demo directory.")
	dir := fset.String("dir", "codeset-demo", "demo output `dir`ectory; replaced on every run")
	fixtures := fset.String("fixtures", filepath.Join("testdata", "demo"), "`dir`ectory holding the demo workbooks")
	if err := parse(fset, args); err != nil {
		return err
	}
	for _, r := range demoReleases {
		for _, f := range []string{r.file, r.crosswalk} {
			if _, err := os.Stat(filepath.Join(*fixtures, f)); f != "" && err != nil {
				return fmt.Errorf("demo file %s not found: run the demo from the repository root, or pass --fixtures", filepath.Join(*fixtures, f))
			}
		}
	}
	if err := resetDemoDir(*dir); err != nil {
		return err
	}
	p := &release.Pipeline{
		Store:  snapshot.Store{Dir: filepath.Join(*dir, "data")},
		OutDir: filepath.Join(*dir, "public"),
		Logger: m.logger(),
		Now:    m.Now,
	}
	for i, r := range demoReleases {
		if i > 0 {
			fmt.Fprintln(m.Stdout)
		}
		files := []string{filepath.Join(*fixtures, r.file)}
		if r.crosswalk != "" {
			files = append(files, filepath.Join(*fixtures, r.crosswalk))
		}
		res, err := p.Run(ctx, release.Request{System: codeset.CPT, Label: r.label, Files: files})
		if err != nil {
			return err
		}
		if err := m.printResult(res); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.Stdout, "\nDemo done. Snapshots are in %s, the published tree in %s;\n", p.Store.Dir, p.OutDir)
	fmt.Fprintf(m.Stdout, "open %s first, or serve the tree: codeset --out %s serve --static-only\n", filepath.Join(format.ReleaseDir(p.OutDir, codeset.CPT, "2026"), format.ChangelogHTML), p.OutDir)
	return nil
}

// resetDemoDir empties dir for a new demo run, refusing to touch a directory
// that an earlier demo did not create.
func resetDemoDir(dir string) error {
	_, err := os.Stat(filepath.Join(dir, demoMarker))
	switch {
	case err == nil:
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("reset demo directory: %w", err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if entries, rerr := os.ReadDir(dir); rerr == nil && len(entries) > 0 {
			return fmt.Errorf("%s exists and was not made by the demo: pass another --dir", dir)
		}
	default:
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by 'codeset demo'; the next demo run replaces this directory\n"), 0o644)
}
