package changelog

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/xuri/excelize/v2"
)

// sortedZip is the zip writer WriteXLSX hands excelize. excelize writes the
// sheets of its StreamWriters in the order of a Go map, so the same
// workbook would come out with its parts in a different order on each run;
// the changelog must be the same bytes every time. sortedZip lets excelize
// write the parts, compressed, to a temporary zip file, and on Close copies
// them, still compressed, into the real archive sorted by name. Memory
// stays bounded whatever the size of the sheets.
//
// The parts whose rows are written directly (rows) are each written and
// compressed in a goroutine of their own, into a temporary zip of their
// own, two at a time: in a first release of a million codes the All
// changes and Added sheets are a gigabyte of XML, and compressing it is
// most of the workbook's time.
type sortedZip struct {
	dst  io.Writer
	main *tempZip
	err  error
	// rows are the data rows of streamed sheets by part name, which
	// excelize writes with their header row only: the rows go in before
	// the end of the sheet data. cur is such a part being written.
	rows map[string]*streamedRows
	cur  *splice
	jobs []*tempZip // the parts written in goroutines, one each
	wg   sync.WaitGroup
	sem  chan struct{}
}

// xlsxWorkers is how many parts are written at once.
const xlsxWorkers = 2

// apartRows is the fewest rows that get a part a goroutine and a
// temporary file of its own: smaller sheets are written in line.
var apartRows = 4096

// tempZip is a temporary zip file being written.
type tempZip struct {
	f        *os.File
	zw       *zip.Writer
	err      error // of the goroutine that writes it, once it is done
	unlinked bool  // its name is gone already
}

func newTempZip() (*tempZip, error) {
	unlinked := false
	f, err := os.CreateTemp("", "codeset-xlsx-*.zip")
	if err != nil {
		return nil, err
	}
	// Unlinked at once where the system allows it (not Windows): the open
	// file stays usable, and a process killed while writing the changelog
	// leaves nothing behind in the temporary folder.
	if os.Remove(f.Name()) == nil {
		unlinked = true
	}
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, newPartWriter)
	return &tempZip{f: f, zw: zw, unlinked: unlinked}, nil
}

// partWriters holds the deflate writers of finished parts for the next
// ones. A writer is some 600 KB of tables; a workbook has a few dozen
// parts, and fresh memory is not cheap in a short process (each new page
// is a fault), so the tables are reused rather than made anew per part.
var partWriters sync.Pool

// newPartWriter is the compressor of a part: deflate at its fastest level.
// The sheets of a large first release are hundreds of megabytes of XML,
// and the default level spent as long compressing them as writing them;
// the file is some 15% larger.
func newPartWriter(w io.Writer) (io.WriteCloser, error) {
	if fw, ok := partWriters.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return &partWriter{fw}, nil
	}
	fw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return &partWriter{fw}, nil
}

// partWriter hands its deflate writer back to partWriters once closed.
// A closed partWriter refuses further writes: the zip writer never makes
// any, and the deflate writer may be another part's by then.
type partWriter struct{ fw *flate.Writer }

func (p *partWriter) Write(b []byte) (int, error) {
	if p.fw == nil {
		return 0, errClosedPart
	}
	return p.fw.Write(b)
}

func (p *partWriter) Close() error {
	if p.fw == nil {
		return errClosedPart
	}
	err := p.fw.Close()
	if err == nil {
		partWriters.Put(p.fw)
	}
	p.fw = nil
	return err
}

var errClosedPart = errors.New("write to a closed workbook part")

// parts closes the zip and returns its entries, read back.
func (t *tempZip) parts() ([]*zip.File, error) {
	if err := t.zw.Close(); err != nil {
		return nil, err
	}
	size, err := t.f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(t.f, size)
	if err != nil {
		return nil, err
	}
	return zr.File, nil
}

func (t *tempZip) remove() {
	t.f.Close()
	if !t.unlinked {
		os.Remove(t.f.Name())
	}
}

func newSortedZip(dst io.Writer, rows map[string]*streamedRows) excelize.ZipWriter {
	z := &sortedZip{dst: dst, rows: rows, sem: make(chan struct{}, xlsxWorkers)}
	z.main, z.err = newTempZip()
	return z
}

// splice holds what excelize writes of a part whose rows are added: the
// sheet with its header row, a few kilobytes.
type splice struct {
	name string
	zip  *tempZip
	w    io.Writer
	rows *streamedRows
	buf  bytes.Buffer
	// inline is set for a part written into the main zip as soon as
	// excelize is done with it, rather than in a goroutine.
	inline bool
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

// finishPart sets the part being spliced, if any, to be written in a
// goroutine: excelize has written all it writes of it.
func (z *sortedZip) finishPart() {
	cur := z.cur
	if cur == nil {
		return
	}
	z.cur = nil
	if cur.inline {
		// Written now: the next part goes into the same zip.
		if err := cur.finish(); err != nil && z.err == nil {
			z.err = err
		}
		return
	}
	z.wg.Add(1)
	go func() {
		defer z.wg.Done()
		z.sem <- struct{}{}
		defer func() { <-z.sem }()
		cur.zip.err = cur.finish()
	}()
}

func (z *sortedZip) Create(name string) (io.Writer, error) {
	if z.err != nil {
		return nil, z.err
	}
	z.finishPart()
	rows := z.rows[name]
	if rows == nil {
		return z.main.zw.Create(name)
	}
	delete(z.rows, name)
	if rows.n < apartRows {
		w, err := z.main.zw.Create(name)
		if err != nil {
			z.err = err
			return nil, err
		}
		z.cur = &splice{name: name, zip: z.main, w: w, rows: rows, inline: true}
		return z.cur, nil
	}
	t, err := newTempZip()
	if err != nil {
		z.err = err
		return nil, err
	}
	z.jobs = append(z.jobs, t)
	w, err := t.zw.Create(name)
	if err != nil {
		z.err = err
		return nil, err
	}
	z.cur = &splice{name: name, zip: t, w: w, rows: rows}
	return z.cur, nil
}

func (z *sortedZip) AddFS(fsys fs.FS) error {
	if z.err != nil {
		return z.err
	}
	z.finishPart()
	return z.main.zw.AddFS(fsys)
}

func (z *sortedZip) Close() error {
	z.finishPart()
	z.wg.Wait()
	for _, t := range z.jobs {
		defer t.remove()
	}
	if z.main == nil {
		return z.err
	}
	defer z.main.remove()
	if z.err != nil {
		return z.err
	}
	if len(z.rows) > 0 {
		return fmt.Errorf("xlsx: %d streamed sheets not written", len(z.rows))
	}
	var parts []*zip.File
	for _, t := range append([]*tempZip{z.main}, z.jobs...) {
		if t.err != nil {
			return t.err
		}
		ps, err := t.parts()
		if err != nil {
			return err
		}
		parts = append(parts, ps...)
	}
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
