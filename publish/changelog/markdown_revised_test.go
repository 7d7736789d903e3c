package changelog

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
)

// TestMarkdownRevisedInOrder checks that the revised rows rendered by
// several goroutines come out as one goroutine writes them: a changelog
// with hundreds of revised codes (many batches), rendered with one
// processor and with four.
func TestMarkdownRevisedInOrder(t *testing.T) {
	rels := synth.Series(7, 20_000, 2)
	l := diff.Compare(rels[0], rels[1], nil)
	if l.Summary.Revised < 3*revisedBatch {
		t.Fatalf("only %d revised codes, want several batches", l.Summary.Revised)
	}
	render := func(procs int) []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var b bytes.Buffer
		if err := WriteMarkdown(&b, l); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	one, four := render(1), render(4)
	if !bytes.Equal(one, four) {
		t.Fatalf("Markdown differs with 4 processors (%d bytes) from 1 (%d bytes)", len(four), len(one))
	}
	if n := strings.Count(string(one), "~~"); n < 2*l.Summary.Revised {
		t.Errorf("%d ~~ marks for %d revised codes", n, l.Summary.Revised)
	}
}
