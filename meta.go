package codeset

import (
	"encoding/json"
	"slices"
	"strings"
)

// Meta is a record's bookkeeping fields (see Code.Meta), sorted by key,
// each key once. A record holds two or three of them, and a release
// hundreds of thousands of records: a slice costs a fifth of what a map
// does, and building it is cheaper too.
type Meta []MetaField

// MetaField is one bookkeeping field of a record.
type MetaField struct{ Key, Value string }

// MetaOf returns the fields of m as Meta; nil when m is empty.
func MetaOf(m map[string]string) Meta {
	if len(m) == 0 {
		return nil
	}
	out := make(Meta, 0, len(m))
	for k, v := range m {
		out = append(out, MetaField{k, v})
	}
	slices.SortFunc(out, func(a, b MetaField) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Lookup returns the value of key and whether m has it.
func (m Meta) Lookup(key string) (string, bool) {
	for _, f := range m {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Get returns the value of key, or "" when m does not have it.
func (m Meta) Get(key string) string {
	v, _ := m.Lookup(key)
	return v
}

// Set sets key to value, in key order.
func (m *Meta) Set(key, value string) {
	i, found := slices.BinarySearchFunc(*m, key, func(f MetaField, k string) int { return strings.Compare(f.Key, k) })
	if found {
		(*m)[i].Value = value
		return
	}
	*m = slices.Insert(*m, i, MetaField{key, value})
}

// Map returns the fields of m as a map; nil when m is empty.
func (m Meta) Map() map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for _, f := range m {
		out[f.Key] = f.Value
	}
	return out
}

// MarshalJSON writes m as a JSON object, as encoding/json writes the map
// of the same fields.
func (m Meta) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return json.Marshal(m.Map())
}

// UnmarshalJSON reads a JSON object (or null) into m.
func (m *Meta) UnmarshalJSON(b []byte) error {
	var mm map[string]string
	if err := json.Unmarshal(b, &mm); err != nil {
		return err
	}
	if mm == nil {
		*m = nil
		return nil
	}
	*m = MetaOf(mm)
	if *m == nil {
		*m = Meta{}
	}
	return nil
}
