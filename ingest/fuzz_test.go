package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// FuzzReadCSV feeds arbitrary text through the whole CSV path: a read either
// fails with a located error or yields valid, sorted, unique codes.
func FuzzReadCSV(f *testing.F) {
	f.Add("CPT Code,Long Descriptor\n10021,Drain\n0042T,Scan\n")
	f.Add("Title\n\nCode,Description\n\"102\",\"a, b\"\n1123f,x\xa0y\n")
	f.Add("Code,Description\n10021,a\n10021,b\n")
	f.Add("\ufeffCode;Description\n")
	f.Add("Code,Description\r10021,\"Drain\r0042T,Scan\r")
	f.Add("\xff\xfeC\x00o\x00d\x00e\x00,\x00D\x00e\x00s\x00c\x00r\x00i\x00p\x00t\x00i\x00o\x00n\x00\n\x00")
	p, err := Builtin("cpt")
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		readFuzzed(t, p, filepath.Join(dir, "fuzz.csv"), data)
	})
}

// sliceRows is a rowSource over rows held in memory, standing in for a
// sheet's streaming iterator.
type sliceRows struct {
	rows [][]string
	i    int
}

func (s *sliceRows) Next() bool                 { s.i++; return s.i <= len(s.rows) }
func (s *sliceRows) Columns() ([]string, error) { return s.rows[s.i-1], nil }
func (s *sliceRows) Err() error                 { return nil }

// readFuzzed writes data to path and checks a read of it (see checkRead).
func readFuzzed(t *testing.T, p *Profile, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	checkRead(t, p, path)
}

// checkRead reads the file at path with p: the read either fails with an
// error that names the file, or gives valid codes, sorted and unique.
func checkRead(t *testing.T, p *Profile, path string) {
	t.Helper()
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
}

// FuzzReadXLSXRow fuzzes the sheet scan that every spreadsheet row goes
// through, below a title row and the header: a row gives a valid record, a
// blank, or a located error.
func FuzzReadXLSXRow(f *testing.F) {
	f.Add("10021", "Drain", "Drain skin", "Incision and drainage")
	f.Add("100", "", "", "Anesthesia")
	f.Add(" 1123f\u00a0", "x", "", "")
	f.Add("", "", "", "")
	f.Add("ABCDE", "a", "b", "c")
	f.Add("CPT Code", "Short Descriptor", "", "")
	p, err := Builtin("cpt")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code, short, medium, long string) {
		src := &sliceRows{rows: [][]string{
			{"Title"},
			{"CPT Code", "Short Descriptor", "Medium Descriptor", "Long Descriptor"},
			{code, short, medium, long},
		}}
		var got []codeset.Code
		emit := func(c codeset.Code, header bool, loc *ParseError) error {
			got = append(got, c)
			return nil
		}
		rd := &reader{p: p, rep: &Report{}, lim: DefaultLimits, emit: emit}
		found, err := rd.scan(context.Background(), src, &ParseError{File: "f.xlsx", Sheet: "S"}, &FileReport{})
		if !found {
			t.Fatal("header not found")
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.xlsx!S row 3") {
				t.Errorf("error not located at the row: %v", err)
			}
			return
		}
		if blankRow([]string{code, short, medium, long}) {
			if len(got) != 0 {
				t.Errorf("blank row gave %v", got)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("got %d records", len(got))
		}
		c := got[0]
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
