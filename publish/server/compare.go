package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// The bounds of the comparison API. A comparison walks both snapshots
// whole, so the server runs one at a time, gives up after compareTimeout,
// and keeps the last few results so that paging through one costs a
// slice, not another comparison.
const (
	compareLimit    = 100
	compareMaxLimit = 1000
	compareTimeout  = 60 * time.Second
	compareKept     = 4
)

// compareCache holds the latest comparisons and lets one run at a time.
type compareCache struct {
	once    sync.Once
	running chan struct{} // a token: held while a comparison runs
	mu      sync.Mutex
	kept    []comparison // most recent last
}

type comparison struct {
	key string
	l   *codeset.Changelog
}

func (c *compareCache) init() {
	c.once.Do(func() { c.running = make(chan struct{}, 1) })
}

// get returns the comparison under key, running compute when it is not
// kept, one at a time.
func (c *compareCache) get(ctx context.Context, key string, compute func(context.Context) (*codeset.Changelog, error)) (*codeset.Changelog, error) {
	c.init()
	if l := c.lookup(key); l != nil {
		return l, nil
	}
	select {
	case c.running <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.running }()
	// Another request may have computed it while this one waited.
	if l := c.lookup(key); l != nil {
		return l, nil
	}
	cctx, cancel := context.WithTimeout(ctx, compareTimeout)
	defer cancel()
	l, err := compute(cctx)
	if err != nil {
		if errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return nil, codeset.NewError(codeset.ErrInvalid, "compare: took longer than %v", compareTimeout)
		}
		return nil, err
	}
	c.mu.Lock()
	c.kept = append(c.kept, comparison{key, l})
	if len(c.kept) > compareKept {
		c.kept = slices.Delete(c.kept, 0, len(c.kept)-compareKept)
	}
	c.mu.Unlock()
	return l, nil
}

func (c *compareCache) lookup(key string) *codeset.Changelog {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.kept {
		if e.key == key {
			// Most recently used goes last.
			c.kept = append(slices.Delete(c.kept, i, i+1), e)
			return e.l
		}
	}
	return nil
}

// serveCompare answers GET /api/v1/compare/SYSTEM?from=LABEL&to=LABEL: the
// changes from one published release to a later one, from their stored
// snapshots (snapshot.Compare, with the history database telling which
// new codes are reactivated), counted in full and listed a page at a time
// (offset, limit up to compareMaxLimit), of one kind with kind=. Unknown
// or withdrawn releases are 404, from not older than to is 400.
func (h *handler) serveCompare(ctx context.Context, w http.ResponseWriter, root *os.Root, sysName string, q url.Values) error {
	sys, err := codeset.ParseSystem(sysName)
	if err != nil {
		return codeset.NewError(codeset.ErrNotFound, "%v", err)
	}
	fromLabel, toLabel := q.Get("from"), q.Get("to")
	if fromLabel == "" || toLabel == "" {
		return codeset.NewError(codeset.ErrInvalid, "missing from or to: want /api/v1/compare/%s?from=LABEL&to=LABEL", sys)
	}
	limit, err := queryNumber(q, "limit", compareLimit, compareMaxLimit)
	if err != nil {
		return err
	}
	offset, err := queryNumber(q, "offset", 0, 1<<30)
	if err != nil {
		return err
	}
	kind := codeset.ChangeKind(q.Get("kind"))
	if kind != "" && !slices.Contains(codeset.ChangeKinds, kind) {
		return codeset.NewError(codeset.ErrInvalid, "bad kind %q: want one of %v", kind, codeset.ChangeKinds)
	}
	v, err := h.openSystem(root, sys)
	if err != nil {
		return err
	}
	from, err := v.release(fromLabel, "")
	if err != nil {
		return err
	}
	to, err := v.release(toLabel, "")
	if err != nil {
		return err
	}
	pf, pt := v.pos(from.Label), v.pos(to.Label)
	if pf >= pt {
		return codeset.NewError(codeset.ErrInvalid, "compare %s %s with %s: from must be an older release than to", sys.Name(), from.Label, to.Label)
	}
	oldPath, err := v.snapshotPath(from)
	if err != nil {
		return err
	}
	newPath, err := v.snapshotPath(to)
	if err != nil {
		return err
	}
	hist := v.historyPath()
	key := string(sys) + "|" + from.Label + "|" + from.SnapshotSHA256 + "|" + to.Label + "|" + to.SnapshotSHA256
	l, err := h.cmp.get(ctx, key, func(ctx context.Context) (*codeset.Changelog, error) {
		var lastSeen snapshot.LastSeen
		if hist != "" {
			recs, err := history.OpenRecords(ctx, hist)
			if err == nil {
				defer recs.Close()
				for _, r := range recs.Releases {
					if r.Label == from.Label {
						lastSeen = recs.LastSeenBefore(r.Seq)
					}
				}
			}
		}
		return snapshot.Compare(ctx, oldPath, newPath, lastSeen)
	})
	if err != nil {
		if Status(err) == http.StatusInternalServerError {
			return errRead
		}
		return err
	}
	resp := format.CompareResponse{
		System: sys, From: from.Label, To: to.Label, FromEffective: from.Effective, ToEffective: to.Effective,
		Neighbours: pt == pf+1, Summary: l.Summary, Kind: string(kind), Offset: offset, Limit: limit, Changes: []format.CompareChange{},
	}
	for _, c := range l.Changes {
		if kind != "" && c.Kind != kind {
			continue
		}
		resp.Total++
		if resp.Total <= offset || len(resp.Changes) >= limit {
			continue
		}
		fields := c.Fields
		if fields == nil {
			fields = map[string]codeset.FieldChange{}
		}
		resp.Changes = append(resp.Changes, format.CompareChange{
			Code: c.Code, Written: sys.Display(c.Code), Change: c.Kind, Category: c.Category, Description: c.Record.Description(),
			Fields: fields, ReplacedBy: orEmpty(c.ReplacedBy), Replaces: orEmpty(c.Replaces),
		})
	}
	Reply(w, http.StatusOK, resp)
	return nil
}

// orEmpty returns ss, or an empty slice for nil, so JSON says [].
func orEmpty(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
