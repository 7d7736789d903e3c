// Package release is the release workflow: read a publisher's files into a
// release, compare it with the previous stored release of its system, check
// the publish guards, store the snapshot and publish the release folder. A
// scheduled job, a trigger and every command that ingests, publishes or
// compares (codeset run, ingest, publish, diff, demo) go through this one
// package; it knows nothing of schedules, sources or the run ledger.
package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/ingest"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// ErrExists reports a release label that is already taken; it is of kind
// codeset.ErrConflict.
var ErrExists = codeset.NewError(codeset.ErrConflict, "release already exists")

// Pipeline holds where snapshots are kept and where releases are published.
type Pipeline struct {
	Store  snapshot.Store
	OutDir string
	Logger *slog.Logger
	// Now tells the time that decides which release is current; nil means
	// the wall clock.
	Now func() time.Time
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Request names the release to ingest and the files it comes from.
type Request struct {
	System    codeset.System
	Label     string
	Effective time.Time       // zero: derived from the label
	Profile   *ingest.Profile // nil: the system's built-in profile
	// Crosswalk is the layout of the replacement crosswalks among Files;
	// nil: the system's built-in crosswalk profile, if it has one.
	Crosswalk *ingest.CrosswalkProfile
	Files     []string
	Guards    Guards // checks before publishing
	// Locked says the caller holds the system's lock (LockSystem) already,
	// as a job does while it decides the label.
	Locked bool
}

// Result is what a run produced.
type Result struct {
	Release   *codeset.Release
	Report    *ingest.Report
	Changelog *codeset.Changelog
	Manifest  *format.Manifest
	Snapshot  string // path of the stored snapshot
	Published string // path of the published release folder
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Ingest reads the request's files and stores them as a new snapshot,
// without publishing. Nothing is stored when any step fails.
func (p *Pipeline) Ingest(ctx context.Context, req Request) (*Result, error) {
	if !req.Locked {
		unlock, err := p.LockSystem(ctx, req.System)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	rel, rep, err := p.read(ctx, req, false)
	if err != nil {
		return nil, err
	}
	if err := p.checkLabel(ctx, rel, rep, req.Files, req.Guards); err != nil {
		return nil, err
	}
	path := p.Store.Path(rel.System, rel.Label)
	if err := snapshot.Write(ctx, path, rel); err != nil {
		return nil, err
	}
	return &Result{Release: rel, Report: rep, Snapshot: path}, nil
}

// Run ingests, compares with the latest earlier snapshot of the system,
// stores the snapshot and publishes the release, all under the system's
// lock (LockSystem). A failed run leaves the snapshots and the published
// tree as they were: it removes only a snapshot it stored itself.
//
// Running it again with the same files finishes what an interrupted run
// (killed, or the machine lost power) left undone: a snapshot stored but
// not published is published, and a release already published has its
// indexes rebuilt and is reported as it is. A label taken by other files is
// refused, and so is a release the data directory records as published to
// another tree than OutDir.
func (p *Pipeline) Run(ctx context.Context, req Request) (*Result, error) {
	if err := req.Guards.Validate(); err != nil {
		return nil, err
	}
	if !req.Locked {
		unlock, err := p.LockSystem(ctx, req.System)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	rel, rep, err := p.read(ctx, req, true)
	if err != nil {
		return nil, err
	}
	stored, published, err := p.interrupted(ctx, rel)
	if err != nil {
		return nil, err
	}
	var prep *preparing
	if !stored && !published {
		// A label typo is caught before anything is stored; a release
		// already stored from these files passed this check then.
		if err := p.checkLabel(ctx, rel, rep, req.Files, req.Guards); err != nil {
			return nil, err
		}
		// The snapshot is written under a temporary name while the
		// release is compared and checked, and put in place only once it
		// is to be published (see publish). A system's first release
		// waits, so that a refused one leaves no folder behind.
		if st, err := os.Stat(filepath.Dir(p.Store.Path(rel.System, rel.Label))); err == nil && st.IsDir() {
			prep = prepare(ctx, p.Store.Path(rel.System, rel.Label), rel)
			defer prep.discard()
		}
	}
	l, old, err := p.changelogFor(ctx, rel)
	if err != nil {
		return nil, err
	}
	res := &Result{Release: rel, Report: rep, Changelog: l, Snapshot: p.Store.Path(rel.System, rel.Label)}
	if published {
		dir := format.ReleaseDir(p.OutDir, rel.System, rel.Label)
		if err := p.markTree(rel.System, rel.Label, true); err != nil {
			return nil, err
		}
		if _, err := publish.Reindex(ctx, p.OutDir, p.now()); err != nil {
			return nil, err
		}
		if res.Manifest, err = format.ReadManifest(dir); err != nil {
			return nil, err
		}
		res.Published = dir
		p.logger().Info("already published from the same files; indexes rebuilt", "system", rel.System, "release", rel.Label, "dir", dir)
		return res, nil
	}
	// The guards stand between a release and its publication; a release
	// already published from these very files passed them then.
	if err := req.Guards.checkPrior(ctx, old, rel, l); err != nil {
		return nil, err
	}
	var store func(context.Context) error
	if stored {
		// An interrupted run (or codeset ingest) stored it from the same
		// files: publish that snapshot, never remove it.
		p.logger().Warn("publishing the snapshot an interrupted run (or codeset ingest) stored without publishing", "path", res.Snapshot)
	} else {
		// Stored while the release's files are rendered.
		store = func(ctx context.Context) error { return snapshot.Write(ctx, res.Snapshot, rel) }
		if prep != nil {
			store = func(ctx context.Context) error {
				// Not put in place when the rest of the folder failed.
				select {
				case <-prep.done:
				case <-ctx.Done():
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				return prep.commit()
			}
		}
	}
	if err := p.publish(ctx, res, rel, l, store); err != nil {
		return nil, err
	}
	// The next run lists the store from its catalogue rather than by
	// opening every snapshot (snapshot.CatalogueName); only time is lost
	// when it cannot be written.
	if err := p.Store.Remember(ctx, rel.System); err != nil {
		p.logger().Warn("catalogue of the stored snapshots", "system", rel.System, "err", err)
	}
	p.logger().Info("published", "system", rel.System, "release", rel.Label, "codes", len(rel.Codes), "dir", res.Published)
	return res, nil
}

// publish publishes the snapshot res.Snapshot of rel to the tree: store,
// when not nil, stores it first, while the release's other files are
// rendered (see publish.Options). The tree is recorded in the release's
// record once the snapshot is stored and the folder built, before the
// folder is renamed into place. When it fails and the tree holds no
// folder of the release, the record forgets the tree and a snapshot this
// run stored is taken back, so that the label stays free for the next
// attempt.
func (p *Pipeline) publish(ctx context.Context, res *Result, rel *codeset.Release, l *codeset.Changelog, store func(context.Context) error) error {
	sys, label := rel.System, rel.Label
	created := false // this run stored the snapshot
	rollback := func(err error) error {
		if p.Published(sys, label) {
			// The folder is in place (only a later step failed): the
			// snapshot is published and stays.
			if merr := p.markTree(sys, label, true); merr != nil {
				p.logger().Error("record the published tree", "err", merr)
			}
			return err
		}
		if uerr := p.unmarkTree(sys, label); uerr != nil {
			p.logger().Error("record the published tree", "err", uerr)
		}
		if created {
			if rerr := os.Remove(res.Snapshot); rerr != nil {
				p.logger().Error("roll back snapshot", "path", res.Snapshot, "err", rerr)
			}
		}
		return err
	}
	opts := publish.Options{Ready: func() error { return p.markTree(sys, label, false) }}
	if store != nil {
		opts.Store = func(ctx context.Context) error {
			if err := store(ctx); err != nil {
				return err
			}
			created = true
			return nil
		}
	}
	m, err := publish.PublishWith(ctx, p.OutDir, res.Snapshot, rel, l, p.now(), opts)
	if err != nil {
		return rollback(err)
	}
	if err := p.markTree(sys, label, true); err != nil {
		// Published all the same; the next run records it.
		p.logger().Error("record the published tree", "err", err)
	}
	res.Manifest = m
	res.Published = format.ReleaseDir(p.OutDir, sys, label)
	return nil
}

// preparing is a snapshot being written under a temporary name
// (snapshot.Prepare) in the background.
type preparing struct {
	cancel context.CancelFunc
	done   chan struct{}
	pend   *snapshot.Pending
	err    error
}

// prepare starts writing the snapshot of rel for path.
func prepare(ctx context.Context, path string, rel *codeset.Release) *preparing {
	ctx, cancel := context.WithCancel(ctx)
	pr := &preparing{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(pr.done)
		pr.pend, pr.err = snapshot.Prepare(ctx, path, rel)
	}()
	return pr
}

// commit waits for the snapshot and puts it in place.
func (pr *preparing) commit() error {
	<-pr.done
	if pr.err != nil {
		return pr.err
	}
	return pr.pend.Commit()
}

// discard stops the writing and removes what was written, unless it was
// committed.
func (pr *preparing) discard() {
	pr.cancel()
	<-pr.done
	pr.pend.Discard()
}

// Publish publishes a stored snapshot that was ingested without publishing,
// after the same guards as Run, under the system's lock.
func (p *Pipeline) Publish(ctx context.Context, sys codeset.System, label string, g Guards) (*Result, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := codeset.CheckLabel(label); err != nil {
		return nil, err
	}
	unlock, err := p.LockSystem(ctx, sys)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if p.Published(sys, label) {
		return nil, fmt.Errorf("%s %s: %w at %s", sys, label, publish.ErrPublished, format.ReleaseDir(p.OutDir, sys, label))
	}
	if err := p.elsewhere(sys, label); err != nil {
		return nil, err
	}
	if err := p.notWithdrawn(sys, label); err != nil {
		return nil, err
	}
	rel, err := p.Store.Get(ctx, sys, label)
	if err != nil {
		return nil, err
	}
	l, old, err := p.changelogFor(ctx, rel)
	if err != nil {
		return nil, err
	}
	if err := g.checkPrior(ctx, old, rel, l); err != nil {
		return nil, err
	}
	res := &Result{Release: rel, Changelog: l, Snapshot: p.Store.Path(sys, label)}
	if err := p.publish(ctx, res, rel, l, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// Diff compares two stored releases of sys; any two, not only neighbours.
// An empty from compares to with nothing, as for a first release. The
// snapshots are compared as an ordered merge of their rows' hashes (see
// snapshot.Compare): only the rows that differ are decoded.
func (p *Pipeline) Diff(ctx context.Context, sys codeset.System, from, to string) (*codeset.Changelog, error) {
	infos, err := p.list(ctx, sys)
	if err != nil {
		return nil, err
	}
	// A release the list holds was read just now: it is not opened
	// twice more (each opening is about a millisecond). Others (withdrawn
	// ones) are located and read as ever.
	locate := func(label string) (snapshot.Info, error) {
		for _, in := range infos {
			if in.Label == label {
				return in, nil
			}
		}
		path, err := p.Store.Locate(ctx, sys, label)
		if err != nil {
			return snapshot.Info{}, err
		}
		return snapshot.ReadInfo(ctx, path)
	}
	newInfo, err := locate(to)
	if err != nil {
		return nil, err
	}
	newPath := newInfo.Path
	if from == "" {
		return snapshot.Compare(ctx, "", newPath, nil)
	}
	oldInfo, err := locate(from)
	if err != nil {
		return nil, err
	}
	oldPath := oldInfo.Path
	lastSeen, done, err := p.lastSeen(ctx, infos, oldInfo)
	if err != nil {
		return nil, err
	}
	defer done()
	// Not neighbours: the reconciliation combines the lists of the
	// releases in between, of which only the declarations are read.
	var between []string
	for _, i := range betweenInfos(infos, oldInfo, newInfo) {
		between = append(between, i.Path)
	}
	return snapshot.CompareAcross(ctx, oldPath, newPath, between, lastSeen)
}

// fresh returns the codes of rel that old does not have: those whose
// record when last seen before old reactivation needs.
func fresh(old, rel *codeset.Release) []string {
	inOld := make(map[string]bool, len(old.Codes))
	for _, c := range old.Codes {
		inOld[c.Code] = true
	}
	var out []string
	for _, c := range rel.Codes {
		if !inOld[c.Code] {
			out = append(out, c.Code)
		}
	}
	return out
}

// betweenInfos selects the stored releases after from and before to,
// oldest first, whose publisher lists the reconciliation of a
// non-neighbour diff combines. Revisions of from or to (LABEL-rN) are not
// releases in between.
func betweenInfos(infos []snapshot.Info, from, to snapshot.Info) []snapshot.Info {
	var in []snapshot.Info
	for _, i := range infos {
		if before(from, i) && before(i, to) && !sameRelease(i.Label, from.Label) && !sameRelease(i.Label, to.Label) {
			in = append(in, i)
		}
	}
	slices.SortFunc(in, func(a, b snapshot.Info) int {
		if before(a, b) {
			return -1
		}
		return 1
	})
	// Of a release and its revisions, the latest stands for it.
	var last []snapshot.Info
	for _, i := range in {
		if n := len(last); n > 0 && sameRelease(last[n-1].Label, i.Label) {
			last[n-1] = i
			continue
		}
		last = append(last, i)
	}
	return last
}

// sameRelease reports whether two labels name one release or its revisions.
func sameRelease(a, b string) bool {
	return revisionSuffix().ReplaceAllString(a, "") == revisionSuffix().ReplaceAllString(b, "")
}

// read resolves the request and ingests its files, refusing a label that is
// already stored or published before doing any work, unless taken is true:
// then the caller checks the label once the files are read (see
// interrupted).
func (p *Pipeline) read(ctx context.Context, req Request, taken bool) (*codeset.Release, *ingest.Report, error) {
	if err := codeset.CheckLabel(req.Label); err != nil {
		return nil, nil, err
	}
	if !taken && p.Store.Exists(req.System, req.Label) {
		return nil, nil, p.existsError(req.System, req.Label)
	}
	if !taken && publish.Published(p.OutDir, req.System, req.Label) {
		return nil, nil, p.publishedError(req.System, req.Label)
	}
	if err := p.notWithdrawn(req.System, req.Label); err != nil {
		return nil, nil, err
	}
	if err := checkFiles(req.Files); err != nil {
		return nil, nil, err
	}
	eff := req.Effective
	if eff.IsZero() {
		var ok bool
		if eff, ok = codeset.DefaultEffective(req.System, req.Label); !ok {
			return nil, nil, fmt.Errorf("%s %s: the label implies no effective date: pass --effective YYYY-MM-DD", req.System, req.Label)
		}
	}
	prof := req.Profile
	if prof == nil {
		var err error
		if prof, err = ingest.Builtin(req.System); err != nil {
			return nil, nil, err
		}
	}
	if prof.System != req.System {
		return nil, nil, fmt.Errorf("profile is for %s, not %s", prof.System, req.System)
	}
	rel, rep, err := ReadRelease(ctx, prof, req.Crosswalk, req.Label, eff, req.Files...)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range rep.Warnings {
		p.logger().Warn("ingest warning", "warning", w, "system", rel.System, "release", rel.Label)
	}
	return rel, rep, nil
}

// ReadRelease reads files into a release of prof's system, with the
// replacement links the publisher states: the crosswalks among files (recognised
// by their header rows with cp, or the system's built-in crosswalk profile
// when cp is nil) are read as links and the other files as the release;
// the links a release names in its own records (HCPCS XREF of discontinued
// codes) are added. Crosswalk files are sources of the release like the
// others, in the order given. Files that are all crosswalks are refused:
// a crosswalk alone is no release (attach it to a stored one with
// Pipeline.AddCrosswalk).
func ReadRelease(ctx context.Context, prof *ingest.Profile, cp *ingest.CrosswalkProfile, label string, eff time.Time, files ...string) (*codeset.Release, *ingest.Report, error) {
	if cp == nil {
		cp, _ = ingest.BuiltinCrosswalk(prof.System) // nil: the system has none
	}
	rest := files
	var links []codeset.Replacement
	var xrep *ingest.Report
	if cp != nil {
		var err error
		if links, rest, xrep, err = ingest.ReadCrosswalks(ctx, ingest.CrosswalkOptions{Profile: cp}, files...); err != nil {
			return nil, nil, err
		}
		if len(rest) == 0 {
			return nil, nil, codeset.NewError(codeset.ErrInvalid, "%s: every file given is a %s, not the release's code files: give them beside the release's files, or attach them to a stored release with 'codeset crosswalk add'", strings.Join(files, ", "), cp.Name)
		}
	}
	rel, rep, err := ingest.Read(ctx, ingest.Options{Profile: prof, Label: label, Effective: eff}, rest...)
	if err != nil {
		return nil, nil, err
	}
	if len(rest) < len(files) {
		// Sources in the order given, crosswalks included.
		var srcs []codeset.SourceFile
		for _, f := range files {
			if i := slices.Index(rest, f); i >= 0 {
				srcs = append(srcs, rel.Sources[i])
				continue
			}
			s, err := ingest.Source(ctx, f)
			if err != nil {
				return nil, nil, err
			}
			srcs = append(srcs, s)
		}
		rel.Sources = srcs
	}
	if xrep != nil {
		rep.Files = append(rep.Files, xrep.Files...)
		rep.Warnings = append(rep.Warnings, xrep.Warnings...)
	}
	rel.Replacements = append(links, ingest.FieldReplacements(rel, ingest.XrefField)...)
	return rel, rep, nil
}

func (p *Pipeline) existsError(sys codeset.System, label string) error {
	return fmt.Errorf("%s %s: %w: snapshot %s (a corrected file needs a new label, e.g. %s-r2)",
		sys, label, ErrExists, p.Store.Path(sys, label), label)
}

func (p *Pipeline) publishedError(sys codeset.System, label string) error {
	return fmt.Errorf("%s %s: %w: published at %s", sys, label, ErrExists, format.ReleaseDir(p.OutDir, sys, label))
}

// interrupted reports whether the label of rel, just read, is already
// stored or published from the very same files, as an interrupted run
// leaves it. A label taken by other files gives ErrExists.
func (p *Pipeline) interrupted(ctx context.Context, rel *codeset.Release) (stored, published bool, err error) {
	stored = p.Store.Exists(rel.System, rel.Label)
	published = publish.Published(p.OutDir, rel.System, rel.Label)
	if !published {
		if err := p.elsewhere(rel.System, rel.Label); err != nil {
			return false, false, err
		}
	}
	if stored {
		info, err := snapshot.ReadInfo(ctx, p.Store.Path(rel.System, rel.Label))
		if err != nil || !slices.Equal(info.Sources, rel.Sources) {
			if !published {
				return false, false, fmt.Errorf("%w, or publish the stored one with codeset publish --system %s --release %s",
					p.existsError(rel.System, rel.Label), rel.System, rel.Label)
			}
			return false, false, p.existsError(rel.System, rel.Label)
		}
	}
	if published {
		m, err := format.ReadManifest(format.ReleaseDir(p.OutDir, rel.System, rel.Label))
		if err != nil || !stored || !slices.Equal(m.Sources, rel.Sources) {
			return false, false, p.publishedError(rel.System, rel.Label)
		}
	}
	return stored, published, nil
}

// changelogFor compares rel with the latest stored release of its system
// that comes before it, which it also describes for the guards (nil when
// there is none). The previous release is not read whole: its snapshot is
// compared with rel by snapshot.CompareRelease (an ordered merge of row
// hashes, decoding the rows that differ), and the guards need of it only
// its label and code count (see lostFill).
func (p *Pipeline) changelogFor(ctx context.Context, rel *codeset.Release) (*codeset.Changelog, *prior, error) {
	infos, err := p.list(ctx, rel.System)
	if err != nil {
		return nil, nil, err
	}
	me := infoOf(rel)
	var prev *snapshot.Info
	for i := range infos {
		// The latest before rel; the store's order is by label text, in
		// which 2026-r10 comes before 2026-r2.
		if before(infos[i], me) && (prev == nil || before(*prev, infos[i])) {
			prev = &infos[i]
		}
	}
	if prev == nil {
		// A first release: every code added. The changes are made from
		// rel's codes as they are rendered rather than held beside them
		// (diff.Compare(nil, rel, nil) finds the same).
		return codeset.AllAdded(rel), nil, nil
	}
	lastSeen, done, err := p.lastSeen(ctx, infos, *prev)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	l, err := snapshot.CompareRelease(ctx, prev.Path, rel, lastSeen)
	if err != nil {
		return nil, nil, err
	}
	path := prev.Path
	return l, &prior{Label: prev.Label, Codes: prev.Codes, Has: func(ctx context.Context, code string) (bool, error) {
		_, header, err := snapshot.ReadRecord(ctx, path, code)
		if errors.Is(err, snapshot.ErrNoCode) {
			return false, nil
		}
		return err == nil && !header, err
	}}, nil
}

// lastSeen answers, for a comparison whose older release is ref, with the
// record each code had when last seen in a stored release before ref: what
// reactivation needs. It asks the published history database of the
// system when that holds the same releases as the store up to ref (by
// label and number of codes, in order), and otherwise the data
// directory's history of the stored releases (storeLastSeen), so that no
// earlier snapshot is read; only when neither can tell does it read every
// stored release before ref. done releases what it holds.
func (p *Pipeline) lastSeen(ctx context.Context, infos []snapshot.Info, ref snapshot.Info) (_ snapshot.LastSeen, done func(), err error) {
	var upTo []snapshot.Info
	for _, in := range infos {
		if before(in, ref) || in.Label == ref.Label {
			upTo = append(upTo, in)
		}
	}
	slices.SortStableFunc(upTo, func(a, b snapshot.Info) int {
		if before(a, b) {
			return -1
		}
		if before(b, a) {
			return 1
		}
		return 0
	})
	if len(upTo) <= 1 {
		// ref is the first stored release: no code was seen before it.
		return nil, func() {}, nil
	}
	// A codes-only tree builds its history from snapshots without
	// descriptors: its records are not those of the store.
	if lic, err := publish.TreeLicence(p.OutDir); p.OutDir != "" && err == nil && lic == format.LicenceFull {
		path := filepath.Join(p.OutDir, string(ref.System), format.HistoryName)
		if recs, err := history.OpenRecords(ctx, path); err == nil {
			if matches(recs.Releases, upTo) {
				return recs.LastSeenBefore(len(upTo)), func() { recs.Close() }, nil
			}
			recs.Close()
		}
	}
	// Otherwise the data directory's own history, brought up to the
	// stored releases when it is behind (see storeLastSeen).
	seen, done, err := p.storeLastSeen(ctx, upTo)
	if err == nil {
		return seen, done, nil
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	// A data directory that cannot be written (or a history that cannot
	// be built) costs time, not the comparison: every earlier release is
	// read instead.
	p.logger().Warn("reading every earlier release for reactivation: the data directory's history is not usable", "system", ref.System, "err", err)
	earlier, err := p.earlier(ctx, infos, ref)
	if err != nil {
		return nil, nil, err
	}
	return func(_ context.Context, codes []string) (map[string]codeset.Code, error) {
		m := map[string]codeset.Code{}
		for _, c := range codes {
			if r, ok := earlier[c]; ok {
				m[c] = r
			}
		}
		return m, nil
	}, func() {}, nil
}

// matches reports whether the history's first releases are the stored
// releases upTo.
func matches(h []history.Release, upTo []snapshot.Info) bool {
	if len(h) < len(upTo) {
		return false
	}
	for i, in := range upTo {
		if h[i].Label != in.Label || h[i].Codes != in.Codes {
			return false
		}
	}
	return true
}

// earlier loads every stored release before ref, for reactivation, when
// no history can tell.
func (p *Pipeline) earlier(ctx context.Context, infos []snapshot.Info, ref snapshot.Info) (map[string]codeset.Code, error) {
	var rels []*codeset.Release
	for _, in := range infos {
		if !before(in, ref) {
			continue
		}
		r, err := snapshot.Read(ctx, in.Path)
		if err != nil {
			return nil, err
		}
		rels = append(rels, r)
	}
	return diff.Earlier(rels...), nil
}

func infoOf(r *codeset.Release) snapshot.Info {
	return snapshot.Info{System: r.System, Label: r.Label, Effective: r.Effective}
}

// before orders releases by effective date, then label: the order of
// publication.
func before(a, b snapshot.Info) bool {
	if !a.Effective.Equal(b.Effective) {
		return a.Effective.Before(b.Effective)
	}
	return codeset.CompareLabels(a.Label, b.Label) < 0
}

// revisionSuffix is the "-rN" that ends the label of a revision.
var revisionSuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`-r[0-9]{1,9}$`) })

// CrosswalkResult is what AddCrosswalk did.
type CrosswalkResult struct {
	Release *codeset.Release // with the links added, under its new label when Revision
	Links   int              // links read from the files
	// Revision is true when the release was published, so a new revision
	// was stored beside it; false when the stored snapshot was replaced.
	Revision bool
	Snapshot string
}

// AddCrosswalk attaches crosswalk files to the stored release sys/label: their
// links are added to the release's replacements and the files to its
// sources. What was published is never changed:
//
//   - a release stored but not published has its snapshot replaced (nothing
//     depends on its bytes yet); publishing it then shows the links;
//   - a published release keeps its snapshot and its published folder; the
//     links go into a new revision LABEL-rN (the next free number), stored
//     and not published, with the same codes. Compare it with the release
//     before (codeset diff --from PREV --to LABEL-rN) to see the links.
//
// Published means published, or being published, to any tree the
// release's record names (see PublishedTrees), whatever tree the pipeline
// names. Files that hold no crosswalk are refused, and so is a crosswalk
// already among the release's sources.
func (p *Pipeline) AddCrosswalk(ctx context.Context, sys codeset.System, label string, cp *ingest.CrosswalkProfile, files ...string) (*CrosswalkResult, error) {
	if len(files) == 0 {
		return nil, codeset.NewError(codeset.ErrInvalid, "no crosswalk files given")
	}
	if cp == nil {
		var err error
		if cp, err = ingest.BuiltinCrosswalk(sys); err != nil {
			return nil, err
		}
	}
	rel, err := p.Store.Get(ctx, sys, label)
	if err != nil {
		return nil, err
	}
	var links []codeset.Replacement
	for _, f := range files {
		l, _, err := ingest.ReadCrosswalk(ctx, f, ingest.CrosswalkOptions{Profile: cp})
		if err != nil {
			return nil, err
		}
		src, err := ingest.Source(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, s := range rel.Sources {
			if s.SHA256 == src.SHA256 {
				return nil, codeset.NewError(codeset.ErrConflict, "%s %s: %s is already a source of the release (as %s)", sys, label, f, s.Name)
			}
		}
		rel.Sources = append(rel.Sources, src)
		links = append(links, l...)
	}
	rel.Replacements = append(rel.Replacements, links...)
	res := &CrosswalkResult{Release: rel, Links: len(links)}
	// Published anywhere, as the release's record says: an --out that
	// names another tree (or none) must not let the snapshot change.
	published, err := p.publishedAnywhere(sys, label)
	if err != nil {
		return nil, err
	}
	if !published {
		path := p.Store.Path(sys, label)
		// Build the new snapshot beside the old one, then rename it over.
		dir, err := os.MkdirTemp(filepath.Dir(path), ".crosswalk-")
		if err != nil {
			return nil, fmt.Errorf("store snapshot: %w", err)
		}
		defer os.RemoveAll(dir)
		tmp := filepath.Join(dir, filepath.Base(path))
		if err := snapshot.Write(ctx, tmp, rel); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("store snapshot: %w", err)
		}
		res.Snapshot = path
		p.logger().Info("crosswalk attached to the stored release", "system", sys, "release", label, "links", len(links))
		return res, nil
	}
	base := revisionSuffix().ReplaceAllString(label, "")
	for n := 2; ; n++ {
		next := fmt.Sprintf("%s-r%d", base, n)
		if codeset.CompareLabels(next, label) <= 0 || p.Store.Exists(sys, next) || publish.Published(p.OutDir, sys, next) {
			continue
		}
		if taken, err := p.publishedAnywhere(sys, next); err != nil {
			return nil, err
		} else if taken {
			continue
		}
		rel.Label = next
		break
	}
	res.Revision, res.Snapshot = true, p.Store.Path(sys, rel.Label)
	if err := snapshot.Write(ctx, res.Snapshot, rel); err != nil {
		return nil, err
	}
	p.logger().Info("crosswalk stored as a new revision of a published release", "system", sys, "release", label, "revision", rel.Label, "links", len(links))
	return res, nil
}

// list returns the stored releases of sys that were not withdrawn: the
// releases a new one may be compared with.
func (p *Pipeline) list(ctx context.Context, sys codeset.System) ([]snapshot.Info, error) {
	infos, err := p.Store.List(ctx, sys)
	if err != nil {
		return nil, err
	}
	kept := infos[:0]
	for _, in := range infos {
		r, err := p.Record(in.System, in.Label)
		if err != nil {
			return nil, err
		}
		if r.Withdrawn == nil {
			kept = append(kept, in)
		}
	}
	return kept, nil
}

// checkFiles refuses an input that is not a regular file (a FIFO, a
// device such as /dev/zero, a directory) before anything opens it:
// opening a FIFO blocks, and reading a device never ends.
func checkFiles(files []string) error {
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			continue // ingest says what is missing
		}
		if !st.Mode().IsRegular() {
			return codeset.NewError(codeset.ErrInvalid, "input %s: not a regular file (%s)", f, st.Mode().Type())
		}
	}
	return nil
}
