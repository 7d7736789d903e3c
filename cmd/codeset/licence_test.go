package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset/internal/fhirtest"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/server"
	"github.com/codeset/codeset/publish/snapshot"
)

// publishedBytes returns every file of the tree under out, by path, with
// the members of each XLSX (a zip) unpacked beside it.
func publishedBytes(t *testing.T, out string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[p] = b
		if strings.HasSuffix(p, ".xlsx") {
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return err
			}
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					return err
				}
				mb, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return err
				}
				files[p+"!"+f.Name] = mb
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCodesOnlyTree publishes the demo CPT releases into a codes-only tree
// and greps every published byte, inside SQLite files and XLSX members
// too, for every descriptor of the releases. The same run into a full tree
// finds them, so the grep can fail.
func TestCodesOnlyTree(t *testing.T) {
	dir := t.TempDir()
	full, public := filepath.Join(dir, "full"), filepath.Join(dir, "public")
	if _, stderr, err := run(t, filepath.Join(dir, "data-public"), public, "licence", "codes-only"); err != nil {
		t.Fatalf("licence codes-only: %v\n%s", err, stderr)
	}
	for _, tree := range []struct{ data, out string }{{filepath.Join(dir, "data-full"), full}, {filepath.Join(dir, "data-public"), public}} {
		for _, r := range demoReleases {
			if _, stderr, err := run(t, tree.data, tree.out, "run", "--system", "cpt", "--release", r.label, filepath.Join(fixtures, r.file)); err != nil {
				t.Fatalf("run %s into %s: %v\n%s", r.label, tree.out, err, stderr)
			}
		}
	}
	// The descriptors, from the internal snapshots.
	var descriptors []string
	seen := map[string]bool{}
	for _, r := range demoReleases {
		rel, err := snapshot.Store{Dir: filepath.Join(dir, "data-full")}.Get(context.Background(), "cpt", r.label)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rel.Codes {
			for _, d := range []string{c.Short, c.Medium, c.Long} {
				if len(d) >= 8 && !seen[d] {
					seen[d] = true
					descriptors = append(descriptors, d)
				}
			}
		}
	}
	if len(descriptors) < 10 {
		t.Fatalf("only %d descriptors in the demo releases", len(descriptors))
	}
	count := func(out string) (hits int, where map[string]string) {
		where = map[string]string{}
		for p, b := range publishedBytes(t, out) {
			for _, d := range descriptors {
				// XML and HTML escape some characters: look for the part
				// before the first of them too.
				probe := d
				if i := strings.IndexAny(d, `&<>"'`); i >= 8 {
					probe = d[:i]
				}
				if bytes.Contains(b, []byte(probe)) {
					hits++
					where[p] = d
				}
			}
		}
		return hits, where
	}
	if hits, _ := count(full); hits == 0 {
		t.Fatalf("the full tree holds none of the %d descriptors: the grep is broken", len(descriptors))
	}
	hits, where := count(public)
	for p, d := range where {
		t.Errorf("codes-only tree: %s holds the descriptor %q", strings.TrimPrefix(p, public), d)
	}
	if hits > 0 {
		t.Errorf("codes-only tree: %d descriptor hits", hits)
	}

	// The tree says which mode it is in, and keeps it.
	var idx format.RootIndex
	if err := format.ReadJSONFile(os.ReadFile, filepath.Join(public, format.IndexName), "index", &idx); err != nil || idx.Licence != format.LicenceCodesOnly {
		t.Errorf("root index licence %q (%v), want codes-only", idx.Licence, err)
	}
	m, err := format.ReadManifest(filepath.Join(public, "cpt", "2026"))
	if err != nil || m.Licence != format.LicenceCodesOnly {
		t.Errorf("manifest licence %v %v", m, err)
	}
	if _, _, err := run(t, filepath.Join(dir, "data-public"), public, "licence", "full"); err == nil || !strings.Contains(err.Error(), "not be mixed") {
		t.Errorf("licence full on a codes-only tree: %v, want a refusal", err)
	}
	fhirtest.Validate(t, filepath.Join(public, "cpt", "2026", format.CodeSystemName), filepath.Join(full, "cpt", "2026", format.CodeSystemName))

	// codeset pull will not mix the two trees' snapshots in one folder.
	srvFull, srvPublic := httptest.NewServer(server.New(full)), httptest.NewServer(server.New(public))
	defer srvFull.Close()
	defer srvPublic.Close()
	pulled := filepath.Join(dir, "pulled")
	os.Mkdir(pulled, 0o755)
	if _, stderr, err := run(t, "", "", "pull", "--from", srvPublic.URL, "--system", "cpt", "--release", "2025", "-o", filepath.Join(pulled, "cpt-2025.sqlite")); err != nil {
		t.Fatalf("pull codes-only: %v\n%s", err, stderr)
	}
	if _, _, err := run(t, "", "", "pull", "--from", srvFull.URL, "--system", "cpt", "--release", "2026", "-o", filepath.Join(pulled, "cpt-2026.sqlite")); err == nil || !strings.Contains(err.Error(), "not mixed") {
		t.Errorf("pull of a full snapshot beside a codes-only one: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(pulled, "cpt-2026.sqlite")); err == nil {
		t.Errorf("the refused snapshot was downloaded")
	}
}
