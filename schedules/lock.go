package schedules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
)

// ErrBusy reports a job that is already running, in this process or in
// another one on the same data directory.
var ErrBusy = codeset.NewError(codeset.ErrConflict, "already running")

// Locks hands out one lock per job name. Within a process a job holds a
// channel-based mutex; across processes it holds an flock(2) on
// DIR/NAME.lock (durable.Lock). The kernel drops an flock when its process dies, so a
// killed run never blocks the next one.
type Locks struct {
	Dir string
	// Poll is how often a waiting Acquire retries the file lock; zero means
	// 100ms.
	Poll time.Duration
}

// jobMutexes holds one mutex per lock file, shared by every Locks value of
// the process, so that two Runners on one data directory still exclude each
// other without relying on the file lock alone.
var jobMutexes sync.Map // lock file path -> chan struct{} (capacity 1)

func processMutex(path string) chan struct{} {
	ch, _ := jobMutexes.LoadOrStore(path, make(chan struct{}, 1))
	return ch.(chan struct{})
}

// Acquire takes the lock of job name. Without wait it fails at once with an
// error wrapping ErrBusy when the job is running; with wait it blocks until
// the lock is free or ctx is done. The returned function releases the lock.
func (l Locks) Acquire(ctx context.Context, name string, wait bool) (release func(), err error) {
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock job %s: %w", name, err)
	}
	path, err := filepath.Abs(filepath.Join(l.Dir, name+".lock"))
	if err != nil {
		return nil, fmt.Errorf("lock job %s: %w", name, err)
	}
	mu := processMutex(path)
	if wait {
		select {
		case mu <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("lock job %s: %w", name, ctx.Err())
		}
	} else {
		select {
		case mu <- struct{}{}:
		default:
			return nil, fmt.Errorf("job %s: %w", name, ErrBusy)
		}
	}
	unlockMu := func() { <-mu }
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		unlockMu()
		return nil, fmt.Errorf("lock job %s: %w", name, err)
	}
	if err := l.flock(ctx, f, wait); err != nil {
		f.Close()
		unlockMu()
		if errors.Is(err, ErrBusy) {
			return nil, fmt.Errorf("job %s: %w (lock %s held by another process)", name, ErrBusy, path)
		}
		return nil, fmt.Errorf("lock job %s: %w", name, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// Closing the file drops the flock; the file itself stays, as
			// removing it would race with a process about to lock it.
			f.Close()
			unlockMu()
		})
	}, nil
}

// flock takes the exclusive lock of f, polling while wait is set.
func (l Locks) flock(ctx context.Context, f *os.File, wait bool) error {
	if !wait {
		if err := durable.TryLock(f); errors.Is(err, durable.ErrLocked) {
			return ErrBusy
		} else if err != nil {
			return err
		}
		return nil
	}
	poll := l.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	return durable.Lock(ctx, f, poll)
}
