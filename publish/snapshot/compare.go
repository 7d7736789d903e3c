package snapshot

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
	if oldPath == "" {
		newSide, err := openSide(ctx, newPath)
		if err != nil {
			return nil, err
		}
		defer newSide.close()
		return compareSides(ctx, nil, newSide, nil, nil)
	}
	// Both sides are opened at once, each with its own connection.
	var oldSide *dbSide
	var oldErr error
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		oldSide, oldErr = openSide(ctx, oldPath)
	}()
	newSide, err := openSide(ctx, newPath)
	<-opened
	if oldSide != nil {
		defer oldSide.close()
	}
	if newSide != nil {
		defer newSide.close()
	}
	if err = cmp.Or(err, oldErr); err != nil {
		return nil, err
	}
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

// side is one release of a comparison: its header (no codes), its codes'
// hashes in order and a way to fetch whole records.
type side interface {
	release() *codeset.Release
	// chunks calls fn with the codes and hashes of the side in code
	// order, packed as code_hashes.entries are; each entries is fn's to
	// keep.
	chunks(ctx context.Context, fn func(entries []byte) error) error
	// fetch returns the records of codes (sorted, unique) that it holds,
	// in order.
	fetch(ctx context.Context, codes []string) ([]codeset.Code, error)
	// all returns every record, in order.
	all(ctx context.Context) ([]codeset.Code, error)
	// size is the number of codes.
	size() int
	// where names the side in errors.
	where() string
	close()
}

// cursor decodes packed code_hashes entries, checking their order.
type cursor struct {
	where string
	b     []byte // entries not yet decoded
	prev  []byte // the last code decoded, a copy
	n     int    // entries decoded
}

// next decodes the next entry of b: ok is false when b is used up. code
// points into b.
func (c *cursor) next() (code []byte, hash int64, ok bool, err error) {
	if len(c.b) == 0 {
		return nil, 0, false, nil
	}
	l, k := binary.Uvarint(c.b)
	if k <= 0 || uint64(len(c.b)-k) < l+8 {
		return nil, 0, false, fmt.Errorf("read snapshot %s: code_hashes: bad entry after code %q", c.where, c.prev)
	}
	code = c.b[k : k+int(l)]
	if c.n > 0 && bytes.Compare(code, c.prev) <= 0 {
		return nil, 0, false, fmt.Errorf("read snapshot %s: code_hashes: %q after %q, out of order", c.where, code, c.prev)
	}
	hash = int64(binary.BigEndian.Uint64(c.b[k+int(l):]))
	c.b = c.b[k+int(l)+8:]
	c.prev = append(c.prev[:0], code...)
	c.n++
	return code, hash, true, nil
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
	newRel, oldRel := *new.release(), *old.release()
	// The codes the replacement links name or cover, and where Link's walk
	// over a range stops, are picked up on the way.
	links := diff.NeedLinks(newRel.Replacements, oldRel.Effective, newRel.Effective)
	see := func(code []byte) {
		if links != nil {
			links.See(string(code))
		}
	}

	// The old side is read in a goroutine and handed over chunk by chunk,
	// so that both databases are read at once. The entries are decoded in
	// place: only the codes that differ become strings.
	chunks := make(chan []byte, 4)
	walkErr := make(chan error, 1)
	walkCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		walkErr <- old.chunks(walkCtx, func(b []byte) error {
			select {
			case chunks <- b:
				return nil
			case <-walkCtx.Done():
				return walkCtx.Err()
			}
		})
	}()
	oc, nc := &cursor{where: old.where()}, &cursor{where: new.where()}
	var oCode []byte
	var oHash int64
	haveOld := true
	advance := func() error {
		for {
			code, hash, ok, err := oc.next()
			if err != nil {
				return err
			}
			if ok {
				oCode, oHash = code, hash
				return nil
			}
			b, more := <-chunks
			if !more {
				haveOld = false
				return nil
			}
			oc.b = b
		}
	}

	var onlyOld, onlyNew, differ []string
	unchanged := 0
	err := advance()
	if err == nil {
		err = new.chunks(ctx, func(b []byte) error {
			nc.b = b
			for {
				code, hash, ok, err := nc.next()
				if err != nil || !ok {
					return err
				}
				for haveOld && bytes.Compare(oCode, code) < 0 {
					see(oCode)
					onlyOld = append(onlyOld, string(oCode))
					if err := advance(); err != nil {
						return err
					}
				}
				see(code)
				if haveOld && bytes.Equal(oCode, code) {
					if oHash == hash {
						unchanged++
					} else {
						differ = append(differ, string(code))
					}
					if err := advance(); err != nil {
						return err
					}
				} else {
					onlyNew = append(onlyNew, string(code))
				}
			}
		})
	}
	for err == nil && haveOld {
		see(oCode)
		onlyOld = append(onlyOld, string(oCode))
		err = advance()
	}
	cancel()
	for range chunks {
	}
	if werr := <-walkErr; err == nil && werr != nil && !errors.Is(werr, context.Canceled) {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		s side
		c *cursor
	}{{old, oc}, {new, nc}} {
		if c.c.n != c.s.size() {
			return nil, fmt.Errorf("read snapshot %s: code_hashes holds %d codes, release row says %d", c.s.where(), c.c.n, c.s.size())
		}
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
	// Both sides are fetched at once, each from its own database.
	var oldErr error
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		oldRel.Codes, oldErr = old.fetch(ctx, oldWant)
	}()
	newRel.Codes, err = new.fetch(ctx, newWant)
	<-fetched
	if err = cmp.Or(oldErr, err); err != nil {
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

// merge returns the sorted union of sorted lists, in one pass over each
// (the lists of a comparison hold tens of thousands of codes).
func merge(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		if !slices.IsSorted(l) {
			l = sortedUnique(l)
		}
		out = union(out, l)
	}
	return out
}

// union returns the sorted union of a and b, each sorted.
func union(a, b []string) []string {
	if len(a) == 0 {
		return slices.Compact(slices.Clone(b))
	}
	out := make([]string, 0, len(a)+len(b))
	add := func(s string) {
		if n := len(out); n == 0 || out[n-1] != s {
			out = append(out, s)
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			add(a[i])
			i++
		} else {
			add(b[j])
			j++
		}
	}
	for ; i < len(a); i++ {
		add(a[i])
	}
	for ; j < len(b); j++ {
		add(b[j])
	}
	return out
}

// dbSide is a stored snapshot.
type dbSide struct {
	db    *sql.DB
	path  string
	rel   *codeset.Release
	codes int
}

func openSide(ctx context.Context, path string) (*dbSide, error) {
	// Not mapped: a comparison reads each page about once, and mapped
	// pages would stay in the resident memory (240 MiB of a 1M-code pair).
	db, err := openSnapshotWith(ctx, path, dbfile.OpenReadOnlyUnmapped)
	if err != nil {
		return nil, err
	}
	// A small page cache: the codes are fetched in key order, so each leaf
	// page is read about once, and the few interior pages of a lookup's
	// path stay cached even so. The default 2 MB would cost more to free
	// at close (madvise of each region) than it saves.
	if _, err := db.ExecContext(ctx, `PRAGMA cache_size = -128`); err != nil {
		db.Close()
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
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

func (s *dbSide) where() string { return s.path }

func (s *dbSide) chunks(ctx context.Context, fn func([]byte) error) error {
	return rawConn(ctx, s.db, s.path, func(q rawQuerier) error {
		st, err := q.prepare(`SELECT entries FROM code_hashes ORDER BY chunk`)
		if err != nil {
			return err
		}
		defer st.close()
		return st.each(nil, func(cols []driver.Value) error {
			b, ok := cols[0].([]byte)
			if !ok && cols[0] != nil { // an empty blob comes as nil
				return &rawError{fmt.Errorf("read snapshot %s: code_hashes: entries hold %T, not a blob", s.path, cols[0])}
			}
			if err := ctx.Err(); err != nil {
				return &rawError{err}
			}
			if err := fn(b); err != nil {
				return &rawError{err}
			}
			return nil
		})
	})
}

func (s *dbSide) all(ctx context.Context) ([]codeset.Code, error) {
	return readRecords(ctx, s.db, s.path, "codes", 0)
}

// fetch reads the records of codes (sorted, unique) that the snapshot
// holds, in code order. One statement asks for them all, the list passed
// as a JSON array that SQLite walks, looking each code up by key (no
// temporary index of the list, no sort: the rows come in the list's
// order, which is checked). A code that is not valid UTF-8 cannot be
// written in JSON; a list with one is asked for code by code instead.
func (s *dbSide) fetch(ctx context.Context, codes []string) ([]codeset.Code, error) {
	out := make([]codeset.Code, 0, len(codes))
	if len(codes) == 0 {
		return out, nil
	}
	const columns = `SELECT c.code, c.category, c.short, c.medium, c.long, c.status, c.attributes, c.meta `
	query, args := columns+`FROM json_each(?) AS j JOIN codes AS c ON c.code = j.value`, [][]driver.NamedValue{nil}
	if slices.ContainsFunc(codes, func(c string) bool { return !utf8.ValidString(c) }) {
		query, args = columns+`FROM codes AS c WHERE c.code = ?`, make([][]driver.NamedValue, len(codes))
		for i, c := range codes {
			args[i] = []driver.NamedValue{{Ordinal: 1, Value: c}}
		}
	} else {
		list, err := json.Marshal(codes)
		if err != nil {
			return nil, err
		}
		args[0] = []driver.NamedValue{{Ordinal: 1, Value: string(list)}}
	}
	err := rawConn(ctx, s.db, s.path, func(q rawQuerier) error {
		st, err := q.prepare(query)
		if err != nil {
			return err
		}
		defer st.close()
		add := func(cols []driver.Value) error {
			c, err := recordOf(cols, s.path, "codes")
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		}
		for _, a := range args {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := st.each(a, add); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && !slices.IsSortedFunc(out, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) }) {
		slices.SortFunc(out, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) })
	}
	return out, err
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

func (s *memSide) where() string {
	return fmt.Sprintf("%s %s in memory", s.rel.System, s.rel.Label)
}

// chunks packs the codes and their hashes as Write stores them.
func (s *memSide) chunks(ctx context.Context, fn func([]byte) error) error {
	const chunk = 4096
	for start := 0; start < len(s.codes); start += chunk {
		var b []byte
		for _, c := range s.codes[start:min(start+chunk, len(s.codes))] {
			attrs, err := EncodeAttrs(c.Attrs)
			if err != nil {
				return fmt.Errorf("code %s: %w", c.Code, err)
			}
			b = binary.AppendUvarint(b, uint64(len(c.Code)))
			b = append(b, c.Code...)
			b = binary.BigEndian.AppendUint64(b, uint64(RowHash(c, attrs)))
		}
		if err := fn(b); err != nil {
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
