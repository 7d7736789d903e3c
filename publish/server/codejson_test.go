package server

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

// randomResponse builds a code answer whose every part may be empty, nil
// or filled, with strings drawn from words.
func randomResponse(rng *rand.Rand, words []string) *format.CodeResponse {
	s := func() string {
		if rng.IntN(4) == 0 {
			return ""
		}
		return words[rng.IntN(len(words))]
	}
	strs := func() []string {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		out := make([]string, 1+rng.IntN(3))
		for i := range out {
			out[i] = s()
		}
		return out
	}
	smap := func() map[string]string {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return map[string]string{}
		}
		m := map[string]string{}
		for range 1 + rng.IntN(4) {
			m[s()] = s()
		}
		return m
	}
	rec := func() format.Record {
		return format.Record{Category: s(), Short: s(), Medium: s(), Long: s(), Status: s(), Attributes: smap(), Meta: smap()}
	}
	links := func() []format.HistoryLink {
		if rng.IntN(3) == 0 {
			return nil
		}
		var out []format.HistoryLink
		for range rng.IntN(3) {
			out = append(out, format.HistoryLink{Code: s(), Release: s(), Source: s(), How: codeset.Stated(s())})
		}
		if out == nil {
			out = []format.HistoryLink{}
		}
		return out
	}
	r := &format.CodeResponse{
		System: codeset.System(s()), Code: s(), Written: s(), Display: s(), Release: s(), Effective: s(), Status: s(),
		Billable: rng.IntN(2) == 0, Header: rng.IntN(2) == 0, Parent: s(), EffectiveDate: s(), RetirementDate: s(),
		ReplacedBy: strs(), Message: s(),
	}
	if rng.IntN(4) != 0 {
		c := rec()
		r.Record = &c
	}
	if rng.IntN(4) != 0 {
		h := &format.CodeHistory{Code: s(), FirstRelease: s(), LastRelease: s(), Record: rec(),
			Replaces: links(), ReplacedBy: links(), Current: strs()}
		if rng.IntN(4) != 0 {
			h.Events = []format.HistoryEvent{}
			for range rng.IntN(4) {
				e := format.HistoryEvent{Release: s(), Change: codeset.ChangeKind(s())}
				if rng.IntN(4) != 0 {
					e.Fields = map[string]codeset.FieldChange{}
					for range rng.IntN(3) {
						e.Fields[s()] = codeset.FieldChange{Before: s(), After: s()}
					}
				}
				h.Events = append(h.Events, e)
			}
		}
		r.History = h
	}
	return r
}

func wantCodeJSON(t testing.TB, r *format.CodeResponse) []byte {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCodeJSON(t *testing.T) {
	words := []string{"E1165", "Type 2 diabetes mellitus", "FY2025", "a \"quoted\" <b>&</b>", "tab\there\nline",
		"caf\u00e9", "\u2028\u2029", "bad \xff utf-8", "back\\slash", "\x00\x01\x1f\x7f", "short", "long", "{}", "z", "A"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		r := randomResponse(rng, words)
		want := wantCodeJSON(t, r)
		if got := appendCodeResponse(nil, r); !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzCodeJSON(f *testing.F) {
	for _, s := range []string{"", "E11.65", "<&>", "\u2028", "\xff", "\t\"\\"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		r := &format.CodeResponse{Code: a, Display: b, Parent: a, Message: b, ReplacedBy: []string{a, b},
			Record: &format.Record{Short: a, Long: b, Attributes: map[string]string{a: b, b: a}, Meta: map[string]string{b: a}},
			History: &format.CodeHistory{Code: a, Events: []format.HistoryEvent{{Release: b, Fields: map[string]codeset.FieldChange{a: {Before: a, After: b}}}},
				Replaces: []format.HistoryLink{{Code: a, How: codeset.Stated(b)}}, Current: []string{b}}}
		want := wantCodeJSON(t, r)
		if got := appendCodeResponse(nil, r); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
