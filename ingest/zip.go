package ingest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Roles of a publisher file.
const (
	roleCodes   = "codes"
	roleAddenda = "addenda"
)

// input is one file to read: a file given on the command line or a member
// taken out of a zip.
type input struct {
	name   string  // as shown in messages: the path, or zip/member
	path   string  // where the bytes are on disk
	role   string  // roleCodes or roleAddenda
	member *Member // the profile member it matched, or nil
}

// resolve turns the command-line files into inputs: a zip gives the members
// the profile's Members pick from it, and a plain file is classified by its
// name. It returns a cleanup function for any temporary files, always
// non-nil.
func (p *Profile) resolve(files []string, lim Limits) ([]input, func(), error) {
	var tmpDir string
	cleanup := func() {
		if tmpDir != "" {
			os.RemoveAll(tmpDir)
		}
	}
	var out []input
	for _, f := range files {
		if !isZip(f) {
			in := input{name: f, path: f, role: roleCodes}
			if m := p.match(filepath.Base(f), ""); m != nil {
				in.role, in.member = m.Role, m
			}
			out = append(out, in)
			continue
		}
		if tmpDir == "" {
			var err error
			if tmpDir, err = os.MkdirTemp("", "codeset-zip-"); err != nil {
				return nil, cleanup, err
			}
		}
		ins, err := p.fromZip(f, tmpDir, lim)
		if err != nil {
			return nil, cleanup, err
		}
		out = append(out, ins...)
	}
	return out, cleanup, nil
}

// isZip reports whether f is a zip archive other than an XLSX workbook
// (which is a zip too).
func isZip(f string) bool {
	switch strings.ToLower(filepath.Ext(f)) {
	case ".xlsx", ".xlsm", ".ods", ".ots":
		return false
	case ".zip":
		return true
	}
	h := make([]byte, 4)
	file, err := os.Open(f)
	if err != nil {
		return false
	}
	defer file.Close()
	n, _ := io.ReadFull(file, h)
	return bytes.Equal(h[:n], zipMagic) && !strings.EqualFold(filepath.Ext(f), ".xlsx")
}

// match returns the first member of role (any role when empty) whose
// pattern matches the base name.
func (p *Profile) match(base, role string) *Member {
	for i := range p.Members {
		m := &p.Members[i]
		if (role == "" || m.Role == role) && m.re.MatchString(base) {
			return m
		}
	}
	return nil
}

// fromZip picks the code file and the addenda out of the zip at f, by the
// profile's member patterns in order of preference, and unpacks them into
// dir. Publishers name and nest members differently every year, so only the
// base name counts.
func (p *Profile) fromZip(f, dir string, lim Limits) ([]input, error) {
	zr, err := zip.OpenReader(f)
	if err != nil {
		return nil, &ParseError{File: f, Err: errorf(ErrFormat, "not a readable zip archive: %v", err)}
	}
	defer zr.Close()
	var names []string
	var files []*zip.File
	for _, zf := range zr.File {
		base := path.Base(zf.Name)
		if zf.FileInfo().IsDir() || strings.HasPrefix(zf.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		names = append(names, zf.Name)
		files = append(files, zf)
	}
	pick := func(role string) (*zip.File, *Member, error) {
		for i := range p.Members {
			m := &p.Members[i]
			if m.Role != role {
				continue
			}
			var hits []*zip.File
			for _, zf := range files {
				if m.re.MatchString(path.Base(zf.Name)) {
					hits = append(hits, zf)
				}
			}
			switch len(hits) {
			case 0:
				continue
			case 1:
				return hits[0], m, nil
			}
			var hn []string
			for _, h := range hits {
				hn = append(hn, h.Name)
			}
			return nil, nil, &ParseError{File: f, Err: errorf(ErrLayout, "several members match %q: %s; unpack the one you mean and pass it", m.Pattern, quoteFew(hn, 10))}
		}
		return nil, nil, nil
	}
	codes, cm, err := pick(roleCodes)
	if err != nil {
		return nil, err
	}
	if codes == nil {
		var pats []string
		for _, m := range p.Members {
			if m.Role == roleCodes {
				pats = append(pats, m.Pattern)
			}
		}
		if len(pats) == 0 {
			return nil, &ParseError{File: f, Err: errorf(ErrLayout, "the %s profile names no files to take from a zip: pass the file itself", p.System)}
		}
		slices.Sort(names)
		return nil, &ParseError{File: f, Err: errorf(ErrLayout, "no member is a %s code file: looked for names matching %s; the zip holds %s",
			p.System, quoteList(pats), quoteFew(names, 10))}
	}
	addenda, am, err := pick(roleAddenda)
	if err != nil {
		return nil, err
	}
	out := []input{}
	for _, x := range []struct {
		zf *zip.File
		m  *Member
	}{{codes, cm}, {addenda, am}} {
		if x.zf == nil {
			continue
		}
		dst := filepath.Join(dir, fmt.Sprintf("%d-%s", len(out), path.Base(x.zf.Name)))
		name := f + "/" + x.zf.Name
		if err := unpack(x.zf, dst, lim); err != nil {
			return nil, &ParseError{File: name, Err: err}
		}
		out = append(out, input{name: name, path: dst, role: x.m.Role, member: x.m})
	}
	return out, nil
}

// unpack copies one zip member to dst. Its size and its ratio to the packed
// size are checked on the bytes as they come out, not taken from the zip's
// headers, so a zip bomb stops at the limit.
func unpack(zf *zip.File, dst string, lim Limits) error {
	r, err := zf.Open()
	if err != nil {
		return errorf(ErrFormat, "unpack: %v", err)
	}
	defer r.Close()
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer w.Close()
	// A small member may compress very well; the ratio applies past 1 MiB.
	allowed := min(lim.MaxFileBytes, max(int64(zf.CompressedSize64)*lim.MaxRatio, 1<<20))
	n, err := io.Copy(w, io.LimitReader(r, allowed+1))
	switch {
	case err != nil:
		return errorf(ErrFormat, "unpack: %v", err)
	case n > lim.MaxFileBytes:
		return errorf(ErrLimit, "unpacks to more than %d bytes: over the input limit", lim.MaxFileBytes)
	case n > allowed:
		return errorf(ErrLimit, "unpacks to more than %d times its packed size of %d bytes: refused as a zip bomb", lim.MaxRatio, zf.CompressedSize64)
	}
	return w.Close()
}
