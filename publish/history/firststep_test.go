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

// TestFirstBytesAnyCache builds the history of one first release with the
// page cache first uses and with one of 16 pages, which spills pages
// almost as soon as they are written: the files must be the same bytes. The
// full-text index merges its segments as the rows go in and frees pages,
// and what a freed page holds on disk depends on whether it was spilled
// before it was freed, unless the connection zeroes what it frees
// (secureDelete). The test checks first that without secureDelete the
// files do differ, so that the release is large enough to show it.
func TestFirstBytesAnyCache(t *testing.T) {
	if testing.Short() {
		t.Skip("a history of 120k codes, twice over")
	}
	ctx := context.Background()
	snaps := writeSeries(t, synth.Series(1, 120000, 7))
	dir := t.TempDir()
	build := func(name, cache string) []byte {
		t.Helper()
		defer func(c string) { stepCache = c }(stepCache)
		stepCache = cache
		p := filepath.Join(dir, name)
		if err := Update(ctx, p, "", snaps); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	differ := func(a, b []byte) int {
		n := max(len(a), len(b)) / 4096
		for i := 0; i+4096 <= min(len(a), len(b)); i += 4096 {
			if bytes.Equal(a[i:i+4096], b[i:i+4096]) {
				n--
			}
		}
		return n
	}
	const tiny = `PRAGMA cache_size = -64`
	func() {
		defer func(q string) { secureDelete = q }(secureDelete)
		secureDelete = ""
		if n := differ(build("big0", stepCache), build("small0", tiny)); n == 0 {
			t.Fatal("without secure_delete, the histories built with the two caches are the same bytes: the release frees no page, so this test shows nothing")
		} else {
			t.Logf("without secure_delete, %d pages differ", n)
		}
	}()
	big, small := build("big", stepCache), build("small", tiny)
	if n := differ(big, small); n != 0 {
		t.Errorf("history of one release: %d bytes with the first step's cache, %d with a 64 KiB cache, %d pages differ", len(big), len(small), n)
	}
}
