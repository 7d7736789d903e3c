package snapshot

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish/dbfile"
)

// LastSeen returns, for each of codes that some release before the older
// release compared had, the record it had in the latest such release; the
// others are left out. It gives diff.Compare its earlier argument, for
// reactivation, asked only about the codes new since the older release.
// A nil LastSeen knows no earlier release.
type LastSeen func(ctx context.Context, codes []string) (map[string]codeset.Code, error)

// Compare compares the snapshots at oldPath and newPath as diff.Compare
// compares the releases they hold, without reading them whole: it walks
// both codes tables in code order comparing the content hashes of their
// rows (see RowHash), then decodes only the rows that differ and those the
// reconciliation and the replacement links look at (the codes the
// publisher declares changed, the codes a link names or its range covers).
// Its memory is bounded by the changes, not by the size of the releases.
// An empty oldPath compares newPath with nothing, as for a first release.
func Compare(ctx context.Context, oldPath, newPath string, lastSeen LastSeen) (*codeset.Changelog, error) {
	return CompareAcross(ctx, oldPath, newPath, nil, lastSeen)
}

// CompareAcross is Compare of releases that are not neighbours, as
// diff.CompareAcross: between are the snapshots of the releases stored
// between them, oldest first, whose declared changes the reconciliation
// combines with the newer release's. Of those only the release row and
// the declarations are read.
func CompareAcross(ctx context.Context, oldPath, newPath string, between []string, lastSeen LastSeen) (*codeset.Changelog, error) {
	newSide, err := openSide(ctx, newPath)
	if err != nil {
		return nil, err
	}
	defer newSide.close()
	if oldPath == "" {
		return compareSides(ctx, nil, newSide, nil, nil)
	}
	oldSide, err := openSide(ctx, oldPath)
	if err != nil {
		return nil, err
	}
	defer oldSide.close()
	if oldSide.rel.System != newSide.rel.System {
		return nil, fmt.Errorf("compare %s with %s: %s against %s", oldPath, newPath, oldSide.rel.System, newSide.rel.System)
	}
	parts := make([]diff.Part, 0, len(between))
	for _, path := range between {
		s, err := openSide(ctx, path)
		if err != nil {
			return nil, err
		}
		s.close()
		if s.rel.System != newSide.rel.System {
			return nil, fmt.Errorf("compare %s with %s across %s: %s against %s", oldPath, newPath, path, s.rel.System, newSide.rel.System)
		}
		parts = append(parts, diff.Part{Release: s.rel, Size: s.codes})
	}
	return compareSides(ctx, oldSide, newSide, parts, lastSeen)
}

// CompareRelease is Compare with the newer release in memory, as a run
// has it before it stores its snapshot.
func CompareRelease(ctx context.Context, oldPath string, rel *codeset.Release, lastSeen LastSeen) (*codeset.Changelog, error) {
	if oldPath == "" {
		return diff.Compare(nil, rel, nil), nil
	}
	oldSide, err := openSide(ctx, oldPath)
	if err != nil {
		return nil, err
	}
	defer oldSide.close()
	if oldSide.rel.System != rel.System {
		return nil, fmt.Errorf("compare %s with %s %s: %s against %s", oldPath, rel.System, rel.Label, oldSide.rel.System, rel.System)
	}
	return compareSides(ctx, oldSide, newMemSide(rel), nil, lastSeen)
}

func ask(ctx context.Context, lastSeen LastSeen, codes []string) (map[string]codeset.Code, error) {
	if lastSeen == nil || len(codes) == 0 {
		return nil, nil
	}
	return lastSeen(ctx, codes)
}

// side is one release of a comparison: its header (no codes), an ordered
// walk over its codes' hashes and a way to fetch whole records.
type side interface {
	release() *codeset.Release
	walk(ctx context.Context, fn func(code string, hash int64) error) error
	// fetch returns the records of codes (sorted, unique) that it holds,
	// in order.
	fetch(ctx context.Context, codes []string) ([]codeset.Code, error)
	// all returns every record, in order.
	all(ctx context.Context) ([]codeset.Code, error)
	// size is the number of codes.
	size() int
	close()
}

// compareSides joins the hashes of both sides in one ordered merge,
// fetches the rows that differ and the rows the reconciliation and the
// links look at, and lets diff.CompareParts classify them. between are
// the releases between old and new, without their codes.
func compareSides(ctx context.Context, old, new side, between []diff.Part, lastSeen LastSeen) (*codeset.Changelog, error) {
	if old == nil {
		full, err := new.all(ctx)
		if err != nil {
			return nil, err
		}
		rel := *new.release()
		rel.Codes = full
		return diff.Compare(nil, &rel, nil), nil
	}
	type row struct {
		code string
		hash int64
	}
	// The old side is walked in a goroutine and handed over in batches,
	// so that both databases are read at once.
	batches := make(chan []row, 4)
	walkErr := make(chan error, 1)
	walkCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		batch := make([]row, 0, 1024)
		err := old.walk(walkCtx, func(code string, hash int64) error {
			batch = append(batch, row{code, hash})
			if len(batch) == cap(batch) {
				select {
				case batches <- batch:
				case <-walkCtx.Done():
					return walkCtx.Err()
				}
				batch = make([]row, 0, 1024)
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			select {
			case batches <- batch:
			case <-walkCtx.Done():
				err = walkCtx.Err()
			}
		}
		walkErr <- err
	}()
	var cur []row
	nextOld := func() (row, bool) {
		for len(cur) == 0 {
			b, ok := <-batches
			if !ok {
				return row{}, false
			}
			cur = b
		}
		r := cur[0]
		cur = cur[1:]
		return r, true
	}

	newRel, oldRel := *new.release(), *old.release()
	// The codes the replacement links name or cover, and where Link's walk
	// over a range stops, are picked up on the way.
	links := diff.NeedLinks(newRel.Replacements, oldRel.Effective, newRel.Effective)
	var onlyOld, onlyNew, differ []string
	unchanged := 0
	o, haveOld := nextOld()
	err := new.walk(ctx, func(code string, hash int64) error {
		for haveOld && o.code < code {
			links.See(o.code)
			onlyOld = append(onlyOld, o.code)
			o, haveOld = nextOld()
		}
		links.See(code)
		switch {
		case haveOld && o.code == code:
			if o.hash == hash {
				unchanged++
			} else {
				differ = append(differ, code)
			}
			o, haveOld = nextOld()
		default:
			onlyNew = append(onlyNew, code)
		}
		return nil
	})
	if err == nil {
		for haveOld {
			links.See(o.code)
			onlyOld = append(onlyOld, o.code)
			o, haveOld = nextOld()
		}
	}
	cancel()
	for range batches {
	}
	if werr := <-walkErr; err == nil && werr != nil && !errors.Is(werr, context.Canceled) {
		err = werr
	}
	if err != nil {
		return nil, err
	}

	// Codes the publisher declares changed (in new or in a release in
	// between) are decoded on both sides too, so the reconciliation can
	// tell an unchanged code from an absent one; so are the codes the links
	// look at, which must be known on both sides.
	rels := []*codeset.Release{&newRel}
	for _, b := range between {
		rels = append(rels, b.Release)
	}
	extra := merge(diff.DeclaredCodes(rels...), links.Codes())
	oldWant := merge(onlyOld, differ, extra)
	newWant := merge(onlyNew, differ, extra)
	if oldRel.Codes, err = old.fetch(ctx, oldWant); err != nil {
		return nil, err
	}
	if newRel.Codes, err = new.fetch(ctx, newWant); err != nil {
		return nil, err
	}
	earlier, err := ask(ctx, lastSeen, onlyNew)
	if err != nil {
		return nil, err
	}
	l := diff.CompareParts(diff.Part{Release: &oldRel, Size: old.size()}, diff.Part{Release: &newRel, Size: new.size()}, earlier, between)
	// The declared codes decoded on both sides and unchanged were counted
	// by diff.Compare; the rows skipped by their hashes were not.
	l.Summary.Unchanged += unchanged - countBoth(extra, differ, oldRel.Codes, newRel.Codes)
	return l, nil
}

// countBoth counts the codes of extra, not in differ, that both a and b
// hold: the hash-equal rows that were fetched anyway.
func countBoth(extra, differ []string, a, b []codeset.Code) int {
	in := func(cs []codeset.Code, code string) bool {
		_, ok := slices.BinarySearchFunc(cs, code, func(c codeset.Code, s string) int { return strings.Compare(c.Code, s) })
		return ok
	}
	n := 0
	for _, code := range extra {
		if _, ok := slices.BinarySearch(differ, code); ok {
			continue
		}
		if in(a, code) && in(b, code) {
			n++
		}
	}
	return n
}

func sortedUnique(ss []string) []string {
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return slices.Compact(ss)
}

// merge returns the sorted union of sorted lists.
func merge(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	return sortedUnique(all)
}

// dbSide is a stored snapshot.
type dbSide struct {
	db    *sql.DB
	path  string
	rel   *codeset.Release
	codes int
}

func openSide(ctx context.Context, path string) (*dbSide, error) {
	db, err := openSnapshot(ctx, path)
	if err != nil {
		return nil, err
	}
	info, err := readInfo(ctx, db, path)
	if err != nil {
		db.Close()
		return nil, err
	}
	rel := &codeset.Release{System: info.System, Label: info.Label, Effective: info.Effective, Sources: info.Sources}
	if info.DeclaredBy != "" {
		if rel.Declared, err = readDeclared(ctx, db, path, info.DeclaredBy); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := readAdditive(ctx, db, path, rel); err != nil {
		db.Close()
		return nil, err
	}
	return &dbSide{db: db, path: path, rel: rel, codes: info.Codes}, nil
}

func (s *dbSide) release() *codeset.Release { return s.rel }
func (s *dbSide) size() int                 { return s.codes }
func (s *dbSide) close()                    { s.db.Close() }

func (s *dbSide) walk(ctx context.Context, fn func(string, int64) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT entries FROM code_hashes ORDER BY chunk`)
	if err != nil {
		return fmt.Errorf("read snapshot %s: %w", s.path, err)
	}
	defer rows.Close()
	n := 0
	prev := ""
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return fmt.Errorf("read snapshot %s: %w", s.path, err)
		}
		for len(b) > 0 {
			l, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < l+8 {
				return fmt.Errorf("read snapshot %s: code_hashes: bad entry after code %q", s.path, prev)
			}
			code := string(b[k : k+int(l)])
			if n > 0 && code <= prev {
				return fmt.Errorf("read snapshot %s: code_hashes: %q after %q, out of order", s.path, code, prev)
			}
			hash := int64(binary.BigEndian.Uint64(b[k+int(l):]))
			b = b[k+int(l)+8:]
			if err := fn(code, hash); err != nil {
				return err
			}
			prev = code
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read snapshot %s: %w", s.path, err)
	}
	if n != s.codes {
		return fmt.Errorf("read snapshot %s: code_hashes holds %d codes, release row says %d", s.path, n, s.codes)
	}
	return nil
}

func (s *dbSide) all(ctx context.Context) ([]codeset.Code, error) {
	return readRecords(ctx, s.db, s.path, "codes")
}

// fetchBatch is how many codes one query of fetch asks for.
const fetchBatch = 64

func (s *dbSide) fetch(ctx context.Context, codes []string) ([]codeset.Code, error) {
	query := func(n int) string {
		return `SELECT code, category, short, medium, long, status, attributes, meta FROM codes WHERE code IN (` +
			strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + `) ORDER BY code`
	}
	full, err := s.db.PrepareContext(ctx, query(fetchBatch))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", s.path, err)
	}
	defer full.Close()
	out := make([]codeset.Code, 0, len(codes))
	unwatched := dbfile.Unwatched(ctx)
	args := make([]any, 0, fetchBatch)
	for start := 0; start < len(codes); start += fetchBatch {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		batch := codes[start:min(start+fetchBatch, len(codes))]
		args = args[:0]
		for _, c := range batch {
			args = append(args, c)
		}
		stmt := full
		if len(batch) < fetchBatch {
			if stmt, err = s.db.PrepareContext(ctx, query(len(batch))); err != nil {
				return nil, fmt.Errorf("read snapshot %s: %w", s.path, err)
			}
			defer stmt.Close()
		}
		rows, err := stmt.QueryContext(unwatched, args...)
		if err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", s.path, err)
		}
		for rows.Next() {
			c, err := scanRecord(rows, s.path, "codes")
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, c)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", s.path, err)
		}
	}
	// The batches are in order and each is sorted, so out is sorted.
	return out, nil
}

// memSide is a release in memory.
type memSide struct {
	rel   *codeset.Release
	codes []codeset.Code // sorted
}

func newMemSide(r *codeset.Release) *memSide {
	codes := r.Codes
	if !slices.IsSortedFunc(codes, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) }) {
		codes = slices.Clone(codes)
		slices.SortStableFunc(codes, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) })
	}
	head := *r
	head.Codes = nil
	return &memSide{rel: &head, codes: codes}
}

func (s *memSide) release() *codeset.Release { return s.rel }
func (s *memSide) size() int                 { return len(s.codes) }
func (s *memSide) close()                    {}

func (s *memSide) walk(ctx context.Context, fn func(string, int64) error) error {
	for _, c := range s.codes {
		attrs, err := EncodeAttrs(c.Attrs)
		if err != nil {
			return fmt.Errorf("code %s: %w", c.Code, err)
		}
		if err := fn(c.Code, RowHash(c, attrs)); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSide) all(ctx context.Context) ([]codeset.Code, error) { return s.codes, nil }

func (s *memSide) fetch(ctx context.Context, codes []string) ([]codeset.Code, error) {
	out := make([]codeset.Code, 0, len(codes))
	i := 0
	for _, code := range codes {
		for i < len(s.codes) && s.codes[i].Code < code {
			i++
		}
		if i < len(s.codes) && s.codes[i].Code == code {
			out = append(out, s.codes[i])
		}
	}
	return out, nil
}
