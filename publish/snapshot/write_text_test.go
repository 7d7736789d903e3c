package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// TestWriteTextColumns checks that the text columns, cut by the writer
// from one BLOB per batch of rows, are stored as TEXT with their exact
// bytes: in batches where a column is empty in some rows and not others,
// with values longer than the offsets kept boxed, with NUL bytes and
// multi-byte characters, and with attributes that need JSON escapes.
func TestWriteTextColumns(t *testing.T) {
	ctx := context.Background()
	var codes []codeset.Code
	for i := range 3*insertBatch + 7 {
		c := codeset.Code{Code: fmt.Sprintf("A%04d", i), Long: fmt.Sprintf("Long title %d", i)}
		switch i % 5 {
		case 0:
			c.Short, c.Status = "Short", codeset.StatusDiscontinued
		case 1:
			c.Attrs = map[string]string{"betos": "O1A", "quote": `say "hi"\`}
		case 2:
			c.Meta = codeset.MetaOf(map[string]string{"order": fmt.Sprint(i), "billable": "1"})
		case 3:
			c.Medium, c.Category = "Ångström “quoted”\x00after NUL", "lab"
		}
		if i == insertBatch+3 {
			c.Long = strings.Repeat("é long text ", maxBoxed/6)
		}
		codes = append(codes, c)
	}
	rel := &codeset.Release{System: codeset.CPT, Label: "2026", Codes: codes}
	path := filepath.Join(t.TempDir(), "s.sqlite")
	if err := Write(ctx, path, rel); err != nil {
		t.Fatal(err)
	}
	got, err := Read(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Codes) != len(codes) {
		t.Fatalf("read %d codes, want %d", len(got.Codes), len(codes))
	}
	for i, c := range got.Codes {
		if !reflect.DeepEqual(c, codes[i]) {
			t.Errorf("code %d: read %+v, want %+v", i, c, codes[i])
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM codes WHERE typeof(code) != 'text' OR typeof(category) != 'text' OR typeof(short) != 'text'
		OR typeof(medium) != 'text' OR typeof(long) != 'text' OR typeof(status) != 'text' OR typeof(attributes) != 'text' OR typeof(meta) != 'text'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows have a text column stored as another type", n)
	}
}

// appendMeta writes what EncodeAttrs writes for the map of the same
// fields, plain or not: the stored meta is the same bytes as when Meta
// was a map.
func TestAppendMeta(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"order": "00002", "billable": "1"},
		{"action": "A", "action_effective_date": "2025-01-01", "termination_date": ""},
		{"note": `a "quoted" <b> & \ é`, "z": "1"},
		{"tab\tkey": "line\nbreak"},
	} {
		want, err := EncodeAttrs(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendMeta([]byte("x"), codeset.MetaOf(m))
		if err != nil || string(got) != "x"+want {
			t.Errorf("appendMeta(%v) = %q, %v; want %q", m, got, err, "x"+want)
		}
		back, err := DecodeMeta(want)
		if err != nil || !reflect.DeepEqual(back, codeset.MetaOf(m)) {
			t.Errorf("DecodeMeta(%q) = %v, %v", want, back, err)
		}
	}
}
