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
	at  time.Time
}

// stat returns the remembered result for key when it is recent, else calls
// stat and remembers what it says.
func (c *statCache) stat(key string, stat func() (os.FileInfo, error)) (os.FileInfo, error) {
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	t := now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && t.Sub(e.at) < statEvery && !t.Before(e.at) {
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
