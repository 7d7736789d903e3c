// Package pull downloads codeset snapshots from a published tree served
// over HTTP, by codeset's own server or any static file host.
//
// A download resolves the release (a label, or the latest or current
// pointer), reads the release's manifest.json for the snapshot's size and
// SHA-256, downloads into FILE.partial (resuming with a Range request when
// an earlier attempt left a partial file), checks the SHA-256 and only then
// renames FILE.partial over FILE. A file that does not match is removed and
// FILE is left as it was.
package pull

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
)

// ErrChecksum reports a download whose SHA-256 or size differs from the
// manifest's.
var ErrChecksum = errors.New("checksum mismatch")

// errNotFound reports a 404 answer.
var errNotFound = errors.New("404 not found")

// PartialSuffix ends the name of the file a download is written to until it
// is verified.
const PartialSuffix = ".partial"

// Client downloads from one published tree.
type Client struct {
	// Base is the URL of the tree's root, e.g. https://codes.example.org/.
	Base string
	// HTTP is the client used for requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds each request for a small JSON document (pointer,
	// manifest) and the wait for the snapshot's response headers; zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Stall is how long the snapshot download may go without receiving a
	// byte before it fails (and can be resumed); zero means DefaultStall.
	Stall time.Duration
	// MaxBytes is the largest snapshot a manifest may announce; zero
	// means DefaultMaxBytes.
	MaxBytes int64
}

// The defaults of a Client's limits.
const (
	DefaultTimeout  = time.Minute
	DefaultStall    = time.Minute
	DefaultMaxBytes = 16 << 30
)

// ErrTooLarge reports a manifest announcing a snapshot larger than the
// client accepts.
var ErrTooLarge = errors.New("snapshot too large")

// ErrWithdrawn reports a release the tree lists as withdrawn.
var ErrWithdrawn = errors.New("release withdrawn")

func (c *Client) timeout() time.Duration { return cmp.Or(c.Timeout, DefaultTimeout) }
func (c *Client) stall() time.Duration   { return cmp.Or(c.Stall, DefaultStall) }
func (c *Client) maxBytes() int64        { return cmp.Or(c.MaxBytes, DefaultMaxBytes) }

// Release is a resolved release and where its snapshot is.
type Release struct {
	System   codeset.System
	Label    string
	Manifest *format.Manifest
	// SnapshotURL is the snapshot's address; SHA256 and Bytes come from
	// the manifest.
	SnapshotURL string
	SHA256      string
	Bytes       int64
	// Withdrawn is set when the tree lists the release as withdrawn; only
	// a download asked for by its label gets one.
	Withdrawn *format.WithdrawnRelease
}

// Result describes a finished download.
type Result struct {
	Release *Release
	Path    string
	// Resumed is the number of bytes kept from an earlier partial download.
	Resumed int64
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// url returns the address of the slash path rel under the base URL.
func (c *Client) url(rel string) (string, error) {
	base, err := url.Parse(c.Base)
	if err != nil {
		return "", fmt.Errorf("bad base url %q: %w", c.Base, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return "", fmt.Errorf("bad base url %q: want http or https", c.Base)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	ref, err := url.Parse(rel)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(ref).String(), nil
}

// getJSON fetches the JSON document at rel into v.
func (c *Client) getJSON(ctx context.Context, rel string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	u, err := c.url(rel)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("get %s: %w", u, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	return nil
}

// Resolve finds release of sys: a label, or "latest" or "current" (the
// pointers of the tree), and reads its manifest.
func (c *Client) Resolve(ctx context.Context, sys codeset.System, release string) (*Release, error) {
	if _, err := codeset.ParseSystem(string(sys)); err != nil {
		return nil, err
	}
	label := release
	if release == "latest" || release == "current" {
		var p format.Pointer
		if err := c.getJSON(ctx, path.Join(string(sys), release+".json"), &p); err != nil {
			if release == "current" && errors.Is(err, errNotFound) {
				return nil, fmt.Errorf("resolve %s current: no release is in effect yet (try --release latest): %w", sys, err)
			}
			return nil, fmt.Errorf("resolve %s %s: %w", sys, release, err)
		}
		label = p.Label
	}
	if err := codeset.CheckLabel(label); err != nil {
		return nil, fmt.Errorf("resolve %s %s: %w", sys, release, err)
	}
	// A tree without withdrawals has no withdrawn.json.
	var withdrawn []format.WithdrawnRelease
	if err := c.getJSON(ctx, path.Join(string(sys), format.WithdrawnName), &withdrawn); err != nil && !errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("resolve %s %s: %w", sys, release, err)
	}
	var wd *format.WithdrawnRelease
	for i := range withdrawn {
		if withdrawn[i].Label == label {
			wd = &withdrawn[i]
		}
	}
	if wd != nil && label != release {
		// A pointer never names a withdrawn release; a stale one did.
		return nil, fmt.Errorf("resolve %s %s: %s: %w on %s: %s (ask for it by its label to download it all the same)", sys, release, label, ErrWithdrawn, wd.At, wd.Reason)
	}
	var m format.Manifest
	if err := c.getJSON(ctx, path.Join(string(sys), label, format.ManifestName), &m); err != nil {
		return nil, fmt.Errorf("resolve %s %s: %w", sys, release, err)
	}
	if m.System != sys || m.Label != label {
		return nil, fmt.Errorf("resolve %s %s: manifest is for %s %s", sys, release, m.System, m.Label)
	}
	name := format.SnapshotName(sys, label)
	r := &Release{System: sys, Label: label, Manifest: &m}
	for _, f := range m.Files {
		if f.Name == name {
			r.SHA256, r.Bytes = f.SHA256, f.Bytes
		}
	}
	if r.SHA256 == "" {
		return nil, fmt.Errorf("resolve %s %s: manifest lists no %s", sys, release, name)
	}
	if r.Bytes < 0 || r.Bytes > c.maxBytes() {
		return nil, fmt.Errorf("resolve %s %s: %w: the manifest says %d bytes, more than the %d this client accepts", sys, release, ErrTooLarge, r.Bytes, c.maxBytes())
	}
	r.Withdrawn = wd
	u, err := c.url(path.Join(string(sys), label, name))
	if err != nil {
		return nil, err
	}
	r.SnapshotURL = u
	return r, nil
}

// Download resolves release of sys and downloads its snapshot to dst,
// replacing dst atomically once the download is verified. An earlier
// partial download at dst+PartialSuffix is resumed. A download that fails
// the check gives an error wrapping ErrChecksum; the partial file is then
// removed and dst is untouched.
func (c *Client) Download(ctx context.Context, sys codeset.System, release, dst string) (*Result, error) {
	r, err := c.Resolve(ctx, sys, release)
	if err != nil {
		return nil, err
	}
	res := &Result{Release: r, Path: dst}
	partial := dst + PartialSuffix
	if res.Resumed, err = c.fetch(ctx, r, partial); err != nil {
		return nil, err
	}
	if err := verify(ctx, partial, r); err != nil {
		os.Remove(partial)
		return nil, fmt.Errorf("download %s: %w", r.SnapshotURL, err)
	}
	if err := os.Rename(partial, dst); err != nil {
		return nil, fmt.Errorf("download %s: %w", r.SnapshotURL, err)
	}
	if err := durable.SyncDir(filepath.Dir(dst)); err != nil {
		return nil, fmt.Errorf("download %s: %w", r.SnapshotURL, err)
	}
	return res, nil
}

// fetch brings partial up to the snapshot's full size, asking only for the
// missing bytes when some are there, and syncs it. It returns how many
// bytes were kept from before.
func (c *Client) fetch(ctx context.Context, r *Release, partial string) (int64, error) {
	// Never follow a link (or open a FIFO) planted at the partial file's
	// name: only a regular file is resumed.
	if st, err := os.Lstat(partial); err == nil && !st.Mode().IsRegular() {
		return 0, fmt.Errorf("download %s: %s is not a regular file (%s): refusing to write through it; remove it", r.SnapshotURL, partial, st.Mode().Type())
	}
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE|oNoFollow, 0o644)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", r.SnapshotURL, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("download %s: %s is not a regular file", r.SnapshotURL, partial)
	}
	have := st.Size()
	if have > r.Bytes {
		// Longer than the file can be: not a prefix of it.
		have = 0
	}
	// The request lives until the body stops arriving for Stall, or the
	// headers take longer than Timeout.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errStalled := fmt.Errorf("no data for %v", c.stall())
	timer := time.AfterFunc(c.timeout(), func() { cancel(fmt.Errorf("no answer in %v", c.timeout())) })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.SnapshotURL, nil)
	if err != nil {
		return 0, err
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = cause
		}
		return 0, fmt.Errorf("download %s: %w", r.SnapshotURL, err)
	}
	defer resp.Body.Close()
	switch {
	case have > 0 && resp.StatusCode == http.StatusPartialContent && contentRangeStart(resp.Header.Get("Content-Range")) == have:
	case have > 0 && resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have == r.Bytes:
		// Complete already; the check decides.
		return have, f.Sync()
	case resp.StatusCode == http.StatusOK:
		have = 0
	case have > 0 && (resp.StatusCode == http.StatusPartialContent || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable):
		// The server does not resume from where the partial file ends:
		// drop it, so the next attempt downloads the whole file rather
		// than failing the same way for ever.
		f.Close()
		os.Remove(partial)
		return 0, fmt.Errorf("download %s: %s (Content-Range %q) for bytes from %d: the partial download is discarded; run again",
			r.SnapshotURL, resp.Status, resp.Header.Get("Content-Range"), have)
	default:
		return 0, fmt.Errorf("download %s: %s", r.SnapshotURL, resp.Status)
	}
	if err := f.Truncate(have); err != nil {
		return 0, err
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return 0, err
	}
	// Never write more than the manifest says: a longer body is wrong and
	// the check will say so.
	timer.Stop()
	stalled := time.AfterFunc(c.stall(), func() { cancel(errStalled) })
	defer stalled.Stop()
	body := &stallReader{r: io.LimitReader(resp.Body, r.Bytes-have+1), timer: stalled, stall: c.stall()}
	if _, err := io.Copy(f, body); err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = cause
		}
		// Keep what arrived: the next attempt resumes from it.
		f.Sync()
		return 0, fmt.Errorf("download %s: %w (run again to resume)", r.SnapshotURL, err)
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return have, f.Close()
}

// stallReader resets timer after every read that brings bytes, so that
// the timer fires only when the body stalls.
type stallReader struct {
	r     io.Reader
	timer *time.Timer
	stall time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.stall)
	}
	return n, err
}

// contentRangeStart returns the first byte of a "bytes A-B/N" header, or -1.
func contentRangeStart(h string) int64 {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return -1
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// verify checks the size and SHA-256 of the file at p against r.
func verify(ctx context.Context, p string, r *Release) error {
	n, sum, err := durable.HashFile(ctx, p)
	if err != nil {
		return err
	}
	if n != r.Bytes {
		return fmt.Errorf("%w: got %d bytes, manifest says %d", ErrChecksum, n, r.Bytes)
	}
	if sum != r.SHA256 {
		return fmt.Errorf("%w: got sha256 %s, manifest says %s", ErrChecksum, sum, r.SHA256)
	}
	return nil
}
