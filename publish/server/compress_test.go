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
)

// TestCompress checks that text is gzipped for a client that asks, that
// the bytes unpack to the file, that a conditional request still gets
// 304, that a snapshot is never compressed, and that a release folder
// without its slash leads to its changelog.
func TestCompress(t *testing.T) {
	out := t.TempDir()
	page := strings.Repeat("<p>codeset changelog</p>\n", 200)
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
	defer srv.Close()

	resp, body := get(t, srv, "/cpt/2026/changelog.html", map[string]string{"Accept-Encoding": "gzip, br"})
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
