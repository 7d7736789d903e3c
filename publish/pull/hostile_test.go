package pull

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/format"
)

// TestHostileServers is hole 8 of issue 12 for pull: a stalled server, a
// manifest announcing terabytes, a symlink planted at FILE.partial and a
// server answering a Range request with a wrong Content-Range. Each fails
// in bounded time, writes nothing through the link, and leaves a state the
// next attempt recovers from.
func TestHostileServers(t *testing.T) {
	out := tree(t)
	good := http.FileServer(http.Dir(out))
	snapPath := "/cpt/2026/" + format.SnapshotName(codeset.CPT, "2026")

	t.Run("stalled before the headers", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}))
		defer srv.Close()
		c := &Client{Base: srv.URL, Timeout: 200 * time.Millisecond}
		start := time.Now()
		if _, err := c.Download(context.Background(), codeset.CPT, "2026", filepath.Join(t.TempDir(), "x.sqlite")); err == nil {
			t.Fatal("no error")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("stalled mid-body", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != snapPath {
				good.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Length", "999999")
			w.Write([]byte("SQLite format 3\x00"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		defer srv.Close()
		c := &Client{Base: srv.URL, Stall: 200 * time.Millisecond}
		dst := filepath.Join(t.TempDir(), "x.sqlite")
		start := time.Now()
		_, err := c.Download(context.Background(), codeset.CPT, "2026", dst)
		if err == nil || !strings.Contains(err.Error(), "no data for") {
			t.Fatalf("err = %v, want a stall", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
		// The bytes that came are kept for a resume; the real server
		// finishes the download.
		if _, err := (&Client{Base: httptest.NewServer(good).URL}).Download(context.Background(), codeset.CPT, "2026", dst); err != nil {
			t.Errorf("resume from a good server: %v", err)
		}
	})
	t.Run("manifest claims 5 TB", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/2026/manifest.json") {
				m, err := format.ReadManifest(filepath.Join(out, "cpt", "2026"))
				if err != nil {
					t.Error(err)
				}
				for i := range m.Files {
					m.Files[i].Bytes = 5 << 40
				}
				json.NewEncoder(w).Encode(m)
				return
			}
			good.ServeHTTP(w, r)
		}))
		defer srv.Close()
		dst := filepath.Join(t.TempDir(), "x.sqlite")
		_, err := (&Client{Base: srv.URL}).Download(context.Background(), codeset.CPT, "2026", dst)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
		if _, err := os.Lstat(dst + PartialSuffix); err == nil {
			t.Errorf("a partial file was created")
		}
	})
	t.Run("symlink at FILE.partial", func(t *testing.T) {
		srv := httptest.NewServer(good)
		defer srv.Close()
		dir := t.TempDir()
		victim := filepath.Join(dir, "victim")
		os.WriteFile(victim, []byte("precious"), 0o644)
		dst := filepath.Join(dir, "x.sqlite")
		if err := os.Symlink(victim, dst+PartialSuffix); err != nil {
			t.Skip(err)
		}
		_, err := (&Client{Base: srv.URL}).Download(context.Background(), codeset.CPT, "2026", dst)
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("err = %v, want the link refused", err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious" {
			t.Errorf("the link's target was written: %q", b)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("the download went ahead through the link")
		}
	})
	t.Run("wrong Content-Range", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == snapPath && r.Header.Get("Range") != "" {
				w.Header().Set("Content-Range", "bytes 0-99/100")
				w.WriteHeader(http.StatusPartialContent)
				w.Write(make([]byte, 100))
				return
			}
			good.ServeHTTP(w, r)
		}))
		defer srv.Close()
		dst := filepath.Join(t.TempDir(), "x.sqlite")
		want := snapshotBytes(t, out, "2026")
		os.WriteFile(dst+PartialSuffix, want[:1000], 0o644)
		c := &Client{Base: srv.URL}
		if _, err := c.Download(context.Background(), codeset.CPT, "2026", dst); err == nil {
			t.Fatal("a wrong Content-Range was accepted")
		}
		if _, err := os.Stat(dst + PartialSuffix); err == nil {
			t.Errorf("the partial that made the resume fail was kept: every retry fails the same way")
		}
		if _, err := c.Download(context.Background(), codeset.CPT, "2026", dst); err != nil {
			t.Errorf("next attempt: %v", err)
		}
	})
}

// TestPullWithdrawn is hole 10 for pull: the pointers never name a
// withdrawn release, a stale pointer that does is refused, and asking by
// label downloads it with the withdrawal reported.
func TestPullWithdrawn(t *testing.T) {
	ctx := context.Background()
	out := tree(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	stale, _ := os.ReadFile(filepath.Join(out, "cpt", "latest.json"))
	if err := publish.Withdraw(ctx, out, codeset.CPT, "2027", "label typo", now); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer srv.Close()
	c := &Client{Base: srv.URL}
	r, err := c.Resolve(ctx, codeset.CPT, "latest")
	if err != nil || r.Label != "2026" || r.Withdrawn != nil {
		t.Errorf("latest = %+v, %v; want 2026", r, err)
	}
	r, err = c.Resolve(ctx, codeset.CPT, "2027")
	if err != nil || r.Withdrawn == nil || r.Withdrawn.Reason != "label typo" {
		t.Errorf("by label = %+v, %v; want it with the withdrawal", r, err)
	}
	os.WriteFile(filepath.Join(out, "cpt", "latest.json"), stale, 0o644)
	if _, err := c.Resolve(ctx, codeset.CPT, "latest"); !errors.Is(err, ErrWithdrawn) {
		t.Errorf("stale latest pointer naming 2027: err = %v, want ErrWithdrawn", err)
	}
}
