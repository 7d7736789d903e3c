package codeset

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMeta(t *testing.T) {
	var m Meta
	for _, kv := range [][2]string{{"order", "00002"}, {"billable", "1"}, {"action", "A"}, {"order", "00003"}} {
		m.Set(kv[0], kv[1])
	}
	want := Meta{{"action", "A"}, {"billable", "1"}, {"order", "00003"}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("after Set: %v, want %v (sorted by key, a key set twice keeps the last value)", m, want)
	}
	if v, ok := m.Lookup("billable"); v != "1" || !ok {
		t.Errorf("Lookup(billable) = %q, %v", v, ok)
	}
	if v, ok := m.Lookup("add_date"); v != "" || ok {
		t.Errorf("Lookup(add_date) = %q, %v; want absent", v, ok)
	}
	if got := MetaOf(m.Map()); !reflect.DeepEqual(got, m) {
		t.Errorf("MetaOf(Map()) = %v, want %v", got, m)
	}
	if MetaOf(nil) != nil || MetaOf(map[string]string{}) != nil || Meta(nil).Map() != nil {
		t.Error("an empty Meta is nil either way")
	}
	// JSON as encoding/json writes the map of the same fields.
	m.Set("note", `<"x"> & é`)
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(m.Map())
	if string(got) != string(wantJSON) {
		t.Errorf("json %s, want %s", got, wantJSON)
	}
	var back Meta
	if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back, m) {
		t.Errorf("unmarshal: %v, %v; want %v", back, err, m)
	}
	if err := json.Unmarshal([]byte("null"), &back); err != nil || back != nil {
		t.Errorf("unmarshal null: %v, %v", back, err)
	}
}
