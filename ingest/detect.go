package ingest

import (
	"archive/zip"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/codeset/codeset"
)

// Detect tells which code system files belong to, for a run that names
// none: first by the publisher's file names (inside a zip, the member
// names), then by the header row of a spreadsheet or CSV file. Every file
// must point to the same one system; anything else is an error that asks
// for --system rather than a guess.
func Detect(files []string) (codeset.System, error) {
	var profiles []*Profile
	for _, sys := range codeset.Systems {
		p, err := Builtin(sys)
		if err != nil {
			return "", err
		}
		profiles = append(profiles, p)
	}
	var found codeset.System
	for _, f := range files {
		file, err := openFile(f)
		if err != nil {
			return "", err
		}
		file.Close()
		cands, how := byName(profiles, f), "file name"
		if len(cands) == 0 {
			var err error
			if cands, err = byHeader(profiles, f); err != nil {
				return "", err
			}
			how = "header row"
		}
		switch {
		case len(cands) == 0:
			return "", fmt.Errorf("%s: cannot tell its code system from its name or header row: pass --system", f)
		case len(cands) > 1:
			return "", fmt.Errorf("%s: its %s fits several code systems (%s): pass --system", f, how, systemNames(cands))
		case found != "" && cands[0] != found:
			return "", fmt.Errorf("%s is %s but an earlier file is %s: pass the files of one release", f, cands[0], found)
		}
		found = cands[0]
	}
	if found == "" {
		return "", fmt.Errorf("no input files")
	}
	return found, nil
}

func systemNames(ss []codeset.System) string {
	var names []string
	for _, s := range ss {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// byName returns the systems one of whose member patterns (code files or
// addenda) matches f's name, or for a zip the name of one of its members.
func byName(profiles []*Profile, f string) []codeset.System {
	names := []string{filepath.Base(f)}
	if isZip(f) {
		names = nil
		if zr, err := zip.OpenReader(f); err == nil {
			for _, zf := range zr.File {
				names = append(names, path.Base(zf.Name))
			}
			zr.Close()
		}
	}
	var out []codeset.System
	for _, p := range profiles {
		for _, n := range names {
			if m := p.match(n, ""); m != nil && !slices.Contains(out, p.System) {
				out = append(out, p.System)
			}
		}
	}
	return out
}

// byHeader returns the systems whose profile recognises a header row in the
// first rows of f, a spreadsheet or delimited file.
func byHeader(profiles []*Profile, f string) ([]codeset.System, error) {
	rows, err := topRows(f, 50)
	if err != nil {
		return nil, err
	}
	var out []codeset.System
	for _, p := range profiles {
		for _, r := range rows {
			if cols, _ := p.matchHeader(r); cols != nil {
				out = append(out, p.System)
				break
			}
		}
	}
	return out, nil
}

// topRows reads up to n rows from the top of every sheet of a workbook, or
// of a CSV or TSV file.
func topRows(f string, n int) ([][]string, error) {
	var out [][]string
	switch strings.ToLower(filepath.Ext(f)) {
	case ".xlsx", ".xlsm", ".ods", ".xls":
		wb, err := openWorkbook(context.Background(), f, f, DefaultLimits)
		if err != nil {
			return nil, err
		}
		defer wb.Close()
		for _, sh := range wb.readOrder() {
			rows, err := wb.rows(context.Background(), sh)
			if err != nil {
				return nil, err
			}
			for i := 0; i < n && rows.Next(); i++ {
				cells, _ := rows.Columns()
				out = append(out, cells)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, err
			}
		}
	case ".csv", ".tsv", ".tab":
		comma := ','
		if strings.ToLower(filepath.Ext(f)) != ".csv" {
			comma = '\t'
		}
		file, err := openText(f, f)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		src := newCSVRows(file, f, comma)
		for i := 0; i < n && src.Next(); i++ {
			out = append(out, slices.Clone(src.rec))
		}
		if err := src.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
