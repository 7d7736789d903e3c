package server

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// The bounds of what a dbCache holds: the number of files, and the bytes
// of their in-memory indexes (an ICD-10-CM release is about 16 MB, its
// history about 12 MB). Past either, the files least recently used are
// dropped; one index larger than maxHeldBytes is still held, alone.
const (
	maxOpenDBs   = 64
	maxHeldBytes = 256 << 20
)

// dbCache keeps the snapshots and history databases the API reads in
// memory (snapshot.Index, history.Index), each loaded on first use, so
// that a lookup costs no query. An entry is reloaded when the file at its
// path is another file than the one loaded: publishing replaces a history
// database by rename; the file is looked at again at most every
// statEvery, so a new one is loaded that long after the rename at the
// latest. An index loads in the background (a few hundred milliseconds of
// CPU for an ICD-10-CM release); requests meanwhile read the file itself
// (see loaded), so none waits for it.
type dbCache struct {
	mu    sync.Mutex
	m     map[string]*heldDB
	held  int64            // bytes of the loaded entries in m
	clock uint64           // counts uses, for least recently used
	limit int64            // maxHeldBytes when 0; tests set less
	now   func() time.Time // tells the time (see clock) when not nil: tests
	// gate, when set (tests), wraps each load, to hold it back.
	gate func(load func() (any, int64, error)) func() (any, int64, error)
}

type heldDB struct {
	st      os.FileInfo
	checked time.Duration // clock when st was last found to be the file's
	ready   chan struct{} // closed once db or err is set
	db      any           // *snapshot.Index or *history.Index
	size    int64
	err     error
	used    uint64 // c.clock at the last use
	gone    bool   // out of the cache
}

// loader loads the index of the file at path, giving its size in bytes.
// The cache takes the function rather than a closure over the path, which
// every lookup would allocate even though few load anything.
type loader func(ctx context.Context, path string) (any, int64, error)

// entry returns the cache's entry for the file at path, starting to load
// it with load in the background when it is not loaded yet or the file
// changed.
func (c *dbCache) entry(path string, load loader) (*heldDB, error) {
	// The entry remembers when it last looked at the file, which spares a
	// lookup a second map (a stat cache) to ask first.
	t := clock(c.now)
	c.mu.Lock()
	c.clock++
	if e, ok := c.m[path]; ok && fresh(e.checked, t) {
		e.used = c.clock
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	e, ok := c.m[path]
	if ok && !(os.SameFile(e.st, st) && e.st.ModTime().Equal(st.ModTime()) && e.st.Size() == st.Size()) {
		c.drop(path, e)
		ok = false
	}
	if ok {
		e.used, e.checked = c.clock, t
		c.mu.Unlock()
		return e, nil
	}
	e = &heldDB{st: st, checked: t, ready: make(chan struct{}), used: c.clock}
	if c.m == nil {
		c.m = map[string]*heldDB{}
	}
	c.m[path] = e
	c.mu.Unlock()
	run := func() (any, int64, error) { return load(context.Background(), path) }
	if c.gate != nil {
		run = c.gate(run)
	}
	go c.fill(path, e, run)
	return e, nil
}

// fill loads the entry e of the file at path.
func (c *dbCache) fill(path string, e *heldDB, load func() (any, int64, error)) {
	db, size, err := load()
	c.mu.Lock()
	defer c.mu.Unlock()
	e.db, e.size, e.err = db, size, err
	// Ready once the cache is in order again: a request that waited for
	// e finds the others dropped past the bounds.
	defer close(e.ready)
	if err != nil {
		// Not kept: the next request tries again.
		if c.m[path] == e {
			delete(c.m, path)
			e.gone = true
		}
		return
	}
	if !e.gone {
		c.held += size
		c.evict(path)
	}
}

// get returns the index of the file at path, waiting for it to load when
// it is not loaded yet or the file changed.
func (c *dbCache) get(ctx context.Context, path string, load loader) (any, error) {
	e, err := c.entry(path, load)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.db, e.err
}

// loaded returns the index of the file at path when it is loaded, and
// otherwise nil, having started the load: the caller reads the file
// itself meanwhile, so that no request waits the few hundred milliseconds
// an index takes to load after a start or a publication.
func (c *dbCache) loaded(path string, load loader) (any, error) {
	e, err := c.entry(path, load)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.ready:
		return e.db, e.err
	default:
		return nil, nil
	}
}

// drop takes e out of the cache; requests holding its index keep it.
func (c *dbCache) drop(path string, e *heldDB) {
	delete(c.m, path)
	e.gone = true
	select {
	case <-e.ready:
		c.held -= e.size
	default: // still loading: never counted
	}
}

// evict drops the least recently used loaded entries other than keep
// while the cache holds more than its bounds.
func (c *dbCache) evict(keep string) {
	limit := c.limit
	if limit == 0 {
		limit = maxHeldBytes
	}
	for len(c.m) > maxOpenDBs || c.held > limit {
		var oldest string
		var o *heldDB
		for p, e := range c.m {
			if p == keep {
				continue
			}
			select {
			case <-e.ready:
			default:
				continue // loading
			}
			if o == nil || e.used < o.used {
				oldest, o = p, e
			}
		}
		if o == nil {
			return
		}
		c.drop(oldest, o)
	}
}

func loadSnapshot(ctx context.Context, path string) (any, int64, error) {
	x, err := snapshot.LoadIndex(ctx, path)
	if err != nil {
		return nil, 0, err
	}
	return x, x.Size(), nil
}

func loadHistory(ctx context.Context, path string) (any, int64, error) {
	x, err := history.LoadIndex(ctx, path)
	if err != nil {
		return nil, 0, err
	}
	return x, x.Size(), nil
}

// snapshot returns the in-memory index of the snapshot at path, or nil
// while it loads (see loaded).
func (c *dbCache) snapshot(path string) (*snapshot.Index, error) {
	db, err := c.loaded(path, loadSnapshot)
	if db == nil || err != nil {
		return nil, err
	}
	return db.(*snapshot.Index), nil
}

// history returns the in-memory index of the history database at path,
// or nil while it loads (see loaded).
func (c *dbCache) history(path string) (*history.Index, error) {
	db, err := c.loaded(path, loadHistory)
	if db == nil || err != nil {
		return nil, err
	}
	return db.(*history.Index), nil
}
