package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/codeset/codeset"
)

// Detect tells which code system files belong to, for a run that names
// none, within DefaultLimits. See DetectLimits.
func Detect(files []string) (codeset.System, error) {
	return DetectLimits(files, Limits{})
}

// DetectLimits tells which code system files belong to by their content:
// the fixed layout a text file fits, the header row and codes of a
// spreadsheet, addenda lines, a declaration file (inside a zip, its
// members). Workbooks are opened through the same bounded reader as the
// main read. Only when the content fits no system do the publisher's file
// names decide. A crosswalk (recognised by its header row) is passed
// over: it goes with the release it is given with. Every file must point to the same one system; anything
// else is an error that asks for --system rather than a guess.
func DetectLimits(files []string, lim Limits) (codeset.System, error) {
	lim = lim.orDefault()
	var profiles []*Profile
	for _, sys := range codeset.Systems {
		p, err := Builtin(sys)
		if err != nil {
			return "", err
		}
		profiles = append(profiles, p)
	}
	var found codeset.System
	var crosswalks []string
	for _, f := range files {
		// A crosswalk given beside a release (a conversion table) names
		// no system of its own: ICD-10-CM's and ICD-10-PCS's share a
		// header. It goes with the release.
		if !isZip(f) {
			if xs, err := crosswalkSystems(f, lim); err == nil && len(xs) > 0 {
				crosswalks = append(crosswalks, f)
				continue
			}
		}
		cands, how, err := detectFile(profiles, f, lim)
		if err != nil {
			return "", err
		}
		switch {
		case len(cands) == 0:
			if err := explain(f, lim); err != nil {
				return "", err
			}
			return "", fmt.Errorf("%s: cannot tell its code system from its content or name: pass --system", f)
		case len(cands) > 1:
			return "", fmt.Errorf("%s: its %s fits several code systems (%s): pass --system", f, how, systemNames(cands))
		case found != "" && cands[0] != found:
			return "", fmt.Errorf("%s is %s but an earlier file is %s: pass the files of one release", f, cands[0], found)
		}
		found = cands[0]
	}
	if found == "" && len(crosswalks) > 0 {
		return "", fmt.Errorf("%s: a crosswalk of replacement links, which names no code system by itself: give it beside the release's files, or pass --system", strings.Join(crosswalks, ", "))
	}
	if found == "" {
		return "", fmt.Errorf("no input files")
	}
	return found, nil
}

// detectFile returns the systems whose profiles recognise f (for a zip:
// find a code file in it) by content, else by name, and which of the two
// decided.
func detectFile(profiles []*Profile, f string, lim Limits) ([]codeset.System, string, error) {
	file, err := openFile(f)
	if err != nil {
		return nil, "", err
	}
	file.Close()
	var samples []*sample
	var names []string
	if isZip(f) {
		dir, err := os.MkdirTemp("", "codeset-detect-")
		if err != nil {
			return nil, "", err
		}
		defer os.RemoveAll(dir)
		zr, err := zip.OpenReader(f)
		if err != nil {
			return nil, "", &ParseError{File: f, Err: errorf(ErrFormat, "not a readable zip archive: %v", err)}
		}
		defer zr.Close()
		for i, zf := range zipMembers(&zr.Reader) {
			dst := filepath.Join(dir, fmt.Sprintf("member-%d", i))
			if err := unpack(zf, dst, lim); err != nil {
				return nil, "", &ParseError{File: f + "/" + zf.Name, Err: err}
			}
			s, err := sniff(dst, zf.Name, lim)
			if err != nil {
				return nil, "", err
			}
			samples = append(samples, s)
			names = append(names, path.Base(zf.Name))
		}
	} else {
		s, err := sniff(f, f, lim)
		if err != nil {
			return nil, "", err
		}
		samples, names = []*sample{s}, []string{filepath.Base(f)}
	}
	var out []codeset.System
	for _, p := range profiles {
		for _, s := range samples {
			id := p.recognises(s)
			if id.role == roleCodes || (len(samples) == 1 && id.role != "") {
				out = append(out, p.System)
				break
			}
		}
	}
	var named []codeset.System
	for _, p := range profiles {
		for _, n := range names {
			if p.match(n, "") != nil && !slices.Contains(named, p.System) {
				named = append(named, p.System)
			}
		}
	}
	switch {
	case len(out) == 0:
		return named, "file name", nil
	case len(out) > 1:
		// Names break ties between systems the content fits.
		var both []codeset.System
		for _, s := range out {
			if slices.Contains(named, s) {
				both = append(both, s)
			}
		}
		if len(both) == 1 {
			return both, "content and name", nil
		}
	}
	return out, "content", nil
}

func systemNames(ss []codeset.System) string {
	var names []string
	for _, s := range ss {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// explain says why a file whose content fits no system cannot be read,
// when its content tells: an encrypted, legacy or OpenDocument spreadsheet,
// a zip that holds no workbook, a workbook or delimited file over an input
// limit. It returns nil when the file reads within the limits and is simply
// of no known kind. The file is read once more, within the limits, only on
// this failure path.
func explain(f string, lim Limits) error {
	ctx := context.Background()
	head, err := fileHead(f, f)
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(f))
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return oleError(f, f)
	case ext == ".ods" || ext == ".ots" || ext == ".fods":
		return &ParseError{File: f, Err: errorf(ErrFormat, "%s", odsRefusal)}
	case bytes.HasPrefix(head, zipMagic):
		if isZip(f) {
			return nil // a publisher's zip: the caller lists its members
		}
		wb, err := openWorkbook(ctx, f, f, lim)
		if err != nil {
			return err
		}
		defer wb.Close()
		for _, sh := range wb.readOrder() {
			rows, err := wb.rows(ctx, sh)
			if err != nil {
				return err
			}
			for rows.Next() {
				if _, err := rows.Columns(); err != nil {
					break
				}
			}
			err = rows.Err()
			if cerr := rows.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	case ext == ".csv" || ext == ".tsv" || ext == ".tab":
		comma := ','
		if ext != ".csv" {
			comma = '\t'
		}
		file, err := openText(f, f)
		if err != nil {
			return err
		}
		defer file.Close()
		src := newCSVRows(file, f, comma)
		for src.Next() {
		}
		if err := src.Err(); errors.Is(err, ErrLimit) {
			return err
		}
	}
	return nil
}
