package ingest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	pcsZip := filepath.Join(dir, "cms_2030_pr.zip")
	writeZip(t, pcsZip,
		zipMember{"pcs/icd10pcsOrderFile.pdf", []byte("%PDF-1.4\n")},
		zipMember{"pcs/icd10pcs_order_2030.txt", readBytes(t, formatFixture("icd10pcs/icd10pcs_order_2030.txt"))},
		zipMember{"pcs/order_addenda_2030.txt", readBytes(t, formatFixture("icd10pcs/order_addenda_2030.txt"))},
	)
	// A workbook named nothing the publishers use, known by its header row.
	hcpcsBook := filepath.Join(dir, "level2-codes.xlsx")
	writeXLSX(t, hcpcsBook, sheet{"A", hcpcsRows(hcpcsHeader)})
	// Code and Description suit CPT and both ICD-10 profiles: the codes
	// decide. B020ZZZ is as good an ICD-10-PCS code as an ICD-10-CM one.
	plainBook := filepath.Join(dir, "codes.xlsx")
	writeXLSX(t, plainBook, sheet{"Codes", [][]any{{"Code", "Description"}, {"A0100", "Test fever"}}})
	twoBook := filepath.Join(dir, "codes2.xlsx")
	writeXLSX(t, twoBook, sheet{"Codes", [][]any{{"Code", "Description"}, {"B020ZZZ", "Test imaging"}}})
	// Any name: the content tells.
	oddCodes := writeBytes(t, filepath.Join(dir, "export (1).dat"), readBytes(t, formatFixture("icd10cm/icd10cm_codes_2030.txt")))
	cdcZip := filepath.Join(dir, "icd10cm Codes Descriptions April 2030.zip")
	writeZip(t, cdcZip,
		zipMember{"Code Descriptions/", nil},
		zipMember{"Code Descriptions/April 2030/icd10cm-codes-April-2030.txt", readBytes(t, formatFixture("icd10cm/icd10cm_codes_2030.txt"))},
	)
	notes := writeBytes(t, filepath.Join(dir, "notes.txt"), []byte("Nothing to see here.\n"))
	hcpcsTxt := formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt")
	cmCodes := formatFixture("icd10cm/icd10cm_codes_2030.txt")
	missing := filepath.Join(dir, "icd10cm_codes_2031.txt")

	tests := []struct {
		name    string
		files   []string
		want    codeset.System
		err     error    // sentinel the error must wrap, if any
		message []string // what the error must say
	}{
		{name: "hcpcs text", files: []string{hcpcsTxt}, want: codeset.HCPCS},
		{name: "icd10cm codes file", files: []string{cmCodes}, want: codeset.ICD10CM},
		{name: "icd10cm order file", files: []string{formatFixture("icd10cm/icd10cm_order_2030.txt")}, want: codeset.ICD10CM},
		{name: "icd10pcs zip", files: []string{pcsZip}, want: codeset.ICD10PCS},
		{name: "icd10pcs order file", files: []string{formatFixture("icd10pcs/icd10pcs_order_2030.txt")}, want: codeset.ICD10PCS},
		{name: "cpt demo workbook", files: []string{filepath.Join("..", "testdata", "demo", "cpt-2024.xlsx")}, want: codeset.CPT},
		{name: "hcpcs workbook by header", files: []string{hcpcsBook}, want: codeset.HCPCS},
		{name: "codes decide between header-alike systems", files: []string{plainBook}, want: codeset.ICD10CM},
		{name: "codes file of any name", files: []string{oddCodes}, want: codeset.ICD10CM},
		{name: "zip with spaces, nested, month-named member", files: []string{cdcZip}, want: codeset.ICD10CM},
		{name: "codes file and its addenda", files: []string{cmCodes, formatFixture("icd10cm/icd10cm_codes_addenda_2030.txt")}, want: codeset.ICD10CM},
		{name: "two files of one system", files: []string{cmCodes, formatFixture("icd10cm/icd10cm_codes_2029.txt")}, want: codeset.ICD10CM},
		{
			name: "unrecognisable", files: []string{notes},
			message: []string{notes + ": cannot tell its code system from its content or name: pass --system"},
		},
		{
			name: "content fits several", files: []string{twoBook},
			message: []string{twoBook + ": its content fits several code systems (icd10cm, icd10pcs): pass --system"},
		},
		{
			name: "two systems", files: []string{hcpcsTxt, cmCodes},
			message: []string{cmCodes + " is icd10cm but an earlier file is hcpcs: pass the files of one release"},
		},
		{
			name: "missing file", files: []string{cmCodes, missing}, err: ErrNotFound,
			message: []string{missing + ": file not found"},
		},
		{name: "no files", files: nil, message: []string{"no input files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.files)
			if tt.message == nil {
				if err != nil || got != tt.want {
					t.Errorf("Detect = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Detect = %q, want an error", got)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
			for _, m := range tt.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
		})
	}
}
