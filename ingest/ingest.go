// Package ingest turns publisher files into a codeset.Release.
//
// A Profile says which columns mean what; the reader finds the data sheet and
// its header row by their contents, streams the rows (a sheet is never held
// in memory whole), normalises the cells and validates every code. It is
// the one reader of excelize (publish/changelog writes XLSX with it too), and
// every workbook, whether read, sampled or used to detect a system, is
// opened through one bounded opener (openWorkbook).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish/durable"
)

// Options describe the release being read.
type Options struct {
	Profile   *Profile
	Label     string
	Effective time.Time
	// Limits bound the input; zero fields take DefaultLimits.
	Limits Limits
}

// Limits bound what one ingest reads, so that a hostile or broken file gives
// a clear error within bounded memory and time instead of exhausting them.
type Limits struct {
	MaxFileBytes     int64 // one input file, or one member unpacked from a zip
	MaxUnpackedBytes int64 // all parts of one XLSX workbook, unpacked
	MaxRatio         int64 // unpacked to packed size of a zip member
	MaxRows          int   // data rows or records of one file
	MaxCellBytes     int   // one spreadsheet cell, or one shared string
	MaxSheets        int   // sheets of one workbook
	MaxSharedStrings int   // entries of one workbook's shared-strings table
}

// DefaultLimits are generous for every real release (the largest, an ICD-10
// order file, is about 15 MB and 100,000 lines) and still small enough for
// the machine.
var DefaultLimits = Limits{
	MaxFileBytes:     1 << 30,
	MaxUnpackedBytes: 1 << 30,
	MaxRatio:         1000,
	MaxRows:          5_000_000,
	MaxCellBytes:     64 << 10,
	MaxSheets:        1000,
	MaxSharedStrings: 1_000_000,
}

// orDefault fills the zero fields of l from DefaultLimits.
func (l Limits) orDefault() Limits {
	d := DefaultLimits
	if l.MaxFileBytes > 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.MaxUnpackedBytes > 0 {
		d.MaxUnpackedBytes = l.MaxUnpackedBytes
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.MaxRows > 0 {
		d.MaxRows = l.MaxRows
	}
	if l.MaxCellBytes > 0 {
		d.MaxCellBytes = l.MaxCellBytes
	}
	if l.MaxSheets > 0 {
		d.MaxSheets = l.MaxSheets
	}
	if l.MaxSharedStrings > 0 {
		d.MaxSharedStrings = l.MaxSharedStrings
	}
	return d
}

// Report says what was read and what was forgiven on the way.
type Report struct {
	Files []FileReport
	// Padded counts all-digit codes shorter than the profile's width that
	// were left-padded with zeros.
	Padded int
	// Merged counts rows that repeated an earlier row exactly and were
	// merged into it.
	Merged int
	// Warnings describes each forgiven problem, for the log.
	Warnings []string
}

// FileReport describes one input file.
type FileReport struct {
	Name      string
	Sheet     string // empty for text files
	HeaderRow int
	Codes     int
}

// seen remembers where a code was first read, to report duplicates: a
// few numbers per code rather than a copy of its location, since every
// code of a release has one.
type seen struct {
	idx   int   // index into the release's codes
	at    int32 // line of a text file or row of a table
	where int32 // index into collector.wheres: the file and sheet
}

// where is a file (and sheet) codes were read from, for locating a
// duplicate's first occurrence.
type where struct {
	file, sheet string
	line        bool // at is a line of a text file, not a row
}

// Read reads files into one release of opts.Profile's system. A file may be
// a publisher's zip, from which the profile's members pick the code file and
// the addenda; codes may also be spread over several files (e.g. one per
// category). A code that appears twice must have the same record both times.
func Read(ctx context.Context, opts Options, files ...string) (*codeset.Release, *Report, error) {
	p := opts.Profile
	if p == nil {
		return nil, nil, errors.New("ingest: no profile")
	}
	if err := codeset.CheckLabel(opts.Label); err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, errors.New("no input files")
	}
	rel := &codeset.Release{System: p.System, Label: opts.Label, Effective: opts.Effective}
	for _, name := range files {
		src, err := hashFile(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		rel.Sources = append(rel.Sources, src)
	}
	lim := opts.Limits.orDefault()
	inputs, cleanup, err := p.resolve(files, lim)
	defer cleanup()
	if err != nil {
		return nil, nil, err
	}

	rep := &Report{}
	c := &collector{rel: rel, rep: rep, p: p, headers: map[string]bool{}, ctx: ctx}
	rd := &reader{p: p, rep: rep, lim: lim, emit: c.emit}
	var addenda []input
	var decls []*declRead
	for _, in := range inputs {
		if in.role == roleDeclaration {
			decls = append(decls, &declRead{in: in})
		}
	}
	// The publisher's lists of changes (the HCPCS transaction report, a
	// workbook) need nothing of the code files: they are read meanwhile,
	// on the other core, each with a report of its own whose warnings
	// join the release's where the list is taken in, so that the report
	// reads as if they were read after the code files.
	if len(decls) > 0 {
		for _, d := range decls {
			d.done = make(chan struct{})
		}
		dctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		wg.Go(func() {
			for _, d := range decls {
				drd := &reader{p: p, rep: &d.rep, lim: lim}
				d.changes, d.err = drd.declarationFile(dctx, d.in)
				close(d.done)
				if d.err != nil {
					return
				}
			}
		})
	}
	for _, in := range inputs {
		switch in.role {
		case roleAddenda:
			addenda = append(addenda, in)
			continue
		case roleDeclaration:
			continue
		}
		fr := FileReport{Name: in.name}
		c.last, c.fr, c.also = -1, &fr, in.role == roleAlso
		rd.reserve = c.reserve
		if err := rd.input(ctx, in, &fr); err != nil {
			return nil, nil, err
		}
		rep.Files = append(rep.Files, fr)
	}
	if err := c.alsoDone(); err != nil {
		return nil, nil, err
	}
	codeset.ReportProgress(ctx, "reading", len(rel.Codes), len(rel.Codes))
	if len(rel.Codes) == 0 {
		return nil, nil, errorf(ErrNoCodes, "%s: no codes found: the release is empty", strings.Join(files, ", "))
	}
	sort.Slice(rel.Codes, func(i, j int) bool { return rel.Codes[i].Code < rel.Codes[j].Code })
	sort.Slice(rel.Headers, func(i, j int) bool { return rel.Headers[i].Code < rel.Headers[j].Code })
	switch {
	case len(addenda) > 1:
		return nil, nil, fmt.Errorf("several addenda files (%s, %s): give one", addenda[0].name, addenda[1].name)
	case len(addenda) == 1:
		if rel.Declared, err = readAddenda(addenda[0], p); err != nil {
			return nil, nil, err
		}
	default:
		if rel.Declared, err = p.declared(rel.Codes); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
		}
	}
	for _, d := range decls {
		<-d.done
		if d.err != nil {
			return nil, nil, d.err
		}
		in, changes := d.in, d.changes
		rep.Warnings = append(rep.Warnings, d.rep.Warnings...)
		var declared []codeset.DeclaredChange
		for _, c := range changes {
			if c.Kind != "" {
				declared = append(declared, c)
			}
		}
		rel.Declared = addDeclared(rel.Declared, in.name, in.decl, declared, rep)
		if in.decl.Evidence {
			rel.Declared.Errata = append(rel.Declared.Errata, errata(in.name, changes)...)
		}
	}
	p.unwrap(rel.Codes)
	if rep.Padded > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d all-digit codes shorter than %d characters were left-padded with zeros (e.g. 100 read as 00100)", rep.Padded, p.Width))
	}
	return rel, rep, nil
}

// declRead is a declaration file read beside the code files (see Read):
// done is closed once changes or err are set.
type declRead struct {
	in      input
	rep     Report
	changes []codeset.DeclaredChange
	err     error
	done    chan struct{}
}

// collector gathers the records of a release as files are read: it merges
// continuation rows, keeps header rows apart and refuses conflicting
// duplicates.
type collector struct {
	rel     *codeset.Release
	rep     *Report
	p       *Profile
	fr      *FileReport
	byCode  map[string]seen // made by reserve or on the first code
	wheres  []where
	headers map[string]bool
	last    int // index of the last code of the current file, or -1
	// also is set while a code file is read beside the main one for the
	// fields it lacks (see Member.Also).
	also bool
	// alsoSeen marks, by index into the release's codes, the codes the
	// file read beside the main one has given.
	alsoSeen []bool
	// alsoNext is the index of the code after the one the file read
	// beside the main one gave last: where its next code usually is, as
	// both files list the codes in the same order.
	alsoNext int
	ctx      context.Context // hears progress (codeset.ReportProgress)
	alsoFile string          // the file read beside the main one
}

// reserve makes room for n more codes, as a reader that can count its
// records ahead (a text file's lines) tells: the codes and the index by
// code then do not grow, copying and rehashing, as they are read.
func (col *collector) reserve(n int) {
	if n <= 0 {
		return
	}
	if col.also {
		// A file read beside the main one gives the main file's codes
		// again; the rest of its records may be header rows.
		n -= len(col.rel.Codes)
		if n > 0 {
			col.rel.Headers = slices.Grow(col.rel.Headers, n)
			if len(col.headers) == 0 {
				col.headers = make(map[string]bool, n)
			}
		}
		return
	}
	col.rel.Codes = slices.Grow(col.rel.Codes, n)
	if col.byCode == nil {
		col.byCode = make(map[string]seen, n)
	}
}

// place returns the compact location of loc: its line or row and the
// index of its file and sheet among col.wheres.
func (col *collector) place(loc *ParseError) (at, w int32) {
	k := where{file: loc.File, sheet: loc.Sheet, line: loc.Line > 0}
	at = int32(loc.Row)
	if k.line {
		at = int32(loc.Line)
	}
	if n := len(col.wheres); n > 0 && col.wheres[n-1] == k {
		return at, int32(n - 1)
	}
	if i := slices.Index(col.wheres, k); i >= 0 {
		return at, int32(i)
	}
	col.wheres = append(col.wheres, k)
	return at, int32(len(col.wheres) - 1)
}

// seenAt returns the location where s was read, as locString shows it.
func (col *collector) seenAt(s seen) string {
	w := col.wheres[s.where]
	e := &ParseError{File: w.file, Sheet: w.sheet}
	if w.line {
		e.Line = int(s.at)
	} else {
		e.Row = int(s.at)
	}
	return locString(e)
}

func (col *collector) emit(c codeset.Code, header bool, loc *ParseError) error {
	rel, rep := col.rel, col.rep
	if col.also && !header {
		return col.addFields(c, loc)
	}
	if header {
		if col.headers[c.Code] {
			loc.Err = errorf(ErrDuplicate, "duplicate header row %q", c.Code)
			return loc
		}
		col.headers[c.Code] = true
		rel.Headers = append(rel.Headers, c)
		return nil
	}
	if col.p.continues(c) {
		if col.last < 0 || rel.Codes[col.last].Code != c.Code {
			loc.Err = errorf(ErrBadValue, "continuation row for code %s does not follow that code's first row", c.Code)
			return loc
		}
		k := col.p.Continuation
		prev := &rel.Codes[col.last]
		prev.SetField(k.Append, strings.TrimSpace(prev.Field(k.Append)+" "+c.Field(k.Append)))
		return nil
	}
	if prev, ok := col.byCode[c.Code]; ok {
		old := rel.Codes[prev.idx]
		if sameRecord(old, c) {
			rep.Merged++
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: code %q repeats %s exactly; merged", locString(loc), c.Code, col.seenAt(prev)))
			return nil
		}
		loc.Err = errorf(ErrDuplicate, "duplicate code %q with a different record than %s (%s)", c.Code, col.seenAt(prev), firstDifference(old, c))
		return loc
	}
	if col.byCode == nil {
		col.byCode = map[string]seen{}
	}
	at, w := col.place(loc)
	col.byCode[c.Code] = seen{idx: len(rel.Codes), at: at, where: w}
	col.last = len(rel.Codes)
	rel.Codes = append(rel.Codes, c)
	col.fr.Codes++
	if len(rel.Codes)%500 == 0 {
		codeset.ReportProgress(col.ctx, "reading", len(rel.Codes), 0)
	}
	return nil
}

func locString(e *ParseError) string {
	s := e.File
	if e.Sheet != "" {
		s += "!" + e.Sheet
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d", s, e.Line)
	}
	return fmt.Sprintf("%s row %d", s, e.Row)
}

func sameRecord(a, b codeset.Code) bool {
	return len(diff.Fields(a, b)) == 0
}

// firstDifference names the first field (in sorted order) in which a and b
// differ, with both values, or returns "". The diff decides what differs,
// so a merged repeat is exactly what a later comparison would call
// unchanged.
func firstDifference(a, b codeset.Code) string {
	fields := diff.Fields(a, b)
	if len(fields) == 0 {
		return ""
	}
	f := slices.Min(slices.Collect(maps.Keys(fields)))
	return fmt.Sprintf("%s %q vs %q", f, fields[f].Before, fields[f].After)
}

// openFile opens an input file; a missing one is ErrNotFound.
func openFile(name string) (*os.File, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(ErrNotFound, "%s: file not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// Source hashes the file at name as a source file of a release: its base
// name, SHA-256 and size. Read records every file it reads this way; a
// caller that reads more inputs of a release (a crosswalk) records those
// the same way.
func Source(ctx context.Context, name string) (codeset.SourceFile, error) {
	return hashFile(ctx, name)
}

func hashFile(ctx context.Context, name string) (codeset.SourceFile, error) {
	f, err := openFile(name)
	if err != nil {
		return codeset.SourceFile{}, err
	}
	defer f.Close()
	n, sum, err := durable.HashReader(ctx, f)
	if err != nil {
		return codeset.SourceFile{}, fmt.Errorf("%s: read: %w", name, err)
	}
	return codeset.SourceFile{Name: filepath.Base(name), SHA256: sum, Bytes: n}, nil
}
