package schedules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
)

// ErrNoFile reports a source that holds no release file yet.
var ErrNoFile = errors.New("no release file")

// FetchState is what a source remembers between runs: the validators of its
// last good fetch, for a conditional GET.
type FetchState struct {
	ETag         string
	LastModified string
}

// Fetched is what a source found for one run.
type Fetched struct {
	Files  []string // local paths to ingest
	Name   string   // base name of the release file, which the label derives from
	Origin string   // where it came from (path or URL), for the ledger
	SHA256 string   // of the single release file; "" when not known before ingest
	// NotModified is set when the source says nothing changed since the
	// last good fetch (HTTP 304); Files is then empty.
	NotModified bool
	// State is to be saved when the run succeeds, and passed to the next
	// Fetch.
	State FetchState
}

// Source finds the release file a job ingests.
type Source interface {
	// Fetch makes the newest release file readable under dir (which the
	// caller creates and removes), given the state saved by the last good
	// run. It returns an error wrapping ErrNoFile when there is none.
	Fetch(ctx context.Context, dir string, prev FetchState) (*Fetched, error)
	// String names the source in logs and in the ledger.
	String() string
}

// FilesSource is a fixed list of local files, as named on the command line
// of codeset run. Files are read in place.
type FilesSource []string

// Fetch returns the files as they are; ingest reports missing ones.
func (s FilesSource) Fetch(ctx context.Context, dir string, prev FetchState) (*Fetched, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: no input files", ErrNoFile)
	}
	return &Fetched{Files: []string(s), Name: filepath.Base(s[0]), Origin: strings.Join(s, ", ")}, nil
}

// String lists the files.
func (s FilesSource) String() string { return strings.Join(s, ", ") }

// InboxSource is a local directory that release files are dropped into.
// The newest file whose name matches Glob is the release; names starting
// with "." are ignored, so a file can be written under a hidden name and
// renamed into place when complete.
type InboxSource struct {
	Dir  string
	Glob string // filepath.Match pattern on base names; "" matches all
}

// String is the inbox directory joined with the glob.
func (s InboxSource) String() string { return filepath.Join(s.Dir, s.glob()) }

func (s InboxSource) glob() string {
	if s.Glob == "" {
		return "*"
	}
	return s.Glob
}

// Fetch copies the newest matching file into dir, hashing it on the way, so
// that the run reads one stable copy even if the inbox changes meanwhile.
func (s InboxSource) Fetch(ctx context.Context, dir string, prev FetchState) (*Fetched, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("read inbox: %w", err)
	}
	var newest fs.FileInfo
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
			continue
		}
		ok, err := filepath.Match(s.glob(), name)
		if err != nil {
			return nil, fmt.Errorf("inbox %s: bad glob %q: %w", s.Dir, s.Glob, err)
		}
		if !ok {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("read inbox: %w", err)
		}
		if newest == nil || info.ModTime().After(newest.ModTime()) ||
			(info.ModTime().Equal(newest.ModTime()) && name > newest.Name()) {
			newest = info
		}
	}
	if newest == nil {
		return nil, fmt.Errorf("inbox %s: %w matches %q", s.Dir, ErrNoFile, s.glob())
	}
	src := filepath.Join(s.Dir, newest.Name())
	in, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("read inbox: %w", err)
	}
	defer in.Close()
	dst := filepath.Join(dir, newest.Name())
	sum, err := copyHashed(ctx, dst, in, -1)
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	return &Fetched{Files: []string{dst}, Name: newest.Name(), Origin: src, SHA256: sum}, nil
}

// copyHashed writes r to the new file dst and returns the SHA-256 of what
// it wrote. It stops when ctx is done, and with ErrTooLarge after max bytes
// when max >= 0.
func copyHashed(ctx context.Context, dst string, r io.Reader, max int64) (string, error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	if max >= 0 {
		r = io.LimitReader(r, max+1)
	}
	h := durable.NewHasher()
	n, err := io.Copy(io.MultiWriter(f, h), durable.ContextReader(ctx, r))
	if err == nil && max >= 0 && n > max {
		err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	if err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	_, sum := h.Sum()
	return sum, nil
}

// ErrTooLarge reports a download larger than its source allows.
var ErrTooLarge = codeset.NewError(codeset.ErrRefused, "file too large")

// HTTPSource downloads the release file from an HTTP(S) URL with a
// conditional GET, so an unchanged file is not downloaded again. Failed
// attempts (network errors, 429 and 5xx answers) are retried with
// exponential backoff.
type HTTPSource struct {
	URL    string
	Client *http.Client // nil: the default client
	// Timeout bounds each attempt, download included, whatever the client;
	// zero means 10 minutes.
	Timeout time.Duration
	// MaxBytes caps the size of the file; zero means DefaultMaxBytes. A
	// larger file (by its Content-Length, or as it streams) fails the run
	// and is not retried.
	MaxBytes int64
	// Retries is how many times a failed attempt is retried.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next
	// one; zero means one second.
	Backoff time.Duration
}

// DefaultMaxBytes is the largest file an HTTP source downloads unless its
// job says otherwise: far above any code-set release (the largest, a
// zip of ICD-10-CM files, is tens of megabytes).
const DefaultMaxBytes = 1 << 30

// String is the URL; it also keys the source's state in the ledger.
func (s HTTPSource) String() string { return s.URL }

// retryable marks an attempt that may succeed if tried again.
type retryable struct{ err error }

func (e retryable) Error() string { return e.err.Error() }
func (e retryable) Unwrap() error { return e.err }

// Fetch downloads the file into dir, or reports NotModified when the server
// answers 304 to the validators in prev.
func (s HTTPSource) Fetch(ctx context.Context, dir string, prev FetchState) (*Fetched, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad source URL %q: want http or https", s.URL)
	}
	backoff := s.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	for attempt := 0; ; attempt++ {
		f, err := s.get(ctx, dir, prev)
		var re retryable
		if err == nil || !errors.As(err, &re) || attempt >= s.Retries {
			if err != nil {
				return nil, fmt.Errorf("fetch %s: %w", s.URL, err)
			}
			return f, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("fetch %s: %w (after %v)", s.URL, ctx.Err(), err)
		case <-time.After(backoff << attempt):
		}
	}
}

// get makes one attempt.
func (s HTTPSource) get(ctx context.Context, dir string, prev FetchState) (*Fetched, error) {
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	maxBytes := s.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, err
	}
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return nil, err
		}
		return nil, retryable{err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return &Fetched{Origin: s.URL, NotModified: true, State: prev}, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, retryable{fmt.Errorf("server answered %s", resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	name := fileName(resp)
	if name == "" {
		return nil, fmt.Errorf("no file name in the URL path or Content-Disposition")
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("%w: the server announces %d bytes, more than the %d allowed (set max_bytes in the job)", ErrTooLarge, resp.ContentLength, maxBytes)
	}
	dst := filepath.Join(dir, name)
	sum, err := copyHashed(ctx, dst, resp.Body, maxBytes)
	if err != nil {
		os.Remove(dst)
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("download: %w (set max_bytes in the job)", err)
		}
		if parent.Err() != nil {
			return nil, err
		}
		return nil, retryable{fmt.Errorf("download: %w", err)}
	}
	return &Fetched{
		Files:  []string{dst},
		Name:   name,
		Origin: s.URL,
		SHA256: sum,
		State:  FetchState{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")},
	}, nil
}

// fileName is the name the server gives the file (Content-Disposition),
// else the last element of the URL path; "" when neither is a plain name.
func fileName(resp *http.Response) string {
	name := path.Base(resp.Request.URL.Path)
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		name = params["filename"]
	}
	if name == "" || name == "." || name == "/" || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return ""
	}
	return name
}
