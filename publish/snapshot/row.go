package snapshot

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/codeset/codeset"
)

// RowHash is the content hash stored with every row: the first 8 bytes of
// the SHA-256 of the fields diff.Fields compares (category, short, medium,
// long, status and the attributes as EncodeAttrs renders them, attrs),
// each preceded by its length. Meta is not compared and not hashed. Two
// records of one code with equal hashes are taken to be equal: a diff
// decodes only the rows whose hashes differ. A collision between two
// versions of the same code is a 1 in 2^64 chance.
func RowHash(c codeset.Code, attrs string) int64 { return rowHash(c, attrs) }

// rowHash is RowHash of attributes already rendered as a string or into
// a buffer.
func rowHash[T string | []byte](c codeset.Code, attrs T) int64 {
	// One buffer and sha256.Sum256, not a hash.Hash fed field by field:
	// the same bytes hashed, with no allocation for a row of ordinary
	// size (the buffer stays on the stack).
	buf := make([]byte, 0, 512)
	for _, f := range [...]string{c.Category, c.Short, c.Medium, c.Long, c.Status} {
		buf = binary.AppendUvarint(buf, uint64(len(f)))
		buf = append(buf, f...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(attrs)))
	buf = append(buf, attrs...)
	sum := sha256.Sum256(buf)
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// plain reports whether s needs no escaping in JSON: printable ASCII
// without quotes or backslashes. encoding/json writes such a string as it
// is, between quotes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// encodePlain renders m as EncodeAttrs does when every key and value is
// plain; ok is false otherwise.
func encodePlain(m map[string]string) (string, bool) {
	keys := make([]string, 0, len(m))
	size := 2
	for k, v := range m {
		if !plain(k) || !plain(v) {
			return "", false
		}
		keys = append(keys, k)
		size += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(k)
		b.WriteString(`":"`)
		b.WriteString(m[k])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), true
}

// decodePlain parses an object of plain strings as encodePlain writes it
// ({"k":"v",...}, no spaces, no escapes); ok is false for anything else,
// which DecodeAttrs then leaves to encoding/json.
func decodePlain(s string) (map[string]string, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	m := map[string]string{}
	rest := s[1 : len(s)-1]
	for {
		k, r, ok := plainString(rest)
		if !ok || len(r) == 0 || r[0] != ':' {
			return nil, false
		}
		v, r, ok := plainString(r[1:])
		if !ok {
			return nil, false
		}
		m[k] = v
		if len(r) == 0 {
			return m, true
		}
		if r[0] != ',' {
			return nil, false
		}
		rest = r[1:]
	}
}

// plainString reads a quoted string without escapes from the start of s.
func plainString(s string) (str, rest string, ok bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	str = s[1 : 1+end]
	if !plain(str) {
		return "", "", false
	}
	return str, s[2+end:], true
}
