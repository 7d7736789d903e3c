package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadCSV feeds arbitrary text through the whole CSV path: a read either
// fails with a located error or yields valid, sorted, unique codes.
func FuzzReadCSV(f *testing.F) {
	f.Add("CPT Code,Long Descriptor\n10021,Drain\n0042T,Scan\n")
	f.Add("Title\n\nCode,Description\n\"102\",\"a, b\"\n1123f,x\xa0y\n")
	f.Add("Code,Description\n10021,a\n10021,b\n")
	f.Add("\ufeffCode;Description\n")
	p, err := Builtin("cpt")
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		rel, _, err := Read(context.Background(), Options{Profile: p, Label: "f"}, path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		for i, c := range rel.Codes {
			if _, ok := p.category(c.Code); !ok {
				t.Errorf("invalid code %q accepted", c.Code)
			}
			if i > 0 && rel.Codes[i-1].Code >= c.Code {
				t.Errorf("codes not sorted and unique at %q", c.Code)
			}
		}
	})
}

// FuzzReadXLSXRow fuzzes the row-to-record step that every spreadsheet row
// goes through: a row gives a valid record, a blank, or an error.
func FuzzReadXLSXRow(f *testing.F) {
	f.Add("10021", "Drain", "Drain skin", "Incision and drainage")
	f.Add("100", "", "", "Anesthesia")
	f.Add(" 1123f\u00a0", "x", "", "")
	f.Add("", "", "", "")
	f.Add("ABCDE", "a", "b", "c")
	p, err := Builtin("cpt")
	if err != nil {
		f.Fatal(err)
	}
	cols := p.matchHeader([]string{"CPT Code", "Short Descriptor", "Medium Descriptor", "Long Descriptor"})
	if cols == nil {
		f.Fatal("header not recognised")
	}
	f.Fuzz(func(t *testing.T, code, short, medium, long string) {
		rep := &Report{}
		c, ok, err := p.record([]string{code, short, medium, long}, cols, rep, func(field string, e error) error { return e })
		if err != nil || !ok {
			return
		}
		if _, valid := p.category(c.Code); !valid {
			t.Errorf("invalid code %q accepted", c.Code)
		}
		if c.Short != clean(short) || c.Medium != clean(medium) || c.Long != clean(long) {
			t.Errorf("descriptors changed beyond cleaning: %+v", c)
		}
		if c.Short == "" && c.Medium == "" && c.Long == "" {
			t.Errorf("record without descriptor accepted: %+v", c)
		}
	})
}
