package schedules

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/server"
)

// maxTriggerBody caps the body of a trigger request, which carries nothing
// the API reads.
const maxTriggerBody = 4 << 10

// Handler returns the HTTP API, to be mounted at /api/v1/:
//
//	GET  /api/v1/jobs                  the jobs and their schedules
//	POST /api/v1/jobs/{name}/runs      run a job now (bearer token required)
//	GET  /api/v1/jobs/{name}/runs      the job's runs, newest first
//	GET  /api/v1/runs[?job=J&limit=N]  the ledger, newest first
//	POST /api/v1/releases/{system}/{label}/withdraw  withdraw a published
//	     release; body {"reason": "..."} (bearer token required)
//
// A trigger answers 200 with the run when it published or found nothing
// new; with the run and an error when it did not: 422 when a publish guard
// refused the release, 409 for a label already taken, 500 when it failed;
// 409 when the job is already running and 401 without a valid token
// (nothing runs then). Errors are the JSON of every codeset API,
// {"error": "..."}.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/jobs", s.handleJobs)
	mux.HandleFunc("/api/v1/jobs/{name}/runs", s.handleJobRuns)
	mux.HandleFunc("/api/v1/runs", s.handleRuns)
	mux.HandleFunc("/api/v1/releases/{system}/{label}/withdraw", s.handleWithdraw)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		server.ReplyError(w, http.StatusNotFound, "no such API endpoint")
	})
	return mux
}

// allow answers 405 unless r uses one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	server.ReplyError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
	return false
}

// authorized checks the bearer token in constant time.
func (s *Service) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) == 1
}

type jobInfo struct {
	Name     string `json:"name"`
	System   string `json:"system"`
	Source   string `json:"source"`
	Schedule string `json:"schedule"`
	CatchUp  bool   `json:"catch_up"`
}

func (s *Service) handleJobs(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	jobs := []jobInfo{}
	for _, j := range s.Jobs {
		jobs = append(jobs, jobInfo{j.Name, string(j.System), j.Source.String(), j.Schedule, j.CatchUp})
	}
	server.Reply(w, http.StatusOK, map[string]any{"jobs": jobs})
}

func (s *Service) handleJobRuns(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead, http.MethodPost) {
		return
	}
	name := r.PathValue("name")
	if r.Method != http.MethodPost {
		if s.job(name) == nil {
			server.ReplyError(w, http.StatusNotFound, "no job "+strconv.Quote(name))
			return
		}
		s.listRuns(w, r, name)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codeset"`)
		server.ReplyError(w, http.StatusUnauthorized, "a valid bearer token is required")
		return
	}
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxTriggerBody)); err != nil {
		server.ReplyError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	job := s.job(name)
	if job == nil {
		server.ReplyError(w, http.StatusNotFound, "no job "+strconv.Quote(name))
		return
	}
	if !s.track() {
		server.ReplyError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	defer s.wg.Done()
	run, err := s.run(job, TriggerManual)
	replyRun(w, run, err)
}

func (s *Service) handleRuns(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	s.listRuns(w, r, r.URL.Query().Get("job"))
}

func (s *Service) listRuns(w http.ResponseWriter, r *http.Request, job string) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			server.ReplyError(w, http.StatusBadRequest, "bad limit "+strconv.Quote(v)+": want a positive number")
			return
		}
		limit = n
	}
	if s.Runner.Ledger == nil {
		server.ReplyError(w, http.StatusNotFound, "no run ledger")
		return
	}
	runs, err := s.Runner.Ledger.Runs(r.Context(), job, limit)
	if err != nil {
		server.ReplyError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if runs == nil {
		runs = []Run{}
	}
	server.Reply(w, http.StatusOK, map[string]any{"runs": runs})
}

// maxWithdrawBody caps the body of a withdrawal, which holds a reason.
const maxWithdrawBody = 16 << 10

func (s *Service) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codeset"`)
		server.ReplyError(w, http.StatusUnauthorized, "a valid bearer token is required")
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWithdrawBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		server.ReplyError(w, http.StatusBadRequest, `bad body: want {"reason": "..."}: `+err.Error())
		return
	}
	sys, err := codeset.ParseSystem(r.PathValue("system"))
	if err != nil {
		server.ReplyError(w, http.StatusNotFound, err.Error())
		return
	}
	if !s.track() {
		server.ReplyError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	defer s.wg.Done()
	run, err := s.Runner.Withdraw(s.ctx, sys, r.PathValue("label"), body.Reason, TriggerAPI)
	replyRun(w, run, err)
}

// replyRun answers a request that ran a job or a withdrawal: the run, with
// the error and the status of its kind when it did not succeed; only the
// error when nothing ran.
func replyRun(w http.ResponseWriter, run *Run, err error) {
	switch {
	case run == nil:
		server.ReplyError(w, server.Status(err), err.Error())
	case err != nil:
		server.Reply(w, server.Status(err), map[string]any{"run": run, "error": err.Error()})
	default:
		server.Reply(w, http.StatusOK, map[string]any{"run": run})
	}
}
