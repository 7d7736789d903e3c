package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/codeset/codeset"
)

// TestParseErrorText checks the one-line form of a located error: a column
// is a number in the struct, shown as a letter on a table row and as a byte
// position on a text line.
func TestParseErrorText(t *testing.T) {
	cause := errors.New("bad code")
	tests := []struct {
		err  ParseError
		want string
	}{
		{ParseError{File: "f.xlsx", Err: cause}, "f.xlsx: bad code"},
		{ParseError{File: "f.xlsx", Sheet: "S", Row: 12, Column: 2, Header: "Short", Err: cause}, "f.xlsx!S row 12 col B (Short): bad code"},
		{ParseError{File: "f.xlsx", Sheet: "S", Row: 3, Column: 28, Err: cause}, "f.xlsx!S row 3 col AB: bad code"},
		{ParseError{File: "f.csv", Row: 2, Column: 1, Err: cause}, "f.csv row 2 col A: bad code"},
		{ParseError{File: "f.txt", Line: 7, Column: 17, Header: "short", Err: cause}, "f.txt line 7 col 17 (short): bad code"},
		{ParseError{File: "f.txt", Line: 7, Err: cause}, "f.txt line 7: bad code"},
		{ParseError{File: "f.csv", Row: 1, Column: 20000, Err: cause}, "f.csv row 1 col 20000: bad code"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestParseErrorColumn checks that a read error carries the column as a
// 1-based number callers can use, as encoding/csv's ParseError does.
func TestParseErrorColumn(t *testing.T) {
	dir := t.TempDir()
	book := filepath.Join(dir, "badcode.xlsx")
	writeXLSX(t, book, sheet{"Data", [][]any{{"Long Descriptor", "CPT Code"}, {"Drain", "123F"}}})
	text := writeBytes(t, filepath.Join(dir, "icd10pcs_order_2030.txt"),
		[]byte("00001 0016070 2 Short                                                        Long\n"))
	tests := []struct {
		name   string
		sys    string
		file   string
		row    int
		line   int
		column int
	}{
		{"sheet cell", "cpt", book, 2, 0, 2},
		{"text column", "icd10pcs", text, 0, 1, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Builtin(codeset.System(tt.sys))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Read(context.Background(), Options{Profile: p, Label: "x"}, tt.file)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.Row != tt.row || pe.Line != tt.line || pe.Column != tt.column {
				t.Errorf("row %d line %d column %d, want %d %d %d (%v)", pe.Row, pe.Line, pe.Column, tt.row, tt.line, tt.column, err)
			}
		})
	}
}
