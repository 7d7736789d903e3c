package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/server"
)

// Load test size: clients downloading at once, requests per client and the
// deadline for all of them.
const (
	loadClients  = 200
	loadRequests = 5
	loadDeadline = 30 * time.Second
)

// TestServeLoad serves a published tree with the real 'codeset serve
// --static-only' on loopback and has 200 clients, each on its own
// connection, download release files in full and by Range at once. Every
// answer must carry the right bytes, and once the clients hang up the
// server must hold no more file descriptors than before.
func TestServeLoad(t *testing.T) {
	bin := buildBinary(t)
	_, out := runDemo(t)
	base, pid := startServeProcess(t, bin, out)
	fdsBefore := openFDs(t, pid)

	type file struct {
		path string
		body []byte
	}
	var files []file
	for _, name := range []string{"cpt-2026.sqlite", format.ChangelogXLSX, format.ChangelogHTML, format.ManifestName} {
		b, err := os.ReadFile(filepath.Join(out, "cpt", "2026", name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file{"/cpt/2026/" + name, b})
	}

	ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
	defer cancel()
	var (
		wg       sync.WaitGroup
		requests atomic.Int64
		mu       sync.Mutex
		errs     []error
	)
	transports := make([]*http.Transport, loadClients)
	start := time.Now()
	for c := range loadClients {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
		transports[c] = tr
		client := &http.Client{Transport: tr}
		wg.Go(func() {
			for r := range loadRequests {
				f := files[(c+r)%len(files)]
				// Every other request asks for a range that differs per
				// client and request.
				var from, to int
				ranged := (c+r)%2 == 1
				if ranged {
					from = (c*131 + r*17) % len(f.body)
					to = min(len(f.body)-1, from+(c*7+r*3)%4096)
				}
				err := fetch(ctx, client, base+f.path, ranged, from, to, f.body)
				requests.Add(1)
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("client %d request %d %s: %w", c, r, f.path, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs[:min(len(errs), 10)] {
		t.Error(err)
	}
	if n := requests.Load(); n != loadClients*loadRequests {
		t.Errorf("%d requests made, want %d", n, loadClients*loadRequests)
	}

	// The clients keep their connections until they hang up: the count
	// must see them, or it could not see a leak either.
	if fdsDuring := openFDs(t, pid); fdsBefore >= 0 && fdsDuring < fdsBefore+loadClients/2 {
		t.Errorf("server holds %d file descriptors with %d clients connected, %d before: the count misses connections", fdsDuring, loadClients, fdsBefore)
	} else {
		t.Logf("server file descriptors with the clients connected: %d", fdsDuring)
	}
	// The clients hang up; the server must let go of every connection
	// and file.
	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	if fdsBefore < 0 {
		t.Logf("%d requests from %d clients in %v; file descriptors not counted on %s", requests.Load(), loadClients, took, runtime.GOOS)
		return
	}
	const slack = 2
	fdsAfter := openFDs(t, pid)
	for wait := time.Now().Add(5 * time.Second); fdsAfter > fdsBefore+slack && time.Now().Before(wait); {
		time.Sleep(50 * time.Millisecond)
		fdsAfter = openFDs(t, pid)
	}
	if fdsAfter > fdsBefore+slack {
		t.Errorf("server holds %d file descriptors after the load, %d before", fdsAfter, fdsBefore)
	}
	t.Logf("%d requests from %d clients in %v; server file descriptors %d before, %d after", requests.Load(), loadClients, took, fdsBefore, fdsAfter)
}

// fetch downloads url, the bytes from to to (inclusive) when ranged, and
// checks them against want, the whole file.
func fetch(ctx context.Context, client *http.Client, url string, ranged bool, from, to int, want []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	wantStatus := http.StatusOK
	if ranged {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to))
		want = want[from : to+1]
		wantStatus = http.StatusPartialContent
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != wantStatus {
		return fmt.Errorf("%s, want %d", resp.Status, wantStatus)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		return fmt.Errorf("%d bytes with the wrong SHA-256, want %d bytes", len(got), len(want))
	}
	return nil
}

// openFDs counts the open file descriptors of process pid, or returns -1
// where /proc does not list them.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		return -1
	}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestServerLimits checks the limits newServer puts on clients: a request
// whose headers never end and an idle keep-alive connection are both cut
// off, and a body larger than the cap cannot be read in full.
func TestServerLimits(t *testing.T) {
	oldHeader, oldIdle := readHeaderTimeout, idleTimeout
	readHeaderTimeout, idleTimeout = 200*time.Millisecond, 300*time.Millisecond
	defer func() { readHeaderTimeout, idleTimeout = oldHeader, oldIdle }()

	var bodyErr atomic.Value
	mux := http.NewServeMux()
	mux.Handle("/", server.New(t.TempDir()))
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			bodyErr.Store(err)
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}
	})
	srv := newServer(mux, nil)
	if srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("server without limits: %+v", srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()

	// closedWithin reports whether the server closes conn within d.
	closedWithin := func(conn net.Conn, d time.Duration) bool {
		conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, conn)
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}

	// send opens a connection and writes req on it.
	send := func(t *testing.T, req string) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		return conn
	}

	t.Run("header timeout", func(t *testing.T) {
		conn := send(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		if !closedWithin(conn, 3*time.Second) {
			t.Error("a request whose headers never end kept its connection for 3s")
		}
	})

	t.Run("idle timeout", func(t *testing.T) {
		conn := send(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("healthz: %s", resp.Status)
		}
		if !closedWithin(conn, 3*time.Second) {
			t.Error("an idle keep-alive connection stayed open for 3s")
		}
	})

	t.Run("body cap", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), maxBodyBytes+1)
		resp, err := http.Post("http://"+addr+"/body", "text/plain", bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var mbe *http.MaxBytesError
		if err, _ := bodyErr.Load().(error); !errors.As(err, &mbe) || resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("body of %d bytes: %s, read error %v, want a MaxBytesError", len(big), resp.Status, err)
		}
		// A body the tree's routes never read is refused too.
		resp, err = http.Post("http://"+addr+"/healthz", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /healthz: %s, want 405", resp.Status)
		}
	})

	t.Run("header size", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("x", 2*maxHeaderBytes))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("headers of %d bytes: %s, want 431", 2*maxHeaderBytes, resp.Status)
		}
	})
}
