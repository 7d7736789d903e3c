package ingest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Roles of a publisher file.
const (
	roleCodes   = "codes"
	roleAddenda = "addenda"
)

// input is one file to read: a file given on the command line or a member
// taken out of a zip.
type input struct {
	name   string           // as shown in messages: the path, or zip/member
	path   string           // where the bytes are on disk
	role   string           // roleCodes, roleAlso, roleAddenda or roleDeclaration
	member *Member          // the profile member it fits, or nil
	decl   *DeclarationFile // for roleDeclaration
}

// candidate is one file, or one zip member, with what its content is.
type candidate struct {
	input
	base string // base name, for ties
	id   ident
}

// resolve turns the command-line files into inputs. Every file, and every
// member of a publisher's zip, is recognised by its content; names only
// break ties. It returns a cleanup function for any temporary files,
// always non-nil.
func (p *Profile) resolve(files []string, lim Limits) ([]input, func(), error) {
	var tmpDir string
	cleanup := func() {
		if tmpDir != "" {
			os.RemoveAll(tmpDir)
		}
	}
	var out []input
	var plain []candidate
	for _, f := range files {
		if !isZip(f) {
			s, err := sniff(f, f, lim)
			if err != nil {
				return nil, cleanup, err
			}
			c := candidate{input: input{name: f, path: f}, base: filepath.Base(f), id: p.classify(s)}
			if c.id.role == "" {
				c.id = p.byName(c.id, c.base)
			}
			if c.id.role == "" {
				if !tableLike(s) {
					if err := explain(f, lim); err != nil {
						return nil, cleanup, err
					}
					return nil, cleanup, &ParseError{File: f, Err: errorf(ErrFormat, "unsupported file: %s; want %s", c.id.looks, p.wants())}
				}
				// A spreadsheet the profile does not recognise: the table
				// reader says what is wrong with it, cell by cell.
				c.id.role = roleCodes
			}
			plain = append(plain, c)
			continue
		}
		if tmpDir == "" {
			var err error
			if tmpDir, err = os.MkdirTemp("", "codeset-zip-"); err != nil {
				return nil, cleanup, err
			}
		}
		ins, err := p.fromZip(f, tmpDir, lim)
		if de, ok := err.(declarationsOnly); ok && len(files) > 1 {
			// A zip of declaration files given beside the data (CMS's
			// corrections zips): every member is read.
			ins, err = de.ins, nil
		}
		if err != nil {
			return nil, cleanup, err
		}
		out = append(out, ins...)
	}
	onlyDecls := len(out) > 0
	for _, c := range plain {
		onlyDecls = onlyDecls && c.id.role == roleDeclaration
	}
	if onlyDecls {
		// Declaration files beside a zip that has the codes.
		for _, c := range plain {
			c.input.decl, c.input.role = c.id.decl, c.id.role
			out = append(out, c.input)
		}
		plain = nil
	}
	if len(plain) > 0 {
		ins, err := p.choosePlain(plain)
		if err != nil {
			return nil, cleanup, err
		}
		out = append(out, ins...)
	}
	return out, cleanup, nil
}

// tableLike reports whether a file is for the table reader, which gives the
// detailed errors about spreadsheets and delimited files.
func tableLike(s *sample) bool {
	switch s.shape {
	case shapeWorkbook, shapeLegacy:
		return true
	}
	switch s.ext {
	case ".xlsx", ".xlsm", ".csv", ".tsv", ".tab":
		return true
	}
	return false
}

// wants says what files the profile reads, for messages.
func (p *Profile) wants() string {
	var ws []string
	for _, m := range p.Members {
		if m.Fixed != nil {
			ws = append(ws, "a "+m.Fixed.Name)
		}
	}
	if len(p.Columns) > 0 {
		ws = append(ws, "a spreadsheet or CSV file with "+p.headerWant())
	}
	if p.hasAddenda() {
		ws = append(ws, "an addenda (Add:, Delete:, Revise lines or a summary block)")
	}
	for _, d := range p.Declarations {
		ws = append(ws, "a "+d.Name)
	}
	if len(p.Members) > 0 {
		ws = append(ws, "the publisher's zip")
	}
	return strings.Join(ws, ", ")
}

// choosePlain picks the roles of files given on their own: every code file
// is read (codes may be spread over several files), except that a file
// whose member is marked Also is read beside another for its extra fields.
func (p *Profile) choosePlain(cands []candidate) ([]input, error) {
	var codes, also, addenda []candidate
	var out []input
	for _, c := range cands {
		c.input.member, c.input.decl, c.input.role = c.id.member, c.id.decl, c.id.role
		switch c.id.role {
		case roleCodes:
			if c.id.member != nil && c.id.member.Also {
				also = append(also, c)
			} else {
				codes = append(codes, c)
			}
		case roleAddenda:
			addenda = append(addenda, c)
		default:
			out = append(out, c.input)
		}
	}
	if len(codes) == 0 {
		codes, also = also, nil
	}
	var read []input
	for _, c := range codes {
		read = append(read, c.input)
	}
	for _, c := range also {
		c.input.role = roleAlso
		read = append(read, c.input)
	}
	if len(read) == 0 {
		return nil, p.noCodeFile(cands)
	}
	if len(addenda) > 0 {
		a, err := p.chooseAddenda(addenda, read, "")
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return append(read, out...), nil
}

// noCodeFile says that the files given hold no code file, and what they are.
func (p *Profile) noCodeFile(cands []candidate) error {
	var what []string
	for _, c := range cands {
		what = append(what, fmt.Sprintf("%s is %s", c.name, c.id.looks))
	}
	return errorf(ErrLayout, "no %s code file given: %s; pass it with them (or the publisher's zip)", p.System, strings.Join(what, "; "))
}

// chooseAddenda picks one addenda among several: the one that matches the
// code files read (an order addenda, whose lines carry the valid flag,
// beside an order file), then by name.
func (p *Profile) chooseAddenda(cands []candidate, read []input, zipName string) (input, error) {
	wantFlagged := false
	for _, in := range read {
		wantFlagged = wantFlagged || (in.member != nil && in.member.Fixed != nil && in.member.Fixed.Header != nil)
	}
	rank := func(c candidate) int {
		r := 2 * len(p.Members)
		for i, m := range p.Members {
			if m.Role == roleAddenda && m.re.MatchString(c.base) {
				r = 2 * i
				break
			}
		}
		if c.id.flagged != wantFlagged {
			r += 4 * len(p.Members)
		}
		return r
	}
	best, err := p.best(cands, rank, zipName)
	if err != nil {
		return input{}, err
	}
	best.input.role = roleAddenda
	return best.input, nil
}

// best returns the candidate of lowest rank; a tie is an error that names
// the tied files.
func (p *Profile) best(cands []candidate, rank func(candidate) int, zipName string) (candidate, error) {
	var top []candidate
	low := -1
	for _, c := range cands {
		switch r := rank(c); {
		case low < 0 || r < low:
			low, top = r, []candidate{c}
		case r == low:
			top = append(top, c)
		}
	}
	if len(top) == 1 {
		return top[0], nil
	}
	var names []string
	for _, c := range top {
		n := c.name
		if zipName != "" {
			n = strings.TrimPrefix(n, zipName+"/")
		}
		names = append(names, n)
	}
	msg := fmt.Sprintf("several files are %s: %s; pass only the one you mean", top[0].id.looks, strings.Join(names, ", "))
	if zipName != "" {
		msg = fmt.Sprintf("several members are %s: %s; unpack the one you mean and pass it", top[0].id.looks, strings.Join(names, ", "))
		return candidate{}, &ParseError{File: zipName, Err: errorf(ErrLayout, "%s", msg)}
	}
	return candidate{}, errorf(ErrLayout, "%s", msg)
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

// zipMembers lists the members of a zip that may be files of a release:
// not folders, not macOS resource forks or hidden files, at any depth.
func zipMembers(zr *zip.Reader) []*zip.File {
	var files []*zip.File
	for _, zf := range zr.File {
		base := path.Base(zf.Name)
		if zf.FileInfo().IsDir() || strings.HasSuffix(zf.Name, "/") || strings.HasPrefix(zf.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		files = append(files, zf)
	}
	return files
}

// fromZip unpacks the members of the zip at f into dir, recognises each by
// its content and picks what to read: the code file of the most preferred
// kind (the profile's members, in order: the same rule for every release,
// whatever else the zip holds), any code file marked Also beside it, the
// addenda that goes with them, and the declaration files. Publishers name
// and nest members differently every year, so only content and, to break
// ties, the base name count.
func (p *Profile) fromZip(f, dir string, lim Limits) ([]input, error) {
	zr, err := zip.OpenReader(f)
	if err != nil {
		return nil, &ParseError{File: f, Err: errorf(ErrFormat, "not a readable zip archive: %v", err)}
	}
	defer zr.Close()
	if len(p.Members) == 0 && len(p.Declarations) == 0 {
		return nil, &ParseError{File: f, Err: errorf(ErrLayout, "the %s profile names no files to take from a zip: pass the file itself", p.System)}
	}
	members := zipMembers(&zr.Reader)
	dsts := make([]string, len(members))
	for i := range members {
		// The member's own name may hold anything; it is only reported.
		dsts[i] = uniquePath(filepath.Join(dir, fmt.Sprintf("member-%d", i)))
	}
	// The members are unpacked on every core; the first error in the
	// zip's order is the one reported, as if they were unpacked in turn.
	errs := make([]error, len(members))
	sniffs := make([]*sample, len(members))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(len(members), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				zf := members[i]
				if err := unpack(zf, dsts[i], lim); err != nil {
					errs[i] = &ParseError{File: f + "/" + zf.Name, Err: err}
					continue
				}
				sniffs[i], errs[i] = sniff(dsts[i], zf.Name, lim)
			}
		})
	}
	for i := range members {
		next <- i
	}
	close(next)
	wg.Wait()
	var cands []candidate
	for i, zf := range members {
		if errs[i] != nil {
			return nil, errs[i]
		}
		cands = append(cands, candidate{input: input{name: f + "/" + zf.Name, path: dsts[i]}, base: path.Base(zf.Name), id: p.classify(sniffs[i])})
	}
	return p.chooseZip(f, cands)
}

// byName is the fallback for a file whose content fits none of the
// profile's kinds: when its name is that of a member, it is read as that
// member, so that the reader says where the layout broke (a column moved,
// a damaged line) instead of only that the file is unknown.
func (p *Profile) byName(id ident, base string) ident {
	m := p.match(base, "")
	if m == nil {
		return id
	}
	return ident{role: m.Role, member: m, byName: true, looks: id.looks + " named like " + memberWhat(m)}
}

// memberWhat names the kind of file a member is.
func memberWhat(m *Member) string {
	switch {
	case m.Fixed != nil:
		return "a " + m.Fixed.Name
	case m.Role == roleAddenda:
		return "an addenda"
	}
	return "a data workbook"
}

// uniquePath returns dst, or dst with a number added when it exists: two
// folders of one zip may hold members of the same name.
func uniquePath(dst string) string {
	for i := 2; ; i++ {
		if _, err := os.Lstat(dst); err != nil {
			return dst
		}
		dst = fmt.Sprintf("%s.%d", dst, i)
	}
}

// chooseZip picks the members to read from a zip's recognised members.
func (p *Profile) chooseZip(f string, cands []candidate) ([]input, error) {
	var codes, addenda []candidate
	decls := map[*DeclarationFile][]candidate{}
	for _, c := range cands {
		c.input.member, c.input.decl, c.input.role = c.id.member, c.id.decl, c.id.role
		switch c.id.role {
		case roleCodes:
			codes = append(codes, c)
		case roleAddenda:
			addenda = append(addenda, c)
		case roleDeclaration:
			decls[c.id.decl] = append(decls[c.id.decl], c)
		}
	}
	if len(codes) == 0 {
		// Nothing fits by content: a member named like a code file is
		// read as one, for the reader's account of what is wrong with it.
		for _, c := range cands {
			if id := p.byName(c.id, c.base); c.id.role == "" && id.role == roleCodes {
				c.id = id
				c.input.member, c.input.role = id.member, id.role
				codes = append(codes, c)
			}
		}
	}
	if len(codes) == 0 && len(decls) > 0 && len(addenda) == 0 {
		var ins []input
		for _, c := range cands {
			if c.id.role == roleDeclaration {
				in := c.input
				in.decl, in.role = c.id.decl, c.id.role
				ins = append(ins, in)
			}
		}
		return nil, declarationsOnly{err: p.noCodeMember(f, cands), ins: ins}
	}
	if len(codes) == 0 {
		return nil, p.noCodeMember(f, cands)
	}
	main, err := p.best(codes, p.codeRank, f)
	if err != nil {
		return nil, err
	}
	main.input.role = roleCodes
	out := []input{main.input}
	if main.id.member == nil || !main.id.member.Also {
		var also []candidate
		for _, c := range codes {
			if c.id.member != nil && c.id.member.Also && c.id.member != main.id.member {
				also = append(also, c)
			}
		}
		if len(also) > 0 {
			a, err := p.best(also, p.codeRank, f)
			if err != nil {
				return nil, err
			}
			a.input.role = roleAlso
			out = append(out, a.input)
		}
	}
	if len(addenda) > 0 {
		a, err := p.chooseAddenda(addenda, out, f)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	for i := range p.Declarations {
		cs := decls[&p.Declarations[i]]
		if len(cs) == 0 {
			continue
		}
		// The workbook, where the zip has one; else the text reports,
		// every one (CMS ships the same list sorted two ways, by action
		// and by code: read twice, it declares nothing twice).
		if !slices.ContainsFunc(cs, func(c candidate) bool { return !c.id.text }) {
			for _, c := range cs {
				out = append(out, c.input)
			}
			continue
		}
		d, err := p.best(cs, func(c candidate) int {
			if c.id.text {
				return 1
			}
			return 0
		}, f)
		if err != nil {
			return nil, err
		}
		out = append(out, d.input)
	}
	return out, nil
}

// declarationsOnly is the error of a zip that holds declaration files and
// no code file: an error alone, the declarations beside another file
// that has the codes.
type declarationsOnly struct {
	err error
	ins []input
}

func (d declarationsOnly) Error() string { return d.err.Error() }
func (d declarationsOnly) Unwrap() error { return d.err }

// noCodeMember says that a zip holds no code file, and what it holds.
func (p *Profile) noCodeMember(f string, cands []candidate) error {
	var held []string
	for _, c := range cands {
		held = append(held, fmt.Sprintf("%q (%s)", strings.TrimPrefix(c.name, f+"/"), c.id.looks))
	}
	slices.Sort(held)
	if len(held) == 0 {
		held = []string{"no files"}
	}
	return &ParseError{File: f, Err: errorf(ErrLayout, "no member is a %s code file: want %s; the zip holds %s",
		p.System, p.wants(), joinFew(held[:min(len(held), 10)], len(held)))}
}

// codeRank orders code files: by the profile member whose content they
// fit, then by whether the name fits that member's pattern. A spreadsheet
// ranks as the first spreadsheet member whose pattern its name fits.
func (p *Profile) codeRank(c candidate) int {
	m := c.id.member
	if m == nil {
		return 2*len(p.Members) + 1
	}
	i := 0
	for j := range p.Members {
		if &p.Members[j] == m {
			i = j
		}
	}
	if m.Fixed == nil {
		for j := range p.Members {
			if x := &p.Members[j]; x.Role == roleCodes && x.Fixed == nil && x.re.MatchString(c.base) {
				return 2 * j
			}
		}
		return 2*i + 1
	}
	if m.re.MatchString(c.base) {
		return 2 * i
	}
	return 2*i + 1
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
