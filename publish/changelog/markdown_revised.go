package changelog

import (
	"bufio"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/codeset/codeset"
)

// revisedBatch is how many changes one word-diff job renders.
const revisedBatch = 128

// writeRevisedRows writes the table rows of revised (or short-title)
// changes of, in order: one row per changed field, with its word diff.
// The word diffs are most of the work of a large changelog, so the rows
// are rendered by one goroutine per processor, batch by batch, and written
// in order as each batch is done; at most a few batches per goroutine are
// held at once.
func writeRevisedRows(bw *bufio.Writer, of []codeset.Change, code func(string) string) {
	workers := min(runtime.GOMAXPROCS(0), (len(of)+revisedBatch-1)/revisedBatch)
	if workers <= 1 {
		var sb strings.Builder
		for _, c := range of {
			sb.Reset()
			revisedRows(&sb, c, code)
			bw.WriteString(sb.String())
		}
		return
	}
	type job struct {
		changes []codeset.Change
		rows    string
		done    chan struct{}
	}
	jobs := make(chan *job)
	order := make(chan *job, 2*workers)
	go func() {
		defer close(jobs)
		defer close(order)
		for start := 0; start < len(of); start += revisedBatch {
			j := &job{changes: of[start:min(start+revisedBatch, len(of))], done: make(chan struct{})}
			order <- j // blocks while 2*workers batches wait to be written
			jobs <- j
		}
	}()
	for range workers {
		go func() {
			var sb strings.Builder
			for j := range jobs {
				sb.Reset()
				n := 0
				for _, c := range j.changes {
					n += revisedSize(c)
				}
				sb.Grow(n)
				for _, c := range j.changes {
					revisedRows(&sb, c, code)
				}
				j.rows = sb.String()
				close(j.done)
			}
		}()
	}
	for j := range order {
		<-j.done
		bw.WriteString(j.rows)
	}
}

// revisedRows appends the rows of one revised change to sb: code (with
// its note), category, field, before, after and the word diff.
func revisedRows(sb *strings.Builder, c codeset.Change, code func(string) string) {
	name := code(c.Code)
	if n := c.Note(); n != "" {
		name += " (" + n + ")"
	}
	for _, f := range slices.Sorted(maps.Keys(c.Fields)) {
		fc := c.Fields[f]
		sb.WriteString("| ")
		sb.WriteString(name)
		sb.WriteString(" | ")
		writeCell(sb, c.Category)
		sb.WriteString(" | ")
		writeCell(sb, f)
		sb.WriteString(" | ")
		writeCell(sb, fc.Before)
		sb.WriteString(" | ")
		writeCell(sb, fc.After)
		sb.WriteString(" | ")
		writeWordDiff(sb, fc.Before, fc.After)
		sb.WriteString(" |\n")
	}
}

// revisedSize estimates the length of the rows of c, so a batch's buffer
// is allocated once.
func revisedSize(c codeset.Change) int {
	n := 0
	for f, fc := range c.Fields {
		n += 40 + 2*len(c.Code) + len(f) + 2*(len(fc.Before)+len(fc.After))
	}
	return n
}
