package changelog

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
)

func TestWriteMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, fixture.SampleChangelog()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(out, "\n")
	for _, want := range []string{
		"# CPT changes: 2025 → 2026",
		"- From: 2025, effective 2025-01-01",
		"- To: 2026, effective 2026-01-01",
		"| added | 2 |",
		"| unchanged | 10 |",
		"| category | added | deleted | revised | cosmetic | reactivated |",
		"| I | 0 | 0 | 1 | 1 | 0 |",
		"| (none) | 1 | 0 | 0 | 0 | 0 |",
		"## Added (2)",
		"| 0001U | PLA | Red blood cell \\| antigen typing |",
		"| A0021 |  | Ambulance \\*outside\\* state |",
		"| 0500F | II | Initial prenatal care visit |",
		"| 00100 | I | long | Anesthesia for procedures on salivary glands | Anesthesia for all procedures on salivary glands, with biopsy | Anesthesia for **all** procedures on salivary glands**, with biopsy** |",
		"| 00100 | I | short | ANESTH SALIVARY GLAND | ANESTH SALIVARY GLANDS | ANESTH SALIVARY ~~GLAND~~ **GLANDS** |",
		"| 99213 | I | long | Office␣␣visit | Office visit␣ |",
		"| 0596T | III | TEMP FEMALE INTRAURETHRAL |",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("markdown lacks line\n%s\ngot\n%s", want, out)
		}
	}
	// Categories in order I, II, III, PLA, then none; sections in kind order.
	order := []string{"| I |", "| II |", "| III |", "| PLA |", "| (none) |", "## Added", "## Deleted", "## Revised", "## Cosmetic", "## Reactivated"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		if i <= last {
			t.Errorf("%q at %d, want after %d", s, i, last)
		}
		last = i
	}

	var again bytes.Buffer
	if err := WriteMarkdown(&again, fixture.SampleChangelog()); err != nil {
		t.Fatal(err)
	}
	if again.String() != out {
		t.Errorf("second rendering differs")
	}
}

func TestWriteMarkdownFirstRelease(t *testing.T) {
	l := &codeset.Changelog{System: codeset.ICD10CM, To: "FY2026", ToEffective: fixture.Day(2025, 10, 1),
		Changes: []codeset.Change{{Code: "A000", Kind: codeset.Added, Record: codeset.Code{Code: "A000", Long: "Cholera due to Vibrio cholerae 01, biovar cholerae"}}}}
	l.Summary.Added = 1
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, l); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"# ICD-10-CM changes: FY2026 (first release)\n",
		"- Release: FY2026, effective 2025-10-01\n",
		"| A00.0 |  | Cholera due to Vibrio cholerae 01, biovar cholerae |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q; got\n%s", want, out)
		}
	}
	for _, absent := range []string{"## By category", "## Revised", "## Deleted"} {
		if strings.Contains(out, absent) {
			t.Errorf("markdown has %q, want it omitted; got\n%s", absent, out)
		}
	}
}

func TestCellEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a|b", `a\|b`},
		{"line one\nline two", "line one<br>line two"},
		{"a\r\nb", "a<br>b"},
		{"<b>", "&lt;b>"},
		{"plain, text", "plain, text"},
	}
	for _, tt := range tests {
		if got := cell(tt.in); got != tt.want {
			t.Errorf("cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVisibleSpace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a b", "a b"},
		{"a  b", "a␣␣b"},
		{" a", "␣a"},
		{"a ", "a␣"},
		{"a\tb", "a␉b"},
		{"a\u00a0b", "a⍽b"},
		{"a\nb", "a↵b"},
	}
	for _, tt := range tests {
		if got := visibleSpace(tt.in); got != tt.want {
			t.Errorf("visibleSpace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWordDiff(t *testing.T) {
	tests := []struct{ before, after, want string }{
		{"a b c", "a x c", "a ~~b~~ **x** c"},
		{"same", "same", "same"},
		{"a b", "a  b", "a~~␣~~**␣␣**b"},
		{"", "new words", "**new words**"},
		{"x|y", "x|z", `~~x\|y~~ **x\|z**`},
	}
	for _, tt := range tests {
		if got := wordDiff(tt.before, tt.after); got != tt.want {
			t.Errorf("wordDiff(%q, %q) = %q, want %q", tt.before, tt.after, got, tt.want)
		}
	}
}
