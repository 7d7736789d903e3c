package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
)

// Index is a history database's records, events and replacement links held
// in memory, for a server that answers many lookups: Read answers as the
// Reader's does, without a query. It holds the text of each code's row and
// events once, in one string, plus 20 bytes a code: about 15 MB for two
// ICD-10-CM releases (74k codes). Safe for concurrent use; it never
// changes.
type Index struct {
	path string
	// data is each code's row, then its events (release, change, field,
	// before, after) up to the next row, packed as snapshot.PackedRow
	// packs them.
	data  string
	rows  []uint32 // offsets in data, in code order
	codes []string // the code of each row (substrings of data)
	// graph is the replacement links, read with the rest.
	graph linkGraph
}

// The fields of a code's row and of an event in Index.data.
const (
	indexRowFields   = 9
	indexEventFields = 5
)

// LoadIndex reads the history database at path into an Index.
func LoadIndex(ctx context.Context, path string) (*Index, error) {
	db, err := openHistory(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	x := &Index{path: path}
	if err := x.graph.load(ctx, db); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	// What Reader.Read's query reads, for every code in turn: the row,
	// then its events in the same order. Two scans in code order merged
	// here (a subquery per code cost twice as much).
	recs, err := db.QueryContext(ctx, `SELECT `+snapshot.PackedRow("c.code", "c.first_release", "c.last_release", "c.category", "c.short", "c.medium", "c.long", "c.status", "c.attributes")+`
		FROM codes AS c ORDER BY c.code`)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	defer recs.Close()
	// A second connection: the handle allows one, and both scans are
	// open at once.
	edb, err := openHistory(ctx, path)
	if err != nil {
		return nil, err
	}
	defer edb.Close()
	evs, err := edb.QueryContext(ctx, `SELECT `+snapshot.PackedRow("e.code", "e.release", "e.change", "e.field", "e.before", "e.after")+`
		FROM events AS e ORDER BY e.code, e.seq, e.field`)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	defer evs.Close()
	// Built as bytes and copied once into a string of its exact size;
	// the file's size is room enough, mostly (appending to a slice of
	// this size as it grows cost more than the queries).
	var b []byte
	if st, err := os.Stat(path); err == nil && st.Size() < math.MaxUint32 {
		b = make([]byte, 0, st.Size())
	}
	var row, ev sql.RawBytes
	var evCode []byte // the code of ev; nil when no event is pending
	nextEvent := func() error {
		evCode = nil
		if !evs.Next() {
			return evs.Err()
		}
		if err := evs.Scan(&ev); err != nil {
			return err
		}
		c, ok := firstField(ev)
		if !ok {
			return fmt.Errorf("bad event row %q", ev)
		}
		evCode = c
		return nil
	}
	if err := nextEvent(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	for recs.Next() {
		if err := recs.Scan(&row); err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		if len(b) > math.MaxUint32-len(row) {
			return nil, fmt.Errorf("read history %s: too large to hold in memory", path)
		}
		code, ok := firstField(row)
		if !ok {
			return nil, fmt.Errorf("read history %s: bad row %q", path, row)
		}
		x.rows = append(x.rows, uint32(len(b)))
		b = append(b, row...)
		// Events of codes with no row are skipped, as Read's join does.
		for evCode != nil && bytes.Compare(evCode, code) <= 0 {
			if bytes.Equal(evCode, code) {
				b = append(b, ev[len(evCode)+1+len(strconv.Itoa(len(evCode))):]...)
			}
			if err := nextEvent(); err != nil {
				return nil, fmt.Errorf("read history %s: %w", path, err)
			}
		}
	}
	if err := recs.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	x.data = string(b)
	x.codes = make([]string, 0, len(x.rows))
	prev := ""
	for k, off := range x.rows {
		end := len(x.data)
		if k+1 < len(x.rows) {
			end = int(x.rows[k+1])
		}
		code, ok := checkRow(x.data[off:end])
		if !ok || (k > 0 && code <= prev) {
			return nil, fmt.Errorf("read history %s: bad row or not in code order at %q", path, code)
		}
		prev = code
		x.codes = append(x.codes, code)
	}
	x.rows = slices.Clone(x.rows) // exact size
	return x, nil
}

// firstField returns the first field of a packed row.
func firstField(row []byte) ([]byte, bool) {
	n := 0
	for i, c := range row {
		if c == ':' && i > 0 {
			if i+1+n > len(row) {
				return nil, false
			}
			return row[i+1 : i+1+n], true
		}
		if c < '0' || c > '9' || n > math.MaxInt32/10 {
			return nil, false
		}
		n = n*10 + int(c-'0')
	}
	return nil, false
}

// checkRow checks that row is a code's row and whole events, and returns
// the code.
func checkRow(row string) (code string, ok bool) {
	n, off := 0, 0
	for ; n < indexRowFields || off < len(row); n++ {
		f, next, ok := snapshot.PackedField(row, off)
		if !ok {
			return code, false
		}
		if n == 0 {
			code = f
		}
		off = next
	}
	return code, (n-indexRowFields)%indexEventFields == 0
}

// Size returns the bytes the Index holds, links apart.
func (x *Index) Size() int64 {
	return int64(len(x.data)) + (4+16)*int64(len(x.rows))
}

// field returns the field at off in data and the offset after it (data
// was checked whole when loaded).
func (x *Index) field(off int) (string, int) {
	f, next, _ := snapshot.PackedField(x.data, off)
	return f, next
}

// find returns the offset of the row of code and the offset where it
// ends, or -1.
func (x *Index) find(code string) (int, int) {
	m, ok := slices.BinarySearch(x.codes, code)
	if !ok {
		return -1, -1
	}
	end := len(x.data)
	if m+1 < len(x.rows) {
		end = int(x.rows[m+1])
	}
	return int(x.rows[m]), end
}

// Read returns the history of code as Reader.Read does. A code no release
// had gives an error wrapping snapshot.ErrNoCode.
func (x *Index) Read(code string) (*format.CodeHistory, error) {
	off, end := x.find(code)
	if off < 0 {
		return nil, fmt.Errorf("%w: %q", snapshot.ErrNoCode, code)
	}
	var f [indexRowFields]string
	for i := range f {
		f[i], off = x.field(off)
	}
	h := &format.CodeHistory{Code: code, FirstRelease: f[1], LastRelease: f[2], Events: []format.HistoryEvent{},
		Record: format.Record{Category: f[3], Short: f[4], Medium: f[5], Long: f[6], Status: f[7]}}
	for off < end {
		var e [indexEventFields]string
		for i := range e {
			e[i], off = x.field(off)
		}
		rel, change, field := e[0], e[1], e[2]
		k := len(h.Events)
		if k == 0 || h.Events[k-1].Release != rel {
			h.Events = append(h.Events, format.HistoryEvent{Release: rel, Change: codeset.ChangeKind(change), Fields: map[string]codeset.FieldChange{}})
			k++
		}
		if field != "" {
			h.Events[k-1].Fields[field] = codeset.FieldChange{Before: e[3], After: e[4]}
		}
	}
	if f[8] == "{}" {
		h.Record.Attributes = map[string]string{}
	} else if err := json.Unmarshal([]byte(f[8]), &h.Record.Attributes); err != nil {
		return nil, fmt.Errorf("read history %s: code %s: bad attributes: %w", x.path, code, err)
	}
	x.graph.fill(h, x.valid)
	return h, nil
}

// valid reports whether the latest release has code and has not ended it.
func (x *Index) valid(code string) bool {
	off, _ := x.find(code)
	if off < 0 {
		return false
	}
	var f [indexRowFields]string
	for i := range f {
		f[i], off = x.field(off)
	}
	return f[2] == x.graph.latest && f[7] != codeset.StatusDiscontinued
}
