package ingest

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// FuzzReadFixed feeds arbitrary text to the fixed-width readers of the
// ICD-10-PCS order file and the HCPCS record layout: a read either fails with
// an error located in the file or gives valid codes, headers kept apart.
func FuzzReadFixed(f *testing.F) {
	f.Add(0, "00001 001     0 Header title                                                 Header title\r\n00002 0016070 1 Short                                                        Long title\r\n")
	f.Add(1, "***Disclaimers\t\t\r\n   A1001007Dressing"+strings.Repeat(" ", 60)+"\r\nA0021001003Ambulance"+strings.Repeat(" ", 300)+"\r\n")
	f.Add(0, "garbage\n")
	f.Add(0, "00001 0016070 1 Short                                                        Long\r00002 0016071 1 Short")
	f.Add(1, "G0503001003"+strings.Repeat("x", 320)+"\nG0503002004more text\n")
	pcs, err := Builtin(codeset.ICD10PCS)
	if err != nil {
		f.Fatal(err)
	}
	hcpcs, err := Builtin(codeset.HCPCS)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, which int, data string) {
		p, name := pcs, "icd10pcs_order_2030.txt"
		if which%2 != 0 {
			p, name = hcpcs, "HCPC2030_ANWEB.txt"
		}
		readFuzzed(t, p, filepath.Join(dir, name), data)
	})
}

// FuzzZipMembers checks member selection on zips of arbitrary member names:
// it picks a member whose name matches a pattern of the profile, or says
// which patterns it looked for; it never panics or picks a non-matching one.
func FuzzZipMembers(f *testing.F) {
	f.Add("icd10cm_codes_2030.txt", "icd10cm_order_2030.txt", "icd10cm_codes_addenda_2030.txt")
	f.Add("sub/ICD10CM-CODES-2030.TXT", "__MACOSX/._x", "readme.pdf")
	f.Add("a.txt", "a.txt", "b")
	f.Add("dir/", "icd10cm_codes_2030.txt", "x/icd10cm_codes_2031.txt")
	p, err := Builtin(codeset.ICD10CM)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, a, b, c string) {
		zpath := filepath.Join(dir, "f.zip")
		zf, err := os.Create(zpath)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(zf)
		for _, n := range []string{a, b, c} {
			w, err := zw.Create(n)
			if err != nil {
				zf.Close()
				return // a name the zip writer refuses
			}
			w.Write([]byte("A000    Cholera\r\n"))
		}
		if err := zw.Close(); err != nil {
			zf.Close()
			return
		}
		zf.Close()
		tmp := t.TempDir()
		ins, err := p.fromZip(zpath, tmp, DefaultLimits)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != zpath {
				t.Errorf("error not located at the zip: %v", err)
			}
			return
		}
		for _, in := range ins {
			base := filepath.Base(strings.TrimPrefix(in.name, zpath+"/"))
			if in.member == nil || !in.member.re.MatchString(base) {
				t.Errorf("picked %q, which matches no member pattern", in.name)
			}
		}
	})
}

// FuzzReadAddenda checks the addenda parser: every declared change is a
// valid code of the system, once per kind.
func FuzzReadAddenda(f *testing.F) {
	f.Add("Add:         C810A   Nodular lymphoma\r\nRevise from: A7741   Old\r\nRevise to:   A7741   New\r\n")
	f.Add("Delete:      S72.001A Fracture\n     42 additions\n")
	f.Add("Add: 001 header\n")
	p, err := Builtin(codeset.ICD10CM)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(dir, "icd10cm_codes_addenda_2030.txt")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := readAddenda(input{name: path, path: path, role: roleAddenda}, p)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range d.Changes {
			if _, ok := p.category(c.Code); !ok {
				t.Errorf("declared change for invalid code %q", c.Code)
			}
			k := c.Code + "/" + string(c.Kind)
			if seen[k] {
				t.Errorf("declared twice: %s", k)
			}
			seen[k] = true
		}
	})
}

// FuzzReadSheetXML fuzzes the XML of a sheet's rows under a header row: the
// read either fails with an error that names the workbook, or gives valid
// codes; damaged XML never ends the sheet quietly.
func FuzzReadSheetXML(f *testing.F) {
	f.Add(`<row r="2"><c r="A2" t="inlineStr"><is><t>10021</t></is></c><c r="B2" t="inlineStr"><is><t>Drain</t></is></c></row>`)
	f.Add(`<row r="2"><c r="A2" t="inlineStr"><is><t>10021&nbsp;</t></is></c></row>`)
	f.Add(`<row r="3"><c r="B3"><v>1</v></c><c r="A3"><v>2</v></c></row><row r="2"/>`)
	f.Add(`<row r="2"><c r="A2" t="s"><v>7</v></c></row>`)
	f.Add(`<row r="2"><c r="A2" t="inlineStr"><is><t>10021</t></is></c>`)
	p, err := Builtin(codeset.CPT)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, rows string) {
		path := hostileBook(t, filepath.Join(dir, "fuzz.xlsx"), 1, func(w io.Writer) { io.WriteString(w, headerRow+rows) }, nil)
		checkRead(t, p, path)
	})
}
