package diff

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// wordsRef is Words as it was first written (a fresh token map, []string
// tokens and go-diff settings per call), with the rule for rewrites
// written plainly: the reference the faster Words must agree with,
// segment for segment.
func wordsRef(before, after string) []Segment {
	index := map[string]rune{}
	var tokens []string
	encode := func(s string) []rune {
		var out []rune
		for _, t := range tokenizeRef(s) {
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
	if rewrittenRef(tokenizeRef(before), tokenizeRef(after)) {
		return replacedRef(tokenizeRef(before), tokenizeRef(after))
	}
	d := diffmatchpatch.New()
	d.DiffTimeout = 0
	var segs []Segment
	for _, x := range d.DiffMainRunes(a, b, false) {
		var sb strings.Builder
		for _, r := range x.Text {
			sb.WriteString(tokens[runeToken(r)])
		}
		op := Equal
		switch x.Type {
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
	return joinReplacementsRef(segs)
}

// joinReplacementsRef is joinReplacements as first written:
// it folds a whitespace-only equality between two
// replacements into them, so that "not described" -> "including any" reads
// as one replacement rather than interleaved words. Other equalities stay:
// "including programming" -> "including first programming and review" keeps
// "programming" as kept text.
func joinReplacementsRef(segs []Segment) []Segment {
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

// rewrittenRef reports whether the token lists a and b share fewer than
// half the words of the shorter (words counted with repeats).
func rewrittenRef(a, b []string) bool {
	isWord := func(t string) bool {
		for _, r := range t {
			return class(r) == word
		}
		return false
	}
	count := map[string]int{}
	na, nb, shared := 0, 0, 0
	for _, t := range a {
		if isWord(t) {
			count[t]++
			na++
		}
	}
	for _, t := range b {
		if isWord(t) {
			nb++
			if count[t] > 0 {
				count[t]--
				shared++
			}
		}
	}
	return float64(shared) < float64(min(na, nb))/2
}

// replacedRef keeps the tokens a and b begin and end with and replaces the
// rest.
func replacedRef(a, b []string) []Segment {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	j := 0
	for j < len(a)-i && j < len(b)-i && a[len(a)-1-j] == b[len(b)-1-j] {
		j++
	}
	var out []Segment
	add := func(op Op, toks []string) {
		if t := strings.Join(toks, ""); t != "" {
			out = append(out, Segment{op, t})
		}
	}
	add(Equal, a[:i])
	add(Delete, a[i:len(a)-j])
	add(Insert, b[i:len(b)-j])
	add(Equal, a[len(a)-j:])
	return out
}

func tokenizeRef(s string) []string {
	classAt := func(i int) int {
		for _, r := range s[i:] {
			return class(r)
		}
		return word
	}
	var toks []string
	start := 0
	for i, r := range s {
		if i > start && (class(r) != classAt(start) || class(r) == punct) {
			toks = append(toks, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

// TestWordsAsReference checks Words against wordsRef on random revisions
// (words replaced, inserted, dropped, whole descriptors rewritten, odd
// whitespace, punctuation and non-ASCII text), from several goroutines at
// once as a renderer calls it.
func TestWordsAsReference(t *testing.T) {
	extra := []string{",", ";", "(s)", "  ", "\u00a0", "\t", "é", "Ünter", "–", "x\u200by", "\xff", "\n"}
	pick := func(r *rand.Rand) string {
		if r.IntN(8) == 0 {
			return extra[r.IntN(len(extra))]
		}
		return benchWords[r.IntN(len(benchWords))]
	}
	phrase := func(r *rand.Rand, n int) []string {
		w := make([]string, n)
		for i := range w {
			w[i] = pick(r)
		}
		return w
	}
	join := func(r *rand.Rand, w []string) string {
		var sb strings.Builder
		for i, x := range w {
			if i > 0 && r.IntN(6) > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(x)
		}
		return sb.String()
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 11))
			for range 3000 {
				a := phrase(r, r.IntN(30))
				var b []string
				switch r.IntN(4) {
				case 0: // rewritten
					b = phrase(r, r.IntN(30))
				default: // edited
					b = append([]string(nil), a...)
					for range 1 + r.IntN(3) {
						k := r.IntN(len(b) + 1)
						switch r.IntN(3) {
						case 0:
							b = append(b[:k], append([]string{pick(r)}, b[k:]...)...)
						case 1:
							if k < len(b) {
								b = append(b[:k], b[k+1:]...)
							}
						default:
							if k < len(b) {
								b[k] = pick(r)
							}
						}
					}
				}
				before, after := join(r, a), join(r, b)
				if got, want := Words(before, after), wordsRef(before, after); !reflect.DeepEqual(got, want) {
					t.Errorf("Words(%q, %q) = %v, want %v", before, after, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzWordsAsReference checks Words against wordsRef on any input.
func FuzzWordsAsReference(f *testing.F) {
	f.Add("Repair of nail", "Repair of toe nail")
	f.Add("a  b\u00a0c, d", "a b c d;")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := Words(a, b), wordsRef(a, b); !reflect.DeepEqual(got, want) {
			t.Errorf("Words(%q, %q) = %v, want %v", a, b, got, want)
		}
	})
}

// FuzzSameWords checks SameWords against its definition: the same words
// once split at whitespace.
func FuzzSameWords(f *testing.F) {
	f.Add("a  b\u00a0c", "a b c")
	f.Add(" x\u2028y\u0085", "x y")
	f.Add("a\xffb", "a\xff b")
	f.Fuzz(func(t *testing.T, a, b string) {
		want := strings.Join(strings.FieldsFunc(a, unicode.IsSpace), " ") == strings.Join(strings.FieldsFunc(b, unicode.IsSpace), " ")
		if got := SameWords(a, b); got != want {
			t.Errorf("SameWords(%q, %q) = %v, want %v", a, b, got, want)
		}
		if !SameWords(a, a) {
			t.Errorf("SameWords(%q, itself) = false", a)
		}
	})
}
