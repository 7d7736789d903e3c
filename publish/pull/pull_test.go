package pull

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/server"
	"github.com/codeset/codeset/publish/snapshot"
)

// tree publishes two CPT releases, 2026 (in effect at the test's clock)
// and 2027 (not yet), and returns the tree.
func tree(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "public")
	store := t.TempDir()
	var prev *codeset.Release
	for i, label := range []string{"2026", "2027"} {
		r := &codeset.Release{System: codeset.CPT, Label: label, Effective: time.Date(2026+i, 1, 1, 0, 0, 0, 0, time.UTC)}
		// Enough codes that the snapshot spans several reads.
		for n := range 2000 {
			r.Codes = append(r.Codes, codeset.Code{Code: fmt.Sprintf("%05d", 10000+n), Category: "I",
				Long: strings.Repeat("synthetic descriptor "+label+" ", 3)})
		}
		snap := filepath.Join(store, label+".sqlite")
		if err := snapshot.Write(ctx, snap, r); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		if _, err := publish.PublishAt(ctx, out, snap, r, diff.Compare(prev, r, nil), now); err != nil {
			t.Fatal(err)
		}
		prev = r
	}
	return out
}

func snapshotBytes(t *testing.T, out, label string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "cpt", label, format.SnapshotName(codeset.CPT, label)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// servers serves the tree with codeset's handler and with a plain static
// file server.
func servers(out string) map[string]http.Handler {
	return map[string]http.Handler{
		"codeset handler": server.New(out),
		"http.FileServer": http.FileServer(http.Dir(out)),
	}
}

func TestDownload(t *testing.T) {
	ctx := context.Background()
	out := tree(t)
	for name, h := range servers(out) {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := &Client{Base: srv.URL}
			for _, tt := range []struct{ release, label string }{
				{"latest", "2027"}, {"current", "2026"}, {"2026", "2026"}, {"2027", "2027"},
			} {
				dst := filepath.Join(t.TempDir(), "cpt.sqlite")
				res, err := c.Download(ctx, codeset.CPT, tt.release, dst)
				if err != nil {
					t.Fatalf("%s: %v", tt.release, err)
				}
				got, _ := os.ReadFile(dst)
				if res.Release.Label != tt.label || !bytes.Equal(got, snapshotBytes(t, out, tt.label)) {
					t.Errorf("%s: got release %s, %d bytes; want %s", tt.release, res.Release.Label, len(got), tt.label)
				}
				if _, err := os.Stat(dst + PartialSuffix); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: partial file left: %v", tt.release, err)
				}
			}
			if _, err := c.Download(ctx, codeset.CPT, "1999", filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "404") {
				t.Errorf("missing release: err = %v, want a 404", err)
			}
		})
	}
}

// cutFirst wraps h so that the first snapshot download stops after half
// of the file, as a dropped connection would; it records Range headers.
type cutFirst struct {
	h      http.Handler
	mu     sync.Mutex
	cut    bool
	ranges []string
}

func (c *cutFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, ".sqlite") {
		c.h.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	first := !c.cut
	c.cut = true
	c.ranges = append(c.ranges, r.Header.Get("Range"))
	c.mu.Unlock()
	if !first {
		c.h.ServeHTTP(w, r)
		return
	}
	cw := &cutWriter{ResponseWriter: w}
	c.h.ServeHTTP(cw, r)
	// Drop the connection with the body half sent.
	panic(http.ErrAbortHandler)
}

type cutWriter struct {
	http.ResponseWriter
	sent int
}

func (w *cutWriter) Write(p []byte) (int, error) {
	const limit = 20000
	if w.sent >= limit {
		return 0, errors.New("cut")
	}
	if w.sent+len(p) > limit {
		p = p[:limit-w.sent]
	}
	k, err := w.ResponseWriter.Write(p)
	w.sent += k
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if err == nil && w.sent >= limit {
		err = errors.New("cut")
	}
	return k, err
}

func TestResume(t *testing.T) {
	ctx := context.Background()
	out := tree(t)
	want := snapshotBytes(t, out, "2027")
	for name, h := range servers(out) {
		t.Run(name, func(t *testing.T) {
			cut := &cutFirst{h: h}
			srv := httptest.NewServer(cut)
			defer srv.Close()
			c := &Client{Base: srv.URL}
			dst := filepath.Join(t.TempDir(), "cpt.sqlite")
			if _, err := c.Download(ctx, codeset.CPT, "latest", dst); err == nil {
				t.Fatal("first download succeeded through a dropped connection")
			}
			partial, err := os.ReadFile(dst + PartialSuffix)
			if err != nil || len(partial) == 0 || len(partial) >= len(want) || !bytes.Equal(partial, want[:len(partial)]) {
				t.Fatalf("after the cut: partial %d bytes (%v), want a proper prefix of %d", len(partial), err, len(want))
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an unverified download appeared at %s", dst)
			}
			res, err := c.Download(ctx, codeset.CPT, "latest", dst)
			if err != nil {
				t.Fatal(err)
			}
			if res.Resumed != int64(len(partial)) {
				t.Errorf("resumed after %d bytes, want %d", res.Resumed, len(partial))
			}
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, want) {
				t.Errorf("resumed download differs from the snapshot")
			}
			if wantRange := "bytes=" + strconv.Itoa(len(partial)) + "-"; len(cut.ranges) != 2 || cut.ranges[1] != wantRange {
				t.Errorf("Range headers sent = %q, want a second request with %q", cut.ranges, wantRange)
			}
		})
	}
}

func TestCorruptRefused(t *testing.T) {
	ctx := context.Background()
	out := tree(t)
	snap := filepath.Join(out, "cpt", "2027", format.SnapshotName(codeset.CPT, "2027"))
	b := snapshotBytes(t, out, "2027")
	b[len(b)/2] ^= 0xff // same size, one byte changed
	if err := os.WriteFile(snap, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, h := range servers(out) {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			dst := filepath.Join(t.TempDir(), "cpt.sqlite")
			os.WriteFile(dst, []byte("the copy downstream uses today"), 0o644)
			_, err := (&Client{Base: srv.URL}).Download(ctx, codeset.CPT, "latest", dst)
			if !errors.Is(err, ErrChecksum) {
				t.Fatalf("err = %v, want ErrChecksum", err)
			}
			if got, _ := os.ReadFile(dst); string(got) != "the copy downstream uses today" {
				t.Errorf("a refused download changed %s", dst)
			}
			if _, err := os.Stat(dst + PartialSuffix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the bad partial file was kept: %v", err)
			}
		})
	}
}

// TestBadPartial resumes from a partial file that is not a prefix of the
// snapshot: the check fails, the partial goes, and the next try is clean.
func TestBadPartial(t *testing.T) {
	ctx := context.Background()
	out := tree(t)
	srv := httptest.NewServer(server.New(out))
	defer srv.Close()
	c := &Client{Base: srv.URL}
	dst := filepath.Join(t.TempDir(), "cpt.sqlite")
	os.WriteFile(dst+PartialSuffix, bytes.Repeat([]byte("x"), 5000), 0o644)
	if _, err := c.Download(ctx, codeset.CPT, "2026", dst); !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	if _, err := c.Download(ctx, codeset.CPT, "2026", dst); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, snapshotBytes(t, out, "2026")) {
		t.Errorf("retry gave the wrong bytes")
	}
}

// TestNoRangeSupport downloads from a server that ignores Range: the
// client starts again from the first byte.
func TestNoRangeSupport(t *testing.T) {
	ctx := context.Background()
	out := tree(t)
	fs := http.FileServer(http.Dir(out))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Range")
		fs.ServeHTTP(w, r)
	}))
	defer srv.Close()
	want := snapshotBytes(t, out, "2026")
	dst := filepath.Join(t.TempDir(), "cpt.sqlite")
	os.WriteFile(dst+PartialSuffix, want[:1000], 0o644)
	res, err := (&Client{Base: srv.URL}).Download(ctx, codeset.CPT, "current", dst)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); res.Resumed != 0 || !bytes.Equal(got, want) {
		t.Errorf("resumed %d, %d bytes; want a fresh full download", res.Resumed, len(got))
	}
}

func TestNoCurrentYet(t *testing.T) {
	out := tree(t)
	// As Reindex leaves it before any release takes effect.
	if err := os.Remove(filepath.Join(out, "cpt", "current.json")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "cpt.sqlite")
	_, err := (&Client{Base: srv.URL}).Download(context.Background(), codeset.CPT, "current", dst)
	if err == nil || !strings.Contains(err.Error(), "no release is in effect yet (try --release latest)") {
		t.Errorf("err = %v, want a hint to use latest", err)
	}
}
