package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/codeset/codeset"
)

// reader reads the code files of one release with one profile, within
// limits, handing each record to emit.
type reader struct {
	p    *Profile
	rep  *Report
	lim  Limits
	emit emitFunc
	// reserve, when set, hears how many records a file may hold at most
	// before it is read (see collector.reserve).
	reserve func(n int)
}

// input reads one code file with the reader its profile member names.
func (rd *reader) input(ctx context.Context, in input, fr *FileReport) error {
	if st, err := os.Stat(in.path); err == nil && st.Size() > rd.lim.MaxFileBytes {
		return &ParseError{File: in.name, Err: errorf(ErrLimit, "%d bytes: over the %d-byte input limit", st.Size(), rd.lim.MaxFileBytes)}
	}
	if in.member != nil && in.member.Fixed != nil {
		return rd.fixed(ctx, in.path, in.name, in.member.Fixed)
	}
	return rd.table(ctx, in.path, in.name, fr)
}

// maxLine bounds one line of a fixed-width file.
const maxLine = 1 << 20

// readFixed streams a fixed-width text file line by line. CRLF line ends,
// trailing blanks and short continuation lines are fine; Windows-1252 bytes
// are decoded. A line that breaks the layout stops the read with an error
// that names the line, the column and what the layout expected there.
//
// The lines are cut into records on every core, a batch of lines at a
// time (parseBatch), and handed to emit in file order, so what is read,
// and which error stops the read, is as if one line were read after the
// other.
func (rd *reader) fixed(ctx context.Context, path, name string, l *FixedLayout) error {
	p := rd.p
	f, err := openText(path, name)
	if err != nil {
		return err
	}
	defer f.Close()
	at := &ParseError{File: name}
	// The room for the file's records is made (the lines counted, the
	// release's codes and index by code grown: tens of milliseconds for
	// a release of ICD-10-CM's size) while the first lines are cut; the
	// records are handed over only once it is made.
	var reserved chan struct{}
	if rd.reserve != nil {
		reserved = make(chan struct{})
		go func() {
			defer close(reserved)
			rd.reserve(min(countLines(path), rd.lim.MaxRows))
		}()
		defer func() { <-reserved }()
	}
	fields := p.fields()

	stop := make(chan struct{})
	work := make(chan *lineBatch, fixedWorkers)
	order := make(chan *lineBatch, 2*fixedWorkers)
	free := make(chan *lineBatch, 4*fixedWorkers)
	var wg sync.WaitGroup
	var tail fixedTail // the end of the file, for the reader after order is closed
	wg.Go(func() {
		defer close(work)
		defer close(order)
		tail = scanBatches(ctx, newLineScanner(f), at, stop, work, order, free)
	})
	for range fixedWorkers {
		wg.Go(func() {
			values := make([]string, len(l.Fields))
			for b := range work {
				parseBatch(p, l, fields, at, values, b)
				close(b.done)
			}
		})
	}
	defer wg.Wait()
	defer close(stop)

	cur := *at // the location handed to emit, reused line after line
	started, records := false, 0
	for b := range order {
		if reserved != nil {
			<-reserved
		}
		<-b.done
		for i := range b.lines {
			ln := &b.lines[i]
			if ln.early != nil {
				return ln.early
			}
			if ln.blank {
				continue
			}
			if !ln.fits {
				if !started && ln.line <= l.Preamble {
					continue
				}
				return at.atLine(ln.line, 0, "", errorf(ErrLayout, "not a %s line: want a record matching %q (%s), found %q",
					l.Name, l.Record, l.describe(), excerpt(ln.text)))
			}
			started = true
			if records++; records > rd.lim.MaxRows {
				return at.atLine(ln.line, 0, "", errorf(ErrLimit, "more than %d records: over the row limit", rd.lim.MaxRows))
			}
			if ln.err != nil {
				return ln.err
			}
			rd.rep.Padded += ln.padded
			cur.Line, cur.Err = ln.line, nil
			if err := rd.emit(ln.c, ln.header, &cur); err != nil {
				return err
			}
		}
		clear(b.lines) // what the lines held is the release's now, or dropped
		select {
		case free <- b:
		default:
		}
	}
	if tail.err != nil {
		return tail.err
	}
	if !started {
		want := l.describe()
		if l.Record != "" {
			want = fmt.Sprintf("lines matching %q (%s)", l.Record, want)
		}
		return &ParseError{File: name, Err: errorf(ErrLayout, "no line fits the %s layout: want %s", l.Name, want)}
	}
	return nil
}

// fixedWorkers is how many goroutines cut the lines of a fixed-width file
// into records.
var fixedWorkers = max(1, min(runtime.GOMAXPROCS(0), 4))

// fixedBatch is how many lines a worker cuts at a time.
const fixedBatch = 512

// lineBatch is a run of lines of a fixed-width file and what each holds.
type lineBatch struct {
	lines []fixedLine
	done  chan struct{} // closed once lines are cut
}

// fixedLine is one line of a fixed-width file, cut (parseBatch) but not
// yet judged against what came before it (whether the records have
// started, how many there were).
type fixedLine struct {
	line   int
	text   string
	early  error // the file ends mid-line, or stops being read here
	blank  bool
	fits   bool  // the line matches the layout's record pattern
	err    error // what is wrong with the record, when it fits
	c      codeset.Code
	header bool
	padded int // codes left-padded with zeros (Report.Padded)
}

// fixedTail is how a fixed-width file ended: the error that stopped the
// scan past its last line, if any.
type fixedTail struct{ err error }

// scanBatches reads the lines of sc in batches, each sent to work (to be
// cut) and to order (to be read in file order), until the file ends, ctx is
// done or stop is closed. Batches the reader is done with come back on
// free, to be filled again.
func scanBatches(ctx context.Context, sc *lineScanner, at *ParseError, stop <-chan struct{}, work, order chan<- *lineBatch, free <-chan *lineBatch) fixedTail {
	newBatch := func() *lineBatch {
		select {
		case b := <-free:
			b.lines, b.done = b.lines[:0], make(chan struct{})
			return b
		default:
			return &lineBatch{lines: make([]fixedLine, 0, fixedBatch), done: make(chan struct{})}
		}
	}
	b := newBatch()
	send := func() bool {
		select {
		case order <- b:
		case <-stop:
			return false
		}
		select {
		case work <- b:
		case <-stop:
			return false
		}
		b = newBatch()
		return true
	}
	line := 0
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				b.lines = append(b.lines, fixedLine{line: line, early: err})
				send()
				return fixedTail{}
			}
		}
		// Fields are cut by byte column first and decoded after (clean reads
		// Windows-1252 bytes), so a multi-byte decoding cannot shift them.
		text := strings.TrimRight(sc.Text(), "\r")
		b.lines = append(b.lines, fixedLine{line: line, text: text, early: sc.cutShort(at, line, text)})
		if len(b.lines) == fixedBatch && !send() {
			return fixedTail{}
		}
	}
	if len(b.lines) > 0 && !send() {
		return fixedTail{}
	}
	return fixedTail{err: sc.failure(at, line+1, "not a fixed-width code file")}
}

// parseBatch cuts each line of b into its record, as far as a line can be
// judged alone. values is the worker's own room for one line's fields.
func parseBatch(p *Profile, l *FixedLayout, fields []string, at *ParseError, values []string, b *lineBatch) {
	// A line's field values sit at their index in l.Fields: get looks a
	// field up among the few a layout has, with no map per line.
	index := func(f string) int {
		// The last of a repeated field wins, as it would in a map.
		for i := len(l.Fields) - 1; i >= 0; i-- {
			if l.Fields[i].Field == f {
				return i
			}
		}
		return -1
	}
	get := func(f string) string {
		if i := index(f); i >= 0 {
			return values[i]
		}
		return ""
	}
	has := func(f string) bool { return index(f) >= 0 }
	var rep Report // counts the padding of one line at a time
	for i := range b.lines {
		ln := &b.lines[i]
		if ln.early != nil {
			return
		}
		text := ln.text
		if strings.TrimSpace(text) == "" {
			ln.blank = true
			continue
		}
		if l.record != nil && !l.record.MatchString(text) {
			continue
		}
		ln.fits = true
		ln.err = parseLine(p, l, fields, at, values, get, has, &rep, ln)
		ln.padded, rep.Padded = rep.Padded, 0
	}
}

// parseLine cuts one line that fits the layout into ln's record, or
// returns what is wrong with it.
func parseLine(p *Profile, l *FixedLayout, fields []string, at *ParseError, values []string, get func(string) string, has func(string) bool, rep *Report, ln *fixedLine) error {
	text, line := ln.text, ln.line
	for _, col := range l.Blank {
		if col <= len(text) && text[col-1] != ' ' {
			return at.atLine(line, col, "", errorf(ErrLayout, "want a blank between the fields of the %s layout (%s), found %q in %q",
				l.Name, l.describe(), text[col-1:col], excerpt(text)))
		}
	}
	for i, fd := range l.Fields {
		values[i] = fd.cut(text)
	}
	if need := l.minLength(p, get); len(text) < need {
		return at.atLine(line, len(text)+1, "", errorf(ErrLayout, "record ends after %d bytes, want %d (%s layout: %s): the line is cut short",
			len(text), need, l.Name, l.describe()))
	}
	for fld, re := range l.check {
		if v := get(fld); !re.MatchString(v) {
			return at.atLine(line, l.start(fld), fld, errorf(ErrLayout, "%s %q does not match %q of the %s layout (%s)",
				fld, v, l.Check[fld], l.Name, l.describe()))
		}
	}
	header := l.Header != nil && get(l.Header.Field) == l.Header.Value
	c, err := p.build(fields, get, has, header, rep,
		func(fld string, e error) error { return at.atLine(line, l.start(fld), fld, e) })
	if err != nil {
		return err
	}
	ln.c, ln.header = c, header
	return nil
}

// countLines returns how many line feeds the file at path holds, or 0
// when it cannot be read: an upper bound of its records, read ahead from
// the page cache so that the release need not grow as it is read.
func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err != nil {
			return n
		}
	}
}

// minLength is how long a record line must be for its fields to be whole:
// the layout's Length, or else up to the end of its last closed field and
// into its open one. A continuation record (HCPCS RECID 4 and 8) carries
// only the text it continues and may stop anywhere.
func (l *FixedLayout) minLength(p *Profile, get func(string) string) int {
	if k := p.Continuation; k != nil && slices.Contains(k.Values, get(k.Field)) {
		return 0
	}
	if l.Length > 0 {
		return l.Length
	}
	need := 0
	for _, fd := range l.Fields {
		need = max(need, fd.End, fd.Start)
	}
	return need
}

// cut returns the field's cleaned value from a line; columns past the end of
// a short line are blank.
func (fd FixedField) cut(line string) string {
	from, to := fd.Start-1, len(line)
	if fd.End > 0 && fd.End < to {
		to = fd.End
	}
	if from >= to {
		return ""
	}
	v := line[from:to]
	if fd.List == 0 {
		return clean(v)
	}
	var parts []string
	for i := 0; i < len(v); i += fd.List {
		if p := clean(v[i:min(i+fd.List, len(v))]); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

func (l *FixedLayout) start(field string) int {
	for _, fd := range l.Fields {
		if fd.Field == field {
			return fd.Start
		}
	}
	return 0
}

// describe lists the layout's fields and columns, for error messages.
func (l *FixedLayout) describe() string {
	var parts []string
	for _, fd := range l.Fields {
		if fd.End == 0 {
			parts = append(parts, fmt.Sprintf("%s %d-", fd.Field, fd.Start))
		} else {
			parts = append(parts, fmt.Sprintf("%s %d-%d", fd.Field, fd.Start, fd.End))
		}
	}
	return strings.Join(parts, ", ")
}

// atLine returns a copy of the location e pointing at a line and column of a
// text file.
func (e *ParseError) atLine(line, col int, field string, err error) *ParseError {
	c := *e
	c.Line, c.Column, c.Header, c.Err = line, col, field, err
	return &c
}

func excerpt(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
