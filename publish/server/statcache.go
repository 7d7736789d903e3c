package server

import (
	"os"
	"sync"
	"time"
)

// statEvery is how long the server trusts what it learnt of a file of the
// tree (its identity, or that it is missing) before asking the file system
// again. Publishing replaces files by rename, and a lookup would otherwise
// stat the system index, the snapshot and the history database (twice
// each, through the tree's root and for the database cache) on every
// request: most of a lookup's cost. A release published is seen at most
// this long after the rename.
const statEvery = 100 * time.Millisecond

// maxStats bounds the entries a statCache keeps; it starts afresh past it.
const maxStats = 1024

// statCache remembers the result of a stat for statEvery. Its zero value is
// ready to use.
type statCache struct {
	mu  sync.Mutex
	now func() time.Time // time.Now when nil; tests move it on
	m   map[string]statEntry
}

type statEntry struct {
	st  os.FileInfo
	err error
	at  time.Duration // clock
}

// clockBase is what the server's caches measure the time from: a
// duration since it reads the monotonic clock alone, where time.Now also
// reads the wall clock (twice the cost, and a lookup looks at the time
// several times).
var clockBase = time.Now()

// clock returns the time as a duration since clockBase; now, when not nil
// (tests), tells the time instead of the system.
func clock(now func() time.Time) time.Duration {
	if now != nil {
		return now().Sub(clockBase)
	}
	return time.Since(clockBase)
}

// fresh reports whether what was learnt at time at (from clock) may still
// be trusted at time t.
func fresh(at, t time.Duration) bool {
	return t-at < statEvery && t >= at
}

// stat returns the remembered result for key when it is recent, else calls
// stat and remembers what it says.
func (c *statCache) stat(key string, stat func() (os.FileInfo, error)) (os.FileInfo, error) {
	t := clock(c.now)
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && fresh(e.at, t) {
		return e.st, e.err
	}
	st, err := stat()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxStats {
		c.m = map[string]statEntry{}
	}
	c.m[key] = statEntry{st: st, err: err, at: t}
	c.mu.Unlock()
	return st, err
}
