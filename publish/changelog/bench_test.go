package changelog

import (
	"fmt"
	"io"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
)

// firstRelease is the changelog of a first release of n ICD-10-CM-like
// codes: every code added, the largest changelog a release makes.
func firstRelease(n int) *codeset.Changelog {
	l := &codeset.Changelog{System: codeset.ICD10CM, To: "FY2001"}
	for i := range n {
		code := fmt.Sprintf("A%06d", i)
		l.Changes = append(l.Changes, codeset.Change{Code: code, Kind: codeset.Added, Record: codeset.Code{Code: code,
			Short: "Short title of " + code, Long: "Long description of the code " + code + ", with some more words, unspecified"}})
	}
	l.Summary.Added = n
	return l
}

// BenchmarkWriteXLSX100k measures the XLSX changelog of a first release of
// 100,000 codes: the All changes and Added sheets streamed, compressed.
func BenchmarkWriteXLSX100k(b *testing.B) { benchWriter(b, WriteXLSX, 100_000) }

// BenchmarkWriteCSV100k, ...Markdown and ...HTML measure the other
// changelog formats of the same changelog.
func BenchmarkWriteCSV100k(b *testing.B)      { benchWriter(b, WriteCSV, 100_000) }
func BenchmarkWriteMarkdown100k(b *testing.B) { benchWriter(b, WriteMarkdown, 100_000) }
func BenchmarkWriteHTML100k(b *testing.B)     { benchWriter(b, WriteHTML, 100_000) }

func benchWriter(b *testing.B, write func(io.Writer, *codeset.Changelog) error, n int) {
	l := firstRelease(n)
	var w counter
	for b.Loop() {
		w = 0
		if err := write(&w, l); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(w))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/code")
}

// counter counts the bytes written to it and keeps none.
type counter int

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// BenchmarkWriteMarkdownDiff100k measures the Markdown changelog of two
// synthetic 100,000-code releases a release apart (internal/synth: about
// 1,000 added, 1,000 deleted, 2,000 revised with their word diffs and 100
// whitespace-only codes), as `codeset diff` prints it.
func BenchmarkWriteMarkdownDiff100k(b *testing.B) {
	rels := synth.Series(1, 100_000, 2)
	l := diff.Compare(rels[0], rels[1], nil)
	var w counter
	for b.Loop() {
		w = 0
		if err := WriteMarkdown(&w, l); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(w))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(l.Changes)), "ns/change")
}
