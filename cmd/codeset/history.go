package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

func (m *Main) historyCommand(ctx context.Context, args []string) error {
	fset := m.flags("history", "--system S [--format text|json] CODE",
		"Show one code across every release of a system: the first and last release that had it,\n"+
			"its last record, and every change (added, deleted, revised with before and after,\n"+
			"short-title, cosmetic, reactivated), the codes it replaced and was replaced by, and the codes valid\n"+
			"today that the chain of replacements leads to. Reads the published history database SYSTEM/history.sqlite,\n"+
			"or builds the history from the stored snapshots when nothing is published.")
	sysFlag := fset.String("system", "", "code `system`: "+systemList())
	outFormat := fset.String("format", "text", "output `format`: text or json")
	if err := parse(fset, args); err != nil {
		return err
	}
	hint := "run 'codeset history --help' for usage"
	sys, err := parseSystem(*sysFlag, hint)
	if err != nil {
		return err
	}
	if fset.NArg() != 1 {
		return usagef(hint, "name one code after the flags")
	}
	if *outFormat != "text" && *outFormat != "json" {
		return usagef(hint, "bad --format %q: want text or json", *outFormat)
	}
	code := sys.Normalize(fset.Arg(0))

	db := filepath.Join(m.OutDir, string(sys), format.HistoryName)
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		if db, err = m.storeHistory(ctx, sys); err != nil {
			return err
		}
		defer os.RemoveAll(filepath.Dir(db))
	}
	h, err := history.Read(ctx, db, code)
	if errors.Is(err, snapshot.ErrNoCode) {
		return fmt.Errorf("%s has no code %q in any release", sys.Name(), code)
	}
	if err != nil {
		return err
	}
	if *outFormat == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(h)
	}
	return writeHistory(m, sys, h)
}

// storeHistory builds a history database from the snapshots in the data
// directory into a temporary directory and returns its path.
func (m *Main) storeHistory(ctx context.Context, sys codeset.System) (string, error) {
	infos, err := snapshot.Store{Dir: m.DataDir}.List(ctx, sys)
	if err != nil {
		return "", err
	}
	if len(infos) == 0 {
		return "", fmt.Errorf("no %s releases published in %s or stored in %s", sys.Name(), m.OutDir, m.DataDir)
	}
	var paths []string
	for _, in := range infos {
		paths = append(paths, in.Path)
	}
	dir, err := os.MkdirTemp("", "codeset-history-")
	if err != nil {
		return "", err
	}
	db := filepath.Join(dir, format.HistoryName)
	if err := history.Build(ctx, db, paths); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return db, nil
}

// writeHistory prints a code's history for people.
func writeHistory(m *Main, sys codeset.System, h *format.CodeHistory) error {
	w := m.Stdout
	fmt.Fprintf(w, "%s %s: first seen in %s, last seen in %s\n", sys.Name(), h.Code, h.FirstRelease, h.LastRelease)
	r := h.Record
	if r.Category != "" {
		fmt.Fprintf(w, "  category: %s\n", r.Category)
	}
	for _, f := range []struct{ name, v string }{{"short", r.Short}, {"medium", r.Medium}, {"long", r.Long}, {"status", r.Status}} {
		if f.v != "" {
			fmt.Fprintf(w, "  %s: %s\n", f.name, f.v)
		}
	}
	fmt.Fprintln(w, "changes:")
	for _, e := range h.Events {
		fmt.Fprintf(w, "  %s  %s\n", e.Release, e.Change)
		for _, name := range slices.Sorted(maps.Keys(e.Fields)) {
			fc := e.Fields[name]
			fmt.Fprintf(w, "      %s: %q -> %q\n", name, fc.Before, fc.After)
		}
	}
	links := func(title string, ls []format.HistoryLink) {
		if len(ls) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		for _, l := range ls {
			fmt.Fprintf(w, "  %s  %s  (%s, %s)\n", l.Release, sys.Display(l.Code), l.How, l.Source)
		}
	}
	links("replaces (predecessors)", h.Replaces)
	links("replaced by (successors)", h.ReplacedBy)
	if len(h.ReplacedBy) > 0 || len(h.Replaces) > 0 {
		var cur []string
		for _, c := range h.Current {
			cur = append(cur, sys.Display(c))
		}
		switch {
		case len(cur) == 0:
			fmt.Fprintln(w, "valid today: none; the chain of replacements ends at a code with no replacement named")
		case len(cur) == 1 && h.Current[0] == h.Code:
			fmt.Fprintf(w, "valid today: %s itself\n", sys.Display(h.Code))
		default:
			fmt.Fprintf(w, "valid today, following the replacements: %s\n", strings.Join(cur, ", "))
		}
	}
	return nil
}
