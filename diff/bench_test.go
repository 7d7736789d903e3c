package diff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
)

// BenchmarkCompare100k measures Compare on two 100,000-code releases that
// differ the way a large annual update does: about 1% of codes added, 1%
// deleted, 2% revised and 0.1% changed in whitespace only.
func BenchmarkCompare100k(b *testing.B) {
	const n = 100_000
	old, new, want := benchReleases(n, 1)
	for b.Loop() {
		l := Compare(old, new, nil)
		if l.Summary != want {
			b.Fatalf("summary = %+v, want %+v", l.Summary, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/code")
}

// BenchmarkWords measures the word diff of one typical long-descriptor
// revision, as a changelog renderer runs it for every revised code.
func BenchmarkWords(b *testing.B) {
	before := "Insertion of new or replacement of permanent pacemaker with transvenous electrode(s); " +
		"atrial, including fluoroscopic guidance when performed"
	after := "Insertion of new or replacement of permanent pacemaker with transvenous electrode(s); " +
		"dual chamber, including imaging guidance and device interrogation when performed"
	for b.Loop() {
		if segs := Words(before, after); len(segs) < 3 {
			b.Fatalf("Words gave %d segments, want at least 3", len(segs))
		}
	}
}

// BenchmarkWordsRewrite measures the word diff of a descriptor rewritten
// whole (no word kept but the spaces), the worst case for the diff and the
// usual revision of the synthetic releases bench/compare.sh diffs.
func BenchmarkWordsRewrite(b *testing.B) {
	before := "Subsequent cervical lung finger healing delayed"
	after := "Ulna brain pelvis skull healing vein healing nonunion skin other tissue fibula skull"
	for b.Loop() {
		if segs := Words(before, after); len(segs) < 2 {
			b.Fatalf("Words gave %d segments, want at least 2", len(segs))
		}
	}
}

// benchReleases builds two releases of about n codes each with random but
// realistic descriptors, and the summary Compare must report for them. The
// new release holds copies of the strings, as a freshly read release would.
func benchReleases(n int, seed uint64) (old, new *codeset.Release, sum codeset.Summary) {
	r := rand.New(rand.NewPCG(seed, 0xd1ff))
	record := func(i int) codeset.Code {
		c := benchCode(i)
		cat := codeset.CategoryI
		switch c[4] {
		case 'F':
			cat = codeset.CategoryII
		case 'T':
			cat = codeset.CategoryIII
		case 'U':
			cat = codeset.CategoryPLA
		}
		return codeset.Code{
			Code:     c,
			Category: cat,
			Short:    strings.ToUpper(benchPhrase(r, 25)),
			Medium:   benchPhrase(r, 50),
			Long:     benchPhrase(r, 120),
		}
	}
	clone := func(c codeset.Code) codeset.Code {
		c.Code, c.Short = strings.Clone(c.Code), strings.Clone(c.Short)
		c.Medium, c.Long = strings.Clone(c.Medium), strings.Clone(c.Long)
		return c
	}
	old = &codeset.Release{System: codeset.CPT, Label: "2025"}
	new = &codeset.Release{System: codeset.CPT, Label: "2026"}
	for i := 0; len(old.Codes) < n; i++ {
		if i%100 == 50 {
			new.Codes = append(new.Codes, record(i))
			sum.Added++
			continue
		}
		o := record(i)
		old.Codes = append(old.Codes, o)
		c := clone(o)
		switch roll := r.IntN(1000); {
		case roll < 10:
			sum.Deleted++
			continue
		case roll < 30:
			c.Long = benchRevise(r, c.Long)
			if roll < 15 {
				c.Short = strings.ToUpper(benchRevise(r, c.Short))
			}
			sum.Revised++
		case roll < 31:
			c.Long = strings.Replace(c.Long, " ", "  ", 1)
			sum.Cosmetic++
		default:
			sum.Unchanged++
		}
		new.Codes = append(new.Codes, c)
	}
	// benchCode does not count up in code order.
	byCode := func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) }
	slices.SortFunc(old.Codes, byCode)
	slices.SortFunc(new.Codes, byCode)
	return old, new, sum
}

// benchRevise rewords s: one word replaced by a different one and, half the
// time, a word inserted.
func benchRevise(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	k := r.IntN(len(words))
	for was := words[k]; strings.EqualFold(words[k], was); {
		words[k] = benchWords[r.IntN(len(benchWords))]
	}
	if r.IntN(2) == 0 {
		k := r.IntN(len(words) + 1)
		words = append(words[:k], append([]string{benchWords[r.IntN(len(benchWords))]}, words[k:]...)...)
	}
	return strings.Join(words, " ")
}

// benchCode returns the i'th code of a synthetic release: every tenth is a
// Category II, III or PLA code in turn, the rest are 5-digit Category I
// codes. Codes are unique and valid for i < 111,110.
func benchCode(i int) string {
	if i%10 == 0 {
		j := i / 10
		return fmt.Sprintf("%04d%c", j/3, "FTU"[j%3])
	}
	return fmt.Sprintf("%05d", i-i/10-1)
}

var benchWords = strings.Fields(`
	incision drainage abscess skin subcutaneous tissue simple complicated single multiple
	excision lesion benign malignant trunk arms legs scalp neck hands feet genitalia
	repair laceration layered intermediate complex wound closure debridement muscle fascia
	bone removal foreign body implant device insertion replacement catheter tunneled central
	venous access port pump arthroscopy knee shoulder hip surgical diagnostic synovial biopsy
	percutaneous imaging guidance ultrasound fluoroscopic computed tomography magnetic
	resonance radiological supervision interpretation contrast material without with each
	additional first initial subsequent unilateral bilateral anterior posterior approach
	endoscopic laparoscopic open reduction fracture dislocation manipulation anesthesia
	evaluation management office outpatient visit new established patient medical decision
	making straightforward low moderate high level total time minutes spent on date encounter
	when performed including separate procedure list addition code primary for of and or the
	to by in`)

// benchPhrase returns random words from benchWords, about want characters
// long.
func benchPhrase(r *rand.Rand, want int) string {
	var sb strings.Builder
	target := want*3/4 + r.IntN(want/2+1)
	for sb.Len() < target {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(benchWords[r.IntN(len(benchWords))])
	}
	s := sb.String()
	return strings.ToUpper(s[:1]) + s[1:]
}
