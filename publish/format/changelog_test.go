package format

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
)

func TestWriteJSONContract(t *testing.T) {
	first := &codeset.Changelog{System: codeset.HCPCS, To: "2026Q1", ToEffective: fixture.Day(2026, 1, 1)}
	tests := []struct {
		name   string
		l      *codeset.Changelog
		want   map[string]any // top-level values to check
		nChg   int
		fields []map[string]any // fields of each change
	}{
		{
			name: "second release",
			l:    fixture.SampleChangelog(),
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
			if err := WriteChangelog(&buf, tt.l); err != nil {
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
			if want := []string{"changes", "from", "from_effective", "link_problems", "reconciliation", "summary", "system", "to", "to_effective"}; !reflect.DeepEqual(keys, want) {
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
				for _, k := range []string{"code", "display", "change", "category", "description", "fields", "replaced_by", "replaces"} {
					if _, ok := c[k]; !ok {
						t.Errorf("change %v lacks %q", c["code"], k)
					}
				}
				for _, k := range []string{"replaced_by", "replaces"} {
					if _, ok := c[k].([]any); !ok {
						t.Errorf("change %v %s = %#v, want an array", c["code"], k, c[k])
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
	if err := WriteChangelog(&buf, fixture.SampleChangelog()); err != nil {
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

// The replacement links of a change, and the link problems, as the
// contract shows them: codes with their display forms, arrays never null
// on a change, link_problems null only when no links are stated.
func TestWriteJSONReplacements(t *testing.T) {
	l := &codeset.Changelog{
		System: codeset.ICD10CM, From: "FY2024", To: "FY2025",
		Changes: []codeset.Change{
			{Code: "A047", Kind: codeset.Deleted, ReplacedBy: []string{"A0471", "A0472"}},
			{Code: "A0471", Kind: codeset.Added, Replaces: []string{"A047"}},
			{Code: "Z9999", Kind: codeset.Deleted},
		},
		Replacements: []codeset.Replacement{{Old: "A047", New: "A0471"}, {Old: "A047", New: "A0472"}},
		LinkProblems: []codeset.LinkProblem{{Code: "Z9999", Kind: codeset.NoReplacement, Reason: "deleted, and the publisher names no replacement"}},
	}
	var buf bytes.Buffer
	if err := WriteChangelog(&buf, l); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Changes []struct {
			Code       string           `json:"code"`
			ReplacedBy []map[string]any `json:"replaced_by"`
			Replaces   []map[string]any `json:"replaces"`
		} `json:"changes"`
		LinkProblems []map[string]any `json:"link_problems"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Changes[0].ReplacedBy); n != 2 || got.Changes[0].ReplacedBy[1]["display"] != "A04.72" || got.Changes[0].ReplacedBy[1]["code"] != "A0472" {
		t.Errorf("A04.7 replaced_by = %v, want A04.71 and A04.72 with display forms", got.Changes[0].ReplacedBy)
	}
	if got.Changes[1].Replaces[0]["display"] != "A04.7" {
		t.Errorf("A04.71 replaces = %v, want A04.7", got.Changes[1].Replaces)
	}
	if got.Changes[2].ReplacedBy == nil || len(got.Changes[2].ReplacedBy) != 0 {
		t.Errorf("Z99.99 replaced_by = %#v, want []", got.Changes[2].ReplacedBy)
	}
	if len(got.LinkProblems) != 1 || got.LinkProblems[0]["problem"] != "no-replacement" || got.LinkProblems[0]["display"] != "Z99.99" {
		t.Errorf("link_problems = %v, want Z99.99 no-replacement", got.LinkProblems)
	}
	back, err := ReadChangelog(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Changes[0].ReplacedBy, l.Changes[0].ReplacedBy) || !reflect.DeepEqual(back.LinkProblems, l.LinkProblems) {
		t.Errorf("round trip: replaced_by %v, problems %v", back.Changes[0].ReplacedBy, back.LinkProblems)
	}
	l.Replacements = nil
	buf.Reset()
	if err := WriteChangelog(&buf, l); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"link_problems": null`) {
		t.Errorf("no links stated: want \"link_problems\": null, got\n%s", buf.String())
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, l := range []*codeset.Changelog{fixture.SampleChangelog(), {System: codeset.ICD10PCS, To: "FY2026"}} {
		var buf bytes.Buffer
		if err := WriteChangelog(&buf, l); err != nil {
			t.Fatal(err)
		}
		got, err := ReadChangelog(&buf)
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
			_, err := ReadChangelog(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadJSON error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
