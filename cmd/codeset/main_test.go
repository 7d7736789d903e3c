package main

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// repo is the repository root, relative to this package.
const repo = "../.."

var fixtures = filepath.Join(repo, "testdata", "demo")

// run drives Main in-process with its own data and publish directories.
func run(t *testing.T, data, out string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	m := &Main{Stdout: &o, Stderr: &e, DataDir: data, OutDir: out}
	err = m.Run(context.Background(), args)
	return o.String(), e.String(), err
}

// runDemo publishes the three demo releases into a temporary directory.
func runDemo(t *testing.T) (data, out string) {
	t.Helper()
	dir := t.TempDir()
	data, out = filepath.Join(dir, "data"), filepath.Join(dir, "public")
	for _, r := range demoReleases {
		args := []string{"run", "--system", "cpt", "--release", r.label, filepath.Join(fixtures, r.file)}
		if r.crosswalk != "" {
			args = append(args, filepath.Join(fixtures, r.crosswalk))
		}
		if _, stderr, err := run(t, data, out, args...); err != nil {
			t.Fatalf("run %s: %v\n%s", r.label, err, stderr)
		}
	}
	return data, out
}

// TestDemoGolden compares every deterministic output of the demo with its
// golden file: each release's changelogs, manifest and SHA256SUMS, and the
// tree's indexes, pointers and index page as of a fixed date.
func TestDemoGolden(t *testing.T) {
	data, out := runDemo(t)
	// Reindex as of a fixed day, so current.json does not follow the clock.
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, DataDir: data, OutDir: out,
		Now: func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }}
	if err := m.Run(context.Background(), []string{"reindex"}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{} // golden name to published path
	for _, r := range demoReleases {
		for _, name := range []string{"changelog.md", "changelog.json", "changelog.html", "changelog.csv", "codesystem.json", "manifest.json", "SHA256SUMS"} {
			files["cpt-"+r.label+"-"+name] = filepath.Join("cpt", r.label, name)
		}
	}
	for _, name := range []string{"index.json", "index.html"} {
		files["tree-"+name] = name
	}
	for _, name := range []string{"index.json", "latest.json", "current.json"} {
		files["tree-cpt-"+name] = filepath.Join("cpt", name)
	}
	for goldenName, rel := range files {
		got, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join(repo, "testdata", "golden", goldenName)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/codeset -run TestDemoGolden -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; run go test ./cmd/codeset -run TestDemoGolden -update if the change is intended\ngot:\n%s", rel, golden, got)
		}
	}
}

// expected mirrors what testdata/gendemo records about the changes it made.
type expected struct {
	Transitions []struct {
		From       string                    `json:"from"`
		To         string                    `json:"to"`
		Counts     map[string]int            `json:"counts"`
		ByCategory map[string]map[string]int `json:"by_category"`
		Codes      map[string][]string       `json:"codes"`
		ReplacedBy map[string][]string       `json:"replaced_by"`
	} `json:"transitions"`
}

// TestDemoCountsMatchGenerator checks the published JSON changelogs against
// the changes the fixture generator says it put in.
func TestDemoCountsMatchGenerator(t *testing.T) {
	_, out := runDemo(t)
	raw, err := os.ReadFile(filepath.Join(fixtures, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Transitions) != 3 {
		t.Fatalf("expected.json has %d transitions, want 3", len(exp.Transitions))
	}
	for _, tr := range exp.Transitions {
		var got struct {
			From    *string        `json:"from"`
			Summary map[string]int `json:"summary"`
			Changes []struct {
				Code       string `json:"code"`
				Change     string `json:"change"`
				Category   string `json:"category"`
				ReplacedBy []struct {
					Code string `json:"code"`
				} `json:"replaced_by"`
			} `json:"changes"`
		}
		raw, err := os.ReadFile(filepath.Join(out, "cpt", tr.To, "changelog.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if (got.From == nil) != (tr.From == "") || (got.From != nil && *got.From != tr.From) {
			t.Errorf("%s: from = %v, want %q", tr.To, got.From, tr.From)
		}
		for k, n := range got.Summary {
			// The generator makes no kinds beyond its own (CPT has no
			// discontinued codes): those must stay zero.
			if want := tr.Counts[k]; n != want {
				t.Errorf("%s: summary %s = %d, want %d", tr.To, k, n, want)
			}
		}
		for k := range tr.Counts {
			if _, ok := got.Summary[k]; !ok {
				t.Errorf("%s: summary lacks %s", tr.To, k)
			}
		}
		codes := map[string][]string{}
		byCat := map[string]map[string]int{}
		for _, c := range got.Changes {
			if c.Change == "deleted" {
				// The crosswalk given with the release names these.
				rb := []string{}
				for _, x := range c.ReplacedBy {
					rb = append(rb, x.Code)
				}
				if want := tr.ReplacedBy[c.Code]; !reflect.DeepEqual(rb, want) {
					t.Errorf("%s: %s replaced by %v, the crosswalk names %v", tr.To, c.Code, rb, want)
				}
			}
			codes[c.Change] = append(codes[c.Change], c.Code)
			if byCat[c.Category] == nil {
				byCat[c.Category] = map[string]int{}
			}
			byCat[c.Category][c.Change]++
		}
		for kind, want := range tr.Codes {
			if kind == "unchanged" {
				continue
			}
			sort.Strings(codes[kind])
			if len(want) != len(codes[kind]) || (len(want) > 0 && !reflect.DeepEqual(codes[kind], want)) {
				t.Errorf("%s: %s codes = %v, want %v", tr.To, kind, codes[kind], want)
			}
		}
		for cat, counts := range tr.ByCategory {
			for kind, n := range counts {
				if kind != "unchanged" && byCat[cat][kind] != n {
					t.Errorf("%s: category %s %s = %d, want %d", tr.To, cat, kind, byCat[cat][kind], n)
				}
			}
		}
	}
}

func TestDiffAnyTwoReleases(t *testing.T) {
	data, out := runDemo(t)
	stdout, stderr, err := run(t, data, out, "diff", "--system", "cpt", "--from", "2024", "--to", "2026", "--format", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var l struct {
		From    string         `json:"from"`
		To      string         `json:"to"`
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal([]byte(stdout), &l); err != nil {
		t.Fatal(err)
	}
	// 20958 was in 2024, left in 2025 and is back in 2026: against 2024 it
	// never went away, so nothing is reactivated.
	if l.From != "2024" || l.To != "2026" || l.Summary["reactivated"] != 0 || l.Summary["added"] == 0 {
		t.Errorf("diff 2024..2026 = %+v", l)
	}
	md, _, err := run(t, data, out, "diff", "--system", "cpt", "--from", "2025", "--to", "2026")
	if err != nil {
		t.Fatal(err)
	}
	published, _ := os.ReadFile(filepath.Join(out, "cpt", "2026", "changelog.md"))
	if md != string(published) {
		t.Errorf("diff 2025..2026 differs from the published changelog")
	}
}

func TestIngestThenPublish(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	for _, r := range demoReleases[:2] {
		args := []string{"ingest", "--system", "cpt", "--release", r.label, filepath.Join(fixtures, r.file)}
		if r.crosswalk != "" {
			args = append(args, filepath.Join(fixtures, r.crosswalk))
		}
		if _, stderr, err := run(t, data, out, args...); err != nil {
			t.Fatalf("ingest %s: %v\n%s", r.label, err, stderr)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("ingest published something: %v", entries)
	}
	for _, label := range []string{"2024", "2025"} {
		if _, stderr, err := run(t, data, out, "publish", "--system", "cpt", "--release", label); err != nil {
			t.Fatalf("publish %s: %v\n%s", label, err, stderr)
		}
	}
	_, out2 := runDemo(t)
	for _, name := range []string{"changelog.md", "changelog.json"} {
		a, _ := os.ReadFile(filepath.Join(out, "cpt", "2025", name))
		b, _ := os.ReadFile(filepath.Join(out2, "cpt", "2025", name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s from ingest+publish differs from run", name)
		}
	}
	stdout, _, err := run(t, data, out, "releases", "--system", "cpt")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SYSTEM  RELEASE  EFFECTIVE   CODES  STATUS", "cpt     2024     2024-01-01  47     -", "cpt     2025     2025-01-01  53     latest"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("releases output lacks %q:\n%s", want, stdout)
		}
	}
	if _, _, err := run(t, data, out, "publish", "--system", "cpt", "--release", "2025"); err == nil || !strings.Contains(err.Error(), "already published") {
		t.Errorf("second publish: err = %v, want already published", err)
	}
}

// treeState maps every file under dirs to its SHA-256, to prove that a
// failed run changed nothing. The run ledger and the lock files are left
// out: recording every run, failed ones too, is their job.
func treeState(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if rel, _ := filepath.Rel(d, path); rel == "locks" || strings.HasPrefix(rel, "ledger.sqlite") {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if e.IsDir() {
				m[path] = "dir"
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			m[path] = hex.EncodeToString(sum[:])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func writeBook(t *testing.T, path string, rows ...[]any) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for r, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// TestBadInput runs each kind of bad input against a tree that already holds
// the 2024 demo release, and checks the one-line message and that nothing
// on disk changed.
func TestBadInput(t *testing.T) {
	in := t.TempDir()
	header := []any{"CPT Code", "Short Descriptor", "Medium Descriptor", "Long Descriptor"}
	file := func(name, content string) string {
		p := filepath.Join(in, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	book := func(name string, rows ...[]any) string {
		p := filepath.Join(in, name)
		writeBook(t, p, rows...)
		return p
	}
	tests := []struct {
		name  string
		label string
		file  string
		want  string
		sys   string // default cpt
	}{
		{"missing file", "2025", filepath.Join(in, "absent.xlsx"), "absent.xlsx: file not found", ""},
		{"text named xlsx", "2025", file("notes.xlsx", "this is not a workbook\n"), "notes.xlsx: not an XLSX workbook: the file is not a zip archive", ""},
		{"corrupt zip", "2025", file("corrupt.xlsx", "PK\x03\x04\x14\x00truncated"), "corrupt.xlsx: not a readable XLSX workbook", ""},
		{"no code column", "2025", book("nocol.xlsx", []any{"Title"}, []any{"Procedure", "Wording"}, []any{"10021", "Drain"}),
			`nocol.xlsx: no sheet with a recognisable code column: looked in the first 50 rows of sheets "Sheet1"`, ""},
		{"invalid code", "2025", book("badcode.xlsx", []any{"Title"}, header, []any{"10021", "a", "b", "c"}, []any{"9921X", "a", "b", "c"}),
			`badcode.xlsx!Sheet1 row 4 col A (CPT Code): bad code "9921X": want 5 digits (Category I)`, ""},
		{"duplicate code", "2025", book("dup.xlsx", header, []any{"10021", "a", "b", "c"}, []any{"10021", "a", "b", "other"}),
			`dup.xlsx!Sheet1 row 3: duplicate code "10021" with a different record than`, ""},
		{"no codes", "2025", book("empty.xlsx", []any{"Title"}, header), "empty.xlsx: no codes found: the release is empty", ""},
		{"label exists", "2024", filepath.Join(fixtures, "cpt-2025.xlsx"), "cpt 2024: release already exists", ""},
		{"cell over the size limit", "2025", file("long.csv", "CPT Code,Long Descriptor\n10021,"+strings.Repeat("very long ", 10000)+"\n"),
			"long.csv row 2 col B: cell of 100000 bytes: over the 65536-byte cell limit", ""},
		{"zip bomb", "FY2025", bomb(t, in), "bomb.zip/icd10cm_codes_2025.txt: unpacks to more than 1000 times its packed size", "icd10cm"},
		{"zip for a system without zips", "2025", bomb(t, in), "bomb.zip: the cpt profile names no files to take from a zip: pass the file itself", ""},
		{"truncated release", "2025", book("truncated.xlsx", header, []any{"10033", "a", "b", "c"}, []any{"99214", "a", "b", "c"}),
			"refused to publish: cpt 2025 would delete 45 of the 47 codes of 2024 (95.7%), more than the 5.0% allowed; if this is intended, run again with --allow-mass-delete", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
			if _, _, err := run(t, data, out, "run", "--system", "cpt", "--release", "2024", filepath.Join(fixtures, "cpt-2024.xlsx")); err != nil {
				t.Fatal(err)
			}
			before := treeState(t, data, out)
			var stderr bytes.Buffer
			m := &Main{Stdout: new(bytes.Buffer), Stderr: &stderr, DataDir: data, OutDir: out}
			sys := cmp.Or(tt.sys, "cpt")
			err := m.Run(context.Background(), []string{"run", "--system", sys, "--release", tt.label, tt.file})
			if err == nil {
				t.Fatal("run succeeded")
			}
			if code := m.report(err); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			msg := stderr.String()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("stderr = %q\nwant it to contain %q", msg, tt.want)
			}
			if strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", msg)
			}
			if after := treeState(t, data, out); !reflect.DeepEqual(before, after) {
				t.Errorf("a failed run changed the data or published tree:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// bomb writes a zip whose one member, named like an ICD-10-CM codes file,
// unpacks to more than a thousand times its packed size.
func bomb(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "bomb.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	w, err := zw.Create("icd10cm_codes_2025.txt")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		w.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBinary runs the real binary for the exit statuses.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	tests := []struct {
		args   []string
		status int
		stdout string
		stderr string
	}{
		{[]string{"version"}, 0, "codeset 0.1.0", ""},
		{[]string{"--help"}, 0, "", "Usage: codeset [--data DIR] [--out DIR] COMMAND"},
		{[]string{"run", "--help"}, 0, "", "Usage: codeset run --system S --release R"},
		{[]string{"bogus"}, 2, "", `unknown command "bogus"`},
		{[]string{"--version"}, 0, "codeset 0.1.0", ""},
		{[]string{"relases"}, 2, "", `unknown command "relases"; did you mean "releases"? (run 'codeset --help' for the commands)`},
		{[]string{"diff", "--form", "2025"}, 2, "", "unknown flag --form; did you mean --from? (run 'codeset diff --help' for usage)"},
		{[]string{"run", "--release", "2026"}, 2, "", "--system is required"},
		{[]string{"run", "--release", "2026", "x.xlsx"}, 1, "", "codeset: x.xlsx: file not found"},
		{[]string{"run", "--release", "2026", "../../README.md"}, 1, "", "cannot tell its code system from its content or name: pass --system"},
		{[]string{"serve", "--help"}, 0, "", "Usage: codeset serve"},
		{[]string{"trigger", "--help"}, 0, "", "Usage: codeset trigger JOB --config FILE [--wait]"},
		{[]string{"runs", "--help"}, 0, "", "Usage: codeset runs [--job J]"},
		{[]string{"trigger", "cpt"}, 2, "", "--config is required"},
		{[]string{"trigger", "--config", "x.toml"}, 2, "", "name the job to run"},
		{[]string{"serve", "--config", "x.toml", "--log-format", "xml"}, 2, "", `bad --log-format "xml"`},
		{[]string{"runs", "--config", "missing.toml"}, 1, "", "config missing.toml: open missing.toml: no such file"},
		{[]string{"run", "--system", "cpt", "x.xlsx"}, 2, "", "--release is required"},
		{[]string{"diff", "--system", "cpt", "--to", "2026", "--format", "pdf"}, 2, "", `bad --format "pdf"`},
		{[]string{"run", "--system", "cpt", "--release", "2026", "missing.xlsx"}, 1, "", "codeset: missing.xlsx: file not found\n"},
		{[]string{"run", "--system", "cpt", "--release", "2026", filepath.Join(fixtures, "cpt-2026.xlsx")}, 0, "CPT 2026, effective 2026-01-01: 58 codes", ""},
		{[]string{"releases"}, 0, "cpt     2026     2026-01-01  58", ""},
		{[]string{"releases", "--json"}, 0, `"latest": true`, ""},
		{[]string{"runs", "--json"}, 0, `"outcome": "published"`, ""},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin, append([]string{"--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "public")}, tt.args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if status != tt.status || !strings.Contains(o.String(), tt.stdout) || !strings.Contains(e.String(), tt.stderr) {
			t.Errorf("codeset %s: status %d, stdout %q, stderr %q; want status %d, stdout with %q, stderr with %q",
				strings.Join(tt.args, " "), status, o.String(), e.String(), tt.status, tt.stdout, tt.stderr)
		}
	}
}

func TestDemoCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	for i := 0; i < 2; i++ { // the second run replaces the first
		stdout, stderr, err := run(t, "", "", "demo", "--dir", dir, "--fixtures", fixtures)
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, stderr)
		}
		if !strings.Contains(stdout, "reactivated  1") || !strings.Contains(stdout, "Demo done.") {
			t.Errorf("demo output:\n%s", stdout)
		}
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "precious.txt"), []byte("x"), 0o644)
	if _, _, err := run(t, "", "", "demo", "--dir", other, "--fixtures", fixtures); err == nil || !strings.Contains(err.Error(), "was not made by the demo") {
		t.Errorf("demo over a foreign directory: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "precious.txt")); err != nil {
		t.Errorf("demo removed a foreign file: %v", err)
	}
}

// TestGuardOverride refuses a release that loses a column, then publishes
// it when the user says so with the flag the refusal names.
func TestGuardOverride(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	if _, _, err := run(t, data, out, "run", "--system", "cpt", "--release", "2024", filepath.Join(fixtures, "cpt-2024.xlsx")); err != nil {
		t.Fatal(err)
	}
	// The 2024 codes again, without the short descriptor column.
	var rows [][]any
	rows = append(rows, []any{"CPT Code", "Medium Descriptor", "Long Descriptor"})
	stdout, _, err := run(t, data, out, "diff", "--system", "cpt", "--to", "2024", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Changes []struct{ Code, Description string } `json:"changes"`
	}
	if err := json.Unmarshal([]byte(stdout), &l); err != nil {
		t.Fatal(err)
	}
	for _, c := range l.Changes {
		rows = append(rows, []any{c.Code, c.Description, c.Description})
	}
	book := filepath.Join(dir, "noshort.xlsx")
	writeBook(t, book, rows...)
	before := treeState(t, data, out)
	_, _, err = run(t, data, out, "run", "--system", "cpt", "--release", "2025", book)
	if err == nil || !strings.Contains(err.Error(), "field short was filled for 47 of the 47 codes of 2024") || !strings.Contains(err.Error(), "--allow-lost-field") {
		t.Fatalf("err = %v, want the lost-field refusal", err)
	}
	if after := treeState(t, data, out); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused run changed the tree")
	}
	if _, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", "--allow-lost-field", book); err != nil {
		t.Fatalf("with --allow-lost-field: %v\n%s", err, stderr)
	}
	// The ledger of the data directory has all three runs, newest first.
	stdout, _, err = run(t, data, out, "runs")
	if err != nil {
		t.Fatal(err)
	}
	// A zone line, the header, a row per run and the refusal's error,
	// wrapped under its row, each line within 100 columns.
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 6 || !strings.HasPrefix(lines[0], "times in ") || !strings.Contains(lines[2], "published  2025") || !strings.Contains(lines[3], "refused    2025") ||
		!strings.HasPrefix(lines[4], "    error: refused to publish") || !strings.Contains(stdout, "--allow-lost-field") || !strings.Contains(lines[len(lines)-1], "published  2024") {
		t.Errorf("codeset runs:\n%s", stdout)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("codeset runs prints a line of %d columns: %q", n, l)
		}
	}
}

// TestCrosswalkAdd attaches the demo crosswalks after the fact: to a
// published release as a new revision, publishing nothing, and to a
// release only stored by replacing its snapshot.
func TestCrosswalkAdd(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	for _, r := range demoReleases[:2] {
		if _, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", r.label, filepath.Join(fixtures, r.file)); err != nil {
			t.Fatalf("run %s: %v\n%s", r.label, err, stderr)
		}
	}
	published, err := os.ReadFile(filepath.Join(out, "cpt", "2025", "changelog.json"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, data, out, "crosswalk", "add", "--system", "cpt", "--release", "2025", filepath.Join(fixtures, "cpt-2025-crosswalk.csv"))
	if err != nil || !strings.Contains(stdout, "new revision 2025-r2") {
		t.Fatalf("crosswalk add to published 2025: %v\n%s%s", err, stdout, stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "cpt", "2025", "changelog.json")); !bytes.Equal(again, published) {
		t.Errorf("crosswalk add changed the published 2025 changelog")
	}
	if _, err := os.Stat(filepath.Join(out, "cpt", "2025-r2")); err == nil {
		t.Errorf("crosswalk add published the revision")
	}
	stdout, stderr, err = run(t, data, out, "diff", "--system", "cpt", "--from", "2024", "--to", "2025-r2")
	if err != nil || !strings.Contains(stdout, "| 5252F | II | Test result shared with the synthetic patient and recorded in the chart | 1174F |") {
		t.Errorf("diff 2024 → 2025-r2 does not show 5252F replaced by 1174F: %v\n%s%s", err, stdout, stderr)
	}
	// Stored, not published: the snapshot takes the links.
	if _, stderr, err := run(t, data, out, "ingest", "--system", "cpt", "--release", "2026", filepath.Join(fixtures, "cpt-2026.xlsx")); err != nil {
		t.Fatalf("ingest 2026: %v\n%s", err, stderr)
	}
	if _, stderr, err := run(t, data, out, "crosswalk", "add", "--system", "cpt", "--release", "2026", filepath.Join(fixtures, "cpt-2026-crosswalk.csv")); err != nil {
		t.Fatalf("crosswalk add to stored 2026: %v\n%s", err, stderr)
	}
	stdout, stderr, err = run(t, data, out, "publish", "--system", "cpt", "--release", "2026")
	if err != nil || !strings.Contains(stdout, "deleted 2, 2 with a replacement named by the publisher") {
		t.Errorf("publish 2026 after crosswalk add: %v\n%s%s", err, stdout, stderr)
	}
	// The same file twice is refused.
	if _, _, err := run(t, data, out, "crosswalk", "add", "--system", "cpt", "--release", "2026", filepath.Join(fixtures, "cpt-2026-crosswalk.csv")); err == nil {
		t.Errorf("crosswalk add of a file already among the sources succeeded")
	}
}

// TestLabelFromFileName runs codeset run without --release: the label comes
// from the file name, as in the service; a label whose year the file name
// contradicts is refused with its flag, and nothing is stored.
func TestLabelFromFileName(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	if _, stderr, err := run(t, data, out, "run", filepath.Join(fixtures, "cpt-2024.xlsx")); err != nil {
		t.Fatalf("run without --release: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "cpt", "2024", "manifest.json")); err != nil {
		t.Errorf("release 2024 not published from cpt-2024.xlsx: %v", err)
	}
	_, _, err := run(t, data, out, "run", "--release", "2026", filepath.Join(fixtures, "cpt-2025.xlsx"))
	if err == nil || !strings.Contains(err.Error(), "names the year 2026") || !strings.Contains(err.Error(), "--allow-label-year") {
		t.Errorf("label 2026 for cpt-2025.xlsx: err = %v, want the label-year refusal with its flag", err)
	}
	if _, err := os.Stat(filepath.Join(data, "cpt", "2026.sqlite")); err == nil {
		t.Errorf("a refused label was stored")
	}
}
