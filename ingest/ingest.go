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

// seen remembers where a code was first read, to report duplicates.
type seen struct {
	idx int // index into the release's codes
	loc *ParseError
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
	c := &collector{rel: rel, rep: rep, p: p, byCode: map[string]seen{}, headers: map[string]bool{}, ctx: ctx}
	rd := &reader{p: p, rep: rep, lim: lim, emit: c.emit}
	var addenda, decls []input
	for _, in := range inputs {
		switch in.role {
		case roleAddenda:
			addenda = append(addenda, in)
			continue
		case roleDeclaration:
			decls = append(decls, in)
			continue
		}
		fr := FileReport{Name: in.name}
		c.last, c.fr, c.also = -1, &fr, in.role == roleAlso
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
	for _, in := range decls {
		changes, err := rd.declarationFile(ctx, in)
		if err != nil {
			return nil, nil, err
		}
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

// collector gathers the records of a release as files are read: it merges
// continuation rows, keeps header rows apart and refuses conflicting
// duplicates.
type collector struct {
	rel     *codeset.Release
	rep     *Report
	p       *Profile
	fr      *FileReport
	byCode  map[string]seen
	headers map[string]bool
	last    int // index of the last code of the current file, or -1
	// also is set while a code file is read beside the main one for the
	// fields it lacks (see Member.Also).
	also bool
	// alsoSeen marks, by index into the release's codes, the codes the
	// file read beside the main one has given.
	alsoSeen []bool
	ctx      context.Context // hears progress (codeset.ReportProgress)
	alsoLoc  *ParseError
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
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: code %q repeats %s exactly; merged", locString(loc), c.Code, locString(prev.loc)))
			return nil
		}
		loc.Err = errorf(ErrDuplicate, "duplicate code %q with a different record than %s (%s)", c.Code, locString(prev.loc), firstDifference(old, c))
		return loc
	}
	col.byCode[c.Code] = seen{idx: len(rel.Codes), loc: loc}
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
