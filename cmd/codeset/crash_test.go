package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/server"
	"github.com/codeset/codeset/publish/snapshot"
)

// crashRuns is how many runs TestCrashRun kills.
const crashRuns = 60

// TestCrashRun kills a real 'codeset run' with SIGKILL at delays spread
// from 0 to 1.3 times a normal run's duration, on a copy of a tree holding
// one published release. After every kill the tree must be consistent
// (complete release folders only, indexes and pointers naming complete
// releases, the earlier release untouched, snapshots readable), and running
// the same command again must succeed and leave a complete tree with no
// temporary files.
func TestCrashRun(t *testing.T) {
	bin := buildBinary(t)
	ctx := context.Background()
	base := t.TempDir()
	seed := filepath.Join(base, "seed")
	args := func(dir, label, file string) []string {
		return []string{"--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "public"),
			"run", "--system", "cpt", "--release", label, filepath.Join(fixtures, file)}
	}
	if _, stderr, status := runBin(t, bin, args(seed, "2024", "cpt-2024.xlsx")...); status != 0 {
		t.Fatalf("run 2024: status %d\n%s", status, stderr)
	}
	rel2024 := filepath.Join(seed, "public", "cpt", "2024")
	want2024 := dirSums(t, rel2024)
	run2025 := args("", "2025", "cpt-2025.xlsx")

	// A copy of the seed tree per run, so every kill starts from the same
	// state.
	n := 0
	fresh := func() string {
		n++
		dir := filepath.Join(base, fmt.Sprint("run", n))
		if err := os.CopyFS(dir, os.DirFS(seed)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	command := func(dir string) *exec.Cmd {
		a := slices.Clone(run2025)
		a[1], a[3] = filepath.Join(dir, "data"), filepath.Join(dir, "public")
		return exec.Command(bin, a...)
	}

	// The normal duration of the run, the median of five.
	var durs []time.Duration
	for range 5 {
		dir := fresh()
		start := time.Now()
		if out, err := command(dir).CombinedOutput(); err != nil {
			t.Fatalf("run 2025: %v\n%s", err, out)
		}
		durs = append(durs, time.Since(start))
		os.RemoveAll(dir)
	}
	slices.Sort(durs)
	normal := durs[len(durs)/2]
	maxDelay := normal * 13 / 10

	stages := map[string]int{}
	leftovers := 0
	for i := range crashRuns {
		dir := fresh()
		out, data := filepath.Join(dir, "public"), filepath.Join(dir, "data")
		delay := maxDelay * time.Duration(i) / (crashRuns - 1)
		cmd := command(dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()

		stage := crashStage(t, dir, cmd.ProcessState.Success())
		stages[stage]++
		if temps := tempNames(t, dir); len(temps) > 0 {
			leftovers++
			// Nothing serves them.
			srv := httptest.NewServer(server.New(out))
			for _, p := range temps {
				if rel, err := filepath.Rel(out, p); err == nil && !strings.HasPrefix(rel, "..") {
					resp, err := http.Get(srv.URL + "/" + filepath.ToSlash(rel))
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode < 400 {
						t.Errorf("kill %d: leftover %s served: %s", i, rel, resp.Status)
					}
				}
			}
			srv.Close()
		}
		what := fmt.Sprintf("kill %d after %v (%s)", i, delay, stage)
		checkTree(ctx, t, what, out, data, want2024, false)

		// The same command again finishes the job.
		if b, err := command(dir).CombinedOutput(); err != nil {
			t.Fatalf("%s: next run: %v\n%s", what, err, b)
		}
		checkTree(ctx, t, what+", then run again", out, data, want2024, true)
		if t.Failed() {
			t.FailNow()
		}
		os.RemoveAll(dir)
	}
	t.Logf("normal run %v (median of %v); %d kills at delays 0 to %v, %v apart; stages %v; %d kills left temporary files",
		normal, durs, crashRuns, maxDelay, maxDelay/(crashRuns-1), stages, leftovers)
	if stages["finished"]+stages["before the snapshot"] == crashRuns {
		t.Errorf("no kill landed while storing or publishing: stages %v", stages)
	}
}

// crashStage says how far a killed run got, from what it left.
func crashStage(t *testing.T, dir string, finished bool) string {
	t.Helper()
	if finished {
		return "finished"
	}
	temp := func(pattern string) bool {
		m, _ := filepath.Glob(pattern)
		return len(m) > 0
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "cpt", "2025.sqlite")); err != nil {
		if temp(filepath.Join(dir, "data", "cpt", ".2025.sqlite-*.tmp")) {
			return "writing the snapshot"
		}
		return "before the snapshot"
	}
	if _, err := os.Stat(filepath.Join(dir, "public", "cpt", "2025")); err != nil {
		if temp(filepath.Join(dir, "public", "cpt", ".tmp-2025-*")) {
			return "building the release folder"
		}
		return "snapshot stored"
	}
	var root format.RootIndex
	b, _ := os.ReadFile(filepath.Join(dir, "public", format.IndexName))
	json.Unmarshal(b, &root)
	for _, s := range root.Systems {
		for _, r := range s.Releases {
			if r.Label == "2025" {
				return "indexed, not exited"
			}
		}
	}
	return "folder renamed, indexing"
}

// tempNames lists the hidden names under dir: temporary files and folders.
func tempNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(e.Name(), ".") && p != dir {
			names = append(names, p)
			if e.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// dirSums maps the files of a folder to their SHA-256.
func dirSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := dirSumsErr(dir)
	if m == nil {
		t.Fatalf("cannot read %s", dir)
	}
	return m
}

// checkTree checks that the published tree under out and the snapshots
// under data are consistent: every visible release folder complete and
// matching its manifest and SHA256SUMS, indexes and pointers naming
// complete releases, 2024 as it was. done asks for the state after a
// successful run: 2025 published and listed, no temporary names left.
func checkTree(ctx context.Context, t *testing.T, what, out, data string, want2024 map[string]string, done bool) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s", what, fmt.Sprintf(format, args...))
	}
	for _, p := range tempNames(t, filepath.Dir(out)) {
		name := filepath.Base(p)
		switch {
		case done:
			fail("temporary %s left after a successful run", p)
		case strings.HasPrefix(name, ".tmp-"), strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp"):
		default:
			fail("unexpected hidden name %s", p)
		}
	}

	// Release folders: complete or absent.
	sysDir := filepath.Join(out, "cpt")
	entries, err := os.ReadDir(sysDir)
	if err != nil {
		fail("%v", err)
		return
	}
	complete := map[string]*format.Manifest{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		m, err := checkRelease(ctx, filepath.Join(sysDir, e.Name()))
		if err != nil {
			fail("release %s: %v", e.Name(), err)
			continue
		}
		complete[e.Name()] = m
	}
	if got := dirSums(t, filepath.Join(sysDir, "2024")); !maps.Equal(got, want2024) {
		fail("release 2024 changed: %v, want %v", got, want2024)
	}
	wantLabels := []string{"2024"}
	if done {
		wantLabels = append(wantLabels, "2025")
	}
	for _, l := range wantLabels {
		if complete[l] == nil {
			fail("release %s missing", l)
		}
	}

	// Indexes and pointers name complete releases, with their bytes.
	snapOf := func(label string) (format.ManifestFile, bool) {
		m := complete[label]
		if m == nil {
			return format.ManifestFile{}, false
		}
		for _, f := range m.Files {
			if f.Name == format.SnapshotName(codeset.CPT, label) {
				return f, true
			}
		}
		return format.ManifestFile{}, false
	}
	var sysIdx format.SystemIndex
	if err := readJSONFile(filepath.Join(sysDir, format.IndexName), &sysIdx); err != nil {
		fail("%v", err)
	}
	var root format.RootIndex
	if err := readJSONFile(filepath.Join(out, format.IndexName), &root); err != nil {
		fail("%v", err)
	}
	listed := [][]format.IndexRelease{sysIdx.Releases}
	for _, s := range root.Systems {
		listed = append(listed, s.Releases)
	}
	for i, rels := range listed {
		var labels []string
		for _, r := range rels {
			labels = append(labels, r.Label)
			f, ok := snapOf(r.Label)
			if !ok || f.SHA256 != r.SnapshotSHA256 || f.Bytes != r.SnapshotBytes {
				fail("index %d lists %s, not a complete release with that snapshot", i, r.Label)
			}
		}
		if done && !slices.Equal(labels, wantLabels) || !slices.Contains(labels, "2024") {
			fail("index %d lists %v, want %v", i, labels, wantLabels)
		}
	}
	if len(root.Systems) != 1 {
		fail("root index lists %d systems, want 1", len(root.Systems))
	}
	for _, which := range []string{"latest", "current"} {
		p, err := format.ReadPointer(out, codeset.CPT, which)
		if err != nil {
			fail("%v", err)
			continue
		}
		f, ok := snapOf(p.Label)
		if !ok || f.SHA256 != p.SHA256 || f.Bytes != p.Bytes {
			fail("%s.json points to %s, not a complete release with that snapshot", which, p.Label)
		}
		if done && p.Label != "2025" {
			fail("%s.json points to %s, want 2025", which, p.Label)
		}
	}
	if _, err := history.Read(ctx, filepath.Join(sysDir, format.HistoryName), "99213"); err != nil && !errors.Is(err, snapshot.ErrNoCode) {
		fail("history: %v", err)
	}

	// Stored snapshots open; a published release has its snapshot stored.
	stored, err := filepath.Glob(filepath.Join(data, "cpt", "*.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range stored {
		if _, err := snapshot.Read(ctx, p); err != nil {
			fail("stored snapshot: %v", err)
		}
	}
	for label := range complete {
		if !slices.Contains(stored, filepath.Join(data, "cpt", label+".sqlite")) {
			fail("release %s published without its stored snapshot", label)
		}
	}
}

// checkRelease checks one release folder against its manifest and
// SHA256SUMS: the same files, bytes and SHA-256, and a readable snapshot.
func checkRelease(ctx context.Context, dir string) (*format.Manifest, error) {
	m, err := format.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	sums := dirSumsErr(dir)
	if sums == nil {
		return nil, fmt.Errorf("cannot read %s", dir)
	}
	delete(sums, format.ManifestName)
	var listed strings.Builder
	for _, f := range m.Files {
		got, ok := sums[f.Name]
		if !ok {
			return nil, fmt.Errorf("%s missing", f.Name)
		}
		st, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil || got != f.SHA256 || st.Size() != f.Bytes {
			return nil, fmt.Errorf("%s: %d bytes sha256 %s, manifest says %d bytes %s", f.Name, st.Size(), got, f.Bytes, f.SHA256)
		}
		delete(sums, f.Name)
		if f.Name != format.SumsName {
			fmt.Fprintf(&listed, "%s  %s\n", f.SHA256, f.Name)
		}
	}
	if len(sums) > 0 {
		return nil, fmt.Errorf("files the manifest does not list: %v", slices.Sorted(maps.Keys(sums)))
	}
	b, err := os.ReadFile(filepath.Join(dir, format.SumsName))
	if err != nil || string(b) != listed.String() {
		return nil, fmt.Errorf("SHA256SUMS %q disagrees with the manifest %q", b, listed.String())
	}
	r, err := snapshot.Read(ctx, filepath.Join(dir, format.SnapshotName(m.System, m.Label)))
	if err != nil {
		return nil, err
	}
	if r.Label != filepath.Base(dir) || len(r.Codes) != m.Counts.Codes {
		return nil, fmt.Errorf("snapshot holds %s with %d codes, manifest says %s with %d", r.Label, len(r.Codes), m.Label, m.Counts.Codes)
	}
	return m, nil
}

// dirSumsErr is dirSums without a test to fail: nil when dir is unreadable.
func dirSumsErr(dir string) map[string]string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(b)
		m[e.Name()] = hex.EncodeToString(sum[:])
	}
	return m
}

// readJSONFile decodes the JSON file at path into v.
func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// TestRunResumes checks what a second run under a taken label does: other
// files are refused, with the way to publish what is stored; the same
// files finish the job, and once published a further run changes nothing.
func TestRunResumes(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	file := func(name string) string { return filepath.Join(fixtures, name) }
	if _, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", "2024", file("cpt-2024.xlsx")); err != nil {
		t.Fatalf("run 2024: %v\n%s", err, stderr)
	}
	// A stored snapshot without its publication, as a kill leaves it.
	if _, stderr, err := run(t, data, out, "ingest", "--system", "cpt", "--release", "2025", file("cpt-2025.xlsx")); err != nil {
		t.Fatalf("ingest 2025: %v\n%s", err, stderr)
	}
	before := treeState(t, data, out)
	_, _, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", file("cpt-2026.xlsx"))
	if want := "release already exists: snapshot " + filepath.Join(data, "cpt", "2025.sqlite") + " (a corrected file needs a new label, e.g. 2025-r2), or publish the stored one with codeset publish --system cpt --release 2025"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("run 2025 with other files: %v, want %q", err, want)
	}
	if after := treeState(t, data, out); !maps.Equal(before, after) {
		t.Errorf("refused run changed the tree")
	}
	stdout, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", file("cpt-2025.xlsx"))
	if err != nil || !strings.Contains(stdout, "published: "+filepath.Join(out, "cpt", "2025")) || !strings.Contains(stderr, "interrupted run") {
		t.Fatalf("run 2025 with the stored files: %v\n%s\n%s", err, stdout, stderr)
	}
	if _, err := checkRelease(context.Background(), filepath.Join(out, "cpt", "2025")); err != nil {
		t.Error(err)
	}
	published := treeState(t, data, out)
	if _, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", file("cpt-2025.xlsx")); err != nil {
		t.Errorf("run 2025 again: %v\n%s", err, stderr)
	}
	if after := treeState(t, data, out); !maps.Equal(published, after) {
		t.Errorf("run of a published release changed the tree")
	}
	if _, _, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", file("cpt-2026.xlsx")); err == nil || !strings.Contains(err.Error(), "release already exists") {
		t.Errorf("run of a published label with other files: %v, want it refused", err)
	}
}
