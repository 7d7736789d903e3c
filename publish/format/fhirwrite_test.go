package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/codeset/codeset"
)

// marshalled is what codesystem.json held before WriteCodeSystem: the whole
// CodeSystem through json.Marshal, and a newline.
func marshalled(t testing.TB, rel *codeset.Release, effective map[string]string, licence string) []byte {
	t.Helper()
	b, err := json.Marshal(CodeSystemOf(rel, effective, licence))
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// awkward are descriptor texts encoding/json escapes in every way it can.
var awkward = []string{
	"plain text", "", "quote \" and backslash \\", "<b>&amp;</b>", "tab\tnew\nline\rcr",
	"\x00\x01\x1f control", "caf\u00e9 na\u00efve", "line\u2028para\u2029sep", "bad \xff\xfe utf-8",
	"emoji \U0001F600", "del \x7f", "=SUM(A1)", "\u00a0nbsp",
}

func TestWriteCodeSystemMatchesMarshal(t *testing.T) {
	eff := time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)
	icd := &codeset.Release{System: codeset.ICD10CM, Label: "FY2025", Effective: eff}
	for i, s := range awkward {
		code := fmt.Sprintf("A%02d%d", i, i%3)
		icd.Codes = append(icd.Codes, codeset.Code{Code: code, Short: s, Long: awkward[(i+1)%len(awkward)]})
	}
	// Headers above the codes, one with the same code as a code.
	icd.Headers = []codeset.Code{{Code: "A00", Short: "header <A00>"}, {Code: "A01", Short: "header"}, {Code: "A010", Short: "same as a code"}, {Code: "Z99", Short: "last"}}
	// Unsorted codes and headers are sorted in the output.
	unsorted := &codeset.Release{System: codeset.ICD10CM, Label: "FY2025",
		Codes:   []codeset.Code{{Code: "B20", Long: "b"}, {Code: "A10", Long: "a"}, {Code: "B10", Long: "c", Short: "c"}},
		Headers: []codeset.Code{{Code: "B1", Long: "h"}, {Code: "A1", Long: "h2"}}}
	hcpcs := &codeset.Release{System: codeset.HCPCS, Label: "2025", Codes: []codeset.Code{
		{Code: "A0021", Short: "short", Medium: "medium", Long: "long", Attrs: map[string]string{"termination_date": "20251231"}},
		{Code: "A0080", Short: "same", Long: "same", Status: codeset.StatusDiscontinued, Meta: codeset.MetaOf(map[string]string{"termination_date": "2025-03-31"})},
		{Code: "G0001", Medium: "only medium"},
	}}
	cpt := &codeset.Release{System: codeset.CPT, Label: "2026", Codes: []codeset.Code{
		{Code: "0001A", Category: "PLA", Short: "s", Medium: "m", Long: "l"},
		{Code: "99213", Category: "I", Short: "office visit", Long: "Office or other outpatient visit & <stuff>"},
	}}
	empty := &codeset.Release{System: codeset.ICD10PCS, Label: "FY2025"}
	effective := map[string]string{"A000": "2015-10-01", "A0080": "2020-01-01", "99213": "2013-01-01"}
	for _, tc := range []struct {
		name string
		rel  *codeset.Release
	}{{"icd10cm", icd}, {"unsorted", unsorted}, {"hcpcs", hcpcs}, {"cpt", cpt}, {"empty", empty}} {
		for _, licence := range []string{"", LicenceFull, LicenceCodesOnly} {
			t.Run(tc.name+"/"+licence, func(t *testing.T) {
				want := marshalled(t, tc.rel, effective, licence)
				var got bytes.Buffer
				if err := WriteCodeSystem(&got, tc.rel, effective, licence); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("WriteCodeSystem differs from json.Marshal:\n got %s\nwant %s", got.Bytes(), want)
				}
			})
		}
	}
	if unsorted.Codes[0].Code != "B20" || unsorted.Headers[0].Code != "B1" {
		t.Errorf("WriteCodeSystem reordered the release's codes")
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

// BenchmarkWriteCodeSystem measures codesystem.json of a 100,000-code
// release with headers, streamed; BenchmarkMarshalCodeSystem the whole
// document through json.Marshal, as it was written before.
func BenchmarkWriteCodeSystem(b *testing.B) {
	rel, eff := benchCodeSystemRelease(100_000)
	var w countWriter
	for b.Loop() {
		w = 0
		if err := WriteCodeSystem(&w, rel, eff, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(w))
}

func BenchmarkMarshalCodeSystem(b *testing.B) {
	rel, eff := benchCodeSystemRelease(100_000)
	for b.Loop() {
		if _, err := json.Marshal(CodeSystemOf(rel, eff, "")); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCodeSystemRelease(n int) (*codeset.Release, map[string]string) {
	rel := &codeset.Release{System: codeset.ICD10CM, Label: "FY2025", Effective: time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)}
	eff := map[string]string{}
	for i := range n {
		code := fmt.Sprintf("A%04d", i)
		rel.Codes = append(rel.Codes, codeset.Code{Code: code, Short: "Short text of code " + code, Long: "A longer descriptor of the code " + code + ", with some words in it, unspecified"})
		if i%10 == 0 {
			rel.Headers = append(rel.Headers, codeset.Code{Code: code[:4], Short: "Header " + code[:4]})
			eff[code] = "2015-10-01"
		}
	}
	return rel, eff
}

// countWriter counts the bytes written to it and keeps none.
type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

// TestAppendJSONObjectMatchesMarshal checks AppendJSONObject against
// json.Marshal on empty, nil and random maps of awkward strings.
func TestAppendJSONObjectMatchesMarshal(t *testing.T) {
	maps := []map[string]string{nil, {}, {"a": "b"}}
	for i := range 500 {
		m := map[string]string{}
		for j := range i % 12 {
			m[awkward[(i+j)%len(awkward)]+fmt.Sprint(j%3)] = awkward[(i*7+j)%len(awkward)]
		}
		maps = append(maps, m)
	}
	for _, m := range maps {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if m == nil {
			want = []byte("{}") // the writers' form of no object
		}
		if got := AppendJSONObject([]byte("x"), m); string(got) != "x"+string(want) {
			t.Errorf("AppendJSONObject(%q) = %s, json.Marshal gives %s", m, got[1:], want)
		}
	}
}

func FuzzAppendJSONObject(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s+"v", "k2", "v2")
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		m := map[string]string{k1: v1, k2: v2}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONObject(nil, m); string(got) != string(want) {
			t.Errorf("AppendJSONObject(%q) = %s, json.Marshal gives %s", m, got, want)
		}
	})
}
