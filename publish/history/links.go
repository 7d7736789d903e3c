package history

import (
	"context"
	"database/sql"
	"sync"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish/format"
)

// linkGraph is the replacement links of a history, read once by a Reader
// (a server answers many lookups from one open history; reading every
// link and every valid code on each lookup cost over 100 ms on ICD-10-CM).
type linkGraph struct {
	once sync.Once
	err  error
	// has: the history records links (one built before they were has no
	// replacements table).
	has    bool
	latest string // label of the latest release
	links  []codeset.Replacement
	rels   []string         // the release of each link
	byOld  map[string][]int // links by old code, in order
	byNew  map[string][]int
}

func (g *linkGraph) load(ctx context.Context, db *sql.DB) error {
	g.once.Do(func() { g.err = g.read(ctx, db) })
	return g.err
}

func (g *linkGraph) read(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'replacements'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	g.has = true
	if err := db.QueryRowContext(ctx, `SELECT label FROM releases ORDER BY seq DESC LIMIT 1`).Scan(&g.latest); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT old, new, release, source, how FROM replacements ORDER BY seq, old, new, source`)
	if err != nil {
		return err
	}
	defer rows.Close()
	g.byOld, g.byNew = map[string][]int{}, map[string][]int{}
	for rows.Next() {
		var r codeset.Replacement
		var rel, how string
		if err := rows.Scan(&r.Old, &r.New, &rel, &r.Source, &how); err != nil {
			return err
		}
		r.How = codeset.Stated(how)
		g.byOld[r.Old] = append(g.byOld[r.Old], len(g.links))
		g.byNew[r.New] = append(g.byNew[r.New], len(g.links))
		g.links = append(g.links, r)
		g.rels = append(g.rels, rel)
	}
	return rows.Err()
}

// readLinks fills h's replacement links and follows them to the codes
// valid in the latest release: those the latest release has and has not
// ended. Only the codes reachable from h.Code are looked at.
func (r *Reader) readLinks(ctx context.Context, h *format.CodeHistory) error {
	g := &r.graph
	if err := g.load(ctx, r.db); err != nil {
		h.Replaces, h.ReplacedBy, h.Current = []format.HistoryLink{}, []format.HistoryLink{}, []string{}
		return err
	}
	var err error
	g.fill(h, func(code string) bool {
		var last, status string
		e := r.valid.QueryRowContext(ctx, code).Scan(&last, &status)
		if e != nil && e != sql.ErrNoRows && err == nil {
			err = e
		}
		return e == nil && last == g.latest && status != codeset.StatusDiscontinued
	})
	return err
}

// fill sets h's replacement links from g and the codes valid in the
// latest release they lead to; validOther tells whether a code other than
// h.Code is one (h has the row of h.Code).
func (g *linkGraph) fill(h *format.CodeHistory, validOther func(code string) bool) {
	h.Replaces, h.ReplacedBy, h.Current = []format.HistoryLink{}, []format.HistoryLink{}, []string{}
	if !g.has {
		return
	}
	for _, i := range g.byOld[h.Code] {
		l := g.links[i]
		h.ReplacedBy = append(h.ReplacedBy, format.HistoryLink{Code: l.New, Release: g.rels[i], Source: l.Source, How: l.How})
	}
	for _, i := range g.byNew[h.Code] {
		l := g.links[i]
		h.Replaces = append(h.Replaces, format.HistoryLink{Code: l.Old, Release: g.rels[i], Source: l.Source, How: l.How})
	}
	// The links out of the codes reachable from h.Code, in their order:
	// all diff.Successors follows.
	var reach []codeset.Replacement
	seen := map[string]bool{h.Code: true}
	queue := []string{h.Code}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, i := range g.byOld[c] {
			reach = append(reach, g.links[i])
			if n := g.links[i].New; !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	valid := func(code string) bool {
		if code == h.Code {
			return h.LastRelease == g.latest && h.Record.Status != codeset.StatusDiscontinued
		}
		return validOther(code)
	}
	if cur, _ := diff.Successors(h.Code, reach, valid); cur != nil {
		h.Current = cur
	}
}
