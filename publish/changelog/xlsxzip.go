package changelog

import (
	"archive/zip"
	"compress/flate"
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
}

func newSortedZip(dst io.Writer) excelize.ZipWriter {
	z := &sortedZip{dst: dst}
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

func (z *sortedZip) Create(name string) (io.Writer, error) {
	if z.err != nil {
		return nil, z.err
	}
	return z.zw.Create(name)
}

func (z *sortedZip) AddFS(fsys fs.FS) error {
	if z.err != nil {
		return z.err
	}
	return z.zw.AddFS(fsys)
}

func (z *sortedZip) Close() error {
	if z.tmp == nil {
		return z.err
	}
	defer os.Remove(z.tmp.Name())
	defer z.tmp.Close()
	if z.err != nil {
		return z.err
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
