package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/codeset/codeset"
)

// Index is the records of a snapshot held in memory, for a server that
// answers many lookups of one release: Record and Parent answer as the
// Reader's do, without a query (a query through database/sql costs 10-20
// µs; a lookup made three). It holds the rows' text once, in one string,
// plus 20 bytes a row (its offset and its code's string header): the
// Index of an ICD-10-CM release (74k codes, 23k headers) holds about 19
// MB. Safe for concurrent use; it never changes.
type Index struct {
	path string
	// data is every row, each field its length in bytes (decimal), ':'
	// and its bytes, in the order of indexFields.
	data string
	// rows are the offsets in data of the rows of codes (0) and headers
	// (1), in code order; codes their codes (substrings of data), which a
	// search compares without decoding a row.
	rows  [2][]uint32
	codes [2][]string
}

// indexFields are the columns an Index keeps, code first.
var indexFields = []string{"code", "category", "short", "medium", "long", "status", "attributes", "meta"}

// PackedRow returns the SQL expression of one text that holds the columns
// cols of a row as Index.data does: each its length in bytes, ':' and its
// text. SQLite builds it, so that reading a row costs one column through
// the driver rather than one per field (most of the time of reading a
// whole table).
func PackedRow(cols ...string) string {
	var parts []string
	for _, c := range cols {
		parts = append(parts, "octet_length("+c+")", "':'", c)
	}
	return strings.Join(parts, " || ")
}

// LoadIndex reads the codes and headers of the snapshot at path into an
// Index.
func LoadIndex(ctx context.Context, path string) (*Index, error) {
	db, err := openSnapshot(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	x := &Index{path: path}
	// Built as bytes and copied once into a string of its exact size;
	// the file's size is room enough, mostly (appending to a slice of
	// this size as it grows cost more than the queries).
	var b []byte
	if st, err := os.Stat(path); err == nil && st.Size() < math.MaxUint32 {
		b = make([]byte, 0, st.Size())
	}
	for i, table := range []string{"codes", "headers"} {
		rows, err := db.QueryContext(ctx, `SELECT `+PackedRow(indexFields...)+` FROM `+table+` ORDER BY code`)
		if err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", path, err)
		}
		var row sql.RawBytes
		for rows.Next() {
			if err := rows.Scan(&row); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read snapshot %s: %w", path, err)
			}
			if len(b) > math.MaxUint32-len(row) {
				rows.Close()
				return nil, fmt.Errorf("read snapshot %s: too large to hold in memory", path)
			}
			x.rows[i] = append(x.rows[i], uint32(len(b)))
			b = append(b, row...)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", path, err)
		}
	}
	x.data = string(b)
	for i, table := range []string{"codes", "headers"} {
		x.rows[i] = slices.Clone(x.rows[i]) // exact size
		x.codes[i] = make([]string, len(x.rows[i]))
		// The search below needs code order as Go compares strings;
		// SQLite's BINARY order is the same, which this checks.
		prev := ""
		for k, off := range x.rows[i] {
			end := len(x.data)
			if k+1 < len(x.rows[i]) {
				end = int(x.rows[i][k+1])
			} else if i == 0 && len(x.rows[1]) > 0 {
				end = int(x.rows[1][0])
			}
			code, ok := packedFields(x.data[off:end], len(indexFields))
			if !ok || (k > 0 && code <= prev) {
				return nil, fmt.Errorf("read snapshot %s: %s: bad row or not in code order at %q", path, table, code)
			}
			prev = code
			x.codes[i][k] = code
		}
	}
	return x, nil
}

// packedFields checks that row is n fields as PackedRow packs them, and
// returns the first.
func packedFields(row string, n int) (first string, ok bool) {
	off := 0
	for i := range n {
		f, next, ok := PackedField(row, off)
		if !ok {
			return "", false
		}
		if i == 0 {
			first = f
		}
		off = next
	}
	return first, off == len(row)
}

// PackedField returns the field packed at off in s (see PackedRow) and the
// offset after it; ok is false when s holds no whole field there.
func PackedField(s string, off int) (field string, next int, ok bool) {
	n := 0
	for i := off; i < len(s); i++ {
		c := s[i]
		if c == ':' && i > off {
			end := i + 1 + n
			if end > len(s) || end < 0 {
				return "", 0, false
			}
			return s[i+1 : end], end, true
		}
		if c < '0' || c > '9' || n > math.MaxInt32/10 {
			return "", 0, false
		}
		n = n*10 + int(c-'0')
	}
	return "", 0, false
}

// field returns the field at off in data and the offset after it (data
// was checked whole when loaded).
func (x *Index) field(off int) (string, int) {
	f, next, _ := PackedField(x.data, off)
	return f, next
}

// find returns the offset of the row of code in table t, or -1.
func (x *Index) find(t int, code string) int {
	if k, ok := slices.BinarySearch(x.codes[t], code); ok {
		return int(x.rows[t][k])
	}
	return -1
}

// Size returns the bytes the Index holds.
func (x *Index) Size() int64 {
	return int64(len(x.data)) + (4+16)*int64(len(x.rows[0])+len(x.rows[1]))
}

// Len returns the number of codes and of headers.
func (x *Index) Len() (codes, headers int) {
	return len(x.rows[0]), len(x.rows[1])
}

// Record reads one record as Reader.Record does: a code, or a header row
// (header true), with its meta. A code the release holds in neither table
// gives an error wrapping ErrNoCode.
func (x *Index) Record(code string) (c codeset.Code, header bool, err error) {
	for t, table := range []string{"codes", "headers"} {
		off := x.find(t, code)
		if off < 0 {
			continue
		}
		var f [8]string
		for i := range f {
			f[i], off = x.field(off)
		}
		c = codeset.Code{Code: f[0], Category: f[1], Short: f[2], Medium: f[3], Long: f[4], Status: f[5]}
		if c.Attrs, err = DecodeAttrs(f[6]); err != nil {
			return codeset.Code{}, false, fmt.Errorf("read snapshot %s: %s %s: bad attributes: %w", x.path, table, c.Code, err)
		}
		if c.Meta, err = DecodeMeta(f[7]); err != nil {
			return codeset.Code{}, false, fmt.Errorf("read snapshot %s: %s %s: bad meta: %w", x.path, table, c.Code, err)
		}
		return c, t == 1, nil
	}
	return codeset.Code{}, false, fmt.Errorf("%w: %q", ErrNoCode, code)
}

// Parent returns the header row above code as Reader.Parent does: the
// longest proper prefix of code that the release holds as a header and
// not as a code, or "".
func (x *Index) Parent(code string) string {
	for n := len(code) - 1; n >= 1; n-- {
		p := code[:n]
		if x.find(1, p) >= 0 && x.find(0, p) < 0 {
			return p
		}
	}
	return ""
}
