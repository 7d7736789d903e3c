package diff

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Op is the operation of one Segment of a word diff.
type Op int

// The operations of a word diff.
const (
	Equal Op = iota
	Delete
	Insert
)

// Segment is a run of text that is kept, deleted or inserted.
type Segment struct {
	Op   Op
	Text string
}

// Words diffs two descriptors word by word: a changed word is deleted and
// inserted whole, never split into characters. Whitespace runs are tokens of
// their own, so a doubled space shows up as such. The output is deterministic.
func Words(before, after string) []Segment {
	// go-diff works on runes; give every distinct token a rune of its own so
	// the character diff becomes a token diff.
	index := map[string]rune{}
	var tokens []string
	encode := func(s string) []rune {
		var out []rune
		for _, t := range tokenize(s) {
			r, ok := index[t]
			if !ok {
				r = tokenRune(len(tokens))
				index[t] = r
				tokens = append(tokens, t)
			}
			out = append(out, r)
		}
		return out
	}
	a, b := encode(before), encode(after)

	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // no time limit: the same input always gives the same diff
	diffs := dmp.DiffMainRunes(a, b, false)

	var segs []Segment
	for _, d := range diffs {
		var sb strings.Builder
		for _, r := range d.Text {
			sb.WriteString(tokens[runeToken(r)])
		}
		op := Equal
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = Delete
		case diffmatchpatch.DiffInsert:
			op = Insert
		}
		if n := len(segs); n > 0 && segs[n-1].Op == op {
			segs[n-1].Text += sb.String()
			continue
		}
		if sb.Len() > 0 {
			segs = append(segs, Segment{Op: op, Text: sb.String()})
		}
	}
	return joinReplacements(segs)
}

// joinReplacements folds a whitespace-only equality between two
// replacements into them, so that "not described" -> "including any" reads
// as one replacement rather than interleaved words. Other equalities stay:
// "including programming" -> "including first programming and review" keeps
// "programming" as kept text.
func joinReplacements(segs []Segment) []Segment {
	type group struct {
		del, ins string
		eq       *string // non-nil for an equality
	}
	var gs []group
	for _, s := range segs {
		switch {
		case s.Op == Equal:
			t := s.Text
			gs = append(gs, group{eq: &t})
		case len(gs) == 0 || gs[len(gs)-1].eq != nil:
			gs = append(gs, group{})
			fallthrough
		default:
			g := &gs[len(gs)-1]
			if s.Op == Delete {
				g.del += s.Text
			} else {
				g.ins += s.Text
			}
		}
	}
	replacement := func(g group) bool { return g.eq == nil && g.del != "" && g.ins != "" }
	var out []group
	for i := 0; i < len(gs); i++ {
		g := gs[i]
		if n := len(out); n > 0 && g.eq != nil && strings.TrimSpace(*g.eq) == "" &&
			replacement(out[n-1]) && i+1 < len(gs) && replacement(gs[i+1]) {
			out[n-1].del += *g.eq + gs[i+1].del
			out[n-1].ins += *g.eq + gs[i+1].ins
			i++
			continue
		}
		out = append(out, g)
	}
	var res []Segment
	for _, g := range out {
		if g.eq != nil {
			res = append(res, Segment{Equal, *g.eq})
			continue
		}
		if g.del != "" {
			res = append(res, Segment{Delete, g.del})
		}
		if g.ins != "" {
			res = append(res, Segment{Insert, g.ins})
		}
	}
	return res
}

// tokenize splits s into words, runs of whitespace and single punctuation
// marks, so that "glands" -> "glands, with" is an insertion after an
// unchanged word.
func tokenize(s string) []string {
	var toks []string
	start := 0
	for i, r := range s {
		if i > start && (class(r) != classAt(s, start) || class(r) == punct) {
			toks = append(toks, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

const (
	word = iota
	space
	punct
)

func class(r rune) int {
	switch {
	case unicode.IsSpace(r):
		return space
	case unicode.IsPunct(r):
		return punct
	}
	return word
}

func classAt(s string, i int) int {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return class(r)
}

// Token numbers map to runes, skipping the surrogate range, which is not
// valid in a Go string.
func tokenRune(n int) rune {
	r := rune(n + 1)
	if r >= 0xD800 {
		r += 0x800
	}
	return r
}

func runeToken(r rune) int {
	if r >= 0xE000 {
		r -= 0x800
	}
	return int(r - 1)
}
