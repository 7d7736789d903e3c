package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"

	"github.com/codeset/codeset"
)

// cptCSV returns a CSV file of n CPT codes under a plain header, CRLF line
// ends.
func cptCSV(n int) string {
	var b strings.Builder
	b.WriteString("CPT Code,Long Descriptor\r\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,Test procedure number %d\r\n", 10000+i, i)
	}
	return b.String()
}

// cutLine returns data with line n (1-based) cut to keep bytes and, when
// eol is set, ended again with CRLF; the lines after it are kept.
func cutLine(t *testing.T, data []byte, n, keep int, eol bool) []byte {
	t.Helper()
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n < 1 || n > len(lines) || keep > len(lines[n-1]) {
		t.Fatalf("cannot cut line %d to %d bytes", n, keep)
	}
	cut := append([]byte{}, lines[n-1][:keep]...)
	if eol {
		cut = append(cut, "\r\n"...)
	}
	lines[n-1] = cut
	return bytes.Join(lines, nil)
}

// lastLine is the 1-based number of the last line of data.
func lastLine(data []byte) int {
	return bytes.Count(bytes.TrimRight(data, "\r\n"), []byte("\n")) + 1
}

// TestReadDamagedText checks that a text input cut short or broken by a
// stray quote fails with a located error instead of publishing fewer or
// blanker codes.
func TestReadDamagedText(t *testing.T) {
	dir := t.TempDir()
	order := readBytes(t, formatFixture("icd10cm/icd10cm_order_2030.txt"))
	codes := readBytes(t, formatFixture("icd10cm/icd10cm_codes_2030.txt"))
	hcpcs := readBytes(t, formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt"))
	addenda := readBytes(t, formatFixture("icd10cm/icd10cm_codes_addenda_2030.txt"))
	csvData := cptCSV(100)

	type tc struct {
		name string
		sys  codeset.System
		file string // base name
		data []byte
		kind error
		want string   // after the file name
		with []string // other files of the release
	}
	tests := []tc{
		{"order file cut mid-line", codeset.ICD10CM, "icd10cm_order_2030.txt", order[:len(order)-20], ErrFormat,
			fmt.Sprintf(" line %d: the last line has no line end: the file ends mid-line, cut short", lastLine(order)), nil},
		{"order file last line shorter than the layout", codeset.ICD10CM, "icd10cm_order_2030.txt", cutLine(t, order, lastLine(order), 40, true), ErrLayout,
			fmt.Sprintf(" line %d col 41: record ends after 40 bytes, want 78 (ICD-10-CM order file layout: order 1-5, code 7-13, billable 15-15, short 17-76, long 78-): the line is cut short", lastLine(order)), nil},
		{"codes file cut mid-line", codeset.ICD10CM, "icd10cm_codes_2030.txt", codes[:len(codes)-10], ErrFormat,
			fmt.Sprintf(" line %d: the last line has no line end", lastLine(codes)), nil},
		{"codes file cut inside the code", codeset.ICD10CM, "icd10cm_codes_2030.txt", cutLine(t, codes, 2, 5, true), ErrLayout,
			" line 2 col 6: record ends after 5 bytes, want 9", nil},
		{"hcpcs record cut mid-file", codeset.HCPCS, "HCPC2030_CONTR_ANWEB.txt", cutLine(t, hcpcs, 12, 200, true), ErrLayout,
			" line 12 col 201: record ends after 200 bytes, want 320 (HCPCS 320-byte contractor record layout: code 1-5, sequence 6-10, recid 11-11, long 12-91", nil},
		{"hcpcs file cut mid-record", codeset.HCPCS, "HCPC2030_CONTR_ANWEB.txt", hcpcs[:len(hcpcs)-150], ErrFormat,
			fmt.Sprintf(" line %d: the last line has no line end", lastLine(hcpcs)), nil},
		{"addenda cut mid-line", codeset.ICD10CM, "icd10cm_codes_addenda_2030.txt", addenda[:bytes.LastIndex(addenda, []byte("Add:"))+20], ErrFormat,
			fmt.Sprintf(" line %d: the last line has no line end", lastLine(addenda[:bytes.LastIndex(addenda, []byte("Add:"))+20])),
			[]string{formatFixture("icd10cm/icd10cm_codes_2030.txt")}},
		{"csv stray opening quote", codeset.CPT, "cpt.csv", []byte(strings.Replace(csvData, "10002,Test", "10002,\"Test", 1)), ErrFormat,
			` line 101 col 32: extraneous or missing " in quoted-field, in the record that starts on line 4: a stray quote?`, nil},
		{"csv bare quote", codeset.CPT, "cpt.csv", []byte(strings.Replace(csvData, "10002,Test", `10002,5" Test`, 1)), ErrFormat,
			` line 4 col 8: bare " in non-quoted-field: a stray quote? quote the whole field and double each quote inside it`, nil},
		{"utf-16 without a byte-order mark", codeset.CPT, "cpt.csv", utf16(t, csvData, unicode.IgnoreBOM), ErrFormat,
			": 3216 of the first 6432 bytes are NUL: UTF-16 text without a byte-order mark", nil},
	}
	if _, err := os.Stat(filepath.Join(realdataDir(), "SOURCES.md")); err == nil {
		cm := readBytes(t, realdata(t, "icd10cm/2025/icd10cm_codes_2025.txt"))
		at97 := len(cm) * 97 / 100
		if cm[at97-1] == '\n' {
			at97++
		}
		hc := readBytes(t, realdata(t, "hcpcs/2019/HCPC2019_CONTR_ANWEB.txt"))
		v := bytes.Index(hc, []byte("\nV5364")) + 1
		vline := bytes.Count(hc[:v], []byte("\n")) + 1
		tests = append(tests,
			tc{"real codes file cut at 97%", codeset.ICD10CM, "icd10cm_codes_2025.txt", cm[:at97], ErrFormat,
				fmt.Sprintf(" line %d: the last line has no line end", bytes.Count(cm[:at97], []byte("\n"))+1), nil},
			tc{"real hcpcs text cut inside V5364", codeset.HCPCS, "HCPC2019_CONTR_ANWEB.txt", hc[:v+150], ErrFormat,
				fmt.Sprintf(" line %d: the last line has no line end", vline), nil},
			tc{"real hcpcs text with V5364 cut short", codeset.HCPCS, "HCPC2019_CONTR_ANWEB.txt", append(append([]byte{}, hc[:v+150]...), "\r\n"...), ErrLayout,
				fmt.Sprintf(" line %d col 151: record ends after 150 bytes, want 320", vline), nil},
		)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeNew(t, filepath.Join(dir, strconv.Itoa(i), tt.file), tt.data)
			rel, _, err := readSystem(t, tt.sys, "2030", append(tt.with, path)...)
			if err == nil {
				t.Fatalf("read %d codes, want an error", len(rel.Codes))
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want kind %v", err, tt.kind)
			}
			if want := path + tt.want; !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q\nwant it to contain %q", err, want)
			}
		})
	}
}

// utf16 encodes s as UTF-16 little-endian, with or without a byte-order mark.
func utf16(t *testing.T, s string, bom unicode.BOMPolicy) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, bom).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadTextEncodings reads the same codes from text files saved with
// other encodings and line ends than UTF-8 and CRLF.
func TestReadTextEncodings(t *testing.T) {
	dir := t.TempDir()
	csvData := cptCSV(30)
	order := string(readBytes(t, formatFixture("icd10cm/icd10cm_order_2030.txt")))
	be, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(csvData))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		sys   codeset.System
		file  string
		plain string
		data  []byte
	}{
		{"csv utf-16le with bom", codeset.CPT, "cpt.csv", csvData, utf16(t, csvData, unicode.UseBOM)},
		{"csv utf-16be with bom", codeset.CPT, "cpt.csv", csvData, be},
		{"csv cr-only line ends", codeset.CPT, "cpt.csv", csvData, []byte(strings.ReplaceAll(csvData, "\r\n", "\r"))},
		{"csv lf line ends, no final line end", codeset.CPT, "cpt.csv", csvData, []byte(strings.TrimSuffix(strings.ReplaceAll(csvData, "\r\n", "\n"), "\n"))},
		{"order file cr-only line ends", codeset.ICD10CM, "icd10cm_order_2030.txt", order, []byte(strings.ReplaceAll(order, "\r\n", "\r"))},
		{"order file utf-8 bom", codeset.ICD10CM, "icd10cm_order_2030.txt", order, []byte("\ufeff" + order)},
		{"order file utf-16 with bom", codeset.ICD10CM, "icd10cm_order_2030.txt", order, utf16(t, order, unicode.UseBOM)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := writeNew(t, filepath.Join(dir, strconv.Itoa(i), "plain", tt.file), []byte(tt.plain))
			other := writeNew(t, filepath.Join(dir, strconv.Itoa(i), "other", tt.file), tt.data)
			want, _ := mustReadSystem(t, tt.sys, "2030", plain)
			got, _ := mustReadSystem(t, tt.sys, "2030", other)
			if !reflect.DeepEqual(got.Codes, want.Codes) || !reflect.DeepEqual(got.Headers, want.Headers) {
				t.Errorf("read %d codes %d headers, want the %d codes %d headers of the plain file", len(got.Codes), len(got.Headers), len(want.Codes), len(want.Headers))
			}
		})
	}
}

// writeNew writes data to path, making its folder.
func writeNew(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	return writeBytes(t, path, data)
}
