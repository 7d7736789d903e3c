package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// TestLimits checks that each input limit stops the read with a located
// ErrLimit error.
func TestLimits(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "many.csv")
	var b strings.Builder
	b.WriteString("Code,Description\n")
	for i := 10000; i < 10010; i++ {
		b.WriteString(strconv.Itoa(i) + ",Some procedure\n")
	}
	os.WriteFile(csvPath, []byte(b.String()), 0o644)

	longCell := filepath.Join(dir, "long.csv")
	os.WriteFile(longCell, []byte("Code,Description\n10021,"+strings.Repeat("x", 5000)+"\n"), 0o644)

	pcsLines := filepath.Join(dir, "icd10pcs_order_2030.txt")
	os.WriteFile(pcsLines, []byte("00001 0016070 1 Short                                                        Long\n"+
		"00002 0016071 1 Short                                                        Long\n"), 0o644)

	// A zip bomb: a member of 20 MiB of zeros packs to a few KiB.
	bomb := filepath.Join(dir, "cms_2030_dx.zip")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("icd10cm_codes_2030.txt")
	w.Write(make([]byte, 20<<20))
	zw.Close()
	os.WriteFile(bomb, zb.Bytes(), 0o644)

	tests := []struct {
		name  string
		sys   codeset.System
		file  string
		lim   Limits
		want  string
		where string
	}{
		{"rows", codeset.CPT, csvPath, Limits{MaxRows: 5}, "more than 5 data rows: over the row limit", csvPath + " row 7"},
		{"cell", codeset.CPT, longCell, Limits{MaxCellBytes: 1000}, "cell of 5000 bytes: over the 1000-byte cell limit", longCell + " row 2 col B"},
		{"records", codeset.ICD10PCS, pcsLines, Limits{MaxRows: 1}, "more than 1 records: over the row limit", pcsLines + " line 2"},
		{"file size", codeset.CPT, csvPath, Limits{MaxFileBytes: 100}, "bytes: over the 100-byte input limit", csvPath},
		{"zip bomb", codeset.ICD10CM, bomb, Limits{}, "times its packed size", bomb + "/icd10cm_codes_2030.txt"},
		{"zip member size", codeset.ICD10CM, bomb, Limits{MaxFileBytes: 1 << 20, MaxRatio: 1 << 20}, "unpacks to more than 1048576 bytes: over the input limit", bomb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Builtin(tt.sys)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Read(context.Background(), Options{Profile: p, Label: "x", Limits: tt.lim}, tt.file)
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("err = %v, want ErrLimit", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.where) {
				t.Errorf("err = %q, want it to start with %q and contain %q", err, tt.where, tt.want)
			}
		})
	}
}

// TestXLSXUnpackLimit refuses a workbook whose parts unpack to more than the
// limit.
func TestXLSXUnpackLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.xlsx")
	rows := [][]any{amaHeader}
	for i := 0; i < 200; i++ {
		rows = append(rows, []any{strconv.Itoa(10000 + i), strings.Repeat("a", 100), "", ""})
	}
	writeXLSX(t, path, sheet{"S", rows})
	_, _, err := Read(context.Background(), Options{Profile: cptProfile(t), Label: "x", Limits: Limits{MaxUnpackedBytes: 4096}}, path)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "big.xlsx: its parts unpack to ") || !strings.Contains(err.Error(), "over the 4096-byte limit for one workbook") {
		t.Errorf("err = %v, want the unpack limit refused", err)
	}
}

// TestXLSXNestedXML reads a workbook whose sheet holds 200,000 nested
// elements inside one cell: the streaming reader gets through it and the
// release is refused as empty, rather than the read exhausting memory.
func TestXLSXNestedXML(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.xlsx")
	writeXLSX(t, plain, sheet{"Sheet1", [][]any{amaHeader}})
	zr, err := zip.OpenReader(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var data bytes.Buffer
		data.ReadFrom(r)
		r.Close()
		s := data.String()
		if zf.Name == "xl/worksheets/sheet1.xml" {
			const n = 200000
			s = strings.Replace(s, "</sheetData>", `<row r="2"><c r="A2"><v>`+strings.Repeat("<x>", n)+strings.Repeat("</x>", n)+"</v></c></row></sheetData>", 1)
		}
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(s))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(dir, "nested.xlsx")
	if err := os.WriteFile(nested, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Read(context.Background(), Options{Profile: cptProfile(t), Label: "x"}, nested)
	if !errors.Is(err, ErrNoCodes) || !strings.Contains(err.Error(), "nested.xlsx: no codes found") {
		t.Errorf("err = %v, want the empty release refused", err)
	}
}
