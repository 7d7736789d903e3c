// Package release is the release workflow: read a publisher's files into a
// release, compare it with the previous stored release of its system, check
// the publish guards, store the snapshot and publish the release folder. A
// scheduled job, a trigger and every command that ingests, publishes or
// compares (codeset run, ingest, publish, diff, demo) go through this one
// package; it knows nothing of schedules, sources or the run ledger.
package release

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
	Files     []string
	Guards    Guards // checks before publishing
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
	rel, rep, err := p.read(ctx, req, false)
	if err != nil {
		return nil, err
	}
	path := p.Store.Path(rel.System, rel.Label)
	if err := snapshot.Write(ctx, path, rel); err != nil {
		return nil, fmt.Errorf("store snapshot: %w", err)
	}
	return &Result{Release: rel, Report: rep, Snapshot: path}, nil
}

// Run ingests, compares with the latest earlier snapshot of the system,
// stores the snapshot and publishes the release. A failed run leaves the
// snapshots and the published tree as they were.
//
// Running it again with the same files finishes what an interrupted run
// (killed, or the machine lost power) left undone: a snapshot stored but
// not published is stored afresh and published, and a release already
// published has its indexes rebuilt and is reported as it is. A label
// taken by other files is refused.
func (p *Pipeline) Run(ctx context.Context, req Request) (*Result, error) {
	rel, rep, err := p.read(ctx, req, true)
	if err != nil {
		return nil, err
	}
	stored, published, err := p.interrupted(ctx, rel)
	if err != nil {
		return nil, err
	}
	l, old, err := p.changelogFor(ctx, rel)
	if err != nil {
		return nil, err
	}
	res := &Result{Release: rel, Report: rep, Changelog: l, Snapshot: p.Store.Path(rel.System, rel.Label)}
	if published {
		dir := format.ReleaseDir(p.OutDir, rel.System, rel.Label)
		if _, err := publish.Reindex(ctx, p.OutDir, p.now()); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		if res.Manifest, err = format.ReadManifest(dir); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		res.Published = dir
		p.logger().Info("already published from the same files; indexes rebuilt", "system", rel.System, "release", rel.Label, "dir", dir)
		return res, nil
	}
	// The guards stand between a release and its publication; a release
	// already published from these very files passed them then.
	if err := req.Guards.check(old, rel, l); err != nil {
		return nil, err
	}
	if stored {
		// Nothing was published from it, so nothing depends on its bytes.
		p.logger().Warn("replacing the snapshot an interrupted run stored without publishing", "path", res.Snapshot)
		if err := os.Remove(res.Snapshot); err != nil {
			return nil, fmt.Errorf("store snapshot: %w", err)
		}
	}
	if err := snapshot.Write(ctx, res.Snapshot, rel); err != nil {
		return nil, fmt.Errorf("store snapshot: %w", err)
	}
	res.Manifest, err = publish.PublishAt(ctx, p.OutDir, res.Snapshot, rel, l, p.now())
	if err != nil {
		// The snapshot was created by this run: take it back so that the
		// label stays free for the next attempt.
		if rerr := os.Remove(res.Snapshot); rerr != nil {
			p.logger().Error("roll back snapshot", "path", res.Snapshot, "err", rerr)
		}
		return nil, fmt.Errorf("publish: %w", err)
	}
	res.Published = format.ReleaseDir(p.OutDir, rel.System, rel.Label)
	p.logger().Info("published", "system", rel.System, "release", rel.Label, "codes", len(rel.Codes), "dir", res.Published)
	return res, nil
}

// Publish publishes a stored snapshot that was ingested without publishing,
// after the same guards as Run.
func (p *Pipeline) Publish(ctx context.Context, sys codeset.System, label string, g Guards) (*Result, error) {
	if publish.Published(p.OutDir, sys, label) {
		return nil, fmt.Errorf("%s %s: %w at %s", sys, label, publish.ErrPublished, format.ReleaseDir(p.OutDir, sys, label))
	}
	rel, err := p.Store.Get(ctx, sys, label)
	if err != nil {
		return nil, err
	}
	l, old, err := p.changelogFor(ctx, rel)
	if err != nil {
		return nil, err
	}
	if err := g.check(old, rel, l); err != nil {
		return nil, err
	}
	res := &Result{Release: rel, Changelog: l, Snapshot: p.Store.Path(sys, label)}
	if res.Manifest, err = publish.PublishAt(ctx, p.OutDir, res.Snapshot, rel, l, p.now()); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	res.Published = format.ReleaseDir(p.OutDir, sys, label)
	return res, nil
}

// Diff compares two stored releases of sys; any two, not only neighbours.
// An empty from compares to with nothing, as for a first release. The
// snapshots are compared as an ordered merge of their rows' hashes (see
// snapshot.Compare): only the rows that differ are decoded.
func (p *Pipeline) Diff(ctx context.Context, sys codeset.System, from, to string) (*codeset.Changelog, error) {
	newPath, err := p.Store.Locate(ctx, sys, to)
	if err != nil {
		return nil, err
	}
	if from == "" {
		return snapshot.Compare(ctx, "", newPath, nil)
	}
	oldPath, err := p.Store.Locate(ctx, sys, from)
	if err != nil {
		return nil, err
	}
	infos, err := p.Store.List(ctx, sys)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(infos, func(in snapshot.Info) bool { return in.Label == from })
	if i < 0 {
		return nil, fmt.Errorf("%w: %s %s", snapshot.ErrNoRelease, sys, from)
	}
	lastSeen, done, err := p.lastSeen(ctx, infos, infos[i])
	if err != nil {
		return nil, err
	}
	defer done()
	return snapshot.Compare(ctx, oldPath, newPath, lastSeen)
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
	rel, rep, err := ingest.Read(ctx, ingest.Options{Profile: prof, Label: req.Label, Effective: eff}, req.Files...)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range rep.Warnings {
		p.logger().Warn(w, "system", rel.System, "release", rel.Label)
	}
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
// that comes before it, which it also returns (nil when there is none).
func (p *Pipeline) changelogFor(ctx context.Context, rel *codeset.Release) (*codeset.Changelog, *codeset.Release, error) {
	infos, err := p.Store.List(ctx, rel.System)
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
		return diff.Compare(nil, rel, nil), nil, nil
	}
	// The guards look at the whole previous release.
	oldRel, err := p.Store.Get(ctx, rel.System, prev.Label)
	if err != nil {
		return nil, nil, err
	}
	lastSeen, done, err := p.lastSeen(ctx, infos, *prev)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	inOld := make(map[string]bool, len(oldRel.Codes))
	for _, c := range oldRel.Codes {
		inOld[c.Code] = true
	}
	var fresh []string
	for _, c := range rel.Codes {
		if !inOld[c.Code] {
			fresh = append(fresh, c.Code)
		}
	}
	var earlier map[string]codeset.Code
	if len(fresh) > 0 {
		if earlier, err = lastSeen(ctx, fresh); err != nil {
			return nil, nil, err
		}
	}
	return diff.Compare(oldRel, rel, earlier), oldRel, nil
}

// lastSeen answers, for a comparison whose older release is ref, with the
// record each code had when last seen in a stored release before ref: what
// reactivation needs. It asks the published history database of the
// system when that holds the same releases as the store up to ref (by
// label and number of codes, in order), so that no earlier snapshot is
// read; otherwise it reads every stored release before ref. done releases
// what it holds.
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
	if p.OutDir != "" {
		path := filepath.Join(p.OutDir, string(ref.System), format.HistoryName)
		if recs, err := history.OpenRecords(ctx, path); err == nil {
			if matches(recs.Releases, upTo) {
				return recs.LastSeenBefore(len(upTo)), func() { recs.Close() }, nil
			}
			recs.Close()
		}
	}
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
