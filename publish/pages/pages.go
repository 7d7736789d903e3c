// Package pages renders the HTML pages of the published tree that are not
// changelogs (the index page listing every system and release, and a page
// per code system with its search box), the look they share with the
// changelog pages, and the compact search index published with each
// release. It imports only the standard library and the wire types, so
// both the tree writer and the server use it.
package pages

import (
	"bufio"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

//go:embed index.html.tmpl
var indexPageText string

//go:embed system.html.tmpl
var systemPageText string

//go:embed style.css
var styleText string

//go:embed search.js
var searchText string

//go:embed code.html.tmpl
var codePageText string

//go:embed compare.html.tmpl
var comparePageText string

//go:embed code.js
var codeScriptText string

//go:embed compare.js
var compareScriptText string

// Style is the stylesheet every published page embeds, so the index, the
// system pages and the changelogs look alike and each page stands alone.
var Style = template.CSS(styleText)

// SearchScript is the script behind the search box (see SearchBox).
var SearchScript = template.JS(searchText)

// funcs are the template functions of the pages.
var funcs = template.FuncMap{
	"deref":  func(s *string) string { return *s },
	"base":   path.Base,
	"style":  func() template.CSS { return Style },
	"script": func() template.JS { return SearchScript },
	"dot":    func(sys codeset.System) int { return sys.Facts().Dot },
	// The scripts of the code and compare pages.
	"codescript":    func() template.JS { return template.JS(codeScriptText) },
	"comparescript": func() template.JS { return template.JS(compareScriptText) },
}

// page returns the template name parsed from text, parsed at its first
// use rather than when the program starts (every command paid for
// parsing the four pages).
func page(name, text string) func() *template.Template {
	return sync.OnceValue(func() *template.Template {
		return template.Must(template.New(name).Funcs(funcs).Parse(text))
	})
}

// indexPage renders the root index.html from the root index.
var indexPage = page("index", indexPageText)

// systemPage renders SYSTEM/index.html from the system index.
var systemPage = page("system", systemPageText)

// codePage renders SYSTEM/code.html; comparePage SYSTEM/compare.html.
var (
	codePage    = page("code", codePageText)
	comparePage = page("compare", comparePageText)
)

// WriteIndex writes the page listing every system, its releases and
// their changelogs and downloads.
func WriteIndex(w io.Writer, root *format.RootIndex) error {
	if err := indexPage().Execute(w, root); err != nil {
		return fmt.Errorf("write index page: %w", err)
	}
	return nil
}

// WriteSystem writes the page of one code system, SYSTEM/index.html: a
// search box over its latest release, and every release with its
// changelogs and downloads. Paths in idx are relative to the system folder.
func WriteSystem(w io.Writer, idx *format.SystemIndex) error {
	if err := systemPage().Execute(w, idx); err != nil {
		return fmt.Errorf("write %s page: %w", idx.System, err)
	}
	return nil
}

// WriteSearchIndex writes the compact search index of a release,
// format.SearchIndexName: a comment line naming the system and release,
// then one line per code, the stored code, a tab and its description.
// Tabs and line breaks inside descriptions become spaces.
func WriteSearchIndex(w io.Writer, rel *codeset.Release) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# codeset search index: %s %s; code<TAB>description\n", rel.System, rel.Label)
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for i := range rel.Codes {
		c := &rel.Codes[i]
		bw.WriteString(c.Code)
		bw.WriteByte('\t')
		bw.WriteString(clean.Replace(c.Description()))
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write search index: %w", err)
	}
	return nil
}

// WriteRecords writes the record data of a release, format.RecordsName,
// which the code pages read on a static host: a comment line naming the
// system and release, a line naming the columns, then one line per code
// and header row in code order:
//
//	code  kind  category  status  short  medium  long  attributes  meta
//
// kind is "code" or "header"; attributes and meta (the publisher's
// per-release bookkeeping, such as the HCPCS action code and its dates)
// are JSON objects with sorted keys ({} when none). Tabs and line breaks inside values become spaces. In a
// codes-only tree rel comes without descriptors, and so does the file.
func WriteRecords(w io.Writer, rel *codeset.Release) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# codeset records: %s %s\n", rel.System, rel.Label)
	bw.WriteString("code\tkind\tcategory\tstatus\tshort\tmedium\tlong\tattributes\tmeta\n")
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	var obj []byte
	write := func(c *codeset.Code, kind string) error {
		for i, v := range [...]string{c.Code, kind, c.Category, c.Status, c.Short, c.Medium, c.Long} {
			if i > 0 {
				bw.WriteByte('\t')
			}
			bw.WriteString(clean.Replace(v))
		}
		bw.WriteByte('\t')
		obj = format.AppendJSONObject(obj[:0], c.Attrs)
		bw.Write(obj)
		bw.WriteByte('\t')
		obj = format.AppendJSONMeta(obj[:0], c.Meta)
		bw.Write(obj)
		return bw.WriteByte('\n')
	}
	// Codes and headers in code order, a code before a header of the
	// same code: a merge of the two lists, which a release keeps sorted,
	// rather than a sorted copy of a million records.
	byCode := func(a, b codeset.Code) int { return cmp.Compare(a.Code, b.Code) }
	codes, headers := rel.Codes, rel.Headers
	if !slices.IsSortedFunc(codes, byCode) {
		codes = slices.Clone(codes)
		slices.SortStableFunc(codes, byCode)
	}
	if !slices.IsSortedFunc(headers, byCode) {
		headers = slices.Clone(headers)
		slices.SortStableFunc(headers, byCode)
	}
	for i, j := 0, 0; i < len(codes) || j < len(headers); {
		var err error
		if j == len(headers) || (i < len(codes) && codes[i].Code <= headers[j].Code) {
			err = write(&codes[i], "code")
			i++
		} else {
			err = write(&headers[j], "header")
			j++
		}
		if err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	return nil
}

// pageData is what the code and compare pages know of their system; the
// page holds it as JSON for its script.
type pageData struct {
	System   codeset.System    `json:"system"`
	Name     string            `json:"name"`
	Dot      int               `json:"dot"`
	API      string            `json:"api"`     // the JSON API, relative to the system folder
	Latest   string            `json:"latest"`  // label, "" when none
	Current  string            `json:"current"` // label, "" when none is in effect
	Releases []pageRelease     `json:"releases"`
	Labels   map[string]string `json:"labels"` // readable field names
}

type pageRelease struct {
	Label     string `json:"label"`
	Effective string `json:"effective"`
	Previous  string `json:"previous"`
	Changelog string `json:"changelog"` // HTML changelog, relative to the system folder
}

func newPageData(idx *format.SystemIndex) *pageData {
	d := &pageData{System: idx.System, Name: idx.Name, Dot: idx.System.Facts().Dot, API: "../api/v1/", Releases: []pageRelease{}, Labels: FieldLabels}
	if idx.Latest != nil {
		d.Latest = *idx.Latest
	}
	if idx.Current != nil {
		d.Current = *idx.Current
	}
	for _, r := range idx.Releases {
		d.Releases = append(d.Releases, pageRelease{Label: r.Label, Effective: r.Effective, Previous: r.Previous, Changelog: r.Changelogs["html"]})
	}
	return d
}

// WriteCodePage writes SYSTEM/code.html, the page of one code:
// code.html?code=CODE&release=LABEL shows the code's record in that
// release (the current one by default), its history across releases and
// its replacements. Served by codeset serve it asks the code API; on a
// static host it reads the release's records.tsv and the system's
// history.tsv. Paths in idx are relative to the system folder.
func WriteCodePage(w io.Writer, idx *format.SystemIndex) error {
	if err := codePage().Execute(w, newPageData(idx)); err != nil {
		return fmt.Errorf("write %s code page: %w", idx.System, err)
	}
	return nil
}

// WriteComparePage writes SYSTEM/compare.html, which compares any two
// releases of the system through the comparison API of codeset serve; on
// a static host it says so and lists the published changelogs.
func WriteComparePage(w io.Writer, idx *format.SystemIndex) error {
	if err := comparePage().Execute(w, newPageData(idx)); err != nil {
		return fmt.Errorf("write %s compare page: %w", idx.System, err)
	}
	return nil
}
