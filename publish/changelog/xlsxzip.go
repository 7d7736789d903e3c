package changelog

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// sortedZip is the zip writer WriteXLSX hands excelize. excelize writes the
// sheets of its StreamWriters in the order of a Go map, so the same
// workbook would come out with its parts in a different order on each run;
// the changelog must be the same bytes every time. sortedZip lets excelize
// write the parts, compressed, to a temporary zip file, and on Close copies
// them, still compressed, into the real archive sorted by name. Memory
// stays bounded whatever the size of the sheets.
type sortedZip struct {
	dst io.Writer
	tmp *os.File
	zw  *zip.Writer
	err error
	// rows are the data rows of streamed sheets by part name, which
	// excelize writes with their header row only: the rows go in before
	// the end of the sheet data. cur is such a part being written.
	rows map[string]*streamedRows
	cur  *splice
}

func newSortedZip(dst io.Writer, rows map[string]*streamedRows) excelize.ZipWriter {
	z := &sortedZip{dst: dst, rows: rows}
	z.tmp, z.err = os.CreateTemp("", "codeset-xlsx-*.zip")
	if z.err == nil {
		z.zw = zip.NewWriter(z.tmp)
		// Deflate's fastest level: the sheets of a large first release
		// are hundreds of megabytes of XML, and the default level spent
		// as long compressing them as writing them; the file is some 15%
		// larger.
		z.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
	}
	return z
}

// splice holds what excelize writes of a part whose rows are added: the
// sheet with its header row, a few kilobytes.
type splice struct {
	name string
	w    io.Writer
	rows *streamedRows
	buf  bytes.Buffer
}

func (s *splice) Write(p []byte) (int, error) { return s.buf.Write(p) }

// finish writes the part: what excelize wrote up to the end of the sheet
// data, the rows, and the rest.
func (s *splice) finish() error {
	b := s.buf.Bytes()
	i := bytes.LastIndex(b, []byte("</sheetData>"))
	if i < 0 || !bytes.Contains(b[:i], []byte(`<row r="1">`)) || bytes.Contains(b[:i], []byte(`<row r="2">`)) {
		return fmt.Errorf("xlsx part %s: not a sheet holding its header row alone", s.name)
	}
	if _, err := s.w.Write(b[:i]); err != nil {
		return err
	}
	if err := s.rows.write(s.w); err != nil {
		return err
	}
	_, err := s.w.Write(b[i:])
	return err
}

// finishPart completes the part being spliced, if any.
func (z *sortedZip) finishPart() error {
	if z.cur == nil || z.err != nil {
		return z.err
	}
	cur := z.cur
	z.cur = nil
	z.err = cur.finish()
	return z.err
}

func (z *sortedZip) Create(name string) (io.Writer, error) {
	if err := z.finishPart(); err != nil {
		return nil, err
	}
	w, err := z.zw.Create(name)
	if err != nil {
		return nil, err
	}
	if rows := z.rows[name]; rows != nil {
		z.cur = &splice{name: name, w: w, rows: rows}
		delete(z.rows, name)
		return z.cur, nil
	}
	return w, nil
}

func (z *sortedZip) AddFS(fsys fs.FS) error {
	if err := z.finishPart(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

func (z *sortedZip) Close() error {
	if z.tmp == nil {
		return z.err
	}
	defer os.Remove(z.tmp.Name())
	defer z.tmp.Close()
	if err := z.finishPart(); err != nil {
		return err
	}
	if len(z.rows) > 0 {
		return fmt.Errorf("xlsx: %d streamed sheets not written", len(z.rows))
	}
	if err := z.zw.Close(); err != nil {
		return err
	}
	size, err := z.tmp.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(z.tmp, size)
	if err != nil {
		return err
	}
	parts := slices.Clone(zr.File)
	slices.SortStableFunc(parts, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	out := zip.NewWriter(z.dst)
	for _, p := range parts {
		w, err := out.CreateRaw(&p.FileHeader)
		if err != nil {
			return err
		}
		r, err := p.OpenRaw()
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			return err
		}
	}
	return out.Close()
}
