package changelog

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
)

// TestXLSXDirectRows checks that writing the rows of the change sheets
// directly gives the workbook excelize's StreamWriter gives, byte for byte:
// for the sample changelog, one with links, problems and a reconciliation,
// a first release, HCPCS bookkeeping, and text that XML escapes or that
// excelize marks to keep its spaces. Text excelize would change in more
// ways (an "_x" escape, a cell over the length limit) makes the whole
// workbook go through excelize, which is also checked.
func TestXLSXDirectRows(t *testing.T) {
	odd := []string{"", " leading", "trailing ", "\ttab", "line\nbreak", "cr\r", "a & b < c > d \"q\" 'a'", "é ü 中文 \u2028", "\x01\x1f ctl", "bad \xff utf-8", "100%"}
	tricky := &codeset.Changelog{System: codeset.HCPCS, From: "2025", To: "2026", Replacements: []codeset.Replacement{{Old: "A0001", New: "B0001"}}}
	for i, s := range odd {
		code := fmt.Sprintf("A%04d", i)
		c := codeset.Change{Code: code, Kind: codeset.ChangeKinds[i%len(codeset.ChangeKinds)], Category: s,
			Record: codeset.Code{Code: code, Long: s, Meta: codeset.MetaOf(map[string]string{"action": "A", "termination_date": s})}}
		if i%2 == 0 {
			c.Fields = map[string]codeset.FieldChange{"long": {Before: s, After: "x " + s}, "status": {Before: "", After: s}}
		}
		if i%3 == 0 {
			c.ReplacedBy, c.Replaces = []string{"B0001"}, []string{"C0001", "C0002"}
		}
		tricky.Changes = append(tricky.Changes, c)
		tricky.Summary.AddChange(c)
	}
	tricky.LinkProblems = []codeset.LinkProblem{{Code: "A0001", Kind: codeset.UnknownCode, Other: "Z", Reason: "why & how"}}
	escaped := *tricky
	escaped.Changes = append([]codeset.Change{{Code: "A0000", Kind: codeset.Added, Record: codeset.Code{Long: "Excel's _x000D_ escape"}}}, tricky.Changes[1:]...)
	long := firstRelease(50)
	long.Changes[7].Record.Long = strings.Repeat("long ", 7000)

	defer func(n, m int) { sheetRows, apartRows = n, m }(sheetRows, apartRows)
	for name, l := range map[string]*codeset.Changelog{
		"sample": fixture.SampleChangelog(), "linked": linkedChangelog(), "reconciled": icdWithReconciliation(),
		"first": firstRelease(3000), "tricky": tricky, "escape": &escaped, "long": long,
		"empty":       {System: codeset.ICD10CM, To: "FY2026"},
		"split first": firstRelease(40), "split tricky": tricky,
	} {
		sheetRows = excelize.TotalRows
		if strings.HasPrefix(name, "split") {
			// Sheets continued on "Added (2)" and so on.
			sheetRows = 7
		}
		var streamed bytes.Buffer
		if err := writeXLSX(&streamed, l, false); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Sheets written in line, and each in a goroutine of its own.
		for _, apart := range []int{1 << 30, 1} {
			apartRows = apart
			var direct bytes.Buffer
			if err := writeXLSX(&direct, l, true); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(direct.Bytes(), streamed.Bytes()) {
				t.Errorf("%s (apart from %d rows): rows written directly give %d bytes, through excelize %d, not the same", name, apart, direct.Len(), streamed.Len())
			}
		}
	}
}
