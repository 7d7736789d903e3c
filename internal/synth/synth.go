// Package synth makes reproducible synthetic ICD-10-CM-like releases for
// tests and benchmarks: a series of releases from a seed, each changing a
// few percent of the one before (added, deleted, revised, whitespace-only
// and, once codes have been deleted, reactivated codes).
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/codeset/codeset"
)

var words = strings.Fields(`acute chronic left right upper lower fracture displaced nondisplaced
closed open initial subsequent sequela encounter routine delayed healing nonunion malunion
infection bacterial viral fungal unspecified other specified disorder syndrome disease lesion
injury burn degree abdomen thorax femur tibia fibula humerus radius ulna shoulder elbow wrist
hand finger hip knee ankle foot toe skull vertebra lumbar cervical thoracic sacral pelvis
artery vein nerve muscle tendon ligament skin tissue kidney liver lung heart brain eye ear`)

// Series returns count releases of n codes each (the first has n; later
// ones drift by about 1% added and 1% deleted), labeled FY2001, FY2002,
// ... and effective each October 1, made from seed. Release i+1 differs
// from release i by about 1% added codes, 1% deleted, 2% revised, 0.1%
// whitespace-only fixes, and some codes deleted earlier come back.
//
// The series grows: a twentieth of the codes deleted so far come back in
// each release, on top of as many new codes as a hundredth of the release
// before (at 75,000 codes and seed 1: 75,027 in the second release, 80,361
// in the twentieth), and those it brings back in the second release were
// deleted from the first in the same step. Steady holds its size.
func Series(seed uint64, n, count int) []*codeset.Release {
	return series(seed, n, count, false)
}

// Steady returns count releases of n codes each, labeled and dated as
// Series labels them, made from seed: the first is Series' first, and
// each later one deletes about 1% of the codes of the one before, revises
// 2%, fixes the whitespace of 0.1%, brings back (with the record it had)
// one code in 2,000 from those deleted by earlier releases, and adds as
// many never-seen codes as keep it at n. So every release holds n codes
// and has about as many changes as the one before, however long the
// series: what a run after many releases should be measured on.
func Steady(seed uint64, n, count int) []*codeset.Release {
	return series(seed, n, count, true)
}

// series is Series, or Steady when hold is set.
func series(seed uint64, n, count int, hold bool) []*codeset.Release {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	used := map[string]bool{}
	newCode := func() string {
		for {
			c := fmt.Sprintf("%c%02d%04d", 'A'+rng.IntN(26), rng.IntN(100), rng.IntN(10000))
			if !used[c] {
				used[c] = true
				return c
			}
		}
	}
	title := func() string {
		k := 4 + rng.IntN(10)
		ws := make([]string, k)
		for i := range ws {
			ws[i] = words[rng.IntN(len(words))]
		}
		ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
		return strings.Join(ws, " ")
	}
	record := func(code string) codeset.Code {
		return codeset.Code{Code: code, Category: code[:1], Long: title()}
	}
	cur := make([]codeset.Code, n)
	for i := range cur {
		cur[i] = record(newCode())
	}
	var gone []codeset.Code
	var out []*codeset.Release
	for r := range count {
		if r > 0 {
			next := make([]codeset.Code, 0, len(cur)+len(cur)/50)
			var dropped []codeset.Code
			for _, c := range cur {
				switch x := rng.IntN(1000); {
				case x < 10:
					dropped = append(dropped, c)
					continue
				case x < 30:
					c.Long = title()
				case x < 31:
					c.Long = strings.Replace(c.Long, " ", "  ", 1)
				}
				next = append(next, c)
			}
			if !hold {
				gone = append(gone, dropped...)
				for range len(cur) / 100 {
					next = append(next, record(newCode()))
				}
				// A few deleted codes come back, with their old record.
				for k := 0; k < len(gone)/20; k++ {
					i := rng.IntN(len(gone))
					next = append(next, gone[i])
					gone = slices.Delete(gone, i, i+1)
				}
			} else {
				back := min(len(gone), n/2000)
				for range n - len(next) - back {
					next = append(next, record(newCode()))
				}
				for range back {
					i := rng.IntN(len(gone))
					next = append(next, gone[i])
					gone = slices.Delete(gone, i, i+1)
				}
				gone = append(gone, dropped...)
			}
			cur = next
		}
		slices.SortFunc(cur, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) })
		out = append(out, &codeset.Release{
			System:    codeset.ICD10CM,
			Label:     fmt.Sprintf("FY%d", 2001+r),
			Effective: time.Date(2000+r, 10, 1, 0, 0, 0, 0, time.UTC),
			Codes:     slices.Clone(cur),
		})
	}
	return out
}

// WriteCodesFile writes r as an ICD-10-CM codes file (code padded to
// eight columns, then the title; CRLF), as CDC ships it.
func WriteCodesFile(w io.Writer, r *codeset.Release) error {
	bw := bufio.NewWriter(w)
	for _, c := range r.Codes {
		fmt.Fprintf(bw, "%-8s%s\r\n", c.Code, c.Long)
	}
	return bw.Flush()
}
