package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
)

// TestCompareAPI compares published releases through the API: neighbours
// agree with the published changelog (reactivation included, which needs
// the history), non-neighbours are compared directly, rows are paged and
// filtered by kind, the work is done once for all pages, and bad requests
// get the JSON error body with 404 or 400.
func TestCompareAPI(t *testing.T) {
	out, _ := publishtest.PublishAll(t, fixture.HistoryReleases(), fixture.Day(2028, 6, 1))
	h := &handler{dir: out, sums: map[string]cachedSum{}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	compare := func(query string) (int, format.CompareResponse, string) {
		t.Helper()
		resp, body := get(t, srv, "/api/v1/compare/cpt?"+query, nil)
		var r format.CompareResponse
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("%s: %v\n%s", query, err, body)
			}
		}
		return resp.StatusCode, r, body
	}

	// Neighbours: what the published changelog of 2028 says.
	f, err := os.Open(filepath.Join(out, "cpt", "2028", format.ChangelogJSON))
	if err != nil {
		t.Fatal(err)
	}
	published, err := format.ReadChangelog(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	status, r, body := compare("from=2027&to=2028")
	if status != http.StatusOK {
		t.Fatalf("2027 to 2028: %d %s", status, body)
	}
	if r.Summary != published.Summary || !r.Neighbours || r.Total != len(published.Changes) {
		t.Errorf("2027 to 2028: summary %+v neighbours %v total %d, want the changelog's %+v, true, %d", r.Summary, r.Neighbours, r.Total, published.Summary, len(published.Changes))
	}
	if len(r.Changes) != 1 || r.Changes[0].Code != "0500F" || r.Changes[0].Change != codeset.Reactivated {
		t.Errorf("2027 to 2028 changes = %+v, want 0500F reactivated", r.Changes)
	}

	// Not neighbours: 00100 and 0500F revised, 0001U added.
	status, r, body = compare("from=2026&to=2028")
	if status != http.StatusOK {
		t.Fatalf("2026 to 2028: %d %s", status, body)
	}
	want := codeset.Summary{Added: 1, Revised: 2, Unchanged: 1}
	if r.Summary != want || r.Neighbours || r.Total != 3 || r.FromEffective != "2026-01-01" || r.ToEffective != "2028-01-01" {
		t.Errorf("2026 to 2028: %+v, want summary %+v, 3 changes, not neighbours", r, want)
	}
	var codes []string
	for _, c := range r.Changes {
		codes = append(codes, c.Code+" "+string(c.Change))
	}
	if got := strings.Join(codes, ", "); got != "0001U added, 00100 revised, 0500F revised" {
		t.Errorf("2026 to 2028 changes: %s", got)
	}
	if f := r.Changes[1].Fields["short"]; f.Before != "ANESTH SALIVARY GLAND" || f.After != "ANESTH SALIVARY GLANDS" {
		t.Errorf("00100 short change = %+v", f)
	}

	// Paging and a kind: the same comparison, computed once.
	status, r, _ = compare("from=2026&to=2028&offset=1&limit=1")
	if status != http.StatusOK || r.Total != 3 || r.Offset != 1 || r.Limit != 1 || len(r.Changes) != 1 || r.Changes[0].Code != "00100" {
		t.Errorf("page 2 of 1 row: %d %+v, want 00100 of 3", status, r)
	}
	status, r, _ = compare("from=2026&to=2028&offset=3")
	if status != http.StatusOK || r.Total != 3 || len(r.Changes) != 0 {
		t.Errorf("past the end: %d %+v, want no rows of 3", status, r)
	}
	status, r, _ = compare("from=2026&to=2028&kind=revised")
	if status != http.StatusOK || r.Total != 2 || len(r.Changes) != 2 || r.Kind != "revised" || r.Summary != want {
		t.Errorf("kind=revised: %d %+v, want the 2 revised codes and the whole summary", status, r)
	}
	if n := len(h.cmp.kept); n != 2 {
		t.Errorf("%d comparisons kept, want 2 (2027-2028, 2026-2028)", n)
	}
	for i := 0; i < compareKept+2; i++ {
		compare("from=2026&to=2027")
		compare("from=2027&to=2028")
	}
	if n := len(h.cmp.kept); n > compareKept {
		t.Errorf("%d comparisons kept, want at most %d", n, compareKept)
	}

	for _, c := range []struct {
		path   string
		status int
		says   string
	}{
		{"/api/v1/compare/cpt?from=2020&to=2028", http.StatusNotFound, `no release \"2020\" of CPT is published`},
		{"/api/v1/compare/cpt?from=2026&to=2099", http.StatusNotFound, `no release \"2099\"`},
		{"/api/v1/compare/cpt?from=2028&to=2026", http.StatusBadRequest, "from must be an older release than to"},
		{"/api/v1/compare/cpt?from=2027&to=2027", http.StatusBadRequest, "from must be an older release than to"},
		{"/api/v1/compare/cpt?from=2027", http.StatusBadRequest, "missing from or to"},
		{"/api/v1/compare/cpt?from=2026&to=2028&limit=100000", http.StatusBadRequest, "bad limit"},
		{"/api/v1/compare/cpt?from=2026&to=2028&offset=-1", http.StatusBadRequest, "bad offset"},
		{"/api/v1/compare/cpt?from=2026&to=2028&kind=moved", http.StatusBadRequest, "bad kind"},
		{"/api/v1/compare/nosuch?from=2026&to=2028", http.StatusNotFound, "nosuch"},
		{"/api/v1/compare/hcpcs?from=2026&to=2028", http.StatusNotFound, "no release of HCPCS"},
	} {
		resp, body := get(t, srv, c.path, nil)
		var e format.Error
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(body, c.says) {
			t.Errorf("%s: %s %q %s, want %d with a JSON error saying %q", c.path, resp.Status, resp.Header.Get("Content-Type"), body, c.status, c.says)
		}
	}
}
