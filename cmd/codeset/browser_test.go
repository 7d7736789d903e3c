package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset/publish/server"
	"github.com/codeset/codeset/publish/snapshot"
)

// chromium returns the headless browser, skipping the test when it is
// missing outside CI; in CI (CI=true) a missing browser fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is not installed and CI=true: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed; set CI=true to make this a failure")
	return ""
}

// browse opens url in headless Chromium and returns the DOM after the
// page's scripts ran, or writes a screenshot when shot is not empty.
func browse(t *testing.T, bin, url, shot string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,1600"}
	if shot != "" {
		args = append(args, "--screenshot="+shot)
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

// TestBrowser opens the HTML changelog and the index page in real headless
// Chromium and checks what a person sees once the page's script has run:
// the counts, highlighted revisions, the filter, the release list.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	_, out := runDemo(t)
	srv := httptest.NewServer(server.New(out))
	defer srv.Close()

	dom := browse(t, bin, srv.URL+"/cpt/2026/changelog.html", "")
	for _, want := range []string{
		"<h1>CPT changes: 2025 → 2026</h1>",
		`<li data-kind="added"><span class="n">6</span><span class="k">added</span></li>`,
		`<li data-kind="deleted"><span class="n">2</span>`,
		`<li data-kind="revised"><span class="n">4</span>`,
		`<li data-kind="unchanged"><span class="n">46</span>`,
		"DEMO <del>SMOKING</del> <ins>TOBACCO USE</ins> ASKED",
		"<del>not described elsewhere</del> <ins>including any drain placement</ins>",
		// Written by the page's script, so it ran:
		`<span id="shown">14 rows shown</span>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered changelog lacks %q", want)
		}
	}
	if strings.Contains(dom, " hidden=") {
		t.Errorf("unfiltered changelog hides rows")
	}

	// The filter, preset from the address: revised codes of category II.
	dom = browse(t, bin, srv.URL+"/cpt/2026/changelog.html#kind=revised&category=II", "")
	if !strings.Contains(dom, `<span id="shown">1 rows shown</span>`) {
		t.Errorf("filtered changelog does not show exactly one row")
	}
	visible := regexp.MustCompile(`<tr data-kind="[a-z]+" data-category="[A-Z]*" data-code="[0-9A-Z]+">`).FindAllString(dom, -1)
	if len(visible) != 1 || !strings.HasPrefix(visible[0], `<tr data-kind="revised" data-category="II"`) {
		t.Errorf("visible rows after filtering = %q, want the one revised category II row", visible)
	}
	if !strings.Contains(dom, `<section class="kind" id="added" data-kind="added" hidden="">`) {
		t.Errorf("the added section is not hidden by the filter")
	}

	dom = browse(t, bin, srv.URL+"/", "")
	for _, want := range []string{
		"<h1>codeset releases</h1>",
		`<tr data-release="2024">`, `<tr data-release="2025">`, `<tr data-release="2026">`,
		`<span class="badge">latest</span>`, `<span class="badge current">current</span>`,
		`<a href="cpt/2026/changelog.html">changelog</a>`,
		`<a href="cpt/2026/cpt-2026.sqlite">cpt-2026.sqlite</a>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered index page lacks %q", want)
		}
	}

	// A screenshot, to look at (go test -run TestBrowser -v prints where
	// it is kept with CODESET_SCREENSHOTS=DIR) and to check it is not blank.
	dir := os.Getenv("CODESET_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for name, url := range map[string]string{"changelog.png": "/cpt/2026/changelog.html", "index.png": "/"} {
		shot := filepath.Join(dir, name)
		browse(t, bin, srv.URL+url, shot)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 600 || colours(img) < 8 {
			t.Errorf("%s: %v with %d colours: looks blank", name, b, colours(img))
		}
		t.Logf("screenshot %s", shot)
	}
}

// colours counts the distinct colours of img, up to 1000.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// TestDeterministicTree builds the same releases twice, into two trees at
// different paths, and compares the SHA-256 of every published file.
func TestDeterministicTree(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	build := func() (string, string) {
		dir := t.TempDir()
		data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
		for _, r := range demoReleases {
			m := &Main{Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer), DataDir: data, OutDir: out, Now: func() time.Time { return now }}
			if err := m.Run(context.Background(), []string{"run", "--system", "cpt", "--release", r.label, filepath.Join(fixtures, r.file)}); err != nil {
				t.Fatal(err)
			}
			// Let any time stamp that could leak into a file differ.
			time.Sleep(1100 * time.Millisecond)
		}
		return data, out
	}
	data1, out1 := build()
	data2, out2 := build()
	if n := len(relState(t, out1)); n < 35 {
		t.Errorf("the published tree holds only %d entries", n)
	}
	for _, pair := range [][2]string{{out1, out2}, {data1, data2}} {
		a, b := relState(t, pair[0]), relState(t, pair[1])
		if len(a) < 5 {
			t.Errorf("%s holds only %d entries", pair[0], len(a))
		}
		for p, sum := range a {
			// The data directory's catalogue of snapshots names each
			// file by its inode and time: there to be, not to match.
			if filepath.Base(p) == snapshot.CatalogueName {
				if _, ok := b[p]; !ok {
					t.Errorf("%s is only in the first build", p)
				}
				continue
			}
			if b[p] != sum {
				t.Errorf("%s differs between two builds", p)
			}
		}
		for p := range b {
			if _, ok := a[p]; !ok {
				t.Errorf("%s is only in the second build", p)
			}
		}
	}
}

// relState is treeState keyed by paths relative to dir.
func relState(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for p, sum := range treeState(t, dir) {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			t.Fatal(err)
		}
		m[rel] = sum
	}
	return m
}

// browserSites publishes the demo and two ICD-10-CM releases of the
// synthetic fixtures, and serves the tree from a plain static file server
// and from codeset serve, for the browser tests: it returns Chromium, the
// tree, the folder for screenshots (CODESET_SCREENSHOTS when set) and the
// two sites' addresses.
func browserSites(t *testing.T) (bin, out, shots, static, served string) {
	t.Helper()
	bin = chromium(t)
	data, out := runDemo(t)
	icd := filepath.Join("..", "..", "testdata", "formats", "icd10cm")
	for _, r := range []struct{ label, file string }{{"FY2029", "icd10cm_codes_2029.txt"}, {"FY2030", "icd10cm_codes_2030.txt"}} {
		if _, stderr, err := run(t, data, out, "run", "--system", "icd10cm", "--release", r.label, "--allow-mass-delete", filepath.Join(icd, r.file)); err != nil {
			t.Fatalf("run icd10cm %s: %v\n%s", r.label, err, stderr)
		}
	}
	shots = os.Getenv("CODESET_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	t.Cleanup(srv.Close)
	return bin, out, shots, srv.URL, startServe(t, binary(t), out)
}
