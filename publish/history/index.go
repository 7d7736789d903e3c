package history

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
)

// Index is a history database's records, events and replacement links held
// in memory, for a server that answers many lookups: Read answers as the
// Reader's does, without a query. It holds the text of each code's row and
// events once, in one string, plus four bytes a code: about 12 MB for two
// ICD-10-CM releases (74k codes). Safe for concurrent use; it never
// changes.
type Index struct {
	path string
	// data is each code's row, then its number of events and the events
	// (release, change, field, before, after), each field a uvarint
	// length and its bytes.
	data string
	rows []uint32 // offsets in data, in code order
	// graph is the replacement links, read with the rest.
	graph linkGraph
}

// indexRowFields is the number of fields of a code's row in Index.data.
const indexRowFields = 9

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
	// The same rows as Reader.Read's query, for every code in turn.
	rows, err := db.QueryContext(ctx, `SELECT c.code, c.first_release, c.last_release, c.category, c.short, c.medium, c.long, c.status, c.attributes,
			e.code IS NOT NULL, e.release, e.change, e.field, e.before, e.after
		FROM codes AS c LEFT JOIN events AS e ON e.code = c.code
		ORDER BY c.code, e.seq, e.field`)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	defer rows.Close()
	// Built as bytes and copied once into a string of its exact size; a
	// row's events are counted in evs and written when the next code
	// starts.
	var b, evs []byte
	var n uint64
	flush := func() {
		if len(x.rows) > 0 {
			b = binary.AppendUvarint(b, n)
			b = append(b, evs...)
		}
		evs, n = evs[:0], 0
	}
	var f [indexRowFields]sql.RawBytes
	var e [5]sql.RawBytes
	var hasEvent bool
	prev := ""
	for rows.Next() {
		if err := rows.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &hasEvent, &e[0], &e[1], &e[2], &e[3], &e[4]); err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		if code := string(f[0]); len(x.rows) == 0 || code != prev {
			if len(x.rows) > 0 && code < prev {
				return nil, fmt.Errorf("read history %s: codes not in code order at %q", path, code)
			}
			flush()
			if len(b) > math.MaxUint32/2 {
				return nil, fmt.Errorf("read history %s: too large to hold in memory", path)
			}
			prev = code
			x.rows = append(x.rows, uint32(len(b)))
			for _, v := range f {
				b = binary.AppendUvarint(b, uint64(len(v)))
				b = append(b, v...)
			}
		}
		if hasEvent {
			n++
			for _, v := range e {
				evs = binary.AppendUvarint(evs, uint64(len(v)))
				evs = append(evs, v...)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	flush()
	x.data = string(b)
	x.rows = slices.Clone(x.rows) // exact size
	return x, nil
}

// Size returns the bytes the Index holds, links apart.
func (x *Index) Size() int64 {
	return int64(len(x.data)) + 4*int64(len(x.rows))
}

// uvarint returns the number at off in data and the offset after it.
func (x *Index) uvarint(off int) (uint64, int) {
	var n uint64
	var shift uint
	for {
		c := x.data[off]
		off++
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return n, off
		}
		shift += 7
	}
}

// field returns the field at off in data and the offset after it.
func (x *Index) field(off int) (string, int) {
	n, off := x.uvarint(off)
	return x.data[off : off+int(n)], off + int(n)
}

// find returns the offset of the row of code, or -1.
func (x *Index) find(code string) int {
	lo, hi := 0, len(x.rows)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c, _ := x.field(int(x.rows[m]))
		switch {
		case c == code:
			return int(x.rows[m])
		case c < code:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// Read returns the history of code as Reader.Read does. A code no release
// had gives an error wrapping snapshot.ErrNoCode.
func (x *Index) Read(code string) (*format.CodeHistory, error) {
	off := x.find(code)
	if off < 0 {
		return nil, fmt.Errorf("%w: %q", snapshot.ErrNoCode, code)
	}
	var f [indexRowFields]string
	for i := range f {
		f[i], off = x.field(off)
	}
	h := &format.CodeHistory{Code: code, FirstRelease: f[1], LastRelease: f[2], Events: []format.HistoryEvent{},
		Record: format.Record{Category: f[3], Short: f[4], Medium: f[5], Long: f[6], Status: f[7]}}
	n, off := x.uvarint(off)
	for range n {
		var e [5]string
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
	off := x.find(code)
	if off < 0 {
		return false
	}
	var f [indexRowFields]string
	for i := range f {
		f[i], off = x.field(off)
	}
	return f[2] == x.graph.latest && f[7] != codeset.StatusDiscontinued
}
