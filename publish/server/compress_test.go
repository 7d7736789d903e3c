package server

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// TestCompress checks that text is gzipped for a client that asks, that
// the bytes unpack to the file, that a conditional request still gets
// 304, that a snapshot is never compressed, and that a release folder
// without its slash leads to its changelog.
func TestCompress(t *testing.T) {
	page := strings.Repeat("<p>codeset changelog</p>\n", 200)
	srv := textTree(t, page)

	resp, body := get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "gzip, deflate"})
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("changelog.html: Content-Encoding %q Vary %q, want gzip", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	if len(body) >= len(page)/4 {
		t.Errorf("compressed page is %d bytes of %d", len(body), len(page))
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || string(got) != page {
		t.Errorf("unpacked page differs (%v)", err)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) {
		t.Errorf("ETag of compressed answer = %q, want weak", etag)
	}
	resp, _ = get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional request: %s, want 304", resp.Status)
	}
	resp, _ = get(t, srv, "/cpt/2026/cpt-2026.sqlite", map[string]string{"Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("snapshot served with Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	resp, _ = get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still compressed")
	}

	noRedirect := srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, p := range []string{"/cpt/2026", "/cpt/2026/"} {
		resp, err := noRedirect.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || loc != "/cpt/2026/changelog.html" {
			t.Errorf("%s: %s to %q, want a redirect to /cpt/2026/changelog.html", p, resp.Status, loc)
		}
	}
}

// TestPickEncoding checks the negotiation of the content coding.
func TestPickEncoding(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br", "br"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0.5, gzip;q=0.8", "gzip"},
		{"br;q=0.8, gzip;q=0.8", "br"},
		{"gzip;q=0", ""},
		{"*", "br"},
		{"*;q=0, gzip", "gzip"},
		{"BR", "br"},
		{"gzip; q=0", ""},
		{"br;q=bad, gzip", "gzip"},
	} {
		if got := pickEncoding(c.header); got != c.want {
			t.Errorf("pickEncoding(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

// TestBrotli checks that a client accepting br gets the page compressed
// with brotli, unpacking to the file, with Vary and a weak ETag that a
// conditional request matches; that gzip is used when br is refused; and
// that an uncompressed answer still says Vary.
func TestBrotli(t *testing.T) {
	page := strings.Repeat("<p>codeset changelog, brotli</p>\n", 300)
	srv := textTree(t, page)

	plain, _ := get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "identity"})
	strong := plain.Header.Get("ETag")
	if !strings.HasPrefix(strong, `"`) || plain.Header.Get("Content-Encoding") != "" || !strings.Contains(plain.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("uncompressed answer: ETag %q Content-Encoding %q Vary %q", strong, plain.Header.Get("Content-Encoding"), plain.Header.Get("Vary"))
	}

	resp, body := get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if resp.Header.Get("Content-Encoding") != "br" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("Content-Encoding %q Vary %q, want br", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	if len(body) >= len(page)/4 {
		t.Errorf("brotli page is %d bytes of %d", len(body), len(page))
	}
	if got, err := io.ReadAll(brotli.NewReader(strings.NewReader(body))); err != nil || string(got) != page {
		t.Errorf("unpacked page differs (%v)", err)
	}
	etag := resp.Header.Get("ETag")
	if etag != "W/"+strong {
		t.Errorf("ETag of brotli answer = %q, want W/%s", etag, strong)
	}
	resp, _ = get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "br", "If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional brotli request: %s, want 304", resp.Status)
	}
	resp, body = get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "br;q=0, gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("br;q=0, gzip: Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	} else if zr, err := gzip.NewReader(strings.NewReader(body)); err != nil {
		t.Error(err)
	} else if got, err := io.ReadAll(zr); err != nil || string(got) != page {
		t.Errorf("gunzipped page differs (%v)", err)
	}
	resp, _ = get(t, srv, "/cpt/2026/cpt-2026.sqlite", map[string]string{"Accept-Encoding": "br"})
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("snapshot served with Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	// A short API answer is sent as it is (still saying Vary), a long one
	// compressed.
	resp, body = get(t, srv, "/healthz", map[string]string{"Accept-Encoding": "br"})
	if resp.Header.Get("Content-Encoding") != "" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz: Content-Encoding %q Vary %q body %q, want it plain with Vary", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), body)
	}
	long := strings.Repeat("a code and its descriptor ", minCompress/10)
	api := httptest.NewServer(compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Reply(w, http.StatusOK, map[string]string{"text": long})
	})))
	defer api.Close()
	resp, body = get(t, api, "/", map[string]string{"Accept-Encoding": "br"})
	if resp.Header.Get("Content-Encoding") != "br" {
		t.Errorf("long API answer: Content-Encoding %q, want br", resp.Header.Get("Content-Encoding"))
	} else if got, err := io.ReadAll(brotli.NewReader(strings.NewReader(body))); err != nil || !strings.Contains(string(got), long) {
		t.Errorf("long API answer unpacked to %d bytes (%v)", len(got), err)
	}
}

// TestFolderRedirects checks that a folder without its slash leads to
// the folder (a system folder) or to its changelog (a release folder).
func TestFolderRedirects(t *testing.T) {
	out := t.TempDir()
	rel := filepath.Join(out, "cpt", "2026")
	if err := os.MkdirAll(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{filepath.Join(rel, "manifest.json"): `{"files":[]}`, filepath.Join(rel, "changelog.html"): "<p>x</p>", filepath.Join(out, "cpt", "index.html"): "<p>cpt</p>"} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for p, want := range map[string]string{"/cpt": "/cpt/", "/cpt/2026": "/cpt/2026/changelog.html", "/cpt/2026/": "/cpt/2026/changelog.html"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || loc != want {
			t.Errorf("%s: %s to %q, want a redirect to %s", p, resp.Status, loc, want)
		}
	}
}

// textTree serves a tree whose one CPT release holds page as its HTML
// changelog, a small manifest and a snapshot that is not text.
func textTree(t *testing.T, page string) *httptest.Server {
	t.Helper()
	out := t.TempDir()
	rel := filepath.Join(out, "cpt", "2026")
	if err := os.MkdirAll(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"changelog.html": page, "manifest.json": `{"files":[]}`, "cpt-2026.sqlite": "SQLite format 3\x00" + page} {
		if err := os.WriteFile(filepath.Join(rel, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(out))
	t.Cleanup(srv.Close)
	return srv
}
