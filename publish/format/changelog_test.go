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
