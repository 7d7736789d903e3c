package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

// statuses maps the error kinds of package codeset to HTTP statuses: the
// one table every API of codeset answers from, so a refusal is never a
// server error.
var statuses = []struct {
	kind   error
	status int
}{
	{codeset.ErrNotFound, http.StatusNotFound},
	{codeset.ErrInvalid, http.StatusBadRequest},
	{codeset.ErrConflict, http.StatusConflict},
	{codeset.ErrRefused, http.StatusUnprocessableEntity},
}

// Status returns the HTTP status for err by its kind; 500 for an error of
// no known kind.
func Status(err error) int {
	for _, s := range statuses {
		if errors.Is(err, s.kind) {
			return s.status
		}
	}
	return http.StatusInternalServerError
}

// Reply writes v as the indented JSON body of a reply with status.
func Reply(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error": "cannot encode the reply"}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	// The length lets compress leave a short answer as it is.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// ReplyError writes the JSON error body every API of codeset answers a
// failed request with.
func ReplyError(w http.ResponseWriter, status int, msg string) {
	Reply(w, status, format.Error{Error: msg})
}
