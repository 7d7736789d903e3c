package ingest

import (
	"errors"
	"fmt"
	"strings"
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
// 1-based row and the column, as a spreadsheet letter and its header text.
type ParseError struct {
	File   string
	Sheet  string
	Row    int    // 0 when the problem is not on one row
	Line   int    // line of a text file, instead of Row
	Column string // column letter, e.g. "A"; empty when not on one cell
	Header string // header text of the column, when known
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
	if e.Column != "" {
		fmt.Fprintf(&b, " col %s", e.Column)
		if e.Header != "" {
			fmt.Fprintf(&b, " (%s)", e.Header)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

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
