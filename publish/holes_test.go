package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/internal/publishtest"
	"github.com/codeset/codeset/publish/server"
)

func releases(n int) []*codeset.Release {
	var rels []*codeset.Release
	for i := range n {
		label := fmt.Sprint(2024 + i)
		r := &codeset.Release{System: codeset.CPT, Label: label, Effective: time.Date(2024+i, 1, 1, 0, 0, 0, 0, time.UTC)}
		for c := range 300 {
			r.Codes = append(r.Codes, codeset.Code{Code: fmt.Sprintf("%05d", 10000+c), Category: "I",
				Short: fmt.Sprintf("proc %d", c), Long: fmt.Sprintf("anesthesia for procedure number %d on the salivary gland %s", c, label)})
		}
		rels = append(rels, r)
	}
	return rels
}

// TestSearchCapped is hole 5 of issue 12: a query of many words is refused
// as a bad request at once, on the library and over HTTP, instead of
// running for minutes.
func TestSearchCapped(t *testing.T) {
	out, _ := publishtest.PublishAll(t, releases(2), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	hist := out + "/cpt/" + format.HistoryName
	ctx := context.Background()
	if hits, err := history.Search(ctx, hist, "salivary gland", 5); err != nil || len(hits) != 5 {
		t.Fatalf("search: %d hits, %v", len(hits), err)
	}
	words := strings.TrimSpace(strings.Repeat("anesthesia ", history.MaxSearchWords))
	if _, err := history.Search(ctx, hist, words, 5); err != nil {
		t.Errorf("%d words: %v", history.MaxSearchWords, err)
	}
	long := strings.TrimSpace(strings.Repeat("a b c d e f g h i j ", 100))
	start := time.Now()
	_, err := history.Search(ctx, hist, long, 5)
	if !errors.Is(err, codeset.ErrInvalid) {
		t.Errorf("1000 words: err = %v, want ErrInvalid", err)
	}
	srv := httptest.NewServer(server.New(out))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/cpt/search?q=" + url.QueryEscape(long))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "at most") {
		t.Errorf("GET 1000 words: %s %s", resp.Status, body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("1000-word searches took %v", d)
	}
}

// TestWithdrawnLeftOut is hole 10 in the tree and the API: the withdrawn
// release keeps its folder (files still served) but the indexes, pointers,
// history, search and code API skip it.
func TestWithdrawnLeftOut(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	out, _ := publishtest.PublishAll(t, releases(3), now)
	if err := publish.Withdraw(ctx, out, codeset.CPT, "2026", "wrong file", now); err != nil {
		t.Fatal(err)
	}
	if err := publish.Withdraw(ctx, out, codeset.CPT, "2030", "never published", now); !errors.Is(err, publish.ErrNotPublished) {
		t.Errorf("withdraw an unpublished label: %v", err)
	}
	srv := httptest.NewServer(server.New(out))
	defer srv.Close()
	get := func(p string) (int, string) {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var root format.RootIndex
	_, body := get("/index.json")
	if err := json.Unmarshal([]byte(body), &root); err != nil {
		t.Fatal(err)
	}
	sys := root.Systems[0]
	if sys.Latest == nil || *sys.Latest != "2025" || len(sys.Releases) != 2 || len(sys.Withdrawn) != 1 {
		t.Errorf("root index: latest %v, %d releases, withdrawn %+v", sys.Latest, len(sys.Releases), sys.Withdrawn)
	}
	if code, _ := get("/cpt/2026/manifest.json"); code != 200 {
		t.Errorf("the withdrawn folder's files: %d, want them still served (folders are immutable)", code)
	}
	if code, body := get("/api/v1/cpt/codes/10000?release=2026"); code != 404 || !strings.Contains(body, "withdrawn") {
		t.Errorf("code API on the withdrawn release: %d %s", code, body)
	}
	_, body = get("/api/v1/cpt/search?q=salivary")
	if strings.Contains(body, `"2026"`) {
		t.Errorf("search names the withdrawn release: %s", body)
	}
	_, body = get("/api/v1/cpt/codes/10000")
	if strings.Contains(body, "2026") {
		t.Errorf("code history names the withdrawn release: %s", body)
	}
}
