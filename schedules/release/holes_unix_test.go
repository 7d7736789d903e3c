//go:build unix

package release

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codeset/codeset"
)

// TestRunRefusesNonRegularFiles is part of hole 9: a FIFO blocks in
// open(2) and /dev/zero never ends; both are refused before anything opens
// them.
func TestRunRefusesNonRegularFiles(t *testing.T) {
	p, dir := newPipeline(t)
	fifo := filepath.Join(dir, "cpt-2026.xlsx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, f := range []string{fifo, "/dev/zero", dir} {
		done := make(chan error, 1)
		go func() {
			_, err := p.Run(context.Background(), Request{System: codeset.CPT, Label: "2026", Files: []string{f}})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: err = %v, want it refused as not a regular file", f, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still reading after 10s", f)
		}
	}
}
