package history

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/codeset/codeset/internal/synth"
)

// TestFirstEqualsGeneric builds histories whose first release is copied
// from its snapshot in SQL (first) and, with genericFirst set, by comparing
// it with nothing and applying every code as added, as any other release
// is added; the files must be the same bytes, for the first release alone
// and extended by later ones. The first release has attributes, including
// some that are not plain text, and more codes than fit in the page cache
// of a small test would not change that.
func TestFirstEqualsGeneric(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(5, 3000, 3)
	rels[0].Codes[3].Attrs = map[string]string{"billable": "1"}
	rels[0].Codes[7].Attrs = map[string]string{"note": "a \"quoted\" <b>é\u2028</b>", "z": "\t"}
	rels[0].Codes[11].Short = "tab\there, line\nbreak"
	snaps := writeSeries(t, rels)
	dir := t.TempDir()
	build := func(name string, generic bool, n int) []byte {
		t.Helper()
		genericFirst = generic
		defer func() { genericFirst = false }()
		p := filepath.Join(dir, name)
		if err := Update(ctx, p, "", snaps[:n]); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, n := range []int{1, 3} {
		fast := build("fast"+string(rune('0'+n)), false, n)
		slow := build("slow"+string(rune('0'+n)), true, n)
		if !bytes.Equal(fast, slow) {
			t.Errorf("%d releases: history with the first release copied in SQL (%d bytes) differs from the one built by comparison (%d bytes)", n, len(fast), len(slow))
		}
	}
}
