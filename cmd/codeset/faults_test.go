//go:build unix

package main

// The fault-injection suite of issue 12: kills during a service-triggered
// job and during a withdrawal, a full disk at every point of a run (a small
// tmpfs as --out and as --data, when running as root), a read-only tree,
// and the command-line checks that refuse hostile flags up front. Hostile
// HTTP sources and pull servers are in schedules and publish/pull. The
// long parts are skipped with -short.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/schedules"
)

// TestRefusedUpFront is hole 9 at the command line: labels no command could
// read back or that name tree files, thresholds that are not shares, and
// inputs that are not regular files are refused before anything is stored.
func TestRefusedUpFront(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	file := filepath.Join(fixtures, "cpt-2024.xlsx")
	fifo := filepath.Join(dir, "cpt-2026.xlsx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"ingest", "--system", "cpt", "--release", "FY0000", file},
		{"ingest", "--system", "icd10cm", "--release", "FY0000", file},
		{"run", "--system", "cpt", "--release", "0000", file},
		{"run", "--system", "cpt", "--release", "history.sqlite", file},
		{"run", "--system", "cpt", "--release", "index.json", file},
		{"run", "--system", "cpt", "--release", "latest.json", file},
		{"run", "--system", "cpt", "--release", "2026-13", file},
		{"run", "--system", "cpt", "--release", "2024", "--max-delete-share", "NaN", file},
		{"run", "--system", "cpt", "--release", "2024", "--max-delete-share", "-0.1", file},
		{"run", "--system", "cpt", "--release", "2024", "--max-delete-share", "1.5", file},
		{"publish", "--system", "cpt", "--release", "2024", "--max-delete-share", "nan"},
	} {
		_, stderr, err := run(t, data, out, args...)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want a usage error\n%s", args, err, stderr)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := run(t, data, out, "run", "--system", "cpt", "--release", "2026", fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO as input: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a FIFO as input: still blocked after 10s")
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "cpt")); len(entries) > 0 {
		t.Errorf("refused commands stored %v", entries)
	}
}

// TestWithdrawCommand is hole 10 from the command line.
func TestWithdrawCommand(t *testing.T) {
	data, out := runDemo(t)
	if _, _, err := run(t, data, out, "withdraw", "--system", "cpt", "--release", "2026"); err == nil {
		t.Errorf("withdraw without --reason: no error")
	}
	stdout, stderr, err := run(t, data, out, "withdraw", "--system", "cpt", "--release", "2026", "--reason", "draft file published by mistake")
	if err != nil {
		t.Fatalf("withdraw: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "cpt 2026 withdrawn: draft file published by mistake") {
		t.Errorf("stdout %q", stdout)
	}
	ptr, err := format.ReadPointer(out, codeset.CPT, format.PointerLatest)
	if err != nil || ptr.Label != "2025" {
		t.Errorf("latest = %+v, %v", ptr, err)
	}
	page, _ := os.ReadFile(filepath.Join(out, format.IndexPageName))
	if !strings.Contains(string(page), "<del>2026</del>") {
		t.Errorf("index page does not strike 2026 through")
	}
	stdout, _, _ = run(t, data, out, "runs", "--job", schedules.WithdrawJob(codeset.CPT))
	if !strings.Contains(stdout, "withdrawn") || !strings.Contains(stdout, "draft file published by mistake") {
		t.Errorf("runs:\n%s", stdout)
	}
	_, _, err = run(t, data, out, "run", "--system", "cpt", "--release", "2026", filepath.Join(fixtures, "cpt-2026.xlsx"))
	if err == nil || !strings.Contains(err.Error(), "withdrawn") {
		t.Errorf("run 2026 again: %v", err)
	}
}

// copySeed copies the seed tree to a fresh directory.
func copySeed(t *testing.T, seed, dir string) {
	t.Helper()
	if err := os.CopyFS(dir, os.DirFS(seed)); err != nil {
		t.Fatal(err)
	}
}

// TestFaultKillServiceJob kills 'codeset serve' with SIGKILL at delays
// spread over a triggered run that publishes 2025. After each kill the tree
// must be consistent; starting the service again must reap the killed run
// (never "running" for ever) and finish it, and a trigger then must say
// unchanged: the release is published.
func TestFaultKillServiceJob(t *testing.T) {
	bin := binary(t)
	kills := 16
	base := t.TempDir()
	seed := filepath.Join(base, "seed")
	os.MkdirAll(filepath.Join(seed, "inbox"), 0o755)
	if _, stderr, status := runBin(t, bin, "--data", filepath.Join(seed, "data"), "--out", filepath.Join(seed, "public"),
		"run", "--system", "cpt", "--release", "2024", filepath.Join(fixtures, "cpt-2024.xlsx")); status != 0 {
		t.Fatalf("seed: %s", stderr)
	}
	want2024 := dirSums(t, filepath.Join(seed, "public", "cpt", "2024"))
	drop(t, filepath.Join(seed, "inbox"), "CPT2025.xlsx", filepath.Join(fixtures, "cpt-2025.xlsx"))
	serviceConfig(t, seed, "", "[jobs.inbox]\ndir = \"inbox\"\n")

	// The normal duration of a triggered run.
	normal := func() time.Duration {
		dir := filepath.Join(base, "timing")
		copySeed(t, seed, dir)
		s := startService(t, bin, filepath.Join(dir, "codeset.toml"))
		start := time.Now()
		if status, body, err := s.trigger(testToken); status != 200 || err != nil {
			t.Fatalf("trigger: %d %s %v", status, body, err)
		}
		d := time.Since(start)
		s.stop(t)
		return d
	}()
	maxDelay := normal * 13 / 10
	stages := map[string]int{}
	for i := range kills {
		dir := filepath.Join(base, fmt.Sprint("kill", i))
		copySeed(t, seed, dir)
		config := filepath.Join(dir, "codeset.toml")
		out, data := filepath.Join(dir, "public"), filepath.Join(dir, "data")
		s := startService(t, bin, config)
		go s.trigger(testToken)
		time.Sleep(maxDelay * time.Duration(i) / time.Duration(kills-1))
		s.cmd.Process.Kill()
		<-s.done
		stage := "nothing stored"
		switch {
		case slices.Contains(published(t, out), "2025"):
			stage = "published"
		case fileExists(filepath.Join(data, "cpt", "2025.sqlite")):
			stage = "stored, not published"
		}
		stages[stage]++
		what := fmt.Sprintf("kill %d (%s)", i, stage)
		checkTree(context.Background(), t, what, out, data, want2024, false)

		// Start again: the killed run is reaped and finished.
		s = startService(t, bin, config)
		poll(t, 30*time.Second, "no run left running", func() bool {
			return count(s.runs(t), func(r schedules.Run) bool { return r.Outcome == schedules.OutcomeRunning }) == 0
		})
		// The catch-up run may still hold the job: wait for it.
		var status int
		var body string
		var err error
		poll(t, 30*time.Second, "the job to be free", func() bool {
			status, body, err = s.trigger(testToken)
			return status != 409
		})
		if status != 200 || err != nil || !strings.Contains(body, `"outcome": "unchanged"`) && !strings.Contains(body, `"outcome": "published"`) {
			t.Errorf("%s: trigger after the restart: %d %s %v", what, status, body, err)
		}
		for _, r := range s.runs(t) {
			if r.Outcome == schedules.OutcomeRunning {
				t.Errorf("%s: run %d still running", what, r.ID)
			}
		}
		s.stop(t)
		checkTree(context.Background(), t, what+", restarted", out, data, want2024, true)
		if t.Failed() {
			t.FailNow()
		}
		os.RemoveAll(dir)
	}
	t.Logf("%d kills of serve during a triggered run of %v: stages %v, every one finished by the restart", kills, normal, stages)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestFaultKillWithdraw kills 'codeset withdraw' at delays spread over its
// run: the tree stays consistent (2024 and 2025 complete, pointers on
// complete releases), the ledger shows no run running after 'codeset
// runs', and withdrawing again finishes the job.
func TestFaultKillWithdraw(t *testing.T) {
	bin := binary(t)
	kills := 16
	base := t.TempDir()
	seed := filepath.Join(base, "seed")
	for _, y := range []string{"2024", "2025"} {
		if _, stderr, status := runBin(t, bin, "--data", filepath.Join(seed, "data"), "--out", filepath.Join(seed, "public"),
			"run", "--system", "cpt", "--release", y, filepath.Join(fixtures, "cpt-"+y+".xlsx")); status != 0 {
			t.Fatalf("seed %s: %s", y, stderr)
		}
	}
	want2024 := dirSums(t, filepath.Join(seed, "public", "cpt", "2024"))
	want2025 := dirSums(t, filepath.Join(seed, "public", "cpt", "2025"))
	args := func(dir string) []string {
		return []string{"--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "public"),
			"withdraw", "--system", "cpt", "--release", "2025", "--reason", "wrong file"}
	}
	timing := filepath.Join(base, "timing")
	copySeed(t, seed, timing)
	start := time.Now()
	if _, stderr, status := runBin(t, bin, args(timing)...); status != 0 {
		t.Fatalf("withdraw: %s", stderr)
	}
	normal := time.Since(start)
	maxDelay := normal * 13 / 10
	stages := map[string]int{}
	for i := range kills {
		dir := filepath.Join(base, fmt.Sprint("kill", i))
		copySeed(t, seed, dir)
		out, data := filepath.Join(dir, "public"), filepath.Join(dir, "data")
		cmd := exec.Command(bin, args(dir)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(maxDelay * time.Duration(i) / time.Duration(kills-1))
		cmd.Process.Kill()
		cmd.Wait()
		stage := "not withdrawn"
		if w, _ := format.ReadWithdrawn(out, codeset.CPT); len(w) > 0 {
			stage = "listed as withdrawn"
		} else if b, _ := os.ReadFile(filepath.Join(data, "cpt", "2025.json")); strings.Contains(string(b), `"withdrawn"`) {
			stage = "recorded in the data directory"
		}
		stages[stage]++
		what := fmt.Sprintf("kill %d (%s)", i, stage)
		// Both releases complete and unchanged, whatever the indexes say.
		checkTree(context.Background(), t, what, out, data, want2024, false)
		if got := dirSums(t, filepath.Join(out, "cpt", "2025")); !equalSums(got, want2025) {
			t.Errorf("%s: the 2025 folder changed", what)
		}
		// codeset runs reaps a run whose process died.
		runBin(t, bin, "--data", data, "runs")
		ledger, err := schedules.OpenLedger(context.Background(), filepath.Join(data, "ledger.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := ledger.Runs(context.Background(), "", 0)
		ledger.Close()
		for _, r := range runs {
			if r.Outcome == schedules.OutcomeRunning {
				t.Errorf("%s: run %d of %s stays running", what, r.ID, r.Job)
			}
		}
		if _, stderr, status := runBin(t, bin, args(dir)...); status != 0 {
			t.Fatalf("%s: withdraw again: %s", what, stderr)
		}
		var idx format.SystemIndex
		if err := readJSONFile(filepath.Join(out, "cpt", format.IndexName), &idx); err != nil {
			t.Fatal(err)
		}
		if len(idx.Releases) != 1 || idx.Releases[0].Label != "2024" || len(idx.Withdrawn) != 1 || *idx.Latest != "2024" {
			t.Errorf("%s, withdrawn again: index %+v", what, idx)
		}
		if t.Failed() {
			t.FailNow()
		}
		os.RemoveAll(dir)
	}
	t.Logf("%d kills of withdraw (normally %v): stages %v, every one finished by withdrawing again", kills, normal, stages)
}

func equalSums(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// mountTmpfs mounts a tmpfs of size bytes at dir, or skips the test when
// not running as root.
func mountTmpfs(t *testing.T, dir string, size int64, opts ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root: run the suite as root for the full-disk and read-only tests")
	}
	os.MkdirAll(dir, 0o755)
	o := fmt.Sprintf("size=%d", size)
	for _, x := range opts {
		o += "," + x
	}
	if b, err := exec.Command("mount", "-t", "tmpfs", "-o", o, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// free returns the bytes free on the file system of dir.
func free(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// fill leaves about left bytes free on the file system of dir.
func fill(t *testing.T, dir string, left int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for free(t, dir) > left {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
}

// TestFaultFullDisk runs 2025 on a tree holding 2024 with the disk filled
// to leave from nothing up to what the run needs, in steps of a few pages,
// first with the tree on a small tmpfs, then with the data directory on
// it. Every failure must leave a consistent tree and every stored snapshot
// readable; freeing the space and running again must publish.
func TestFaultFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("long: dozens of runs on a full disk")
	}
	points, failures := 0, 0
	for _, where := range []string{"out", "data"} {
		t.Run(where, func(t *testing.T) {
			base := t.TempDir()
			mnt := filepath.Join(base, "mnt")
			mountTmpfs(t, mnt, 32<<20)
			paths := func() (data, out string) {
				if where == "out" {
					return filepath.Join(base, "data"), filepath.Join(mnt, "public")
				}
				return filepath.Join(mnt, "data"), filepath.Join(base, "public")
			}
			data, out := paths()
			reset := func() {
				os.RemoveAll(filepath.Join(mnt, "public"))
				os.RemoveAll(filepath.Join(mnt, "data"))
				os.RemoveAll(filepath.Join(mnt, "filler"))
				os.RemoveAll(filepath.Join(base, "public"))
				os.RemoveAll(filepath.Join(base, "data"))
				if _, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", "2024", filepath.Join(fixtures, "cpt-2024.xlsx")); err != nil {
					t.Fatalf("seed: %v %s", err, stderr)
				}
			}
			run2025 := func() error {
				_, _, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", filepath.Join(fixtures, "cpt-2025.xlsx"))
				return err
			}
			reset()
			want2024 := dirSums(t, filepath.Join(out, "cpt", "2024"))
			before := free(t, mnt)
			if err := run2025(); err != nil {
				t.Fatal(err)
			}
			need := before - free(t, mnt)
			// Temporary files make the peak higher than what stays.
			need = need*2 + 64<<10
			step := max(need/40, 4096)
			for left := int64(0); left <= need; left += step {
				reset()
				fill(t, mnt, left)
				points++
				err := run2025()
				what := fmt.Sprintf("%s on a tmpfs, %d bytes free", where, left)
				if err != nil {
					failures++
					checkTree(context.Background(), t, what, out, data, want2024, false)
				}
				os.Remove(filepath.Join(mnt, "filler"))
				if err := run2025(); err != nil {
					t.Fatalf("%s: run again with space: %v", what, err)
				}
				checkTree(context.Background(), t, what+", run again", out, data, want2024, true)
				if t.Failed() {
					t.FailNow()
				}
			}
			t.Logf("%s on a full tmpfs: run needs about %d bytes; %d points tried so far, %d failed cleanly", where, need/2, points, failures)
		})
	}
}

// TestFaultReadOnlyTree runs 2025 into a read-only tree: it fails, the
// snapshot it stored is taken back (the label stays free), 2024 is
// untouched; writable again, the run publishes.
func TestFaultReadOnlyTree(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	base := t.TempDir()
	mnt := filepath.Join(base, "mnt")
	mountTmpfs(t, mnt, 16<<20)
	data, out := filepath.Join(base, "data"), filepath.Join(mnt, "public")
	if _, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", "2024", filepath.Join(fixtures, "cpt-2024.xlsx")); err != nil {
		t.Fatalf("seed: %v %s", err, stderr)
	}
	want2024 := dirSums(t, filepath.Join(out, "cpt", "2024"))
	if b, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, b)
	}
	_, _, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", filepath.Join(fixtures, "cpt-2025.xlsx"))
	if err == nil {
		t.Fatal("run into a read-only tree: no error")
	}
	if fileExists(filepath.Join(data, "cpt", "2025.sqlite")) || fileExists(filepath.Join(data, "cpt", "2025.json")) {
		t.Errorf("the failed run left its snapshot or record")
	}
	checkTree(context.Background(), t, "read-only", out, data, want2024, false)
	if b, err := exec.Command("mount", "-o", "remount,rw", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v %s", err, b)
	}
	if _, stderr, err := run(t, data, out, "run", "--system", "cpt", "--release", "2025", filepath.Join(fixtures, "cpt-2025.xlsx")); err != nil {
		t.Fatalf("run once writable: %v %s", err, stderr)
	}
	checkTree(context.Background(), t, "writable again", out, data, want2024, true)
}
