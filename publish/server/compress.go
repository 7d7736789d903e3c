package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"

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
// level clears its hash tables (most of a lookup's gzip cost). klauspost's
// gzip rather than the standard library's: at the same level it packs a
// 1.5 KB code lookup 2.4 times faster (5.3 µs against 12.7 µs) into fewer
// bytes (484 against 499), and it writes the same gzip format.
var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// minCompress is the size below which an answer that says its length is
// sent as it is: about what one TCP segment carries on an Ethernet path
// (MSS 1460 bytes, less options), so compressing it would not save a
// round trip (the first flight of a connection carries ten segments), only
// bytes, and costs more time than it saves. A code lookup answers 0.9 to
// 1.5 KB (1.2 KB typically) and spent 60% of its handler's CPU in gzip
// when it was compressed from 1,024 bytes up.
const minCompress = 1400

// brotliLevel trades size for speed: answers are compressed as they are
// served, and level 5 packs text close to gzip -9's size or better at a
// fraction of brotli's top levels' cost.
const brotliLevel = 5

var brotliWriters = sync.Pool{New: func() any { return brotli.NewWriterLevel(nil, brotliLevel) }}

// The content codings compress offers, best first.
const (
	encBrotli = "br"
	encGzip   = "gzip"
)

// compress compresses the text answers of next for clients that accept
// brotli (br, preferred) or gzip. Only whole answers (200) are compressed:
// a Range answer stays as it is, its byte ranges being of the file on
// disk. Every compressible answer says Vary: Accept-Encoding, so caches
// keep one copy per coding. The ETag of a compressed answer is made weak
// (W/"sum"), as its bytes differ from the file's; conditional requests
// still match it (If-None-Match compares weakly).
func compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		enc := pickEncoding(r.Header.Get("Accept-Encoding"))
		if enc == "" {
			// Still say that the answer depends on Accept-Encoding.
			next.ServeHTTP(&varyResponse{ResponseWriter: w}, r)
			return
		}
		cw := &compressResponse{ResponseWriter: w, enc: enc, head: r.Method == http.MethodHead}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

// pickEncoding returns the coding to answer with under an Accept-Encoding
// header: br when the client accepts it, else gzip, else "". A coding
// with q=0 is refused; "*" stands for any coding not named; a coding
// named twice counts as its last mention says. It reads the header in
// place, as every request passes here (splitting it into a map of
// weights cost a lookup five allocations).
func pickEncoding(h string) string {
	var br, gz, any weight
	for rest := h; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		enc = strings.TrimSpace(enc)
		var w *weight
		switch {
		case strings.EqualFold(enc, encBrotli):
			w = &br
		case strings.EqualFold(enc, encGzip):
			w = &gz
		case enc == "*":
			w = &any
		default:
			continue
		}
		w.q, w.named = 1, true
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil {
					f = 0
				}
				w.q = f
			}
		}
	}
	accepts := func(w weight) (float64, bool) {
		if w.named {
			return w.q, w.q > 0
		}
		return any.q, any.named && any.q > 0
	}
	brQ, brOK := accepts(br)
	gzQ, gzOK := accepts(gz)
	switch {
	case brOK && (!gzOK || brQ >= gzQ):
		return encBrotli
	case gzOK:
		return encGzip
	}
	return ""
}

// weight is what an Accept-Encoding header says of one coding.
type weight struct {
	q     float64
	named bool
}

// varyResponse adds Vary: Accept-Encoding to compressible answers served
// uncompressed, so a shared cache does not hand them to a client that
// asked for a compressed copy, or the other way round.
type varyResponse struct {
	http.ResponseWriter
	wroteHeader bool
}

func (v *varyResponse) WriteHeader(status int) {
	if !v.wroteHeader {
		v.wroteHeader = true
		if h := v.Header(); compressible(headerValue(h, "Content-Type")) {
			addVary(h)
		}
	}
	v.ResponseWriter.WriteHeader(status)
}

func (v *varyResponse) Write(b []byte) (int, error) {
	if !v.wroteHeader {
		if v.Header().Get("Content-Type") == "" {
			v.Header().Set("Content-Type", http.DetectContentType(b))
		}
		v.WriteHeader(http.StatusOK)
	}
	return v.ResponseWriter.Write(b)
}

// Flush passes a flush on, for answers that stream.
func (v *varyResponse) Flush() {
	if f, ok := v.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// compressWriter is what gzip.Writer and brotli.Writer share.
type compressWriter interface {
	io.WriteCloser
	Flush() error
	Reset(io.Writer)
}

// compressResponse decides at WriteHeader whether to compress.
type compressResponse struct {
	http.ResponseWriter
	enc         string // encBrotli or encGzip
	head        bool
	wroteHeader bool
	cw          compressWriter
}

func (g *compressResponse) WriteHeader(status int) {
	if g.wroteHeader {
		return
	}
	g.wroteHeader = true
	h := g.Header()
	if compressible(headerValue(h, "Content-Type")) {
		addVary(h)
		if status == http.StatusOK && headerValue(h, "Content-Encoding") == "" && headerValue(h, "Content-Range") == "" && !small(h) {
			h.Del("Content-Length")
			h.Del("Accept-Ranges")
			h.Set("Content-Encoding", g.enc)
			if et := h.Get("ETag"); strings.HasPrefix(et, `"`) {
				h.Set("ETag", "W/"+et)
			}
			if !g.head {
				if g.enc == encBrotli {
					g.cw = brotliWriters.Get().(*brotli.Writer)
				} else {
					g.cw = gzipWriters.Get().(*gzip.Writer)
				}
				g.cw.Reset(g.ResponseWriter)
			}
		}
	}
	g.ResponseWriter.WriteHeader(status)
}

// small reports whether the answer says it is shorter than minCompress.
func small(h http.Header) bool {
	n, err := strconv.ParseInt(headerValue(h, "Content-Length"), 10, 64)
	return err == nil && n < minCompress
}

// headerValue is h.Get(key) for a key in canonical form, without
// canonicalizing it again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// addVary adds Vary: Accept-Encoding to h; as the only Vary, the value is
// the shared varyEncoding (see sharedValue).
func addVary(h http.Header) {
	if _, ok := h["Vary"]; ok {
		h.Add("Vary", "Accept-Encoding")
		return
	}
	h["Vary"] = varyEncoding
}

var varyEncoding = sharedValue("Accept-Encoding")

func (g *compressResponse) Write(b []byte) (int, error) {
	if !g.wroteHeader {
		if g.Header().Get("Content-Type") == "" {
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	if g.cw != nil {
		return g.cw.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

// Flush sends what is compressed so far, for answers that stream.
func (g *compressResponse) Flush() {
	if g.cw != nil {
		g.cw.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets a handler below take the connection, as without compression.
func (g *compressResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if hj, ok := g.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, errors.New("hijacking not supported")
}

func (g *compressResponse) close() {
	if g.cw == nil {
		return
	}
	g.cw.Close()
	g.cw.Reset(nil)
	if g.enc == encBrotli {
		brotliWriters.Put(g.cw)
	} else {
		gzipWriters.Put(g.cw)
	}
	g.cw = nil
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
