package changelog

import (
	"bufio"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/codeset/codeset"
)

const (
	// revisedBatch is how many changes one word-diff job renders.
	revisedBatch = 128
	// revisedWindow is how many rendered batches may wait to be written:
	// enough for the workers to get well ahead while the sections before
	// are written, little memory (~2 MB of rows).
	revisedWindow = 64
)

// revisedRows renders the table rows of revised and short-title changes,
// one row per changed field with its word diff. The word diffs are most
// of the work of a large changelog, so the rows are rendered by one
// goroutine per processor, in batches, from the moment the writer starts
// (while it writes the sections before), and are written in order.
type revisedRows struct {
	code    func(string) string
	changes []codeset.Change
	kinds   map[codeset.ChangeKind][]int // indexes in changes
	// With workers: the batches in the order they are written, and stop,
	// closed when the writer is done.
	order chan *revisedJob
	stop  chan struct{}
}

type revisedJob struct {
	changes []int
	rows    string
	done    chan struct{}
}

// startRevisedRows starts rendering the rows of the changes (sorted by
// code) of the revised and short-title kinds among kinds, in the order
// of kinds. The caller writes each kind's rows with write and calls close
// when done.
func startRevisedRows(changes []codeset.Change, kinds []codeset.ChangeKind, code func(string) string) *revisedRows {
	r := &revisedRows{code: code, changes: changes, kinds: map[codeset.ChangeKind][]int{}}
	var order []codeset.ChangeKind
	n := 0
	for _, k := range kinds {
		if k != codeset.Revised && k != codeset.ShortTitle {
			continue
		}
		for i, c := range changes {
			if c.Kind == k {
				r.kinds[k] = append(r.kinds[k], i)
			}
		}
		order = append(order, k)
		n += len(r.kinds[k])
	}
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n <= revisedBatch {
		return r // rendered as written
	}
	r.order = make(chan *revisedJob, revisedWindow)
	r.stop = make(chan struct{})
	jobs := make(chan *revisedJob)
	go func() {
		defer close(jobs)
		for _, k := range order {
			of := r.kinds[k]
			for start := 0; start < len(of); start += revisedBatch {
				j := &revisedJob{changes: of[start:min(start+revisedBatch, len(of))], done: make(chan struct{})}
				select {
				case r.order <- j: // waits while the window is full
				case <-r.stop:
					return
				}
				select {
				case jobs <- j:
				case <-r.stop:
					return
				}
			}
		}
	}()
	for range workers {
		go func() {
			var sb strings.Builder
			for j := range jobs {
				sb.Reset()
				size := 0
				for _, i := range j.changes {
					size += revisedSize(&r.changes[i])
				}
				sb.Grow(size)
				for _, i := range j.changes {
					writeRevised(&sb, &r.changes[i], r.code)
				}
				j.rows = sb.String()
				close(j.done)
			}
		}()
	}
	return r
}

// write writes the rows of the changes of kind k.
func (r *revisedRows) write(bw *bufio.Writer, k codeset.ChangeKind) {
	if r.order == nil {
		var sb strings.Builder
		for _, i := range r.kinds[k] {
			sb.Reset()
			writeRevised(&sb, &r.changes[i], r.code)
			bw.WriteString(sb.String())
		}
		return
	}
	// The batches come in the order of the kinds, each kind's in order.
	for range (len(r.kinds[k]) + revisedBatch - 1) / revisedBatch {
		j := <-r.order
		<-j.done
		bw.WriteString(j.rows)
	}
}

// close stops the rendering of rows that will not be written.
func (r *revisedRows) close() {
	if r.stop != nil {
		close(r.stop)
	}
}

// writeRevised appends the rows of one revised change to sb: code (with
// its note), category, field, before, after and the word diff.
func writeRevised(sb *strings.Builder, c *codeset.Change, code func(string) string) {
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
func revisedSize(c *codeset.Change) int {
	n := 0
	for f, fc := range c.Fields {
		n += 40 + 2*len(c.Code) + len(f) + 2*(len(fc.Before)+len(fc.After))
	}
	return n
}
