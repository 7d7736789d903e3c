//go:build unix

package main

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

// TestBrowserSearch loads the published pages in real headless Chromium,
// from a plain static file server and from codeset serve, and uses them as
// a coder would: from the index to a system's page, a search by words and
// by a code as written (Z50.01), on to a changelog whose headings must
// count what the JSON changelog counts, a filter by kind, back again. It
// saves a screenshot of each page (kept in CODESET_SCREENSHOTS when set).
func TestBrowserSearch(t *testing.T) {
	bin, out, shots, static, served := browserSites(t)

	// A static server may answer a folder's index.html at the folder.
	const at = `(function (p) { return location.pathname.replace(/index\.html$/, "") === p.replace(/index\.html$/, "") && document.readyState === "complete" })`

	for _, site := range []struct{ name, base, source string }{
		{"static", static, "index"},
		{"served", served, "api"},
	} {
		t.Run(site.name, func(t *testing.T) {
			c := startCDP(t, bin)
			shot := func(name string) {
				p := filepath.Join(shots, site.name+"-"+name+".png")
				c.screenshot(p)
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(f)
				f.Close()
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if n := colours(img); n < 8 {
					t.Errorf("%s has %d colours: looks blank", p, n)
				}
				t.Logf("screenshot %s", p)
			}
			c.navigate(site.base + "/")
			shot("index")

			// Index → the ICD-10-CM page.
			c.eval(`document.querySelector('a[href="icd10cm/index.html"]').click()`, nil)
			c.waitFor("the ICD-10-CM page", at+`("/icd10cm/index.html")`)
			if h := c.str(`document.querySelector("h1").textContent`); h != "ICD-10-CM" {
				t.Errorf("system page heading %q", h)
			}

			// Search by words, then by the code as people write it.
			for _, q := range []struct{ typed, code, shown string }{
				{"hazard home", "Z5001", "Z50.01"},
				{"Z50.01", "Z5001", "Z50.01"},
				{"scalp", "B2000", "B20.00"},
			} {
				c.typeText("#q", q.typed)
				sel := fmt.Sprintf(`#hits li[data-code=%q]`, q.code)
				c.waitFor("a hit for "+q.typed, `document.querySelector('`+sel+`')`)
				if got := c.str(`document.querySelector('` + sel + ` code').textContent`); got != q.shown {
					t.Errorf("search %q: hit shows %q, want %q", q.typed, got, q.shown)
				}
				if q.typed == "hazard home" {
					if src := c.str(`document.getElementById("hits").dataset.source`); src != site.source {
						t.Errorf("search %q answered from %q, want %q", q.typed, src, site.source)
					}
					shot("search")
				}
			}

			// The system page → the FY2030 changelog, its headings checked
			// against the JSON changelog, a search on it, a filter, back.
			c.eval(`document.querySelector('a[href="FY2030/changelog.html"]').click()`, nil)
			c.waitFor("the FY2030 changelog", at+`("/icd10cm/FY2030/changelog.html")`)
			checkHeadings(t, c, filepath.Join(out, "icd10cm", "FY2030"))
			if n := c.str(`String(document.querySelectorAll("th").length && [...document.querySelectorAll("th")].filter(th => th.textContent === "Category").length)`); n != "0" {
				t.Errorf("ICD-10-CM changelog shows a Category column")
			}
			c.typeText("#q", "first kind")
			c.waitFor("a hit on the changelog page", `document.querySelector('#hits li[data-code="A0100"]')`)
			shot("changelog")
			before := c.str(`document.getElementById("shown").textContent`)
			c.eval(`document.querySelector('input[name=kind][value=added]').click()`, nil)
			c.waitFor("the added section hidden", `document.getElementById("added").hidden`)
			after := c.str(`document.getElementById("shown").textContent`)
			if before == after {
				t.Errorf("filtering out added codes left %q shown", after)
			}
			for _, href := range []string{"changelog.xlsx", "changelog.csv", "icd10cm-FY2030.sqlite", "search.tsv", "../index.html", "../../index.html"} {
				c.waitFor("a link to "+href, fmt.Sprintf(`document.querySelector('a[href=%q]')`, href))
			}
			c.eval(`history.back()`, nil)
			c.waitFor("back on the ICD-10-CM page", at+`("/icd10cm/index.html")`)
			c.eval(`document.querySelector('nav a[href="../index.html"]').click()`, nil)
			c.waitFor("back on the index", at+`("/index.html")`)

			// The CPT changelog from the index.
			c.eval(`document.querySelector('a[href="cpt/2026/changelog.html"]').click()`, nil)
			c.waitFor("the CPT 2026 changelog", at+`("/cpt/2026/changelog.html")`)
			checkHeadings(t, c, filepath.Join(out, "cpt", "2026"))
		})
	}
}

// checkHeadings compares the count in each section heading of the open
// changelog page with the JSON changelog of the release folder dir.
func checkHeadings(t *testing.T, c *cdp, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, format.ChangelogJSON))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := format.ReadChangelog(f)
	if err != nil {
		t.Fatal(err)
	}
	var headings map[string]string
	c.eval(`Object.fromEntries([...document.querySelectorAll("section.kind")].map(s => [s.dataset.kind, s.querySelector("h2").textContent]))`, &headings)
	if len(headings) == 0 {
		t.Errorf("%s: the page has no sections", dir)
	}
	for _, k := range codeset.ChangeKinds {
		n := l.Summary.Count(k)
		h, ok := headings[string(k)]
		if n == 0 {
			if ok {
				t.Errorf("%s: section %q shown for no codes", dir, h)
			}
			continue
		}
		unit := "codes"
		if n == 1 {
			unit = "code"
		}
		if want := fmt.Sprintf("(%d %s)", n, unit); !strings.Contains(h, want) {
			t.Errorf("%s: heading %q, want the JSON changelog's count %s", dir, h, want)
		}
	}
}
