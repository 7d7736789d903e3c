package server

import (
	"os"
	"sync"
)

// treeRoot keeps the tree's folder open for the APIs, which opened it
// (os.OpenRoot) on every request: several system calls, some 7% of a
// lookup. The folder is looked at again at most every statEvery, and
// opened anew when another folder has taken its place.
type treeRoot struct {
	mu   sync.Mutex
	cur  *heldRoot
	stat statCache
}

type heldRoot struct {
	root *os.Root
	st   os.FileInfo
	refs int  // requests using root
	gone bool // replaced: close when refs drops to 0
}

// open returns the tree's root, held until release(held) says the
// request is done with it. (A function to call when done, returned
// instead, cost each request an allocation.)
func (t *treeRoot) open(dir string) (root *os.Root, held *heldRoot, err error) {
	st, err := t.stat.stat(dir, func() (os.FileInfo, error) { return os.Stat(dir) })
	if err != nil {
		return nil, nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == nil || !os.SameFile(t.cur.st, st) {
		r, err := os.OpenRoot(dir)
		if err != nil {
			return nil, nil, err
		}
		if old := t.cur; old != nil {
			old.gone = true
			if old.refs == 0 {
				old.root.Close()
			}
		}
		t.cur = &heldRoot{root: r, st: st}
	}
	e := t.cur
	e.refs++
	return e.root, e, nil
}

// release ends a request's use of the root open gave it.
func (t *treeRoot) release(e *heldRoot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.refs--
	if e.gone && e.refs == 0 {
		e.root.Close()
	}
}
