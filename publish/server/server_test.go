package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
)

func get(t *testing.T, srv *httptest.Server, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Send the path as written, "..", "%2e" and all.
	req.URL.Opaque, req.URL.RawQuery, _ = strings.Cut(path, "?")
	// The files as they are on disk, unless a test asks for gzip.
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHandlerFiles(t *testing.T) {
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases(), fixture.Day(2027, 6, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	m, err := format.ReadManifest(filepath.Join(out, "cpt", "2027"))
	if err != nil {
		t.Fatal(err)
	}
	var snapSum string
	var snapBytes int64
	for _, f := range m.Files {
		if f.Name == "cpt-2027.sqlite" {
			snapSum, snapBytes = f.SHA256, f.Bytes
		}
	}

	resp, body := get(t, srv, "/cpt/2027/cpt-2027.sqlite", nil)
	if resp.StatusCode != 200 || int64(len(body)) != snapBytes {
		t.Fatalf("snapshot: %s, %d bytes", resp.Status, len(body))
	}
	if got := resp.Header.Get("ETag"); got != `"`+snapSum+`"` {
		t.Errorf("snapshot ETag = %s, want the manifest's sha256 %s", got, snapSum)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("snapshot Cache-Control = %q", got)
	}
	if got := resp.Header.Get("Accept-Ranges"); got != "bytes" {
		t.Errorf("Accept-Ranges = %q", got)
	}

	resp, _ = get(t, srv, "/cpt/2027/cpt-2027.sqlite", map[string]string{"If-None-Match": `"` + snapSum + `"`})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the sha256: %s, want 304", resp.Status)
	}
	resp, part := get(t, srv, "/cpt/2027/cpt-2027.sqlite", map[string]string{"Range": "bytes=100-199"})
	if resp.StatusCode != http.StatusPartialContent || part != body[100:200] {
		t.Errorf("Range 100-199: %s, %d bytes", resp.Status, len(part))
	}

	for _, p := range []string{"/index.json", "/cpt/index.json", "/cpt/latest.json", "/cpt/current.json", "/cpt/history.sqlite"} {
		resp, body := get(t, srv, p, nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s", p, resp.Status)
			continue
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=60" {
			t.Errorf("%s Cache-Control = %q, want a short max-age", p, got)
		}
		raw, _ := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		if sum := sha256Hex(raw); resp.Header.Get("ETag") != `"`+sum+`"` || body != string(raw) {
			t.Errorf("%s ETag = %s, want %s", p, resp.Header.Get("ETag"), sum)
		}
	}
	// The manifest is not listed in itself: its ETag is computed.
	resp, body = get(t, srv, "/cpt/2027/manifest.json", nil)
	if resp.Header.Get("ETag") != `"`+sha256Hex([]byte(body))+`"` || resp.Header.Get("Cache-Control") != cacheImmutable {
		t.Errorf("manifest ETag %s Cache-Control %s", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}

	resp, body = get(t, srv, "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `<tr data-release="2027">`) || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("index page: %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	resp, body = get(t, srv, "/healthz", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz: %s %s", resp.Status, body)
	}
	resp, body = get(t, srv, "/cpt", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>CPT</h1>") {
		// The client follows the redirect to /cpt/, the system's page.
		t.Errorf("/cpt: %s, want the CPT page", resp.Status)
	}
	post, err := srv.Client().Post(srv.URL+"/index.json", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", post.Status)
	}
}

func TestHandlerRefusesEscapes(t *testing.T) {
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases()[:1], fixture.Day(2026, 6, 1))
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o644)
	if err := os.Symlink(secret, filepath.Join(out, "cpt", "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(out, "outside")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(out, "cpt", ".tmp-2027-x"), 0o755)
	os.WriteFile(filepath.Join(out, "cpt", ".tmp-2027-x", "manifest.json"), []byte("{}"), 0o644)
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	for _, p := range []string{
		"/../secret.txt",
		"/cpt/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/cpt/%2e%2e/%2e%2e/secret.txt",
		"/cpt/leak.txt",
		"/outside/secret.txt",
		"/cpt/.tmp-2027-x/manifest.json",
		"/cpt/2026/..%2f..%2f..%2fsecret.txt",
		"/cpt/2026/..%5c..%5c..%5csecret.txt",
		"/cpt/%2e%2e%2f%2e%2e%2fsecret.txt",
		"/outside/../outside/secret.txt",
		"/.%2e/secret.txt",
	} {
		resp, body := get(t, srv, p, nil)
		if resp.StatusCode < 400 || strings.Contains(body, "secret") {
			t.Errorf("%s: %s %q, want it refused", p, resp.Status, body)
		}
	}
}

func TestHandlerAPI(t *testing.T) {
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases(), fixture.Day(2027, 6, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()

	var code format.CodeResponse
	resp, body := get(t, srv, "/api/v1/cpt/codes/0500f", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("codes/0500f: %s %s", resp.Status, body)
	}
	if err := json.Unmarshal([]byte(body), &code); err != nil {
		t.Fatal(err)
	}
	// Current is 2027, where 0500F is deleted: its last record, a status
	// that says so, the date it went and its history.
	if code.Release != "2027" || code.Status != "deleted" || code.Billable || code.RetirementDate != "2027-01-01" ||
		code.Record == nil || code.Display != code.Record.Long || !strings.Contains(code.Message, "deleted by 2027") ||
		code.History == nil || len(code.History.Events) != 3 || code.History.Events[2].Change != "reactivated" {
		t.Errorf("codes/0500F = %+v", code)
	}
	resp, body = get(t, srv, "/api/v1/cpt/codes/0500F?release=latest", nil)
	code = format.CodeResponse{}
	json.Unmarshal([]byte(body), &code)
	if resp.StatusCode != 200 || code.Release != "2028" || code.Record == nil || code.Record.Long != "Initial prenatal care visit, first trimester" {
		t.Errorf("codes/0500F?release=latest: %s %+v", resp.Status, code)
	}
	resp, body = get(t, srv, "/api/v1/cpt/codes/00100?release=2026", nil)
	code = format.CodeResponse{}
	json.Unmarshal([]byte(body), &code)
	if resp.StatusCode != 200 || code.Record == nil || code.Record.Short != "ANESTH SALIVARY GLAND" {
		t.Errorf("codes/00100?release=2026: %s %+v", resp.Status, code)
	}

	var search format.SearchResponse
	resp, body = get(t, srv, "/api/v1/cpt/search?q=salivary+gland", nil)
	if err := json.Unmarshal([]byte(body), &search); err != nil || resp.StatusCode != 200 {
		t.Fatalf("search: %s %s", resp.Status, body)
	}
	if len(search.Results) != 1 || search.Results[0].Code != "00100" {
		t.Errorf("search salivary gland = %+v", search)
	}

	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/api/v1/cpt/codes/ZZZZZ", 404},
		{"/api/v1/nope/codes/00100", 404},
		{"/api/v1/cpt/codes/00100?release=..", 404},
		{"/api/v1/cpt/codes/00100?release=1999", 404},
		{"/api/v1/cpt/search", 400},
		{"/api/v1/cpt/search?q=x&limit=-1", 400},
		{"/api/v1/hcpcs/search?q=x", 404},
		{"/api/v1/cpt", 404},
	} {
		resp, body := get(t, srv, tt.path, nil)
		if resp.StatusCode != tt.status || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %s %s, want %d with an error", tt.path, resp.Status, body, tt.status)
		}
	}
}

func TestHandlerEmptyTree(t *testing.T) {
	srv := httptest.NewServer(New(filepath.Join(t.TempDir(), "missing")))
	defer srv.Close()
	resp, body := get(t, srv, "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Nothing is published yet.") {
		t.Errorf("empty tree index: %s %s", resp.Status, body)
	}
	if resp, _ := get(t, srv, "/index.json", nil); resp.StatusCode != 404 {
		t.Errorf("empty tree index.json: %s", resp.Status)
	}
}

func sha256Hex(b []byte) string {
	_, s, _ := durable.HashReader(context.Background(), bytes.NewReader(b))
	return s
}

// TestHandlerMethods checks that every route answers a method other than
// GET and HEAD with 405 and an Allow header, and still serves GET and HEAD.
func TestHandlerMethods(t *testing.T) {
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases()[:1], fixture.Day(2026, 6, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	routes := []string{
		"/", "/index.html", "/index.json", "/healthz", "/cpt/index.json", "/cpt/latest.json",
		"/cpt/2026/cpt-2026.sqlite", "/cpt/2026/changelog.html", "/cpt/history.sqlite",
		"/api/v1/cpt/codes/00100", "/api/v1/cpt/search?q=gland", "/missing", "/api/v1/nope",
	}
	methods := []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodTrace, "PROPFIND", "BREW"}
	for _, route := range routes {
		for _, method := range methods {
			req, err := http.NewRequest(method, srv.URL+route, strings.NewReader("body"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %s, Allow %q; want 405 with Allow: GET, HEAD", method, route, resp.Status, resp.Header.Get("Allow"))
			}
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, _ := http.NewRequest(method, srv.URL+route, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %s", method, route, resp.Status)
			}
		}
	}
}

// TestHandlerAPIRefusesSymlinks checks that the API reads no database that
// a symbolic link places outside the tree, even a valid one.
func TestHandlerAPIRefusesSymlinks(t *testing.T) {
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases()[:1], fixture.Day(2026, 6, 1))
	hist := filepath.Join(out, "cpt", format.HistoryName)
	outside := filepath.Join(t.TempDir(), format.HistoryName)
	if err := os.Rename(hist, outside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, hist); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(out, "cpt", "2026", format.SnapshotName(codeset.CPT, "2026"))
	outsideSnap := filepath.Join(t.TempDir(), "snap.sqlite")
	if err := os.Rename(snap, outsideSnap); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outsideSnap, snap); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	for _, p := range []string{"/api/v1/cpt/search?q=gland", "/api/v1/cpt/codes/00100", "/cpt/history.sqlite", "/cpt/2026/cpt-2026.sqlite"} {
		resp, body := get(t, srv, p, nil)
		if resp.StatusCode < 400 || strings.Contains(body, "SALIVARY") || strings.Contains(body, "SQLite format") {
			t.Errorf("%s: %s %.200q, want it refused", p, resp.Status, body)
		}
	}
}

// TestHandlerICD10CMCodes looks ICD-10-CM codes up as people write them,
// with the dot, in any case.
func TestHandlerICD10CMCodes(t *testing.T) {
	rel := &codeset.Release{System: codeset.ICD10CM, Label: "FY2026", Effective: fixture.Day(2025, 10, 1),
		Codes: []codeset.Code{{Code: "S72001A", Long: "Fracture of a synthetic femur, initial encounter"}}}
	out, _ := publishtest.PublishAll(t, []*codeset.Release{rel}, fixture.Day(2026, 1, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	for _, path := range []string{"/api/v1/icd10cm/codes/S72.001A", "/api/v1/icd10cm/codes/s72001a"} {
		resp, body := get(t, srv, path, nil)
		var code format.CodeResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &code) != nil {
			t.Fatalf("%s: %s %s", path, resp.Status, body)
		}
		if code.Code != "S72001A" || code.Written != "S72.001A" || code.Display != "Fracture of a synthetic femur, initial encounter" ||
			code.Status != "active" || !code.Billable || code.Record == nil {
			t.Errorf("%s = %+v", path, code)
		}
	}
}
