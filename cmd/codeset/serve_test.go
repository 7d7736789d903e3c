package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codeset/codeset/publish/format"
)

// buildBinary builds the codeset command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "codeset")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs 'codeset serve --static-only' on a free port of
// 127.0.0.1 and returns its base URL; the server is stopped with SIGTERM
// when the test ends, and must exit cleanly.
func startServe(t *testing.T, bin, out string) string {
	t.Helper()
	url, _ := startServeProcess(t, bin, out)
	return url
}

// startServeProcess is startServe, also returning the server's process id.
func startServeProcess(t *testing.T, bin, out string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, "--out", out, "serve", "--static-only", "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	urlc := make(chan string, 1)
	rest := make(chan string, 1)
	go func() {
		var first string
		if lines.Scan() {
			first = lines.Text()
		}
		urlc <- first
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		rest <- b.String()
	}()
	var line string
	select {
	case line = <-urlc:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("codeset serve did not start: %s", stderr.String())
	}
	m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(line)
	if m == nil {
		cmd.Process.Kill()
		t.Fatalf("codeset serve printed %q, stderr %s", line, stderr.String())
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("codeset serve after SIGTERM: %v\n%s", err, stderr.String())
			}
			if out := <-rest; !strings.Contains(out, "stopped") {
				t.Errorf("codeset serve did not report a clean stop: %q", out)
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Errorf("codeset serve did not stop on SIGTERM")
		}
	})
	return m[1], cmd.Process.Pid
}

// runBin runs the binary and returns its output and exit status.
func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), status
}

// cutOnce serves the first snapshot request itself, stopping half way
// through the body and dropping the connection; everything else goes to h.
func cutOnce(h http.Handler, out string) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cut := false
		if strings.HasSuffix(r.URL.Path, ".sqlite") {
			once.Do(func() { cut = true })
		}
		if !cut {
			h.ServeHTTP(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
}

// TestServeAndPull serves a published tree with the real 'codeset serve
// --static-only' and with a plain http.FileServer, and pulls from both:
// pointers and labels, a download cut half way and resumed, and a
// corrupted snapshot that must be refused.
func TestServeAndPull(t *testing.T) {
	bin := buildBinary(t)
	_, out := runDemo(t)
	served := startServe(t, bin, out)
	files := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer files.Close()
	snap := func(label string) []byte {
		b, err := os.ReadFile(filepath.Join(out, "cpt", label, "cpt-"+label+".sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// The server answers as the handler does.
	resp, err := http.Get(served + "/cpt/2026/cpt-2026.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(snap("2026"))
	if etag, want := resp.Header.Get("ETag"), `"`+hex.EncodeToString(sum[:])+`"`; etag != want {
		t.Errorf("served snapshot ETag = %s, want %s", etag, want)
	}
	if resp, err := http.Get(served + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}

	for name, base := range map[string]string{"codeset serve": served, "http.FileServer": files.URL} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "cpt.sqlite")
			for _, tt := range []struct{ release, label string }{{"latest", "2026"}, {"current", "2026"}, {"2025", "2025"}} {
				stdout, stderr, status := runBin(t, bin, "pull", "--from", base, "--system", "cpt", "--release", tt.release, "-o", dst)
				if status != 0 {
					t.Fatalf("pull %s: status %d: %s", tt.release, status, stderr)
				}
				if !strings.Contains(stdout, "cpt "+tt.label+": ") || !strings.Contains(stdout, "verified") {
					t.Errorf("pull %s printed %q", tt.release, stdout)
				}
				if got, _ := os.ReadFile(dst); !bytes.Equal(got, snap(tt.label)) {
					t.Errorf("pull %s: file differs from the published snapshot", tt.release)
				}
			}
		})
	}

	// A download cut half way through, resumed by the next pull: the rest
	// comes from codeset serve (or the file server) with a Range request.
	for name, h := range map[string]http.Handler{"codeset serve": proxyTo(t, served), "http.FileServer": http.FileServer(http.Dir(out))} {
		t.Run("resume via "+name, func(t *testing.T) {
			srv := httptest.NewServer(cutOnce(h, out))
			defer srv.Close()
			dst := filepath.Join(t.TempDir(), "cpt.sqlite")
			_, stderr, status := runBin(t, bin, "pull", "--from", srv.URL, "--system", "cpt", "--release", "2024", "-o", dst)
			if status != 1 || !strings.Contains(stderr, "run again to resume") {
				t.Fatalf("cut pull: status %d, stderr %q", status, stderr)
			}
			if _, err := os.Stat(dst); err == nil {
				t.Fatalf("a cut download appeared at %s", dst)
			}
			stdout, stderr, status := runBin(t, bin, "pull", "--from", srv.URL, "--system", "cpt", "--release", "2024", "-o", dst)
			want := snap("2024")
			if status != 0 || !strings.Contains(stdout, "resumed after "+strconv.Itoa(len(want)/2)+" bytes") {
				t.Fatalf("resumed pull: status %d, stdout %q, stderr %q", status, stdout, stderr)
			}
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, want) {
				t.Errorf("resumed file differs from the published snapshot")
			}
		})
	}

	// Corrupt the published 2024 snapshot in place: both servers now hand
	// out bytes that do not match the manifest.
	bad := snap("2024")
	bad[len(bad)/3] ^= 0x55
	if err := os.WriteFile(filepath.Join(out, "cpt", "2024", "cpt-2024.sqlite"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, base := range map[string]string{"codeset serve": served, "http.FileServer": files.URL} {
		t.Run("corrupt via "+name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "cpt.sqlite")
			os.WriteFile(dst, []byte("yesterday's good copy"), 0o644)
			_, stderr, status := runBin(t, bin, "pull", "--from", base, "--system", "cpt", "--release", "2024", "-o", dst)
			if status != 1 || !strings.Contains(stderr, "checksum mismatch") {
				t.Errorf("pull of a corrupt snapshot: status %d, stderr %q", status, stderr)
			}
			if got, _ := os.ReadFile(dst); string(got) != "yesterday's good copy" {
				t.Errorf("a refused pull replaced %s", dst)
			}
			if _, err := os.Stat(dst + ".partial"); err == nil {
				t.Errorf("a refused pull left its partial file")
			}
		})
	}
}

// proxyTo forwards requests to the server at base.
func proxyTo(t *testing.T, base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), nil)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}

func TestServeUsage(t *testing.T) {
	_, _, err := run(t, t.TempDir(), t.TempDir(), "serve")
	if err == nil || !strings.Contains(err.Error(), "--static-only") {
		t.Errorf("serve without --static-only: err = %v", err)
	}
	for _, args := range [][]string{
		{"pull", "--system", "cpt", "-o", "x"},
		{"pull", "--from", "http://x", "--system", "cpt"},
		{"history", "--system", "cpt"},
		{"history", "--system", "cpt", "--format", "xml", "00100"},
		{"reindex", "extra"},
	} {
		var ue *usageError
		if _, _, err := run(t, t.TempDir(), t.TempDir(), args...); !errors.As(err, &ue) {
			t.Errorf("codeset %s: err = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

// TestReindexMovesCurrent publishes with the clock before 2026 took effect,
// then reindexes when it has: current moves from 2025 to 2026.
func TestReindexMovesCurrent(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	at := func(now time.Time) *Main {
		return &Main{Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer), DataDir: data, OutDir: out, Now: func() time.Time { return now }}
	}
	before := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range demoReleases {
		if err := at(before).Run(context.Background(), []string{"run", "--system", "cpt", "--release", r.label, filepath.Join(fixtures, r.file)}); err != nil {
			t.Fatal(err)
		}
	}
	current := func() string {
		var p format.Pointer
		b, err := os.ReadFile(filepath.Join(out, "cpt", "current.json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, &p)
		return p.Label
	}
	if got := current(); got != "2025" {
		t.Errorf("current before 2026 = %s, want 2025", got)
	}
	m := at(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := m.Run(context.Background(), []string{"reindex"}); err != nil {
		t.Fatal(err)
	}
	if got := current(); got != "2026" {
		t.Errorf("current after reindex on 2026-01-01 = %s, want 2026", got)
	}
	if s := m.Stdout.(*bytes.Buffer).String(); !strings.Contains(s, "cpt: 3 releases, latest 2026, current 2026") {
		t.Errorf("reindex printed %q", s)
	}
}

func TestHistoryCommand(t *testing.T) {
	data, out := runDemo(t)
	want := []string{
		"CPT 20958: first seen in 2024, last seen in 2026",
		"  2025  deleted\n",
		"  2026  reactivated\n",
		`      long: "Reading of the pressure inside a synthetic muscle compartment through a needle gauge, one reading" -> "Reading of the pressure inside a synthetic muscle compartment through a needle gauge, one or more readings"`,
	}
	// From the published history database, then from the snapshots alone.
	for _, o := range []string{out, t.TempDir()} {
		stdout, stderr, err := run(t, data, o, "history", "--system", "cpt", "20958")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("history lacks %q:\n%s", w, stdout)
			}
		}
	}
	stdout, _, err := run(t, data, out, "history", "--system", "cpt", "--format", "json", "1127f")
	if err != nil {
		t.Fatal(err)
	}
	var h format.CodeHistory
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatal(err)
	}
	if h.Code != "1127F" || len(h.Events) != 2 || h.Events[1].Fields["short"].After != "DEMO TOBACCO USE ASKED" {
		t.Errorf("history json = %+v", h)
	}
	if _, _, err := run(t, data, out, "history", "--system", "cpt", "ZZZZZ"); err == nil || !strings.Contains(err.Error(), `no code "ZZZZZ"`) {
		t.Errorf("history of an unknown code: err = %v", err)
	}
}
