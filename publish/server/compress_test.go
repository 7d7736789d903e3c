package server

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
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

// FuzzPickEncoding checks pickEncoding, which reads the header in place,
// against pickEncodingMap, the plain reading it replaced: a map of each
// coding's weight.
func FuzzPickEncoding(f *testing.F) {
	for _, h := range []string{"", "gzip", "gzip, deflate, br", "br;q=0, gzip", "*;q=0, gzip", "BR", "gzip; q=0",
		"br;q=bad, gzip", "br;q=0.5;q=1, gzip;q=0.9", "gzip, gzip;q=0", "gzip;q=0, *", " , ;q=1, Br ; Q = 0.3 "} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if got, want := pickEncoding(h), pickEncodingMap(h); got != want {
			t.Errorf("pickEncoding(%q) = %q, want %q", h, got, want)
		}
	})
}

// pickEncodingMap is pickEncoding as it was first written, for
// FuzzPickEncoding.
func pickEncodingMap(h string) string {
	q := map[string]float64{}
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		enc = strings.ToLower(strings.TrimSpace(enc))
		if enc == "" {
			continue
		}
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil {
					f = 0
				}
				v = f
			}
		}
		q[enc] = v
	}
	accepts := func(enc string) (float64, bool) {
		if v, ok := q[enc]; ok {
			return v, v > 0
		}
		v, ok := q["*"]
		return v, ok && v > 0
	}
	br, brOK := accepts(encBrotli)
	gz, gzOK := accepts(encGzip)
	switch {
	case brOK && (!gzOK || br >= gz):
		return encBrotli
	case gzOK:
		return encGzip
	}
	return ""
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

// TestCompressBySize checks where compress draws the line: an answer that
// says it is shorter than minCompress goes as it is (its length and strong
// ETag kept), one of minCompress bytes or more is compressed (weak ETag, no
// length), and both say Vary: Accept-Encoding, whichever coding the client
// accepts.
func TestCompressBySize(t *testing.T) {
	// The median code lookup of ICD-10-CM FY2025 (1,207 bytes) fits one
	// segment and goes as it is.
	const typicalLookup = 1207
	if typicalLookup >= minCompress {
		t.Errorf("minCompress %d: a typical code lookup of %d bytes would be compressed", minCompress, typicalLookup)
	}
	for _, n := range []int{typicalLookup, minCompress - 1, minCompress, minCompress + 1, 2 * minCompress} {
		body := strings.Repeat("E11.65 type 2 diabetes mellitus with hyperglycemia\n", n/50+1)[:n]
		srv := httptest.NewServer(compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Header().Set("ETag", `"sum"`)
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, body)
		})))
		for _, enc := range []string{"gzip", "br", "identity"} {
			resp, got := get(t, srv, "/", map[string]string{"Accept-Encoding": enc})
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%d bytes, %s: Vary %q", n, enc, resp.Header.Get("Vary"))
			}
			ce, etag := resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag")
			if n < minCompress || enc == "identity" {
				if ce != "" || got != body || resp.Header.Get("Content-Length") != strconv.Itoa(n) || etag != `"sum"` {
					t.Errorf("%d bytes, %s: Content-Encoding %q, Content-Length %q, ETag %q, %d bytes; want it as it is",
						n, enc, ce, resp.Header.Get("Content-Length"), etag, len(got))
				}
				continue
			}
			if ce != enc || etag != `W/"sum"` {
				t.Errorf("%d bytes, %s: Content-Encoding %q, ETag %q; want %s, weak", n, enc, ce, etag, enc)
				continue
			}
			var r io.Reader
			if enc == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(got))
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			} else {
				r = brotli.NewReader(strings.NewReader(got))
			}
			if plain, err := io.ReadAll(r); err != nil || string(plain) != body {
				t.Errorf("%d bytes, %s: unpacked to %d bytes (%v)", n, enc, len(plain), err)
			}
		}
		srv.Close()
	}
}

// TestLookupNotCompressed checks that a code lookup (about 1 KB) is
// answered as it is to a client asking for gzip, saying Vary, with the
// same bytes as to a client that asks for no coding.
func TestLookupNotCompressed(t *testing.T) {
	out, _ := publishtest.PublishAll(t, icdReleases(), fixture.Day(2026, 1, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	const path = "/api/v1/icd10cm/codes/E11.65?release=FY2026"
	_, plain := get(t, srv, path, nil)
	if len(plain) >= minCompress || !strings.Contains(plain, `"E11.65"`) {
		t.Fatalf("lookup answered %d bytes: %s", len(plain), plain)
	}
	for _, enc := range []string{"gzip", "br", "gzip, deflate, br"} {
		resp, body := get(t, srv, path, map[string]string{"Accept-Encoding": enc})
		if resp.Header.Get("Content-Encoding") != "" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") || body != plain {
			t.Errorf("%s: Content-Encoding %q Vary %q, body equal %v", enc, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), body == plain)
		}
	}
}
