package diff_test

import (
	"fmt"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
)

// Compare finds what changed between two releases of a system: here one
// code added, one deleted and one descriptor revised.
func ExampleCompare() {
	old := &codeset.Release{System: codeset.CPT, Label: "2025", Codes: []codeset.Code{
		{Code: "00100", Category: codeset.CategoryI, Long: "Anesthesia for procedures on salivary glands"},
		{Code: "0500F", Category: codeset.CategoryII, Long: "Initial prenatal care visit"},
		{Code: "99213", Category: codeset.CategoryI, Long: "Office visit, established patient"},
	}}
	cur := &codeset.Release{System: codeset.CPT, Label: "2026", Codes: []codeset.Code{
		{Code: "00100", Category: codeset.CategoryI, Long: "Anesthesia for procedures on salivary glands, including biopsy"},
		{Code: "0001U", Category: codeset.CategoryPLA, Long: "Red blood cell antigen typing"},
		{Code: "99213", Category: codeset.CategoryI, Long: "Office visit, established patient"},
	}}
	l := diff.Compare(old, cur, nil)
	for _, c := range l.Changes {
		fmt.Println(c.Kind, c.Code)
		for name, f := range c.Fields {
			fmt.Printf("  %s: %q -> %q\n", name, f.Before, f.After)
		}
	}
	fmt.Printf("%d added, %d deleted, %d revised, %d unchanged\n", l.Summary.Added, l.Summary.Deleted, l.Summary.Revised, l.Summary.Unchanged)
	// Output:
	// revised 00100
	//   long: "Anesthesia for procedures on salivary glands" -> "Anesthesia for procedures on salivary glands, including biopsy"
	// added 0001U
	// deleted 0500F
	// 1 added, 1 deleted, 1 revised, 1 unchanged
}
