package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
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

// FuzzZipMembers checks member selection on zips of arbitrary member names
// holding a codes file's lines: it picks one by its content whatever the
// names, or says which members tie; it never panics.
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
			if !errors.As(err, &pe) || !strings.HasPrefix(pe.File, zpath) {
				t.Errorf("error not located at the zip: %v", err)
			}
			return
		}
		// Every member holds a valid codes-file line: whatever the names,
		// one is picked as the codes file, or the names tie.
		if len(ins) == 0 || ins[0].member == nil || ins[0].member.Fixed == nil || ins[0].role != roleCodes {
			t.Errorf("picked %+v, want a codes file first", ins)
		}
	})
}

// FuzzReadAddenda checks the addenda parser: every declared change is a
// valid code of the system, once per kind.
func FuzzReadAddenda(f *testing.F) {
	f.Add("Add:         C810A   Nodular lymphoma\r\nRevise from: A7741   Old\r\nRevise to:   A7741   New\r\n")
	f.Add("Delete:      S72.001A Fracture\n     42 additions\n")
	f.Add("Add: 001 header\n")
	f.Add("Add:         1 A4154   Sepsis\r\nAdd:         0 D139    Header\r\n\r\nCodes\r\n  73674 codes in icd10cm_order_2023.txt\r\n  74044 codes in icd10cm_order_2024.txt\r\n    395 additions\r\n")
	f.Add("\nCodes\n 1 codes in a\n 1 codes in a\nHeaders\n 2 headers in b\n")
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
		// The summary: every part names the version it was made against.
		for _, c := range d.Counts {
			if c.FromFile == "" || (c.Part != "codes" && c.Part != "headers") || c.From < 0 {
				t.Errorf("summary part %+v", c)
			}
		}
	})
}

// FuzzIdentify samples arbitrary bytes under several names and asks every
// profile what they are: it never panics, a file called a fixed-width code
// file fits that layout, and one called an addenda parses as one.
func FuzzIdentify(f *testing.F) {
	f.Add("x.txt", []byte("A000    Cholera\r\nA001    Cholera, other\r\n"))
	f.Add("order.txt", []byte("00001 A00     0 Cholera                                                      Cholera\n00002 A000    1 Cholera d/t vib\n"))
	f.Add("add.txt", []byte("\nCodes\n 1 codes in a\n 1 codes in b\n 0 additions\n"))
	f.Add("h.txt", []byte("   A1001007Dressing for one wound\n"))
	f.Add("c.csv", []byte("Code,Description\nA0100,Test\n"))
	f.Add("b.pdf", []byte("%PDF-1.4\n"))
	f.Add("z.xlsx", []byte("PK\x03\x04garbage"))
	var profiles []*Profile
	for _, sys := range codeset.Systems {
		p, err := Builtin(sys)
		if err != nil {
			f.Fatal(err)
		}
		profiles = append(profiles, p)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ext := filepath.Ext(filepath.Base(name))
		if len(ext) > 8 || strings.ContainsAny(ext, "/\\\x00") {
			ext = ""
		}
		path := filepath.Join(dir, "f"+ext)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := sniff(path, "f"+ext, DefaultLimits)
		if err != nil {
			return
		}
		for _, p := range profiles {
			id := p.classify(s)
			switch {
			case id.role == roleCodes && id.member != nil && id.member.Fixed != nil:
				if !p.fitsFixed(id.member.Fixed, s.lines) {
					t.Errorf("%s: called a %s but does not fit it", p.System, id.member.Fixed.Name)
				}
			case id.role == roleAddenda:
				// A file that ends mid-line is refused as cut short whatever
				// it is (TestReadDamagedText); what is checked here is that
				// the recognition agrees with the parser on a whole file.
				whole := data
				if !bytes.HasSuffix(whole, []byte("\n")) {
					whole = append(bytes.Clone(data), '\n')
				}
				if _, err := parseAddenda(bytes.NewReader(whole), path, p); err != nil {
					t.Errorf("%s: called an addenda but: %v", p.System, err)
				}
			case id.role == "" && id.looks == "":
				t.Errorf("%s: unknown file without a description", p.System)
			}
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

// FuzzReadTextDeclaration checks the reader of fixed-width declaration
// reports (.prn): a file called one reads without panic, and every change
// it declares is for a valid code with a known kind, or "" for none.
func FuzzReadTextDeclaration(f *testing.F) {
	f.Add("  HCPC/MOD         ACTION CD       SHORT DESCRIPTION              LONG DESCRIPTION\r\n   E0999              ADD          Test stand                     Rolling test stand\r\n      B2    Long Description ChangSame day                       Service\r\n")
	f.Add("HCPCS/Modifier CodeType of Change\r\n\r\nFY                 ADD\r\nA4224              No Change\r\n")
	f.Add("         2018 HCPCS CORRECTIONS\r\n\r\n  CODE           ACTION        EFF DATE\r\n  C9488  Change ASC Ind/ASC eff04/01/2017\r\n  G9637  Should not have been updated - revert back\r\n")
	f.Add("Note CMS\x92 2020\r\n  HCPC/MOD   ACTION CD\r\n\tQ1234 \t Payment Chang\r\n")
	p, err := Builtin(codeset.HCPCS)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(dir, "report.prn")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := sniff(path, path, DefaultLimits)
		if err != nil {
			return
		}
		id := p.classify(s)
		if id.role != roleDeclaration || !id.text {
			return
		}
		rd := &reader{p: p, rep: &Report{}, lim: DefaultLimits}
		rows, err := rd.declarationText(context.Background(), input{name: path, path: path, role: roleDeclaration, decl: id.decl})
		if err != nil {
			return
		}
		for _, r := range rows {
			if _, ok := p.category(r.Code); !ok {
				t.Errorf("declared change for invalid code %q", r.Code)
			}
			if r.Kind != "" && !slices.Contains(codeset.ChangeKinds, r.Kind) {
				t.Errorf("unknown kind %q for %s", r.Kind, r.Code)
			}
		}
	})
}
