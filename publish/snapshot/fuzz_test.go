package snapshot

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/codeset/codeset"
)

// FuzzSnapshotRoundTrip writes a release built from the fuzzer's strings and
// reads it back: what comes out must be what went in.
func FuzzSnapshotRoundTrip(f *testing.F) {
	f.Add("00100", "I", "ANESTH", "Anesthesia for procedures", "active", "lab", "Grifols", "A add", "2026")
	f.Add("S72001A", "", "", "Fracture of\tneck\n", "", "", "", "", "FY2026")
	f.Add("0001U", "PLA", "Ångström “quoted”", "", "discontinued", "a", "", "x", "2026-r2")
	f.Fuzz(func(t *testing.T, code, category, short, long, status, attrKey, attrVal, meta, label string) {
		if code == "" || codeset.CheckLabel(label) != nil {
			return
		}
		for _, s := range []string{code, category, short, long, status, attrKey, attrVal, meta} {
			if !utf8.ValidString(s) {
				return // SQLite TEXT holds UTF-8; ingest never yields anything else
			}
		}
		c := codeset.Code{Code: code, Category: category, Short: short, Long: long, Status: status}
		if attrKey != "" {
			c.Attrs = map[string]string{attrKey: attrVal}
		}
		if meta != "" {
			c.Meta = codeset.MetaOf(map[string]string{"action": meta})
		}
		second := codeset.Code{Code: code + "9", Long: strings.ToUpper(long)}
		in := &codeset.Release{
			System:    codeset.CPT,
			Label:     label,
			Effective: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Sources:   []codeset.SourceFile{{Name: short + ".xlsx", SHA256: strings.Repeat("ab", 32), Bytes: int64(len(long))}},
			Codes:     []codeset.Code{c, second},
		}
		path := filepath.Join(t.TempDir(), "s.sqlite")
		if err := Write(context.Background(), path, in); err != nil {
			t.Fatalf("Write: %v", err)
		}
		out, err := Read(context.Background(), path)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		want := sortedRelease(in)
		// Empty attribute maps come back as nil.
		for i := range want.Codes {
			if len(want.Codes[i].Attrs) == 0 {
				want.Codes[i].Attrs = nil
			}
		}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("read back\n%+v\nwant\n%+v", out, want)
		}
	})
}
