package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffBytes is how much of a text file is looked at to tell its encoding
// and line ends.
const sniffBytes = 64 << 10

// textFile is a text input opened for reading: UTF-16 with a byte-order mark
// is decoded to UTF-8, a UTF-8 byte-order mark is dropped, and the lone
// carriage returns of a CR-only file (classic Mac) are read as line ends.
// Other bytes are passed as they are: clean reads Windows-1252 later.
type textFile struct {
	io.Reader
	f *os.File
}

func (t *textFile) Close() error { return t.f.Close() }

// openText opens a text file at path, reported as name, for readers that
// want UTF-8 with LF or CRLF line ends. A file that looks like UTF-16
// without a byte-order mark, or like binary data, is refused.
func openText(path, name string) (*textFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	br := bufio.NewReaderSize(f, sniffBytes)
	head, _ := br.Peek(4)
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		// ExpectBOM reads the byte order from the mark and drops it.
		r = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	default:
		if head, _ := br.Peek(sniffBytes); bytes.Count(head, []byte{0}) > len(head)/8 {
			f.Close()
			return nil, &ParseError{File: name, Err: errorf(ErrFormat, "%d of the first %d bytes are NUL: UTF-16 text without a byte-order mark, or not a text file; save it as UTF-8 (or UTF-16 with a byte-order mark)",
				bytes.Count(head, []byte{0}), len(head))}
		}
	}
	dec := bufio.NewReaderSize(r, sniffBytes)
	if head, _ := dec.Peek(sniffBytes); crOnly(head) {
		return &textFile{Reader: &crToLF{r: dec}, f: f}, nil
	}
	return &textFile{Reader: dec, f: f}, nil
}

// crOnly reports whether the first line end in head is a lone carriage
// return, as in files saved with classic Mac line ends.
func crOnly(head []byte) bool {
	i := bytes.IndexAny(head, "\r\n")
	return i >= 0 && head[i] == '\r' && i+1 < len(head) && head[i+1] != '\n'
}

// crToLF turns every carriage return into a line feed.
type crToLF struct{ r io.Reader }

func (c *crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// lineScanner reads the lines of a text file within maxLine bytes each, and
// knows whether the last line lacked its line end: every line of a
// publisher's text file ends with one, so a last line without it is a file
// cut short.
type lineScanner struct {
	*bufio.Scanner
	unterminated bool // the line just scanned is the last and has no line end
}

func newLineScanner(r io.Reader) *lineScanner {
	s := &lineScanner{Scanner: bufio.NewScanner(r)}
	s.Buffer(make([]byte, 64*1024), maxLine)
	s.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := bufio.ScanLines(data, atEOF)
		if atEOF && adv > 0 && data[adv-1] != '\n' {
			s.unterminated = true
		}
		return adv, tok, err
	})
	return s
}

// cutShort returns the error for a last line without its line end, or nil.
// A last line of blanks is no loss.
func (s *lineScanner) cutShort(at *ParseError, line int, text string) error {
	if !s.unterminated || len(bytes.TrimSpace([]byte(text))) == 0 {
		return nil
	}
	return at.atLine(line, 0, "", errorf(ErrFormat, "the last line has no line end: the file ends mid-line, cut short (found %q at its end)", excerptEnd(text)))
}

// failure reports a scanner failure at line, the line being read; what
// says what a file with so long a line is not.
func (s *lineScanner) failure(at *ParseError, line int, what string) error {
	err := s.Err()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bufio.ErrTooLong):
		return at.atLine(line, 0, "", errorf(ErrLimit, "line longer than %d bytes: %s", maxLine, what))
	}
	return at.atLine(line, 0, "", errorf(ErrFormat, "read: %v", err))
}

// excerptEnd returns the end of a long line, for messages about how it ends.
func excerptEnd(s string) string {
	if len(s) > 40 {
		return "…" + s[len(s)-40:]
	}
	return s
}
