package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/pages"
	"github.com/codeset/codeset/publish/snapshot"
)

// Cache-Control values: a release folder never changes once published, so
// its files may be cached for good; indexes, pointers and the history move
// when a release is published or takes effect.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheShort     = "public, max-age=60"
	cacheAPI       = "no-cache"
)

// searchLimit caps the hits of one search request.
const searchLimit = 50

// contentTypes are the media types of the files in the tree whose
// extension the standard library may not know.
var contentTypes = map[string]string{
	".sqlite": "application/vnd.sqlite3",
	".md":     "text/markdown; charset=utf-8",
	".csv":    "text/csv; charset=utf-8",
	".json":   "application/json",
	".html":   "text/html; charset=utf-8",
	".xlsx":   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"":        "text/plain; charset=utf-8", // SHA256SUMS
}

// handler serves a published tree; see NewHandler.
type handler struct {
	dir  string
	mu   sync.Mutex
	sums map[string]cachedSum // by slash path within the tree
	dbs  dbCache
}

// cachedSum is a file's SHA-256, valid while its size and time stamp stay.
type cachedSum struct {
	size  int64
	mtime time.Time
	sum   string
}

// New returns an http.Handler that serves the published tree under
// outDir:
//
//   - every file of the tree, with an ETag that is the file's SHA-256 (from
//     the release manifest where it lists the file, else computed once and
//     cached), Range requests and conditional requests; release folders are
//     cached as immutable, indexes and pointers for a minute;
//   - / : the index page listing systems, releases and their changelogs;
//   - GET /api/v1/SYSTEM/codes/CODE[?release=current|latest|LABEL]: the code's
//     record in that release (current by default, latest when none is in
//     effect yet) and its history, as JSON;
//   - GET /api/v1/SYSTEM/search?q=WORDS: codes whose descriptors match,
//     from the full-text index of the history database;
//   - GET /healthz.
//
// Paths with "..", hidden names (temporary folders start with ".") and
// symbolic links leading out of the tree are refused.
func New(outDir string) http.Handler {
	return &handler{dir: outDir, sums: map[string]cachedSum{}}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/healthz":
		w.Header().Set("Cache-Control", cacheAPI)
		Reply(w, http.StatusOK, map[string]string{"status": "ok"})
	case strings.HasPrefix(p, "/api/v1/"):
		w.Header().Set("Cache-Control", cacheAPI)
		h.serveAPI(w, r, strings.TrimPrefix(p, "/api/v1/"))
	default:
		h.serveFile(w, r)
	}
}

// treePath turns a URL path into a slash path relative to the tree root,
// refusing anything that could leave the tree or reach a temporary file.
func treePath(urlPath string) (string, bool) {
	if !strings.HasPrefix(urlPath, "/") || strings.Contains(urlPath, "\\") || strings.ContainsRune(urlPath, 0) {
		return "", false
	}
	for _, seg := range strings.Split(urlPath[1:], "/") {
		if seg == ".." || strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	rel := strings.TrimPrefix(path.Clean(urlPath), "/")
	if rel == "" {
		rel = "."
	}
	return rel, true
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request) {
	rel, ok := treePath(r.URL.Path)
	if !ok {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		h.serveMissing(w, r, rel)
		return
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		h.serveMissing(w, r, rel)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	if st.IsDir() {
		// A folder is served by its index.html; none but the root has one.
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		f.Close()
		rel = path.Join(rel, format.IndexPageName)
		if f, err = root.Open(rel); err != nil {
			h.serveMissing(w, r, rel)
			return
		}
		defer f.Close()
		if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
	}
	if !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	sum, err := h.fileSum(root, rel, st, f)
	if err != nil {
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("ETag", `"`+sum+`"`)
	if inRelease(root, rel) {
		hdr.Set("Cache-Control", cacheImmutable)
	} else {
		hdr.Set("Cache-Control", cacheShort)
	}
	if ct, ok := contentTypes[path.Ext(rel)]; ok {
		hdr.Set("Content-Type", ct)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(rel), st.ModTime(), f)
}

// serveMissing answers a request for a file that is not there; the root
// page exists even before anything is published.
func (h *handler) serveMissing(w http.ResponseWriter, r *http.Request, rel string) {
	if rel != format.IndexPageName && rel != "." {
		http.NotFound(w, r)
		return
	}
	var b bytes.Buffer
	if err := pages.WriteIndex(&b, &format.RootIndex{Format: format.IndexFormat}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentTypes[".html"])
	w.Header().Set("Cache-Control", cacheAPI)
	w.Write(b.Bytes())
}

// inRelease reports whether rel is a file in a published release folder,
// SYSTEM/LABEL/FILE with a manifest beside it.
func inRelease(root *os.Root, rel string) bool {
	parts := strings.Split(rel, "/")
	if len(parts) != 3 {
		return false
	}
	st, err := root.Stat(path.Join(parts[0], parts[1], format.ManifestName))
	return err == nil && st.Mode().IsRegular()
}

// fileSum returns the SHA-256 of the open file f at rel: from the cache,
// else from the release manifest when it lists the file with this size,
// else by reading the file.
func (h *handler) fileSum(root *os.Root, rel string, st fs.FileInfo, f *os.File) (string, error) {
	h.mu.Lock()
	c, ok := h.sums[rel]
	h.mu.Unlock()
	if ok && c.size == st.Size() && c.mtime.Equal(st.ModTime()) {
		return c.sum, nil
	}
	sum := ""
	if inRelease(root, rel) {
		if m, err := readManifestIn(root, path.Join(path.Dir(rel), format.ManifestName)); err == nil {
			for _, mf := range m.Files {
				if mf.Name == path.Base(rel) && mf.Bytes == st.Size() {
					sum = mf.SHA256
				}
			}
		}
	}
	if sum == "" {
		var err error
		if _, sum, err = durable.HashReader(context.Background(), f); err != nil {
			return "", err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
	}
	h.mu.Lock()
	h.sums[rel] = cachedSum{size: st.Size(), mtime: st.ModTime(), sum: sum}
	h.mu.Unlock()
	return sum, nil
}

// readManifestIn reads a manifest through root.
func readManifestIn(root *os.Root, rel string) (*format.Manifest, error) {
	var m format.Manifest
	if err := format.ReadJSONFile(root.ReadFile, rel, "manifest", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (h *handler) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	parts := strings.Split(rest, "/")
	if len(parts) < 2 {
		ReplyError(w, http.StatusNotFound, "not found: want /api/v1/SYSTEM/codes/CODE or /api/v1/SYSTEM/search?q=")
		return
	}
	sys, err := codeset.ParseSystem(parts[0])
	if err != nil {
		ReplyError(w, http.StatusNotFound, err.Error())
		return
	}
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		ReplyError(w, http.StatusNotFound, "nothing is published")
		return
	}
	defer root.Close()
	switch {
	case len(parts) == 3 && parts[1] == "codes" && parts[2] != "":
		h.serveCode(r.Context(), w, root, sys, sys.Normalize(parts[2]), r.URL.Query().Get("release"))
	case len(parts) == 2 && parts[1] == "search":
		h.serveSearch(r.Context(), w, root, sys, r.URL.Query().Get("q"), r.URL.Query().Get("limit"))
	default:
		ReplyError(w, http.StatusNotFound, "not found: want /api/v1/SYSTEM/codes/CODE or /api/v1/SYSTEM/search?q=")
	}
}

// treeFile returns the file-system path of rel, checked through root so a
// symbolic link cannot lead out of the tree.
func (h *handler) treeFile(root *os.Root, rel string) (string, error) {
	f, err := root.Open(rel)
	if err != nil {
		return "", err
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", rel)
	}
	return filepath.Join(h.dir, filepath.FromSlash(rel)), nil
}

// resolveRelease picks the release a code request reads: a label, or the
// current or latest pointer; by default current, falling back to latest
// while no release is in effect.
func resolveRelease(root *os.Root, sys codeset.System, which string) (label, effective string, err error) {
	readPtr := func(name string) (*format.Pointer, error) {
		var p format.Pointer
		if err := format.ReadJSONFile(root.ReadFile, path.Join(string(sys), name+".json"), name+" pointer", &p); err != nil {
			return nil, err
		}
		if err := codeset.CheckLabel(p.Label); err != nil {
			return nil, fmt.Errorf("bad %s pointer: %w", name, err)
		}
		return &p, nil
	}
	switch which {
	case "", format.PointerCurrent:
		p, err := readPtr(format.PointerCurrent)
		if errors.Is(err, fs.ErrNotExist) && which == "" {
			p, err = readPtr(format.PointerLatest)
		}
		if err != nil {
			return "", "", err
		}
		return p.Label, p.Effective, nil
	case format.PointerLatest:
		p, err := readPtr(format.PointerLatest)
		if err != nil {
			return "", "", err
		}
		return p.Label, p.Effective, nil
	}
	if err := codeset.CheckLabel(which); err != nil {
		return "", "", err
	}
	m, err := readManifestIn(root, path.Join(string(sys), which, format.ManifestName))
	if err != nil {
		return "", "", err
	}
	return m.Label, m.Effective, nil
}

func (h *handler) serveCode(ctx context.Context, w http.ResponseWriter, root *os.Root, sys codeset.System, code, which string) {
	label, eff, err := resolveRelease(root, sys, which)
	if err != nil {
		ReplyError(w, http.StatusNotFound, fmt.Sprintf("no release %q of %s: %v", which, sys, err))
		return
	}
	resp := format.CodeResponse{System: sys, Code: code, Display: sys.Display(code), Release: label, Effective: eff}
	snap, err := h.treeFile(root, path.Join(string(sys), label, format.SnapshotName(sys, label)))
	if err != nil {
		ReplyError(w, http.StatusInternalServerError, fmt.Sprintf("snapshot of %s %s: %v", sys, label, err))
		return
	}
	sr, done, err := h.dbs.snapshot(ctx, snap)
	if err != nil {
		ReplyError(w, http.StatusInternalServerError, err.Error())
		return
	}
	c, err := sr.Code(ctx, code)
	done()
	switch {
	case err == nil:
		rec := format.RecordOf(c)
		resp.Record = &rec
	case !errors.Is(err, snapshot.ErrNoCode):
		ReplyError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if hist, err := h.treeFile(root, path.Join(string(sys), format.HistoryName)); err == nil {
		hr, done, err := h.dbs.history(ctx, hist)
		if err != nil {
			ReplyError(w, http.StatusInternalServerError, err.Error())
			return
		}
		ch, err := hr.Read(ctx, code)
		done()
		switch {
		case err == nil:
			resp.History = ch
		case !errors.Is(err, snapshot.ErrNoCode):
			ReplyError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	if resp.Record == nil && resp.History == nil {
		ReplyError(w, http.StatusNotFound, fmt.Sprintf("%s has no code %q", sys.Name(), code))
		return
	}
	Reply(w, http.StatusOK, resp)
}

func (h *handler) serveSearch(ctx context.Context, w http.ResponseWriter, root *os.Root, sys codeset.System, q, limitText string) {
	limit := searchLimit
	if limitText != "" {
		n, err := strconv.Atoi(limitText)
		if err != nil || n < 1 {
			ReplyError(w, http.StatusBadRequest, fmt.Sprintf("bad limit %q: want a positive number", limitText))
			return
		}
		limit = min(n, searchLimit)
	}
	if strings.TrimSpace(q) == "" {
		ReplyError(w, http.StatusBadRequest, "missing q: want /api/v1/SYSTEM/search?q=WORDS")
		return
	}
	hist, err := h.treeFile(root, path.Join(string(sys), format.HistoryName))
	if err != nil {
		ReplyError(w, http.StatusNotFound, fmt.Sprintf("%s has no history database", sys.Name()))
		return
	}
	hr, done, err := h.dbs.history(ctx, hist)
	if err != nil {
		ReplyError(w, http.StatusInternalServerError, err.Error())
		return
	}
	hits, err := hr.Search(ctx, q, limit)
	done()
	if err != nil {
		ReplyError(w, http.StatusInternalServerError, err.Error())
		return
	}
	Reply(w, http.StatusOK, format.SearchResponse{System: sys, Query: q, Results: hits})
}
