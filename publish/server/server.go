package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
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

// Search paging: the default and the largest page.
const (
	searchLimit    = 50
	searchMaxLimit = 1000
)

// sharedValue returns a header value that answers share, sparing each
// answer a slice of its own (an allocation a header). Sharing is safe
// because a Header's values are never written in place: Set replaces the
// slice and Add appends, which copies a full slice (this one's length is
// its capacity); net/http and httptest copy the values they keep.
func sharedValue(v string) []string { return []string{v}[:1:1] }

// Header values most answers carry.
var (
	anyOrigin   = sharedValue("*")
	noCache     = sharedValue(cacheAPI)
	contentJSON = sharedValue("application/json")
)

// noAttrs stands for a record's attributes where it has none, never
// written to.
var noAttrs = map[string]string{}

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
	// systems: the names of each system's files and its parsed index.
	systems map[codeset.System]*sysFiles
	dbs     dbCache
	cmp     compareCache
	// stats: the identities of the tree's files the API reads, checked
	// at most every statEvery.
	stats statCache
	root  treeRoot // the tree's folder, kept open for the APIs
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
//   - GET /api/v1/compare/SYSTEM?from=LABEL&to=LABEL[&kind=K&offset=N&limit=N]:
//     the changes between two published releases, counted and paged (see
//     serveCompare);
//   - GET /healthz.
//
// Paths with "..", hidden names (temporary folders start with ".") and
// symbolic links leading out of the tree are refused.
//
// Text answers are compressed (brotli or gzip) for clients that accept it
// (see compress), and a release folder leads to its HTML changelog.
func New(outDir string) http.Handler {
	return compress(releaseFolders(outDir, &handler{dir: outDir, sums: map[string]cachedSum{}}))
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	// Any page may read the tree and the APIs from a browser.
	w.Header()["Access-Control-Allow-Origin"] = anyOrigin
	fhir := p == "/fhir" || strings.HasPrefix(p, "/fhir/")
	allow := "GET, HEAD"
	if fhir {
		allow = "GET, HEAD, POST"
	}
	// A CORS preflight, which browsers send before a POST of JSON; other
	// OPTIONS requests get 405 like any method the tree does not take.
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		w.Header().Set("Allow", allow+", OPTIONS")
		w.Header().Set("Access-Control-Allow-Methods", allow)
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Accept, If-None-Match, Range")
		w.Header().Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !(fhir && r.Method == http.MethodPost) {
		w.Header().Set("Allow", allow)
		if fhir {
			replyOutcome(w, &fhirError{status: http.StatusMethodNotAllowed, code: "not-supported", msg: "method not allowed: want " + allow})
			return
		}
		ReplyError(w, http.StatusMethodNotAllowed, "method not allowed: want "+allow)
		return
	}
	switch {
	case fhir:
		h.serveFHIR(w, r, strings.TrimPrefix(strings.TrimPrefix(p, "/fhir"), "/"))
	case p == "/healthz":
		w.Header()["Cache-Control"] = noCache
		Reply(w, http.StatusOK, map[string]string{"status": "ok"})
	case strings.HasPrefix(p, "/api/v1/"):
		w.Header()["Cache-Control"] = noCache
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
	// Segment by segment, in place: every request passes here.
	for rest, more := urlPath[1:], true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		if strings.HasPrefix(seg, ".") { // "..", or hidden
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
		ReplyError(w, http.StatusBadRequest, "bad path")
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
		ReplyError(w, http.StatusInternalServerError, "cannot read file")
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
			ReplyError(w, http.StatusNotFound, "not found")
			return
		}
	}
	if !st.Mode().IsRegular() {
		ReplyError(w, http.StatusNotFound, "not found")
		return
	}
	sum, err := h.fileSum(root, rel, st, f)
	if err != nil {
		ReplyError(w, http.StatusInternalServerError, "cannot read file")
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
		ReplyError(w, http.StatusNotFound, "not found")
		return
	}
	var b bytes.Buffer
	if err := pages.WriteIndex(&b, &format.RootIndex{Format: format.IndexFormat}); err != nil {
		ReplyError(w, http.StatusInternalServerError, "cannot render the index page")
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
	const want = "not found: want /api/v1/SYSTEM/codes/CODE, /api/v1/SYSTEM/search?q= or /api/v1/compare/SYSTEM?from=&to="
	// rest is FIRST/SECOND[/THIRD], THIRD holding no slash; cut in place
	// rather than split, as every code lookup passes here.
	first, tail, ok := strings.Cut(rest, "/")
	if !ok {
		ReplyError(w, http.StatusNotFound, want)
		return
	}
	second, third, cut := strings.Cut(tail, "/")
	two, three := !cut, cut && !strings.Contains(third, "/")
	if first == "compare" && two {
		h.replyAPI(w, func(root *os.Root) error { return h.serveCompare(r.Context(), w, root, tail, r.URL.Query()) })
		return
	}
	sys, err := codeset.ParseSystem(first)
	if err != nil {
		ReplyError(w, http.StatusNotFound, err.Error())
		return
	}
	root, held, err := h.root.open(h.dir)
	if err != nil {
		ReplyError(w, http.StatusNotFound, "nothing is published")
		return
	}
	defer h.root.release(held)
	q := r.URL.Query()
	switch {
	case three && second == "codes" && third != "":
		err = h.serveCode(r.Context(), w, root, sys, sys.Normalize(third), q.Get("release"), q.Get("date"))
	case two && second == "search":
		err = h.serveSearch(r.Context(), w, root, sys, q)
	default:
		ReplyError(w, http.StatusNotFound, want)
		return
	}
	if err != nil {
		status := Status(err)
		if status == http.StatusInternalServerError {
			err = errRead
		}
		ReplyError(w, status, err.Error())
	}
}

// replyAPI runs serve with the tree's root and answers its error, if any,
// with the JSON error body.
func (h *handler) replyAPI(w http.ResponseWriter, serve func(*os.Root) error) {
	root, held, err := h.root.open(h.dir)
	if err != nil {
		ReplyError(w, http.StatusNotFound, "nothing is published")
		return
	}
	defer h.root.release(held)
	if err := serve(root); err != nil {
		status := Status(err)
		if status == http.StatusInternalServerError {
			err = errRead
		}
		ReplyError(w, status, err.Error())
	}
}

// checkFile checks that rel is a regular file of the tree, through root
// so that a symbolic link cannot lead out of the tree.
func (h *handler) checkFile(root *os.Root, rel string) error {
	st, err := h.stats.stat(rel, func() (os.FileInfo, error) { return root.Stat(rel) })
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", rel)
	}
	return nil
}

func (h *handler) serveCode(ctx context.Context, w http.ResponseWriter, root *os.Root, sys codeset.System, code, which, date string) error {
	v, err := h.openSystem(root, sys)
	if err != nil {
		return err
	}
	rel, err := v.release(which, date)
	if err != nil {
		return err
	}
	f, err := v.lookup(ctx, rel, code)
	if err != nil {
		return err
	}
	if f.Record.Attrs == nil {
		// What RecordOf would make, without making a map per lookup: the
		// reply only reads it.
		f.Record.Attrs = noAttrs
	}
	rec := format.RecordOf(f.Record)
	resp := format.CodeResponse{
		System: sys, Code: code, Written: sys.Display(code), Display: f.Record.Description(),
		Release: rel.Label, Effective: rel.Effective,
		Status: f.Info.Status, Billable: f.InRelease && !f.Info.Header, Header: f.Info.Header,
		EffectiveDate: f.Info.Effective, RetirementDate: f.Info.Retired,
		Message: v.describe(&f), Record: &rec, History: f.History,
	}
	if f.Info.Parent != "" {
		resp.Parent = sys.Display(f.Info.Parent)
	}
	for _, c := range f.ReplacedBy {
		resp.ReplacedBy = append(resp.ReplacedBy, sys.Display(c))
	}
	replyCode(w, &resp)
	return nil
}

// serveSearch answers GET /api/v1/SYSTEM/search: the codes and headers of
// one release (release= or date=, current by default) whose descriptors
// hold every word of q or whose code starts with q as written (E11.9, K58,
// s72.001), in code order, paged by offset and limit with the total.
// Codes the publisher ended are left out unless inactive=true.
func (h *handler) serveSearch(ctx context.Context, w http.ResponseWriter, root *os.Root, sys codeset.System, q url.Values) error {
	text := q.Get("q")
	if strings.TrimSpace(text) == "" {
		return codeset.NewError(codeset.ErrInvalid, "missing q: want /api/v1/SYSTEM/search?q=WORDS or a code")
	}
	limit, err := queryNumber(q, "limit", searchLimit, searchMaxLimit)
	if err != nil {
		return err
	}
	offset, err := queryNumber(q, "offset", 0, 1<<30)
	if err != nil {
		return err
	}
	inactive := false
	if s := q.Get("inactive"); s != "" {
		if inactive, err = strconv.ParseBool(s); err != nil {
			return codeset.NewError(codeset.ErrInvalid, "bad inactive %q: want true or false", s)
		}
	}
	v, err := h.openSystem(root, sys)
	if err != nil {
		return err
	}
	rel, err := v.release(q.Get("release"), q.Get("date"))
	if err != nil {
		return err
	}
	snap, err := v.snapshotPath(rel)
	if err != nil {
		return err
	}
	// Every word is a condition on every row: cap the words and the time,
	// so that one request cannot hold the server's CPU.
	if n := len(strings.Fields(text)); n > history.MaxSearchWords {
		return codeset.NewError(codeset.ErrInvalid, "search: %d words: at most %d", n, history.MaxSearchWords)
	}
	sctx, cancel := context.WithTimeout(ctx, history.SearchTimeout)
	defer cancel()
	total, page, err := snapshot.Find(sctx, snap, snapshot.Query{Text: text, ActiveOnly: !inactive, Headers: true, Offset: offset, Limit: limit})
	if err != nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		return codeset.NewError(codeset.ErrInvalid, "search: took longer than %v: use fewer or more specific words", history.SearchTimeout)
	}
	if err != nil {
		return errRead
	}
	spans := map[string][2]string{}
	if hist := v.historyPath(); hist != "" && len(page) > 0 {
		var codes []string
		for _, f := range page {
			codes = append(codes, f.Code.Code)
		}
		if spans, err = history.Spans(ctx, hist, codes); err != nil {
			return errRead
		}
	}
	resp := format.SearchResponse{System: sys, Query: text, Release: rel.Label, Effective: rel.Effective, Inactive: inactive,
		Total: total, Offset: offset, Limit: limit, Results: []format.SearchHit{}}
	for _, f := range page {
		c := f.Code
		hit := format.SearchHit{
			Code: c.Code, Written: sys.Display(c.Code), Display: c.Description(), Description: c.Description(), Category: c.Category,
			Status: format.ConceptStatus(c), Billable: !f.Header, Header: f.Header, Release: rel.Label,
			RetirementDate: format.TerminationDate(c), LastRelease: rel.Label,
		}
		if sp, ok := spans[c.Code]; ok {
			hit.EffectiveDate, hit.LastRelease = v.introducedOn(sp[0]), sp[1]
		}
		resp.Results = append(resp.Results, hit)
	}
	Reply(w, http.StatusOK, resp)
	return nil
}

// queryNumber reads the whole number named name from q: def when it is
// absent, refused (codeset.ErrInvalid) when it is not a number from 0 to
// most.
func queryNumber(q url.Values, name string, def, most int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > most {
		return 0, codeset.NewError(codeset.ErrInvalid, "bad %s %q: want a number from 0 to %d", name, s, most)
	}
	return n, nil
}
