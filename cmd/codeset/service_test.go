package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/codeset/codeset/schedules"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds the codeset command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "codeset-bin-*"); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, "codeset"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "codeset")
}

const testToken = "t0ken-for-tests"

// client bounds every request of the tests, so a stuck server fails a test
// rather than hanging it.
var client = &http.Client{Timeout: 15 * time.Second}

// serviceConfig writes a config with one CPT job; source is its TOML
// source table. It returns the config path.
func serviceConfig(t *testing.T, dir, schedule, source string) string {
	t.Helper()
	sched := ""
	if schedule != "" {
		sched = fmt.Sprintf("schedule = %q\ntimezone = \"UTC\"\n", schedule)
	}
	text := `data = "data"
out = "public"
listen = "127.0.0.1:0"
token_env = "CODESET_TEST_TOKEN"
shutdown_grace = "5s"

[[jobs]]
name = "cpt"
system = "cpt"
` + sched + source
	path := filepath.Join(dir, "codeset.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// poll calls cond until it holds, failing the test after the deadline.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// service is a running 'codeset serve --config'; startService starts one.
type service struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs []string
	done chan error
}

func startService(t *testing.T, bin, config string) *service {
	t.Helper()
	s := &service{cmd: exec.Command(bin, "serve", "--config", config, "--log-format", "json"), done: make(chan error, 1)}
	s.cmd.Env = append(os.Environ(), "CODESET_TEST_TOKEN="+testToken)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs = append(s.logs, line)
			s.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	select {
	case s.addr = <-addr:
	case err := <-s.done:
		t.Fatalf("serve exited: %v\n%s", err, s.log())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start listening\n%s", s.log())
	}
	return s
}

func (s *service) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.logs, "\n")
}

// stop sends SIGTERM and expects a clean exit.
func (s *service) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, s.log())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM\n%s", s.log())
	}
	if !strings.Contains(s.log(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", s.log())
	}
}

// runs reads the ledger over the API, newest first.
func (s *service) runs(t *testing.T) []schedules.Run {
	t.Helper()
	resp, err := client.Get("http://" + s.addr + "/api/v1/runs?limit=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Runs []schedules.Run }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Runs
}

// trigger posts to the HTTP trigger of job cpt. It may run outside the
// test's goroutine, so it returns its error rather than failing the test.
func (s *service) trigger(token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+s.addr+"/api/v1/jobs/cpt/runs", nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func count(runs []schedules.Run, keep func(schedules.Run) bool) int {
	n := 0
	for _, r := range runs {
		if keep(r) {
			n++
		}
	}
	return n
}

// drop puts a copy of src into the inbox as name the way the README says:
// written under a hidden name, then renamed into place.
func drop(t *testing.T, inbox, name, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(inbox, "."+name+".part")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
		t.Fatal(err)
	}
}

func published(t *testing.T, out string) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(out, "cpt"))
	var labels []string
	for _, e := range entries {
		// Release folders only, not the indexes and pointers beside them.
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			labels = append(labels, e.Name())
		}
	}
	return labels
}

// TestServeInbox runs 'codeset serve' with a job on a one-second schedule:
// a file dropped into the inbox is published; the same file dropped again
// is "unchanged"; the HTTP trigger needs the token; SIGTERM stops it.
func TestServeInbox(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	os.Mkdir(inbox, 0o755)
	config := serviceConfig(t, dir, "@every 1s", "[jobs.inbox]\ndir = \"inbox\"\nglob = \"*.xlsx\"\n")
	s := startService(t, bin, config)

	drop(t, inbox, "CPT2025.xlsx", filepath.Join(fixtures, "cpt-2025.xlsx"))
	isPublished := func(r schedules.Run) bool { return r.Outcome == schedules.OutcomePublished }
	poll(t, 10*time.Second, "the dropped file to be published", func() bool { return count(s.runs(t), isPublished) == 1 })
	if got := published(t, filepath.Join(dir, "public")); len(got) != 1 || got[0] != "2025" {
		t.Fatalf("published %v, want [2025]", got)
	}
	resp, err := client.Get("http://" + s.addr + "/cpt/2025/manifest.json")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("download of the published manifest: %v %v", resp, err)
	}
	resp.Body.Close()

	dropped := time.Now()
	drop(t, inbox, "CPT2025.xlsx", filepath.Join(fixtures, "cpt-2025.xlsx"))
	poll(t, 10*time.Second, "a run on the file dropped again", func() bool {
		return count(s.runs(t), func(r schedules.Run) bool { return r.Started.After(dropped) && r.Outcome != schedules.OutcomeRunning }) > 0
	})
	runs := s.runs(t)
	for _, r := range runs {
		if r.Started.After(dropped) && r.Outcome != schedules.OutcomeUnchanged && r.Outcome != schedules.OutcomeRunning {
			t.Errorf("run after the second drop: %s %s", r.Outcome, r.Error)
		}
	}
	if n := count(runs, isPublished); n != 1 {
		t.Errorf("%d published runs, want 1", n)
	}

	manual := func(r schedules.Run) bool { return r.Trigger == schedules.TriggerManual }
	for _, token := range []string{"", "wrong"} {
		if status, body, err := s.trigger(token); status != http.StatusUnauthorized {
			t.Errorf("trigger with token %q: %d %s %v, want 401", token, status, body, err)
		}
	}
	if n := count(s.runs(t), manual); n != 0 {
		t.Errorf("%d manual runs after unauthorized triggers, want 0", n)
	}
	if status, body, err := s.trigger(testToken); status != http.StatusOK || !strings.Contains(body, `"outcome": "unchanged"`) {
		t.Errorf("trigger with the token: %d %s %v", status, body, err)
	}
	s.stop(t)
	if got := published(t, filepath.Join(dir, "public")); len(got) != 1 {
		t.Errorf("published %v, want [2025]", got)
	}

	stdout, stderr, err := run(t, "", "", "runs", "--config", config, "--job", "cpt", "--limit", "0")
	if err != nil {
		t.Fatalf("runs: %v\n%s", err, stderr)
	}
	for _, want := range []string{"ID  JOB  TRIGGER   OUTCOME", "schedule  published  2025", "manual    unchanged  2025"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("runs output lacks %q:\n%s", want, stdout)
		}
	}
	if stdout, _, _ := run(t, "", "", "runs", "--config", config, "--job", "hcpcs"); !strings.Contains(stdout, "no runs recorded") {
		t.Errorf("runs of a job that never ran: %q", stdout)
	}
}

// TestServeShutdownAbandons stops the service while a triggered run is
// stuck downloading: after the grace period the run is abandoned, recorded
// as abandoned (issue 12), and nothing is published.
func TestServeShutdownAbandons(t *testing.T) {
	bin := binary(t)
	entered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select { // never answers; gives up when the client does
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	config := serviceConfig(t, dir, "", fmt.Sprintf("[jobs.url]\nurl = %q\nretries = 0\n", srv.URL+"/CPT2026.xlsx"))
	text, _ := os.ReadFile(config)
	os.WriteFile(config, bytes.Replace(text, []byte(`shutdown_grace = "5s"`), []byte(`shutdown_grace = "300ms"`), 1), 0o644)

	s := startService(t, bin, config)
	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		status, body, err := s.trigger(testToken)
		answered <- answer{status, body, err}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the triggered run did not start")
	}
	s.stop(t)
	a := <-answered // the client's timeout bounds the wait
	if a.status != http.StatusInternalServerError || !strings.Contains(a.body, `"outcome": "abandoned"`) || !strings.Contains(a.body, "context canceled") {
		t.Errorf("trigger answer: %d %s %v", a.status, a.body, a.err)
	}
	if !strings.Contains(s.log(), "abandoning running jobs") {
		t.Errorf("log does not say the run was abandoned:\n%s", s.log())
	}
	if got := published(t, filepath.Join(dir, "public")); len(got) != 0 {
		t.Errorf("published %v, want nothing", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "data", "cpt")); len(entries) != 0 {
		t.Errorf("snapshots left: %v", entries)
	}
}

// TestServeCatchUp stops the service, lets a scheduled time pass and starts
// it again: exactly one catch-up run.
func TestServeCatchUp(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	os.Mkdir(inbox, 0o755)
	drop(t, inbox, "CPT2025.xlsx", filepath.Join(fixtures, "cpt-2025.xlsx"))
	config := serviceConfig(t, dir, "@every 1s", "[jobs.inbox]\ndir = \"inbox\"\n")

	s := startService(t, bin, config)
	poll(t, 10*time.Second, "a scheduled run", func() bool {
		return count(s.runs(t), func(r schedules.Run) bool { return r.Outcome == schedules.OutcomePublished }) == 1
	})
	s.stop(t)

	// Down past the next scheduled time.
	ledger, err := schedules.OpenLedger(context.Background(), filepath.Join(dir, "data", "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ledger.Runs(context.Background(), "cpt", 1)
	ledger.Close()
	if err != nil || len(runs) != 1 {
		t.Fatalf("ledger: %v %v", runs, err)
	}
	poll(t, 5*time.Second, "the next scheduled time to pass", func() bool { return time.Since(runs[0].Started) > 1200*time.Millisecond })

	restarted := time.Now()
	s = startService(t, bin, config)
	catchUp := func(r schedules.Run) bool { return r.Trigger == schedules.TriggerCatchUp }
	poll(t, 10*time.Second, "the catch-up run and two scheduled runs after it", func() bool {
		runs := s.runs(t)
		return count(runs, func(r schedules.Run) bool { return catchUp(r) && r.Outcome != schedules.OutcomeRunning }) > 0 &&
			count(runs, func(r schedules.Run) bool {
				return r.Trigger == schedules.TriggerSchedule && r.Started.After(restarted)
			}) >= 2
	})
	runs = s.runs(t)
	if n := count(runs, catchUp); n != 1 {
		t.Errorf("%d catch-up runs, want 1", n)
	}
	for _, r := range runs {
		if catchUp(r) && (r.Outcome != schedules.OutcomeUnchanged || r.Started.Before(restarted)) {
			t.Errorf("catch-up run: %+v", r)
		}
	}
	s.stop(t)
}

// TestTriggerConcurrency starts 20 triggers of one job at once, 10 in
// this process and 10 as 'codeset trigger' processes. The source is an HTTP
// server that holds the first download until the other 19 have answered,
// so exactly one run happens and the rest must say "already running".
func TestTriggerConcurrency(t *testing.T) {
	bin := binary(t)
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock()
	body, err := os.ReadFile(filepath.Join(fixtures, "cpt-2026.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			select {
			case <-release:
			case <-time.After(20 * time.Second):
			}
		}
		w.Write(body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	config := serviceConfig(t, dir, "", fmt.Sprintf("[jobs.url]\nurl = %q\nretries = 0\n", srv.URL+"/CPT2026.xlsx"))

	type result struct {
		who            string
		err            error
		stdout, stderr string
	}
	results := make(chan result, 20)
	var cmds []*exec.Cmd
	for i := range 10 {
		cmd := exec.Command(bin, "trigger", "cpt", "--config", config)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		go func() {
			err := cmd.Wait()
			results <- result{fmt.Sprintf("process %d", i), err, o.String(), e.String()}
		}()
	}
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
		}
	}()
	for i := range 10 {
		go func() {
			var o, e bytes.Buffer
			m := &Main{Stdout: &o, Stderr: &e}
			err := m.Run(context.Background(), []string{"trigger", "cpt", "--config", config})
			results <- result{fmt.Sprintf("goroutine %d", i), err, o.String(), e.String()}
		}()
	}

	busy := func(r result) bool {
		var ee *exec.ExitError
		if strings.HasPrefix(r.who, "process") {
			return errors.As(r.err, &ee) && ee.ExitCode() == 1 && strings.Contains(r.stderr, "already running")
		}
		return r.err != nil && strings.Contains(r.err.Error(), "already running")
	}
	timeout := time.After(20 * time.Second)
	var winner *result
	for got := 0; got < 20; got++ {
		if got == 19 {
			unblock() // all the others have answered: let the one run finish
		}
		select {
		case r := <-results:
			switch {
			case busy(r):
			case winner == nil && r.err == nil:
				winner = &r
			default:
				t.Errorf("%s: err %v, stdout %q, stderr %q", r.who, r.err, r.stdout, r.stderr)
			}
		case <-timeout:
			t.Fatalf("timed out with %d of 20 triggers answered", got)
		}
	}
	if winner == nil || !strings.Contains(winner.stdout, "job cpt: published 2026") {
		t.Fatalf("no trigger published: %+v", winner)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	ledger, err := schedules.OpenLedger(context.Background(), filepath.Join(dir, "data", "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer ledger.Close()
	runs, err := ledger.Runs(context.Background(), "", 0)
	if err != nil || len(runs) != 1 || runs[0].Outcome != schedules.OutcomePublished || runs[0].Label != "2026" {
		var got []string
		for _, r := range runs {
			got = append(got, string(r.Outcome)+" "+r.Label)
		}
		t.Errorf("ledger: %d runs %v (%v), want one published 2026", len(runs), got, err)
	}
	if got := published(t, filepath.Join(dir, "public")); len(got) != 1 {
		t.Errorf("published %v, want [2026]", got)
	}
}
