// Package pages renders the HTML pages of the published tree that are not
// changelogs: the index page listing every system and release. It imports
// only the standard library and the wire types, so both the tree writer and
// the server use it.
package pages

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path"

	"github.com/codeset/codeset/publish/format"
)

//go:embed index.html.tmpl
var indexPageText string

// indexPage renders the root index.html from the root index.
var indexPage = template.Must(template.New("index").Funcs(template.FuncMap{
	"deref": func(s *string) string { return *s },
	"base":  path.Base,
}).Parse(indexPageText))

// WriteIndex writes the page listing every system, its releases and
// their changelogs and downloads.
func WriteIndex(w io.Writer, root *format.RootIndex) error {
	if err := indexPage.Execute(w, root); err != nil {
		return fmt.Errorf("write index page: %w", err)
	}
	return nil
}
