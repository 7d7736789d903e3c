package server

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
	"github.com/codeset/codeset/publish/snapshot"
)

var benchTree = flag.String("benchtree", "", "published `tree` BenchmarkLookup reads instead of a small one it publishes")

// BenchmarkLookup times one GET /api/v1/SYSTEM/codes/CODE through the
// whole handler (compression included, as a Go client asks for gzip), on
// the small ICD-10-CM tree of the FHIR tests: the SQLite queries, the
// checks of the tree's files and the reply, without the network.
//
// With -benchtree DIR it reads the published tree DIR instead (an
// ICD-10-CM tree holding FY2025, as bench/README.md makes).
func BenchmarkLookup(b *testing.B) {
	out := *benchTree
	paths := []string{
		"/api/v1/icd10cm/codes/E11.65?release=FY2026",
		"/api/v1/icd10cm/codes/E11.9?release=FY2026", // deleted by FY2026
		"/api/v1/icd10cm/codes/K58.9",
		"/api/v1/icd10cm/codes/E11?release=FY2025", // a header
	}
	if out == "" {
		out, _ = publishtest.PublishAll(b, icdReleases(), fixture.Day(2026, 1, 1))
	} else {
		paths = []string{
			"/api/v1/icd10cm/codes/E11.65?release=FY2025",
			"/api/v1/icd10cm/codes/S72.001A?release=FY2025",
			"/api/v1/icd10cm/codes/K58.9?release=FY2025",
			"/api/v1/icd10cm/codes/T36.0X1D?release=FY2025",
		}
	}
	hd := &handler{dir: out, sums: map[string]cachedSum{}}
	h := compress(releaseFolders(out, hd))
	reqs := make([]*http.Request, len(paths))
	for i, p := range paths {
		reqs[i] = httptest.NewRequest(http.MethodGet, p, nil)
		reqs[i].Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, reqs[i])
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	// The first lookups start loading the indexes in the background and
	// read the files meanwhile: time the lookups from memory.
	waitLoaded(b, &hd.dbs)
	b.Run("same", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, reqs[i%len(reqs)])
		}
	})
	if *benchTree == "" {
		return
	}
	// Codes drawn at random from the release, as bench/lookup asks them:
	// each lookup finds its rows out of the processor's caches.
	rel, err := snapshot.Read(context.Background(), filepath.Join(out, "icd10cm", "FY2025", "icd10cm-FY2025.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	reqs = make([]*http.Request, 4096)
	for i := range reqs {
		c := rel.Codes[rng.IntN(len(rel.Codes))].Code
		reqs[i] = httptest.NewRequest(http.MethodGet, "/api/v1/icd10cm/codes/"+url.PathEscape(c)+"?release=FY2025", nil)
		reqs[i].Header.Set("Accept-Encoding", "gzip")
	}
	b.Run("random", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, reqs[i%len(reqs)])
			if w.Code != http.StatusOK {
				b.Fatalf("%s: %d %s", reqs[i%len(reqs)].URL, w.Code, w.Body)
			}
		}
	})
}

// waitLoaded waits until every index c has started loading is loaded.
func waitLoaded(tb testing.TB, c *dbCache) {
	c.mu.Lock()
	var ready []chan struct{}
	for _, e := range c.m {
		ready = append(ready, e.ready)
	}
	c.mu.Unlock()
	for _, r := range ready {
		<-r
	}
}

// BenchmarkCompress times compress's wrapper around an API answer of a
// typical code lookup's size (sent as it is) and of twice the size
// (gzipped), as a Go client asks.
func BenchmarkCompress(b *testing.B) {
	for _, n := range []int{1207, 2800} {
		body := []byte(strings.Repeat("E11.65 type 2 diabetes mellitus with hyperglycemia\n", n/50+1)[:n])
		h := compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(http.StatusOK)
			w.Write(body)
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
