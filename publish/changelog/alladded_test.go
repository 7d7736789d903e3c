package changelog

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/format"
)

// firstReleases are releases to publish as first releases: synthetic
// ICD-10-CM-like codes, and HCPCS-like codes with categories, the
// publisher's bookkeeping, codes already discontinued and text that needs
// escaping in every format.
func firstReleases() []*codeset.Release {
	rels := []*codeset.Release{synth.Series(7, 3000, 1)[0]}
	h := &codeset.Release{System: codeset.HCPCS, Label: "2020"}
	for i := range 40 {
		c := codeset.Code{Code: fmt.Sprintf("G%04d", i), Short: fmt.Sprintf("short %d", i), Long: fmt.Sprintf("Long | text * %d <b>&</b> \"q\"", i),
			Meta: codeset.MetaOf(map[string]string{"action": "A", "action_effective_date": "2020-01-01"})}
		switch i % 4 {
		case 1:
			c.Category = "II"
		case 2:
			c.Status = codeset.StatusDiscontinued
			c.Meta.Set("termination_date", "2020-06-30")
		case 3:
			c.Long = " leading and trailing space "
			c.Attrs = map[string]string{"xref": "G0001"}
		}
		h.Codes = append(h.Codes, c)
	}
	h.Replacements = []codeset.Replacement{{Old: "G0002", New: "G0001", How: codeset.StatedDirect}}
	one := &codeset.Release{System: codeset.ICD10PCS, Label: "FY2025", Codes: []codeset.Code{{Code: "0016070", Long: "Bypass"}}}
	// Codes out of order, against the rule of a Release: the changes
	// keep the codes' order, and the renderers sort them.
	unsorted := &codeset.Release{System: codeset.CPT, Label: "2026", Codes: []codeset.Code{
		{Code: "00100", Category: "I", Long: "Anesthesia"}, {Code: "0001U", Category: "PLA", Long: "Red cell"}, {Code: "0500F", Category: "II"}}}
	return append(rels, h, one, unsorted)
}

// TestAllAddedRendersAsCompared checks that a first release's changelog
// made by codeset.AllAdded, whose changes are not held, has the changes
// diff.Compare finds, and renders in every format to the very bytes the
// compared one does.
func TestAllAddedRendersAsCompared(t *testing.T) {
	writers := []struct {
		name  string
		write func(io.Writer, *codeset.Changelog) error
	}{
		{"md", WriteMarkdown}, {"html", WriteHTML}, {"csv", WriteCSV}, {"xlsx", WriteXLSX}, {"json", format.WriteChangelog},
	}
	for _, rel := range firstReleases() {
		want, got := diff.Compare(nil, rel, nil), codeset.AllAdded(rel)
		if got.Held() || got.Changes != nil {
			t.Fatalf("%s: AllAdded holds its changes", rel.System)
		}
		if got.Summary != want.Summary || got.Len() != len(want.Changes) || got.To != want.To || got.From != "" {
			t.Fatalf("%s: AllAdded %+v (%d changes), Compare %+v (%d)", rel.System, got.Summary, got.Len(), want.Summary, len(want.Changes))
		}
		for i, c := range want.Changes {
			if g := got.At(i); fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", c) {
				t.Fatalf("%s: change %d is %#v, want %#v", rel.System, i, g, c)
			}
		}
		if h := got.Holding(); !h.Held() || fmt.Sprintf("%#v", h.Changes) != fmt.Sprintf("%#v", want.Changes) {
			t.Errorf("%s: Holding differs from Compare", rel.System)
		}
		for _, w := range writers {
			var a, b bytes.Buffer
			if err := w.write(&a, want); err != nil {
				t.Fatal(err)
			}
			if err := w.write(&b, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s %s: AllAdded renders %d bytes, Compare %d, not the same", rel.System, w.name, b.Len(), a.Len())
			}
		}
		var a, b bytes.Buffer
		if err := WriteSummary(&a, rel, want); err != nil {
			t.Fatal(err)
		}
		if err := WriteSummary(&b, rel, got); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("%s summary: %q, want %q", rel.System, b.String(), a.String())
		}
	}
}

// allAdded100k is a first release of 100,000 synthetic ICD-10-CM-like
// codes and its changelog made by codeset.AllAdded.
func allAdded100k() (*codeset.Release, *codeset.Changelog) {
	rel := synth.Series(1, 100_000, 1)[0]
	return rel, codeset.AllAdded(rel)
}

// BenchmarkFirstChangelog100k measures making a first release's
// changelog: diff.Compare(nil, rel, nil), which holds a change per code,
// against codeset.AllAdded, which holds none (-benchmem shows the bytes).
func BenchmarkFirstChangelog100k(b *testing.B) {
	rel, _ := allAdded100k()
	b.Run("Compare", func(b *testing.B) {
		for b.Loop() {
			diff.Compare(nil, rel, nil)
		}
	})
	b.Run("AllAdded", func(b *testing.B) {
		for b.Loop() {
			codeset.AllAdded(rel)
		}
	})
}

// BenchmarkWriteAllAdded100k measures each changelog format of a first
// release of 100,000 codes, from the changes held (Compare) and made as
// they are read (AllAdded).
func BenchmarkWriteAllAdded100k(b *testing.B) {
	rel, lazy := allAdded100k()
	held := diff.Compare(nil, rel, nil)
	for _, w := range []struct {
		name  string
		write func(io.Writer, *codeset.Changelog) error
	}{
		{"md", WriteMarkdown}, {"csv", WriteCSV}, {"xlsx", WriteXLSX}, {"json", format.WriteChangelog},
	} {
		for _, form := range []struct {
			name string
			l    *codeset.Changelog
		}{{"Compare", held}, {"AllAdded", lazy}} {
			b.Run(w.name+"/"+form.name, func(b *testing.B) {
				var n counter
				for b.Loop() {
					n = 0
					if err := w.write(&n, form.l); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(n))
			})
		}
	}
}
