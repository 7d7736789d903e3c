package durable

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLockDirExcludes checks that a second holder waits for the first.
func TestLockDirExcludes(t *testing.T) {
	if !LocksExclude {
		t.Skip("no flock here")
	}
	dir := t.TempDir()
	unlock, err := LockDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := LockDir(ctx, dir); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lock while held: %v, want a deadline error", err)
	}
	unlock()
	unlock2, err := LockDir(context.Background(), dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
