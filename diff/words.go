package diff

import (
	"strings"
	"sync"
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
// It is safe for concurrent use.
//
// A descriptor rewritten rather than edited, one that keeps fewer than half
// the words of the shorter of the two (counted with repeats, case
// sensitive), comes out as its common beginning and end kept and the rest
// deleted and inserted whole: a word diff of a rewrite strews the few words
// that happen to recur ("of", "other") among the changes, and reads worse
// than the two texts one after the other.
func Words(before, after string) []Segment {
	w := wordsPool.Get().(*wordState)
	defer wordsPool.Put(w)
	w.reset()
	// go-diff works on runes; give every distinct token a rune of its own,
	// numbered in order of first appearance, so the character diff becomes
	// a token diff.
	a := w.encode(w.a[:0], before)
	b := w.encode(w.b[:0], after)
	w.a, w.b = a, b
	if w.rewritten(a, b) {
		return w.replaced(a, b)
	}
	diffs := dmp.DiffMainRunes(a, b, false)

	segs := w.segs[:0]
	for _, d := range diffs {
		op := Equal
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = Delete
		case diffmatchpatch.DiffInsert:
			op = Insert
		}
		rs := w.rs[:0]
		for _, r := range d.Text {
			rs = append(rs, r)
		}
		w.rs = rs
		text := w.decode(rs)
		if n := len(segs); n > 0 && segs[n-1].Op == op {
			segs[n-1].Text += text
			continue
		}
		if text != "" {
			segs = append(segs, Segment{Op: op, Text: text})
		}
	}
	w.segs = segs
	return joinReplacements(segs)
}

// dmp is shared: its methods only read its settings.
var dmp = func() *diffmatchpatch.DiffMatchPatch {
	d := diffmatchpatch.New()
	d.DiffTimeout = 0 // no time limit: the same input always gives the same diff
	return d
}()

// rewritten reports whether the descriptors whose tokens are a and b keep
// fewer than half the words of the shorter one.
func (w *wordState) rewritten(a, b []rune) bool {
	left := w.left[:0]
	left = append(left, make([]int32, len(w.tokens))...)
	w.left = left
	na, nb, kept := 0, 0, 0
	for _, r := range a {
		if t := runeToken(r); w.word[t] {
			left[t]++
			na++
		}
	}
	for _, r := range b {
		if t := runeToken(r); w.word[t] {
			nb++
			if left[t] > 0 {
				left[t]--
				kept++
			}
		}
	}
	return 2*kept < min(na, nb)
}

// replaced returns the diff of a rewrite: the tokens a and b begin and
// end with kept, the rest of a deleted and of b inserted.
func (w *wordState) replaced(a, b []rune) []Segment {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var segs []Segment
	for _, s := range []Segment{
		{Equal, w.decode(a[:pre])},
		{Delete, w.decode(a[pre : len(a)-suf])},
		{Insert, w.decode(b[pre : len(b)-suf])},
		{Equal, w.decode(a[len(a)-suf:])},
	} {
		if s.Text != "" {
			segs = append(segs, s)
		}
	}
	return segs
}

// wordState is the scratch space of one Words call, kept for the next.
type wordState struct {
	index  map[string]rune
	tokens []string
	word   []bool // whether each token is a word, not whitespace or punctuation
	left   []int32
	a, b   []rune
	rs     []rune    // a segment of go-diff's, as runes
	segs   []Segment // joinReplacements copies what it keeps
	sb     strings.Builder
}

var wordsPool = sync.Pool{New: func() any { return &wordState{index: map[string]rune{}} }}

func (w *wordState) reset() {
	// A map grown by an unusually long descriptor is dropped rather than
	// cleared on every later call.
	if len(w.tokens) > 256 {
		w.index = map[string]rune{}
	} else {
		clear(w.index)
	}
	w.tokens = w.tokens[:0]
	w.word = w.word[:0]
}

// encode appends to out the runes of the tokens of s: its words, runs of
// whitespace and single punctuation marks, so that "glands" -> "glands,
// with" is an insertion after an unchanged word.
func (w *wordState) encode(out []rune, s string) []rune {
	start, cur := 0, -1
	for i := 0; i < len(s); {
		var c, size int
		if b := s[i]; b < utf8.RuneSelf {
			c, size = int(asciiClass[b]), 1
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			c, size = class(r), n
		}
		if i > start && (c != cur || c == punct) {
			out = append(out, w.token(s[start:i], cur))
			start = i
		}
		if i == start {
			cur = c
		}
		i += size
	}
	if start < len(s) {
		out = append(out, w.token(s[start:], cur))
	}
	return out
}

// token returns the rune of the token t, of class c.
func (w *wordState) token(t string, c int) rune {
	r, ok := w.index[t]
	if !ok {
		r = tokenRune(len(w.tokens))
		w.index[t] = r
		w.tokens = append(w.tokens, t)
		w.word = append(w.word, c == word)
	}
	return r
}

// decode returns the text of the tokens whose runes make up s.
func (w *wordState) decode(s []rune) string {
	n := 0
	for _, r := range s {
		n += len(w.tokens[runeToken(r)])
	}
	w.sb.Reset()
	w.sb.Grow(n)
	for _, r := range s {
		w.sb.WriteString(w.tokens[runeToken(r)])
	}
	return w.sb.String()
}

// asciiClass holds the class of each ASCII character.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for r := range rune(utf8.RuneSelf) {
		t[r] = uint8(class(r))
	}
	return t
}()

// joinReplacements folds a whitespace-only equality between two
// replacements into them, so that "not described" -> "including any" reads
// as one replacement rather than interleaved words. Other equalities stay:
// "including programming" -> "including first programming and review" keeps
// "programming" as kept text.
func joinReplacements(segs []Segment) []Segment {
	if len(segs) == 0 {
		return nil
	}
	// A group is an equality or the deletion and insertion between two.
	type group struct {
		del, ins string
		eq       string
		isEq     bool
	}
	gs := make([]group, 0, 32) // on the stack for a descriptor of ordinary length
	for _, s := range segs {
		switch {
		case s.Op == Equal:
			gs = append(gs, group{eq: s.Text, isEq: true})
		case len(gs) == 0 || gs[len(gs)-1].isEq:
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
	replacement := func(g group) bool { return !g.isEq && g.del != "" && g.ins != "" }
	// joinable reports whether gs[i] is a whitespace-only equality
	// followed by a replacement, which join into the replacement before.
	joinable := func(i int) bool {
		return i+1 < len(gs) && gs[i].isEq && strings.TrimSpace(gs[i].eq) == "" && replacement(gs[i+1])
	}
	res := make([]Segment, 0, len(segs)) // a segment makes at most one
	for i := 0; i < len(gs); i++ {
		g := gs[i]
		if g.isEq {
			res = append(res, Segment{Equal, g.eq})
			continue
		}
		if replacement(g) && joinable(i+1) {
			// Each text is built once, however many replacements join.
			end, dn, in := i, len(g.del), len(g.ins)
			for joinable(end + 1) {
				dn += len(gs[end+1].eq) + len(gs[end+2].del)
				in += len(gs[end+1].eq) + len(gs[end+2].ins)
				end += 2
			}
			var del, ins strings.Builder
			del.Grow(dn)
			ins.Grow(in)
			del.WriteString(g.del)
			ins.WriteString(g.ins)
			for k := i + 1; k < end; k += 2 {
				del.WriteString(gs[k].eq)
				del.WriteString(gs[k+1].del)
				ins.WriteString(gs[k].eq)
				ins.WriteString(gs[k+1].ins)
			}
			g.del, g.ins = del.String(), ins.String()
			i = end
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
