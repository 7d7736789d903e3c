package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
)

// wholeChangelog is the JSON changelog as encoding/json writes the whole
// value at once: what WriteChangelog wrote before it streamed the changes,
// and must still write byte for byte.
func wholeChangelog(t testing.TB, l *codeset.Changelog) []byte {
	t.Helper()
	j := jsonChangelog{System: l.System, To: l.To, FromEffective: jsonDate(l.FromEffective), ToEffective: jsonDate(l.ToEffective),
		Summary: l.Summary, Changes: make([]jsonChange, 0, len(l.Changes))}
	if l.From != "" {
		j.From = &l.From
	}
	for _, c := range l.Changes {
		fields := c.Fields
		if fields == nil {
			fields = map[string]codeset.FieldChange{}
		}
		j.Changes = append(j.Changes, jsonChange{Code: c.Code, Display: l.System.Display(c.Code), Change: c.Kind, Category: c.Category,
			Description: c.Record.Description(), Fields: fields, ReplacedBy: jsonCodes(l.System, c.ReplacedBy), Replaces: jsonCodes(l.System, c.Replaces),
			Reused: c.Reused, AlreadyDiscontinued: c.AlreadyDiscontinued})
	}
	if l.Replacements != nil {
		j.LinkProblems = []jsonLinkProblem{}
		for _, p := range l.LinkProblems {
			j.LinkProblems = append(j.LinkProblems, jsonLinkProblem{Code: p.Code, Display: l.System.Display(p.Code), Problem: p.Kind, Other: p.Other, Source: p.Source, Reason: p.Reason})
		}
	}
	if r := l.Reconciliation; r != nil {
		j.Reconciliation = &jsonReconciliation{Source: r.Source, Declared: r.Declared, Agreed: r.Agreed, Disagreements: []jsonDisagreement{},
			Combined: r.Combined, Unexplained: len(r.Unexplained())}
		for _, d := range r.Disagreements {
			j.Reconciliation.Disagreements = append(j.Reconciliation.Disagreements, jsonDisagreement{Code: d.Code, Display: l.System.Display(d.Code),
				Declared: d.Declared, Computed: d.Computed, Reason: d.Reason, Explained: d.Explained})
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWriteChangelogAsWhole checks that the streamed JSON changelog is the
// bytes encoding/json gives for the whole changelog, for changes with and
// without fields, links and flags, text that JSON escapes, and systems
// with and without a dot in their codes.
func TestWriteChangelogAsWhole(t *testing.T) {
	odd := []string{"plain", "", `quote " and \ backslash`, "tab\there\nline\r", "<b>&amp;</b>", "é ü 中文", "\u2028\u2029", "\x00\x1f\x7f", "bad \xff utf-8", "\"changes\": []"}
	ls := []*codeset.Changelog{fixture.SampleChangelog(), {System: codeset.HCPCS, To: "2026Q1"}}
	for _, sys := range []codeset.System{codeset.ICD10CM, codeset.CPT, codeset.HCPCS} {
		l := &codeset.Changelog{System: sys, From: "A", To: "B"}
		for i, s := range odd {
			code := fmt.Sprintf("A%02d%s", i, strings.Repeat("X", i%4))
			c := codeset.Change{Code: code, Kind: codeset.ChangeKinds[i%len(codeset.ChangeKinds)], Category: s, Record: codeset.Code{Code: code, Long: s, Short: "short " + s}}
			l.Changes = append(l.Changes, c)
			c.Code, c.Record.Long, c.Record.Short = code+"1", "", s
			c.Reused, c.AlreadyDiscontinued = i%2 == 0, i%3 == 0
			l.Changes = append(l.Changes, c)
			c.Code = code + "2"
			c.Fields = map[string]codeset.FieldChange{"long": {Before: s, After: "x"}, "short": {Before: "", After: s}}
			l.Changes = append(l.Changes, c)
			c.Code, c.Fields = code+"3", nil
			c.ReplacedBy, c.Replaces = []string{"B1234", s}, []string{"C1"}
			l.Changes = append(l.Changes, c)
		}
		l.Summary.Unchanged = 7
		ls = append(ls, l)
		linked := *l
		linked.Replacements = []codeset.Replacement{{Old: "A", New: "B"}}
		linked.LinkProblems = []codeset.LinkProblem{{Code: "A00", Kind: codeset.UnknownCode, Other: odd[3], Reason: odd[2]}}
		linked.Reconciliation = &codeset.Reconciliation{Source: odd[4], Declared: 3, Disagreements: []codeset.Disagreement{{Code: "A00", Reason: odd[5]}}}
		ls = append(ls, &linked)
	}
	for i, l := range ls {
		var b bytes.Buffer
		if err := WriteChangelog(&b, l); err != nil {
			t.Fatal(err)
		}
		if want := wholeChangelog(t, l); !bytes.Equal(b.Bytes(), want) {
			t.Errorf("changelog %d (%s): streamed\n%s\nwant\n%s", i, l.System, b.Bytes(), want)
		}
	}
}

// FuzzWriteChangelogAsWhole is TestWriteChangelogAsWhole on the fuzzer's
// strings.
func FuzzWriteChangelogAsWhole(f *testing.F) {
	f.Add("S72001A", "I", "Fracture <b>&", "\t\"", false)
	f.Add("0016070", "", "\u2028", "\xff", true)
	f.Fuzz(func(t *testing.T, code, category, desc, field string, flag bool) {
		if !utf8.ValidString(code) {
			return
		}
		l := &codeset.Changelog{System: codeset.ICD10CM, To: "FY2026"}
		c := codeset.Change{Code: code, Kind: codeset.Added, Category: category, Record: codeset.Code{Code: code, Long: desc}, Reused: flag}
		l.Changes = append(l.Changes, c)
		c.Fields = map[string]codeset.FieldChange{field: {Before: desc, After: category}}
		l.Changes = append(l.Changes, c)
		var b bytes.Buffer
		if err := WriteChangelog(&b, l); err != nil {
			t.Fatal(err)
		}
		if want := wholeChangelog(t, l); !bytes.Equal(b.Bytes(), want) {
			t.Errorf("streamed\n%s\nwant\n%s", b.Bytes(), want)
		}
	})
}

// BenchmarkWriteChangelog100k measures the JSON changelog of a first
// release of 100,000 ICD-10-CM-like codes, every code added.
func BenchmarkWriteChangelog100k(b *testing.B) {
	const n = 100_000
	l := &codeset.Changelog{System: codeset.ICD10CM, To: "FY2001"}
	for i := range n {
		code := fmt.Sprintf("A%06d", i)
		l.Changes = append(l.Changes, codeset.Change{Code: code, Kind: codeset.Added, Record: codeset.Code{Code: code,
			Short: "Short title of " + code, Long: "Long description of the code " + code + ", with some more words, unspecified"}})
	}
	l.Summary.Added = n
	var w int64
	for b.Loop() {
		c := counter(0)
		if err := WriteChangelog(&c, l); err != nil {
			b.Fatal(err)
		}
		w = int64(c)
	}
	b.SetBytes(w)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/code")
}

// counter counts the bytes written to it and keeps none.
type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }
