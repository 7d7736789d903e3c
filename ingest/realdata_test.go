package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// realdataDir is where the real publisher releases are kept: ../shared/realdata
// beside the repository (found by walking up to go.mod), or CODESET_REALDATA.
// Empty when they are absent.
var realdataDir = findRealdata()

func findRealdata() string {
	if dir := os.Getenv("CODESET_REALDATA"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rd := filepath.Join(dir, "..", "shared", "realdata")
			if _, err := os.Stat(filepath.Join(rd, "SOURCES.md")); err == nil {
				return rd
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func TestMain(m *testing.M) {
	if realdataDir == "" {
		// Said without -v too, so that a run never passes silently without them.
		fmt.Fprintln(os.Stderr, "ingest: real releases not found at ../shared/realdata (set CODESET_REALDATA): the tests on real files are skipped")
	}
	os.Exit(m.Run())
}

// realFile returns the path of a file under the real releases, skipping the
// test, saying so, when they are absent.
func realFile(t *testing.T, name string) string {
	t.Helper()
	if realdataDir == "" {
		t.Skipf("real releases not found: skipped %s", name)
	}
	path := filepath.Join(realdataDir, filepath.FromSlash(name))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("real release file missing: %v", err)
	}
	return path
}
