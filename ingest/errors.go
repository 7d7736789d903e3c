package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Sentinel errors, wrapped by ParseError and the other errors of this
// package so that callers can test for the kind of failure with errors.Is.
var (
	ErrNotFound     = errors.New("file not found")
	ErrFormat       = errors.New("unreadable file")
	ErrNoHeader     = errors.New("no recognisable header")
	ErrBadCode      = errors.New("bad code")
	ErrMissingValue = errors.New("missing value")
	ErrDuplicate    = errors.New("duplicate code")
	ErrNoCodes      = errors.New("no codes")
	ErrBadValue     = errors.New("bad value")
	ErrLayout       = errors.New("layout does not match the profile")
	ErrLimit        = errors.New("over an input limit")
)

// ParseError locates a problem in an input file, in the manner of
// encoding/csv's ParseError: the file, the sheet (empty for text files), the
// 1-based row or line and the 1-based column, with the column's header text.
// A column of a sheet or delimited file is shown as its spreadsheet letter
// (col B), a column of a text line as its byte position (col 17).
type ParseError struct {
	File   string
	Sheet  string
	Row    int    // 0 when the problem is not on one row
	Line   int    // line of a text file, instead of Row
	Column int    // 1-based column; 0 when not on one cell or column
	Header string // header text of the column, or the field, when known
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Sheet != "" {
		b.WriteString("!" + e.Sheet)
	}
	if e.Row > 0 {
		fmt.Fprintf(&b, " row %d", e.Row)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Column > 0 {
		b.WriteString(" col " + e.columnName())
		if e.Header != "" {
			fmt.Fprintf(&b, " (%s)", e.Header)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// columnName shows the column as a letter on a row of a table and as a
// number on a line of text.
func (e *ParseError) columnName() string {
	if e.Line == 0 {
		if name, err := excelize.ColumnNumberToName(e.Column); err == nil {
			return name
		}
	}
	return strconv.Itoa(e.Column)
}

// kindError attaches a sentinel to a detailed message: errors.Is finds the
// sentinel, Error shows only the detail.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
