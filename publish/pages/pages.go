// Package pages renders the HTML pages of the published tree that are not
// changelogs (the index page listing every system and release, and a page
// per code system with its search box), the look they share with the
// changelog pages, and the compact search index published with each
// release. It imports only the standard library and the wire types, so
// both the tree writer and the server use it.
package pages

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path"
	"strings"

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
}

// indexPage renders the root index.html from the root index.
var indexPage = template.Must(template.New("index").Funcs(funcs).Parse(indexPageText))

// systemPage renders SYSTEM/index.html from the system index.
var systemPage = template.Must(template.New("system").Funcs(funcs).Parse(systemPageText))

// WriteIndex writes the page listing every system, its releases and
// their changelogs and downloads.
func WriteIndex(w io.Writer, root *format.RootIndex) error {
	if err := indexPage.Execute(w, root); err != nil {
		return fmt.Errorf("write index page: %w", err)
	}
	return nil
}

// WriteSystem writes the page of one code system, SYSTEM/index.html: a
// search box over its latest release, and every release with its
// changelogs and downloads. Paths in idx are relative to the system folder.
func WriteSystem(w io.Writer, idx *format.SystemIndex) error {
	if err := systemPage.Execute(w, idx); err != nil {
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
	for _, c := range rel.Codes {
		fmt.Fprintf(bw, "%s\t%s\n", c.Code, clean.Replace(c.Description()))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write search index: %w", err)
	}
	return nil
}
