// Command lookup times the code lookup API of a running codeset serve: it
// issues sequential GET /api/v1/SYSTEM/codes/CODE requests for codes drawn
// at random (from a seed) from a stored snapshot, over one kept-alive
// loopback connection, and prints the latency percentiles. Every reply must
// be 200 OK. Used by bench/compare.sh. With -path it asks for that one path
// instead (say /healthz, the floor of the server and the loopback round
// trip). With -pid it also prints the CPU time the server process (that
// pid, on the same machine) spent over the timed requests, per request,
// from the run times Linux keeps of its threads (nanoseconds).
//
//	go run ./bench/lookup -url http://127.0.0.1:8080 -snapshot DATA/icd10cm/FY2025.sqlite
//	go run ./bench/lookup -url http://127.0.0.1:8080 -path /healthz
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codeset/codeset/publish/snapshot"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "`URL` of the running server")
	path := flag.String("snapshot", "", "stored snapshot `file` whose codes are looked up (its system and release)")
	n := flag.Int("n", 1000, "number of requests")
	warm := flag.Int("warm", 20, "requests made first and not timed")
	warmFor := flag.Duration("warmfor", 3*time.Second, "keep making untimed requests first for at least this long: the server loads a release's indexes in the background after its first lookup, answering from the files meanwhile")
	seed := flag.Uint64("seed", 20261127, "random `seed` of the codes drawn")
	fixed := flag.String("path", "", "URL `path` asked for every time instead of codes of -snapshot (e.g. /healthz)")
	pid := flag.Int("pid", 0, "process `id` of the server, to print its CPU time per timed request (Linux)")
	flag.Parse()
	if err := run(*base, *path, *fixed, *n, *warm, *warmFor, *seed, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "lookup:", err)
		os.Exit(1)
	}
}

func run(base, path, fixed string, n, warm int, warmFor time.Duration, seed uint64, pid int) error {
	what := fixed
	next := func() string { return base + fixed }
	if fixed == "" {
		if path == "" {
			return fmt.Errorf("-snapshot or -path is required")
		}
		rel, err := snapshot.Read(context.Background(), path)
		if err != nil {
			return err
		}
		if len(rel.Codes) == 0 {
			return fmt.Errorf("%s holds no codes", path)
		}
		rng := rand.New(rand.NewPCG(seed, seed))
		what = "lookups of " + string(rel.System) + " " + rel.Label
		next = func() string {
			c := rel.Codes[rng.IntN(len(rel.Codes))].Code
			return fmt.Sprintf("%s/api/v1/%s/codes/%s?release=%s", base, rel.System, url.PathEscape(c), url.QueryEscape(rel.Label))
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func() (time.Duration, error) {
		u := next()
		start := time.Now()
		resp, err := client.Get(u)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return d, nil
	}
	first, err := get()
	if err != nil {
		return err
	}
	made, start := 1, time.Now()
	for ; made < warm || time.Since(start) < warmFor; made++ {
		if _, err := get(); err != nil {
			return err
		}
	}
	fmt.Printf("first request %.3f ms; %d untimed requests in %.1f s before the timed ones\n",
		float64(first.Microseconds())/1000, made, time.Since(start).Seconds())
	times := make([]time.Duration, 0, n)
	var cpu0 time.Duration
	if pid != 0 {
		if cpu0, err = cpuTime(pid); err != nil {
			return err
		}
	}
	for range n {
		d, err := get()
		if err != nil {
			return err
		}
		times = append(times, d)
	}
	server := ""
	if pid != 0 {
		cpu1, err := cpuTime(pid)
		if err != nil {
			return err
		}
		server = fmt.Sprintf(", server CPU %.1f us/req", float64((cpu1-cpu0).Nanoseconds())/1000/float64(n))
	}
	slices.Sort(times)
	at := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(p*float64(len(times))))].Microseconds()) / 1000
	}
	fmt.Printf("%d %s: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms%s\n",
		n, what, at(0.50), at(0.90), at(0.99), float64(times[len(times)-1].Microseconds())/1000, server)
	return nil
}

// cpuTime returns the time the threads of process pid have run so far:
// the sum of the first field of each /proc/PID/task/TID/schedstat. The
// server's threads live as long as it does (Go keeps them), so what a
// thread that ended had run is not missed.
func cpuTime(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no threads of process %d in /proc", pid)
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, fmt.Errorf("%s: empty", t)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t, err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}
