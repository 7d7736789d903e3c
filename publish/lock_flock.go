//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often a held lock is tried again.
const lockPoll = 20 * time.Millisecond

// lockDir takes the exclusive lock of dir, waiting while another process
// (or another call in this one) holds it, and returns the function that
// releases it. The lock is an flock on the directory itself, so no lock
// file appears in the tree, and the kernel drops it when its holder dies:
// a killed run never leaves dir locked. While it is held, temporary files
// in dir belong to no live writer.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// locksExclude reports whether lockDir keeps out every other writer, so
// that leftover temporary files may be removed.
const locksExclude = true
