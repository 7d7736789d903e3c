package server

import (
	"bufio"
	"compress/gzip"
	"errors"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/codeset/codeset/publish/format"
)

// compressible reports whether a response of content type ct is text worth
// compressing: pages, changelogs, indexes, the search index, API answers.
// SQLite snapshots and XLSX files are left as they are.
func compressible(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(ct)
	return strings.HasPrefix(ct, "text/") || ct == "application/json" || ct == "application/javascript" || ct == "application/fhir+json"
}

// BestSpeed: a reply is small, and resetting a writer of the default
// level clears its hash tables (most of a lookup's gzip cost).
var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// compress gzips the text answers of next for clients that accept gzip.
// Only whole answers (200) are compressed: a Range answer stays as it is,
// its byte ranges being of the file on disk. The ETag of a compressed
// answer is made weak (W/"sum"), as its bytes differ from the file's;
// conditional requests still match it (If-None-Match compares weakly).
func compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipResponse{ResponseWriter: w, head: r.Method == http.MethodHead}
		defer gw.close()
		next.ServeHTTP(gw, r)
	})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// gzipResponse decides at WriteHeader whether to compress.
type gzipResponse struct {
	http.ResponseWriter
	head        bool
	wroteHeader bool
	gz          *gzip.Writer
}

func (g *gzipResponse) WriteHeader(status int) {
	if g.wroteHeader {
		return
	}
	g.wroteHeader = true
	h := g.Header()
	if compressible(h.Get("Content-Type")) {
		h.Add("Vary", "Accept-Encoding")
		if status == http.StatusOK && h.Get("Content-Encoding") == "" && h.Get("Content-Range") == "" {
			h.Del("Content-Length")
			h.Del("Accept-Ranges")
			h.Set("Content-Encoding", "gzip")
			if et := h.Get("ETag"); strings.HasPrefix(et, `"`) {
				h.Set("ETag", "W/"+et)
			}
			if !g.head {
				g.gz = gzipWriters.Get().(*gzip.Writer)
				g.gz.Reset(g.ResponseWriter)
			}
		}
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipResponse) Write(b []byte) (int, error) {
	if !g.wroteHeader {
		if g.Header().Get("Content-Type") == "" {
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

// Flush sends what is compressed so far, for answers that stream.
func (g *gzipResponse) Flush() {
	if g.gz != nil {
		g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets a handler below take the connection, as without compression.
func (g *gzipResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if hj, ok := g.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, errors.New("hijacking not supported")
}

func (g *gzipResponse) close() {
	if g.gz != nil {
		g.gz.Close()
		g.gz.Reset(nil)
		gzipWriters.Put(g.gz)
		g.gz = nil
	}
}

// releaseFolders answers a release folder, which has no index page of its
// own, with its HTML changelog: /cpt/2026 and /cpt/2026/ redirect to
// /cpt/2026/changelog.html. Other folders keep the handler's own
// redirect to the folder with its slash.
func releaseFolders(dir string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rel, ok := treePath(r.URL.Path); ok && rel != "." && strings.Count(rel, "/") == 1 {
			if _, err := os.Stat(path.Join(dir, rel, format.ManifestName)); err == nil {
				http.Redirect(w, r, "/"+rel+"/"+format.ChangelogHTML, http.StatusFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
