//go:build unix

package main

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

// TestBrowserCodePages follows, in real headless Chromium, from a plain
// static file server and from codeset serve, the links a coder follows:
// the index to a changelog, a code in a changelog row to its code page,
// whose record, history and replacements must say what the JSON changelog
// says, and back to the changelog; a search hit to its code page; and the
// compare page, which from codeset serve must count what the JSON
// changelog counts and on a static host points to the changelogs. It saves
// a screenshot of each page (kept in CODESET_SCREENSHOTS when set).
func TestBrowserCodePages(t *testing.T) {
	bin, out, shots, static, served := browserSites(t)

	readLog := func(sys codeset.System, label string) *codeset.Changelog {
		f, err := os.Open(filepath.Join(out, string(sys), label, format.ChangelogJSON))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		l, err := format.ReadChangelog(f)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cpt2026 := readLog(codeset.CPT, "2026")
	icd2030 := readLog(codeset.ICD10CM, "FY2030")
	// The codes to click: one of each kind the changelog has, the first
	// deleted code with a replacement named among them.
	pick := func(l *codeset.Changelog) []codeset.Change {
		var out []codeset.Change
		seen := map[codeset.ChangeKind]bool{}
		for _, c := range l.Changes {
			if c.Kind == codeset.Deleted && len(c.ReplacedBy) > 0 && !seen["deleted-replaced"] {
				seen["deleted-replaced"] = true
				out = append(out, c)
				continue
			}
			if !seen[c.Kind] {
				seen[c.Kind] = true
				out = append(out, c)
			}
		}
		return out
	}

	const at = `(function (p) { return location.pathname.replace(/index\.html$/, "") === p.replace(/index\.html$/, "") && document.readyState === "complete" })`

	for _, site := range []struct{ name, base, source string }{
		{"static", static, "files"},
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
			// checkCode checks the open code page against change ch of
			// changelog l (release l.To).
			checkCode := func(l *codeset.Changelog, ch codeset.Change) {
				t.Helper()
				c.waitFor("the code page of "+ch.Code, `document.body.dataset.ready === "true"`)
				if e := c.str(`document.getElementById("status").dataset.error || ""`); e != "" {
					t.Fatalf("code page of %s: %s", ch.Code, c.str(`document.getElementById("status").textContent`))
				}
				if src := c.str(`document.body.dataset.source`); src != site.source {
					t.Errorf("code page of %s read from %q, want %q", ch.Code, src, site.source)
				}
				display := l.System.Display(ch.Code)
				if got := c.str(`document.querySelector("#title code").textContent`); got != display {
					t.Errorf("code page heading shows %q, want %q", got, display)
				}
				if d := ch.Record.Description(); d != "" {
					if got := c.str(`document.getElementById("title").textContent`); got != display+" "+d {
						t.Errorf("code page heading %q, want %q", got, display+" "+d)
					}
				}
				wantStatus := "active"
				if ch.Kind == codeset.Deleted {
					wantStatus = "deleted"
				} else if ch.Record.Status == codeset.StatusDiscontinued {
					wantStatus = "retired"
				}
				if got := c.str(`document.getElementById("status").dataset.status`); got != wantStatus {
					t.Errorf("%s: status %q, want %q", ch.Code, got, wantStatus)
				}
				// The history shows the change in its release, with the
				// changelog's before and after of each field.
				var rows [][]string
				c.eval(fmt.Sprintf(`[...document.querySelectorAll('#events tr[data-release=%q][data-change=%q]')].map(tr => [...tr.cells].map(td => td.textContent))`, l.To, ch.Kind), &rows)
				if len(rows) == 0 {
					t.Errorf("%s: history shows no %s row in %s", ch.Code, ch.Kind, l.To)
				}
				for f, fc := range ch.Fields {
					if !slices.ContainsFunc(rows, func(r []string) bool { return len(r) == 6 && r[4] == fc.Before && r[5] == fc.After }) {
						t.Errorf("%s: history lacks %s %q → %q in %s (rows %q)", ch.Code, f, fc.Before, fc.After, l.To, rows)
					}
				}
				for _, r := range ch.ReplacedBy {
					if c.str(fmt.Sprintf(`document.querySelector('#replaced-by a[data-code=%q]') ? "yes" : ""`, r)) == "" {
						t.Errorf("%s: replaced by %s not shown", ch.Code, r)
					}
				}
				for _, r := range ch.Replaces {
					if c.str(fmt.Sprintf(`document.querySelector('#replaces a[data-code=%q]') ? "yes" : ""`, r)) == "" {
						t.Errorf("%s: replaces %s not shown", ch.Code, r)
					}
				}
				if ch.Kind != codeset.Deleted {
					if got := c.str(`(document.querySelector('#fields tr[data-field="code"] td') || {}).textContent || ""`); got != display {
						t.Errorf("%s: record shows code %q", ch.Code, got)
					}
				}
			}

			c.navigate(site.base + "/")
			for _, lc := range []struct {
				sys   codeset.System
				l     *codeset.Changelog
				index string // link on the index page
			}{
				{codeset.CPT, cpt2026, "cpt/2026/changelog.html"},
				{codeset.ICD10CM, icd2030, "icd10cm/FY2030/changelog.html"},
			} {
				// Index → changelog.
				c.navigate(site.base + "/")
				c.eval(fmt.Sprintf(`document.querySelector('a[href=%q]').click()`, lc.index), nil)
				c.waitFor("the changelog "+lc.index, at+fmt.Sprintf(`(%q)`, "/"+lc.index))
				// Every row's code links to its code page.
				var rows, linked int
				c.eval(`document.querySelectorAll("section.kind tr[data-code]").length`, &rows)
				c.eval(`[...document.querySelectorAll("section.kind tr[data-code]")].filter(tr => { const a = tr.querySelector("td.code a"); return a && a.getAttribute("href") === "../code.html?code=" + tr.dataset.code + "&release=`+lc.l.To+`" }).length`, &linked)
				if rows == 0 || linked != rows {
					t.Errorf("%s: %d of %d rows link to their code page", lc.index, linked, rows)
				}
				for i, ch := range pick(lc.l) {
					c.eval(fmt.Sprintf(`document.querySelector('section.kind tr[data-code=%q] td.code a').click()`, ch.Code), nil)
					c.waitFor("the code page of "+ch.Code, at+fmt.Sprintf(`("/%s/code.html") && location.search.includes(%q)`, lc.sys, "code="+ch.Code))
					checkCode(lc.l, ch)
					if i == 0 || ch.Kind == codeset.Deleted {
						shot(fmt.Sprintf("code-%s-%s", lc.sys, ch.Code))
					}
					c.eval(`history.back()`, nil)
					c.waitFor("back on the changelog", at+fmt.Sprintf(`(%q)`, "/"+lc.index))
				}
			}

			// A search hit on a changelog leads to its code page.
			c.typeText("#q", "hazard home")
			sel := `#hits li[data-code="Z5001"] a`
			c.waitFor("a hit for hazard home", `document.querySelector('`+sel+`')`)
			if href := c.str(`document.querySelector('` + sel + `').getAttribute("href")`); href != "../code.html?code=Z5001&release=FY2030" {
				t.Errorf("search hit links to %q", href)
			}
			c.eval(`document.querySelector('`+sel+`').click()`, nil)
			c.waitFor("the code page of Z50.01", at+`("/icd10cm/code.html") && location.search.includes("code=Z5001")`)
			c.waitFor("the code page of Z50.01 ready", `document.body.dataset.ready === "true"`)
			if got := c.str(`document.querySelector("#title code").textContent`); got != "Z50.01" {
				t.Errorf("code page from the search shows %q, want Z50.01", got)
			}

			// The compare page, from the system page.
			c.navigate(site.base + "/cpt/") // a static server answers index.html at the folder
			c.eval(`document.querySelector('nav a[href="compare.html"]').click()`, nil)
			c.waitFor("the compare page", at+`("/cpt/compare.html")`)
			c.eval(`(function(){ document.getElementById("from").value = "2025"; document.getElementById("to").value = "2026"; document.getElementById("pick").submit(); return true })()`, nil)
			c.waitFor("the compare page of 2025 and 2026", at+`("/cpt/compare.html") && location.search.includes("from=2025") && document.body.dataset.ready === "true"`)
			if site.name == "static" {
				if c.str(`document.getElementById("static").hidden ? "" : "shown"`) == "" || c.str(`document.body.dataset.source`) != "static" {
					t.Errorf("static compare page does not say that comparing needs codeset serve")
				}
				c.waitFor("a link to the 2026 changelog", `document.querySelector('#static a[href="2026/changelog.html"]')`)
				shot("compare")
				return
			}
			var counts map[string]int
			c.eval(`Object.fromEntries([...document.querySelectorAll("#counts li")].map(li => [li.dataset.kind, +li.querySelector(".n").textContent]))`, &counts)
			for _, k := range codeset.ChangeKinds {
				if n := cpt2026.Summary.Count(k); counts[string(k)] != n && (n != 0 || counts[string(k)] != 0) {
					t.Errorf("compare 2025 → 2026 counts %d %s, the JSON changelog %d", counts[string(k)], k, n)
				}
			}
			if counts["unchanged"] != cpt2026.Summary.Unchanged {
				t.Errorf("compare 2025 → 2026 counts %d unchanged, the JSON changelog %d", counts["unchanged"], cpt2026.Summary.Unchanged)
			}
			var codes []string
			c.eval(`[...document.querySelectorAll("#rows tr[data-code]")].map(tr => tr.dataset.code + " " + tr.dataset.kind)`, &codes)
			var want []string
			for _, ch := range cpt2026.Changes {
				want = append(want, ch.Code+" "+string(ch.Kind))
			}
			slices.Sort(codes)
			slices.Sort(want)
			if !slices.Equal(codes, want) {
				t.Errorf("compare rows %q, want the JSON changelog's %q", codes, want)
			}
			shot("compare")
			// Two releases apart, then on to a code page from a row.
			c.navigate(site.base + "/cpt/compare.html?from=2024&to=2026")
			c.waitFor("the compare page of 2024 and 2026", `document.body.dataset.ready === "true"`)
			if e := c.str(`document.getElementById("status").dataset.error || ""`); e != "" {
				t.Fatalf("compare 2024 → 2026: %s", c.str(`document.getElementById("status").textContent`))
			}
			first := c.str(`document.querySelector("#rows tr[data-code]").dataset.code`)
			c.eval(`document.querySelector("#rows tr[data-code] td.code a").click()`, nil)
			c.waitFor("a code page from the compare page", at+`("/cpt/code.html") && document.body.dataset.ready === "true"`)
			if got := c.str(`document.querySelector("#title code").textContent`); got != first {
				t.Errorf("code page from the compare page shows %q, want %q", got, first)
			}
			c.eval(`history.back()`, nil)
			c.waitFor("back on the compare page", at+`("/cpt/compare.html") && document.body.dataset.ready === "true"`)
			if !strings.Contains(c.str(`location.search`), "from=2024") {
				t.Errorf("back lands on %s", c.str(`location.href`))
			}
		})
	}
}
