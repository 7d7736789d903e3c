package server

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestStatus maps errors of every kind, wrapped as the packages return
// them, to their HTTP statuses.
func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("get: %w", snapshot.ErrNoRelease), http.StatusNotFound},
		{fmt.Errorf("read: %w", snapshot.ErrNoCode), http.StatusNotFound},
		{fmt.Errorf("release cpt 2026 %w at /x", publish.ErrPublished), http.StatusConflict},
		{codeset.NewError(codeset.ErrInvalid, "bad label"), http.StatusBadRequest},
		{codeset.NewError(codeset.ErrRefused, "guard"), http.StatusUnprocessableEntity},
		{fmt.Errorf("disk full"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		if got := Status(tt.err); got != tt.want {
			t.Errorf("Status(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
