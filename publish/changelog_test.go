package publish

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// sampleChangelog returns a CPT changelog with one change of every kind.
func sampleChangelog() *codeset.Changelog {
	l := &codeset.Changelog{
		System:        codeset.CPT,
		From:          "2025",
		To:            "2026",
		FromEffective: day(2025, 1, 1),
		ToEffective:   day(2026, 1, 1),
		Changes: []codeset.Change{
			{Code: "0001U", Kind: codeset.Added, Category: "PLA",
				Record: codeset.Code{Code: "0001U", Category: "PLA", Short: "RBC DNA", Long: "Red blood cell | antigen typing"}},
			{Code: "00100", Kind: codeset.Revised, Category: "I",
				Fields: map[string]codeset.FieldChange{
					"short": {Before: "ANESTH SALIVARY GLAND", After: "ANESTH SALIVARY GLANDS"},
					"long":  {Before: "Anesthesia for procedures on salivary glands", After: "Anesthesia for all procedures on salivary glands, with biopsy"},
				},
				Record: codeset.Code{Code: "00100", Category: "I", Long: "Anesthesia for all procedures on salivary glands, with biopsy"}},
			{Code: "0500F", Kind: codeset.Deleted, Category: "II",
				Record: codeset.Code{Code: "0500F", Category: "II", Medium: "Initial prenatal care visit"}},
			{Code: "0596T", Kind: codeset.Reactivated, Category: "III",
				Fields: map[string]codeset.FieldChange{"status": {Before: "deleted", After: "active"}},
				Record: codeset.Code{Code: "0596T", Category: "III", Short: "TEMP FEMALE INTRAURETHRAL"}},
			{Code: "99213", Kind: codeset.Cosmetic, Category: "I",
				Fields: map[string]codeset.FieldChange{"long": {Before: "Office  visit", After: "Office visit "}},
				Record: codeset.Code{Code: "99213", Category: "I", Long: "Office visit "}},
			{Code: "A0021", Kind: codeset.Added, Category: "",
				Record: codeset.Code{Code: "A0021", Long: "Ambulance *outside* state"}},
		},
	}
	for _, c := range l.Changes {
		l.Summary.Add(c.Kind)
	}
	l.Summary.Unchanged = 10
	return l
}

func TestWriteJSONContract(t *testing.T) {
	first := &codeset.Changelog{System: codeset.HCPCS, To: "2026Q1", ToEffective: day(2026, 1, 1)}
	tests := []struct {
		name   string
		l      *codeset.Changelog
		want   map[string]any // top-level values to check
		nChg   int
		fields []map[string]any // fields of each change
	}{
		{
			name: "second release",
			l:    sampleChangelog(),
			want: map[string]any{"system": "cpt", "from": "2025", "to": "2026", "from_effective": "2025-01-01", "to_effective": "2026-01-01"},
			nChg: 6,
		},
		{
			name: "first release",
			l:    first,
			want: map[string]any{"system": "hcpcs", "from": nil, "to": "2026Q1", "from_effective": nil, "to_effective": "2026-01-01"},
			nChg: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJSON(&buf, tt.l); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !strings.HasSuffix(out, "}\n") || !strings.HasPrefix(out, "{\n  \"system\": ") {
				t.Errorf("output not two-space indented with trailing newline:\n%s", out)
			}
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"changes", "from", "from_effective", "reconciliation", "summary", "system", "to", "to_effective"}; !reflect.DeepEqual(keys, want) {
				t.Errorf("top-level keys = %v, want %v", keys, want)
			}
			for k, want := range tt.want {
				if got := m[k]; got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			summary, _ := m["summary"].(map[string]any)
			for _, k := range []string{"added", "deleted", "revised", "cosmetic", "reactivated", "unchanged"} {
				if _, ok := summary[k]; !ok {
					t.Errorf("summary lacks %q: %v", k, summary)
				}
			}
			changes, ok := m["changes"].([]any)
			if !ok {
				t.Fatalf("changes = %#v, want an array", m["changes"])
			}
			if len(changes) != tt.nChg {
				t.Errorf("len(changes) = %d, want %d", len(changes), tt.nChg)
			}
			for _, c := range changes {
				c := c.(map[string]any)
				for _, k := range []string{"code", "display", "change", "category", "description", "fields"} {
					if _, ok := c[k]; !ok {
						t.Errorf("change %v lacks %q", c["code"], k)
					}
				}
				if _, ok := c["fields"].(map[string]any); !ok {
					t.Errorf("change %v fields = %#v, want an object", c["code"], c["fields"])
				}
			}
		})
	}
}

func TestWriteJSONChange(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleChangelog()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`      "code": "0500F",
      "display": "0500F",
      "change": "deleted",
      "category": "II",
      "description": "Initial prenatal care visit",
      "fields": {}`,
		`        "status": {
          "before": "deleted",
          "after": "active"
        }`,
		`"description": "Red blood cell | antigen typing",`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("JSON lacks\n%s\ngot\n%s", want, buf.String())
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, l := range []*codeset.Changelog{sampleChangelog(), {System: codeset.ICD10PCS, To: "FY2026"}} {
		var buf bytes.Buffer
		if err := WriteJSON(&buf, l); err != nil {
			t.Fatal(err)
		}
		got, err := ReadJSON(&buf)
		if err != nil {
			t.Fatalf("ReadJSON: %v", err)
		}
		if got.System != l.System || got.From != l.From || got.To != l.To ||
			!got.FromEffective.Equal(l.FromEffective) || !got.ToEffective.Equal(l.ToEffective) {
			t.Errorf("header = %s %q→%q %v %v, want %s %q→%q %v %v", got.System, got.From, got.To, got.FromEffective, got.ToEffective,
				l.System, l.From, l.To, l.FromEffective, l.ToEffective)
		}
		if got.Summary != l.Summary {
			t.Errorf("Summary = %+v, want %+v", got.Summary, l.Summary)
		}
		if len(got.Changes) != len(l.Changes) {
			t.Fatalf("%d changes, want %d", len(got.Changes), len(l.Changes))
		}
		for i, g := range got.Changes {
			w := l.Changes[i]
			if g.Code != w.Code || g.Kind != w.Kind || g.Category != w.Category || !reflect.DeepEqual(g.Fields, w.Fields) {
				t.Errorf("change %d = %+v, want %+v", i, g, w)
			}
			if got, want := g.Record.Description(), w.Record.Description(); got != want {
				t.Errorf("change %d description = %q, want %q", i, got, want)
			}
		}
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not json", "nope", "read json changelog"},
		{"bad kind", `{"system":"cpt","to":"2026","changes":[{"code":"1","change":"moved"}]}`, `unknown change "moved"`},
		{"bad date", `{"system":"cpt","to":"2026","to_effective":"01/01/2026"}`, `bad to_effective "01/01/2026"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadJSON error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, sampleChangelog()); err != nil {
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
	if err := WriteMarkdown(&again, sampleChangelog()); err != nil {
		t.Fatal(err)
	}
	if again.String() != out {
		t.Errorf("second rendering differs")
	}
}

func TestWriteMarkdownFirstRelease(t *testing.T) {
	l := &codeset.Changelog{System: codeset.ICD10CM, To: "FY2026", ToEffective: day(2025, 10, 1),
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
