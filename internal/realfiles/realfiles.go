// Package realfiles finds the real publisher releases that the acceptance
// tests read: ../shared/realdata beside the repository, or the folder
// CODESET_REALDATA names. They are never copied into the repository. Tests
// that need them skip only when that folder is absent, and say so on
// stderr as well, so that a run without -v shows it.
package realfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Dir is the folder of the real releases: CODESET_REALDATA when set,
// otherwise shared/realdata beside the repository that holds the current
// directory (found by its go.mod).
func Dir() string {
	if dir := os.Getenv("CODESET_REALDATA"); dir != "" {
		return dir
	}
	return filepath.Join(moduleRoot(), "..", "shared", "realdata")
}

// moduleRoot is the nearest folder at or above the current directory that
// holds a go.mod; the current directory when there is none.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return wd
		}
		dir = up
	}
}

// missing says why the real releases cannot be read, or is nil.
func missing() error {
	_, err := os.Stat(filepath.Join(Dir(), "SOURCES.md"))
	return err
}

// Announce, called from a package's TestMain, writes one line to stderr
// when the real releases are absent: the acceptance tests of pkg then
// skip, and a run without -v shows no SKIP lines of its own.
func Announce(pkg string) {
	if missing() != nil {
		fmt.Fprintf(os.Stderr, "%s: real releases not found at %s (set CODESET_REALDATA): the acceptance tests on real files are skipped\n", pkg, Dir())
	}
}

// Need returns the folder of the real releases, or skips t, saying so on
// stderr too, when they are absent.
func Need(t testing.TB) string {
	t.Helper()
	if err := missing(); err != nil {
		fmt.Fprintf(os.Stderr, "SKIP %s: real releases not found at %s (set CODESET_REALDATA)\n", t.Name(), Dir())
		t.Skipf("real releases not found at %s (set CODESET_REALDATA): %v", Dir(), err)
	}
	return Dir()
}

// Path is the real release file name (slash-separated, below the folder),
// or skips t as Need does.
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Need(t), filepath.FromSlash(name))
}
