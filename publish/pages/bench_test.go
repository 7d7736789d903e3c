package pages

import (
	"fmt"
	"io"
	"testing"

	"github.com/codeset/codeset"
)

// BenchmarkWriteRecords100k and BenchmarkWriteSearchIndex100k measure
// records.tsv and search.tsv of an ICD-10-CM-like release of 100,000
// codes and 10,000 header rows. ns/code is ns/op per code.
func BenchmarkWriteRecords100k(b *testing.B)     { benchRelease(b, WriteRecords) }
func BenchmarkWriteSearchIndex100k(b *testing.B) { benchRelease(b, WriteSearchIndex) }

func benchRelease(b *testing.B, write func(io.Writer, *codeset.Release) error) {
	rel := &codeset.Release{System: codeset.ICD10CM, Label: "FY2001"}
	for i := range 100_000 {
		code := fmt.Sprintf("A%06d", i)
		c := codeset.Code{Code: code, Short: "Short title of " + code, Long: "Long description of the code " + code + ", with some more words, unspecified"}
		if i%10 == 0 {
			h := c
			h.Code = code[:5]
			rel.Headers = append(rel.Headers, h)
			c.Attrs = map[string]string{"billable": "1"}
		}
		rel.Codes = append(rel.Codes, c)
	}
	for b.Loop() {
		if err := write(io.Discard, rel); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rel.Codes)), "ns/code")
}
