package durable

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrLocked reports a lock that another holder has.
var ErrLocked = errors.New("locked by another process")

// lockPoll is how often a held lock is tried again.
const lockPoll = 20 * time.Millisecond

// LockDir takes the exclusive lock of dir, waiting while another process (or
// another call in this one) holds it, and returns the function that releases
// it. The lock is on the directory itself, so no lock file appears in the
// tree, and the kernel drops it when its holder dies: a killed run never
// leaves dir locked. While it is held, temporary files in dir belong to no
// live writer.
func LockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := Lock(ctx, f, lockPoll); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// Lock takes the exclusive lock of the open file f, trying again every poll
// while another process holds it, until ctx is done. Closing f releases it.
// A blocking lock could not be interrupted by ctx, hence the polling.
func Lock(ctx context.Context, f *os.File, poll time.Duration) error {
	for {
		err := TryLock(f)
		if !errors.Is(err, ErrLocked) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}
