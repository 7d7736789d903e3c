package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// This file is what the code API and the FHIR operations share: which
// release a request means (a label, a pointer or a date of service) and
// what that release says about a code, including codes it no longer holds.
// Errors it returns carry a kind and a message fit for a reply: no
// file-system path ever reaches a client.

// errRead is the reply to a tree that cannot be read as it should: the
// cause stays on the server.
var errRead = errors.New("cannot read the published tree")

// sysView is one system of the published tree.
type sysView struct {
	h     *handler
	root  *os.Root
	sys   codeset.System
	idx   *format.SystemIndex
	files *sysFiles
	snaps map[*format.IndexRelease]treeName // of idx.Releases
}

// treeName is a file of the tree: its slash path within the tree and its
// file-system path.
type treeName struct{ rel, file string }

// sysFiles are the names of a system's files, worked out once: joining
// them on every lookup cost five allocations.
type sysFiles struct {
	index   string // SYSTEM/index.json
	history treeName
	idx     cachedIndex // guarded by handler.mu
}

// cachedIndex is a system's parsed index, valid while its file stays the
// same (publishing replaces it by rename). It is only read once parsed.
type cachedIndex struct {
	st  os.FileInfo
	idx *format.SystemIndex
	// snaps are the names of the snapshots of idx.Releases.
	snaps map[*format.IndexRelease]treeName
}

// name returns the treeName of rel, a slash path within the tree.
func (h *handler) name(rel string) treeName {
	return treeName{rel: rel, file: filepath.Join(h.dir, filepath.FromSlash(rel))}
}

// openSystem reads the index of sys, or takes it from the cache when the
// file is the one read before. The view is a value, kept on the caller's
// stack.
func (h *handler) openSystem(root *os.Root, sys codeset.System) (sysView, error) {
	h.mu.Lock()
	files := h.systems[sys]
	if files == nil {
		// One entry a code system: callers pass systems they parsed.
		files = &sysFiles{index: path.Join(string(sys), format.IndexName), history: h.name(path.Join(string(sys), format.HistoryName))}
		if h.systems == nil {
			h.systems = map[codeset.System]*sysFiles{}
		}
		h.systems[sys] = files
	}
	c := files.idx
	h.mu.Unlock()
	rel := files.index
	st, err := h.stats.stat(rel, func() (os.FileInfo, error) { return root.Stat(rel) })
	if err == nil && c.idx != nil && os.SameFile(c.st, st) && c.st.Size() == st.Size() && c.st.ModTime().Equal(st.ModTime()) {
		return sysView{h: h, root: root, sys: sys, idx: c.idx, files: files, snaps: c.snaps}, nil
	}
	var idx format.SystemIndex
	if err == nil {
		err = format.ReadJSONFile(root.ReadFile, rel, "index", &idx)
	}
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(idx.Releases) == 0) {
		return sysView{}, codeset.NewError(codeset.ErrNotFound, "no release of %s is published", sys.Name())
	}
	if err != nil {
		return sysView{}, errRead
	}
	c = cachedIndex{st: st, idx: &idx, snaps: map[*format.IndexRelease]treeName{}}
	for i := range idx.Releases {
		r := &idx.Releases[i]
		c.snaps[r] = h.name(path.Join(string(sys), r.Snapshot))
	}
	h.mu.Lock()
	files.idx = c
	h.mu.Unlock()
	return sysView{h: h, root: root, sys: sys, idx: &idx, files: files, snaps: c.snaps}, nil
}

// releaseAt returns the release in effect on date: the last one whose
// effective date is on or before it.
func (v *sysView) releaseAt(date time.Time) (*format.IndexRelease, error) {
	var found *format.IndexRelease
	for i := range v.idx.Releases {
		r := &v.idx.Releases[i]
		if r.Effective == "" {
			found = r
			continue
		}
		t, err := time.Parse(codeset.DateLayout, r.Effective)
		if err == nil && !t.After(date) {
			found = r
		}
	}
	if found == nil {
		return nil, codeset.NewError(codeset.ErrNotFound, "no published release of %s is in effect on %s: the oldest takes effect %s",
			v.sys.Name(), date.Format(codeset.DateLayout), v.idx.Releases[0].Effective)
	}
	return found, nil
}

// release picks the release a request means: version is a label, current,
// latest or "" (current, else latest while none is in effect); date, when
// set (YYYY-MM-DD, or a FHIR dateTime), is a date of service and picks the
// release in effect then. Both must agree when both are given.
func (v *sysView) release(version, date string) (*format.IndexRelease, error) {
	if date != "" {
		t, err := parseDate(date)
		if err != nil {
			return nil, err
		}
		r, err := v.releaseAt(t)
		if err != nil {
			return nil, err
		}
		if version != "" && version != r.Label && version != format.PointerCurrent && version != format.PointerLatest {
			return nil, codeset.NewError(codeset.ErrInvalid, "version %s is not the release of %s in effect on %s (%s is)", version, v.sys.Name(), date, r.Label)
		}
		return r, nil
	}
	pick := func(label *string) *format.IndexRelease {
		if label == nil {
			return nil
		}
		return v.byLabel(*label)
	}
	var r *format.IndexRelease
	switch version {
	case "":
		if r = pick(v.idx.Current); r == nil {
			r = pick(v.idx.Latest)
		}
	case format.PointerCurrent:
		if r = pick(v.idx.Current); r == nil {
			return nil, codeset.NewError(codeset.ErrNotFound, "no release of %s is in effect yet", v.sys.Name())
		}
	case format.PointerLatest:
		r = pick(v.idx.Latest)
	default:
		r = v.byLabel(version)
	}
	if r == nil {
		// A withdrawn release keeps its folder, but the API answers as if
		// it had never been published, saying why.
		for _, w := range v.idx.Withdrawn {
			if w.Label == version {
				return nil, codeset.NewError(codeset.ErrNotFound, "release %s of %s was withdrawn on %s: %s", version, v.sys.Name(), w.At, w.Reason)
			}
		}
		return nil, codeset.NewError(codeset.ErrNotFound, "no release %q of %s is published", version, v.sys.Name())
	}
	return r, nil
}

// parseDate reads a date of service: YYYY-MM-DD or a FHIR dateTime.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(codeset.DateLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	return time.Time{}, codeset.NewError(codeset.ErrInvalid, "bad date %q: want YYYY-MM-DD", s)
}

// byLabel returns the release labelled label, or nil.
func (v *sysView) byLabel(label string) *format.IndexRelease {
	for i := range v.idx.Releases {
		if v.idx.Releases[i].Label == label {
			return &v.idx.Releases[i]
		}
	}
	return nil
}

// pos returns the place of release label in the index, oldest 0; -1 when
// it is not there.
func (v *sysView) pos(label string) int {
	return slices.IndexFunc(v.idx.Releases, func(r format.IndexRelease) bool { return r.Label == label })
}

// snapshotPath returns the file of the snapshot of r.
func (v *sysView) snapshotPath(r *format.IndexRelease) (string, error) {
	n, ok := v.snaps[r]
	if !ok {
		// A copy of a release of the index, not the release itself.
		n = v.h.name(path.Join(string(v.sys), r.Snapshot))
	}
	if err := v.h.checkFile(v.root, n.rel); err != nil {
		return "", errRead
	}
	return n.file, nil
}

// historyPath returns the system's history database, or "" when none.
func (v *sysView) historyPath() string {
	if err := v.h.checkFile(v.root, v.files.history.rel); err != nil {
		return ""
	}
	return v.files.history.file
}

// introducedOn returns the effective date of the release first holding a
// code, when it is not the oldest release published (before that, the tree
// does not know when the code took effect).
func (v *sysView) introducedOn(first string) string {
	if p := v.pos(first); p > 0 {
		return v.idx.Releases[p].Effective
	}
	return ""
}

// found is what a release says about a code.
type found struct {
	Release *format.IndexRelease
	// Record is the code's record in the release or, for a code the
	// release no longer holds, in the last release that had it.
	Record    codeset.Code
	Info      format.ConceptInfo
	InRelease bool
	History   *format.CodeHistory // nil without a history database
	// DeletedIn is the release that deleted a code no longer held;
	// ReplacedBy the codes it names as replacements, in stored form.
	DeletedIn  *format.IndexRelease
	ReplacedBy []string
}

// snapshotSource is what a lookup reads of a snapshot: its in-memory
// index (*snapshot.Index) once loaded, the file itself before.
type snapshotSource interface {
	Record(code string) (c codeset.Code, header bool, err error)
	Parent(code string) (string, error)
}

// historySource is what a lookup reads of a history database: its
// in-memory index (*history.Index) once loaded, the file itself before.
type historySource interface {
	Read(code string) (*format.CodeHistory, error)
}

// snapshotIndex is a snapshot's in-memory index as a snapshotSource.
type snapshotIndex struct{ x *snapshot.Index }

func (s snapshotIndex) Record(code string) (codeset.Code, bool, error) { return s.x.Record(code) }

func (s snapshotIndex) Parent(code string) (string, error) { return s.x.Parent(code), nil }

// snapshotReader reads a snapshot file for one request.
type snapshotReader struct {
	ctx context.Context
	r   *snapshot.Reader
}

func (s snapshotReader) Record(code string) (codeset.Code, bool, error) {
	return s.r.Record(s.ctx, code)
}

func (s snapshotReader) Parent(code string) (string, error) { return s.r.Parent(s.ctx, code) }

// historyReader reads a history database for one request.
type historyReader struct {
	ctx context.Context
	r   *history.Reader
}

func (h historyReader) Read(code string) (*format.CodeHistory, error) { return h.r.Read(h.ctx, code) }

// lookup finds code (stored form) in release r. A code the release does
// not hold but an earlier one did comes back deleted, with its last record;
// a code no release up to r had gives an ErrNotFound error. The answer is
// a value, which the caller keeps on its stack.
func (v *sysView) lookup(ctx context.Context, r *format.IndexRelease, code string) (found, error) {
	snap, err := v.snapshotPath(r)
	if err != nil {
		return found{}, err
	}
	f := found{Release: r}
	hist := v.historyPath()
	sx, err := v.h.dbs.snapshot(snap)
	if err != nil {
		return found{}, errRead
	}
	var hx *history.Index
	if hist != "" {
		// Asked now, so that a history still to load loads while the
		// snapshot does.
		if hx, err = v.h.dbs.history(hist); err != nil {
			return found{}, errRead
		}
	}
	var snaps snapshotSource = snapshotIndex{sx}
	if sx == nil {
		// Loading: read the file itself meanwhile.
		rd, err := snapshot.OpenReader(ctx, snap)
		if err != nil {
			return found{}, errRead
		}
		defer rd.Close()
		snaps = snapshotReader{ctx, rd}
	}
	c, header, err := snaps.Record(code)
	switch {
	case err == nil:
		f.Record, f.InRelease = c, true
		// The header above the code, from the same snapshot.
		parent, err := snaps.Parent(c.Code)
		if err != nil {
			return found{}, errRead
		}
		f.Info = format.ConceptInfo{Header: header, Parent: parent, Status: format.ConceptStatus(c), Retired: format.TerminationDate(c)}
	case !errors.Is(err, snapshot.ErrNoCode):
		return found{}, errRead
	}
	if hist != "" {
		var hs historySource
		if hx != nil {
			hs = hx
		} else {
			rd, err := history.OpenReader(ctx, hist)
			if err != nil {
				return found{}, errRead
			}
			defer rd.Close()
			hs = historyReader{ctx, rd}
		}
		ch, err := hs.Read(code)
		switch {
		case err == nil:
			f.History = ch
		case !errors.Is(err, snapshot.ErrNoCode):
			return found{}, errRead
		}
	}
	if f.InRelease {
		if f.History != nil {
			f.Info.Effective = v.introducedOn(f.History.FirstRelease)
		}
		return f, nil
	}
	if f.History == nil {
		// Built only here: formatting it for every lookup cost each found
		// code three allocations.
		return found{}, codeset.NewError(codeset.ErrNotFound, "%s %s has no code %s", v.sys.Name(), r.Label, v.sys.Display(code))
	}
	first, here := v.pos(f.History.FirstRelease), v.pos(r.Label)
	if first < 0 || first > here {
		return found{}, codeset.NewError(codeset.ErrNotFound, "%s %s has no code %s: it takes effect with %s", v.sys.Name(), r.Label, v.sys.Display(code), f.History.FirstRelease)
	}
	// Deleted: by the first release after the last one before r that had
	// it, as far as the events tell.
	rec := f.History.Record
	f.Record = codeset.Code{Code: code, Category: rec.Category, Short: rec.Short, Medium: rec.Medium, Long: rec.Long, Status: rec.Status, Attrs: rec.Attributes}
	f.Info = format.ConceptInfo{Status: format.StatusDeleted, Effective: v.introducedOn(f.History.FirstRelease)}
	for _, e := range f.History.Events {
		if p := v.pos(e.Release); e.Change == codeset.Deleted && p >= 0 && p <= here {
			f.DeletedIn = &v.idx.Releases[p]
		}
	}
	if f.DeletedIn != nil {
		f.Info.Retired = f.DeletedIn.Effective
		f.ReplacedBy = v.replacedBy(f.DeletedIn, code)
	}
	return f, nil
}

// replacedBy returns the replacements the changelog of release r names
// for code; nil when it names none or cannot be read.
func (v *sysView) replacedBy(r *format.IndexRelease, code string) []string {
	name, ok := r.Changelogs["json"]
	if !ok {
		return nil
	}
	b, err := v.root.ReadFile(path.Join(string(v.sys), name))
	if err != nil {
		return nil
	}
	l, err := format.ReadChangelog(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	for _, c := range l.Changes {
		if c.Code == code {
			return c.ReplacedBy
		}
	}
	return nil
}

// describe says in words why a found code is not one to use on the date
// asked, or "" when it is.
func (v *sysView) describe(f *found) string {
	d := v.sys.Display(f.Record.Code)
	switch {
	case f.Info.Status == format.StatusDeleted:
		msg := fmt.Sprintf("%s is not in %s %s: deleted", d, v.sys.Name(), f.Release.Label)
		if f.DeletedIn != nil {
			msg += fmt.Sprintf(" by %s (effective %s)", f.DeletedIn.Label, f.DeletedIn.Effective)
		}
		if len(f.ReplacedBy) > 0 {
			var ds []string
			for _, c := range f.ReplacedBy {
				ds = append(ds, v.sys.Display(c))
			}
			msg += fmt.Sprintf("; replaced by %s", joinWords(ds))
		}
		return msg
	case f.Info.Status == format.StatusRetired:
		msg := fmt.Sprintf("%s is ended by the publisher in %s %s", d, v.sys.Name(), f.Release.Label)
		if f.Info.Retired != "" {
			msg += " as of " + f.Info.Retired
		}
		return msg
	case f.Info.Header:
		return fmt.Sprintf("%s is a header in %s %s, not a billable code: use one of the codes below it", d, v.sys.Name(), f.Release.Label)
	}
	return ""
}

// joinWords joins words as "a, b and c".
func joinWords(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	out := ws[0]
	for _, w := range ws[1 : len(ws)-1] {
		out += ", " + w
	}
	return out + " and " + ws[len(ws)-1]
}
