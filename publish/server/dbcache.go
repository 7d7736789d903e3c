package server

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// maxOpenDBs bounds the databases a handler keeps open.
const maxOpenDBs = 64

// dbCache keeps the snapshots and history databases the API reads open,
// with their statements prepared, so that a lookup costs a query rather
// than opening a file and preparing statements. An entry is reopened when
// the file at its path is another file than the one opened: publishing
// replaces a history database by rename; the file is looked at again at
// most every statEvery, so a new one is opened that long after the rename
// at the latest.
type dbCache struct {
	mu    sync.Mutex
	m     map[string]*openDB
	stats statCache // the files' identities, checked at most every statEvery
}

type openDB struct {
	st      os.FileInfo
	db      io.Closer // *snapshot.Reader or *history.Reader
	refs    int       // requests using db
	retired bool      // out of the cache: close when refs drops to 0
}

// get returns the open database at path, opening it with open when it is
// not open yet or the file changed, and a function to call when done with
// it.
func (c *dbCache) get(path string, open func() (io.Closer, error)) (io.Closer, func(), error) {
	st, err := c.stats.stat(path, func() (os.FileInfo, error) { return os.Stat(path) })
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[path]
	if ok && !(os.SameFile(e.st, st) && e.st.ModTime().Equal(st.ModTime()) && e.st.Size() == st.Size()) {
		c.retire(path, e)
		ok = false
	}
	if !ok {
		db, err := open()
		if err != nil {
			return nil, nil, err
		}
		if len(c.m) >= maxOpenDBs {
			for p, old := range c.m {
				c.retire(p, old)
			}
		}
		if c.m == nil {
			c.m = map[string]*openDB{}
		}
		e = &openDB{st: st, db: db}
		c.m[path] = e
	}
	e.refs++
	return e.db, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		e.refs--
		if e.retired && e.refs == 0 {
			e.db.Close()
		}
	}, nil
}

// retire takes e out of the cache, closing it once no request uses it.
func (c *dbCache) retire(path string, e *openDB) {
	delete(c.m, path)
	e.retired = true
	if e.refs == 0 {
		e.db.Close()
	}
}

func (c *dbCache) snapshot(ctx context.Context, path string) (*snapshot.Reader, func(), error) {
	db, done, err := c.get(path, func() (io.Closer, error) { return snapshot.OpenReader(ctx, path) })
	if err != nil {
		return nil, nil, err
	}
	return db.(*snapshot.Reader), done, nil
}

func (c *dbCache) history(ctx context.Context, path string) (*history.Reader, func(), error) {
	db, done, err := c.get(path, func() (io.Closer, error) { return history.OpenReader(ctx, path) })
	if err != nil {
		return nil, nil, err
	}
	return db.(*history.Reader), done, nil
}
