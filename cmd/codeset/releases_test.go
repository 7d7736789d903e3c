package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleasesFromRecord lists the demo releases with an --out that names
// an empty folder: each release still shows where it was published (the
// tree the data directory records), and the current one stays current.
func TestReleasesFromRecord(t *testing.T) {
	data, out := runDemo(t)
	wrong := filepath.Join(t.TempDir(), "mistyped")
	if err := os.Mkdir(wrong, 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(t, data, wrong, "releases", "--system", "cpt", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Release, Published string
		Current            bool
	}
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	current := 0
	for _, r := range rows {
		if r.Published != filepath.Join(out, "cpt", r.Release) {
			t.Errorf("%s published %q, want %q", r.Release, r.Published, filepath.Join(out, "cpt", r.Release))
		}
		if r.Current {
			current++
		}
	}
	if len(rows) != 3 || current != 1 {
		t.Errorf("releases --json with a mistyped --out:\n%s", stdout)
	}
	stdout, _, err = run(t, data, wrong, "releases", "--system", "cpt")
	if err != nil || strings.Contains(stdout, " no\n") || !strings.Contains(stdout, filepath.Join(out, "cpt", "2026")) {
		t.Errorf("releases with a mistyped --out: %v\n%s", err, stdout)
	}
}
