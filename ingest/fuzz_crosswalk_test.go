package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// FuzzCrosswalkList feeds arbitrary text to the reader of a crosswalk's
// list cell: it either fails with ErrBadValue or ErrBadCode, or gives codes
// of valid shapes and ranges that run forwards, which read back the same
// once written out.
func FuzzCrosswalkList(f *testing.F) {
	for _, s := range []string{
		"A04.7", "G56.01 and G56.02", "S20.211A; S20.212A; S20.219A", "M93.001 & M93.002",
		"H02.101-H02.106; H02.109", "H44.20-H44.23 and H35.051-H35.059", "H02.101 - H02.106",
		"I63.- and P91.88", "K31.89 and a code from R11-", "Codes in Categories T15-T19",
		"K59.09 AND Code from categories T36-T50", "None", "-", "E75.240, E75.241, E75.248 ",
		"100, 0042T", "99202-99205", "A04.9-A04.1", "-A", "A--B", "I63.-.-",
	} {
		f.Add(s)
	}
	cps := []*CrosswalkProfile{mustCrosswalk(f, codeset.ICD10CM), mustCrosswalk(f, codeset.CPT)}
	f.Fuzz(func(t *testing.T, s string) {
		for _, cp := range cps {
			items, err := cp.parseList(s)
			if err != nil {
				if !errors.Is(err, ErrBadValue) && !errors.Is(err, ErrBadCode) {
					t.Errorf("%s: parseList(%q): error of no kind: %v", cp.System, s, err)
				}
				continue
			}
			var out []string
			for _, it := range items {
				if _, ok := cp.codes.category(it.first); !ok {
					t.Errorf("%s: parseList(%q): invalid code %q", cp.System, s, it.first)
				}
				if it.last == "" {
					out = append(out, it.first)
					continue
				}
				if _, ok := cp.codes.category(it.last); !ok {
					t.Errorf("%s: parseList(%q): invalid code %q", cp.System, s, it.last)
				}
				if it.last < it.first && !strings.HasPrefix(it.first, it.last) {
					t.Errorf("%s: parseList(%q): range %s-%s runs backwards", cp.System, s, it.first, it.last)
				}
				out = append(out, it.first+"-"+it.last)
			}
			again, err := cp.parseList(strings.Join(out, ", "))
			if err != nil || len(again) != len(items) {
				t.Fatalf("%s: parseList(%q) = %v, but its rendering %q reads %v, %v", cp.System, s, items, strings.Join(out, ", "), again, err)
			}
			for i := range items {
				if again[i] != items[i] {
					t.Errorf("%s: parseList(%q) = %v, but its rendering reads %v", cp.System, s, items, again)
				}
			}
		}
	})
}

// FuzzCrosswalkCSV feeds arbitrary text through the whole crosswalk path of
// a CSV file: a read either fails with an error that names the file, or
// gives links between codes of valid shapes.
func FuzzCrosswalkCSV(f *testing.F) {
	f.Add("Title\nCurrent code assignment,Effective,Previous Code(s) Assignment\nA04.71  ,2017,A04.7\nH02.151,04/01/20,\"H02.101-H02.106; H02.109\"\n")
	f.Add("Current code assignment,Effective,Previous Code(s) Assignment\nU07.0,43922,None\nK59.03,,K59.09 AND Code from categories T36-T50\n")
	f.Add("Current code assignment,Effective\nA04.71,2017\n")
	f.Add("\ufeffCurrent code assignment;Effective;Previous Code(s) Assignment\n")
	cp := mustCrosswalk(f, codeset.ICD10CM)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(dir, "table.csv")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		links, _, err := ReadCrosswalk(context.Background(), path, CrosswalkOptions{Profile: cp})
		if err != nil {
			if !strings.HasPrefix(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		for _, l := range links {
			for _, c := range []string{l.Old, l.New, l.OldThrough} {
				if _, ok := cp.codes.category(c); c != "" && !ok {
					t.Errorf("invalid code %q in link %+v", c, l)
				}
			}
			if l.Old == "" || l.New == "" || l.NewThrough != "" || (l.How == codeset.StatedRange) != (l.OldThrough != "") {
				t.Errorf("malformed link %+v", l)
			}
		}
	})
}
