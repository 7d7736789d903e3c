package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/durable"
)

// Record is what the data directory remembers of a stored release beside
// its snapshot, in DATA/SYSTEM/LABEL.json: the trees it was published to
// and whether it was withdrawn. Whether a stored snapshot is published is
// decided against the trees named here, never against the tree a later
// command happens to name, so a mistyped or unmounted --out cannot make a
// published snapshot look unpublished.
type Record struct {
	Trees     []TreeRecord `json:"trees"`
	Withdrawn *Withdrawal  `json:"withdrawn,omitempty"`
}

// TreeRecord is one published tree of a release.
type TreeRecord struct {
	// Path is the tree's path relative to the data directory (absolute
	// when no relative path leads there), so that a data directory and a
	// tree moved together still match and the record's bytes do not
	// depend on where they live.
	Path string `json:"path"`
	// Done is false while the release is being published there: a run
	// killed before it finished leaves it false.
	Done bool `json:"done"`
}

// Withdrawal says when and why a release was withdrawn.
type Withdrawal struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// recordExt ends the name of a release record beside its snapshot.
const recordExt = ".json"

func (p *Pipeline) recordPath(sys codeset.System, label string) string {
	return filepath.Join(p.Store.Dir, string(sys), label+recordExt)
}

// Record reads the record of release label of sys; a release never
// published has an empty one.
func (p *Pipeline) Record(sys codeset.System, label string) (*Record, error) {
	var r Record
	b, err := os.ReadFile(p.recordPath(sys, label))
	if errors.Is(err, fs.ErrNotExist) {
		return &r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read release record: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read release record %s: %w", p.recordPath(sys, label), err)
	}
	return &r, nil
}

// writeRecord replaces the record of release label of sys atomically.
func (p *Pipeline) writeRecord(sys codeset.System, label string, r *Record) error {
	path := p.recordPath(sys, label)
	if len(r.Trees) == 0 && r.Withdrawn == nil {
		if err := durable.Remove(filepath.Dir(path), filepath.Base(path)); err != nil {
			return fmt.Errorf("write release record: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.MkdirAll(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write release record: %w", err)
	}
	if err := durable.Replace(filepath.Dir(path), filepath.Base(path), recordTempPrefix, append(b, '\n')); err != nil {
		return fmt.Errorf("write release record %s: %w", path, err)
	}
	return nil
}

// tree returns the pipeline's tree as records name it (see TreeRecord).
func (p *Pipeline) tree() string {
	out, err := filepath.Abs(p.OutDir)
	if err != nil {
		return filepath.Clean(p.OutDir)
	}
	data, err := filepath.Abs(p.Store.Dir)
	if err != nil {
		return out
	}
	if rel, err := filepath.Rel(data, out); err == nil {
		return filepath.ToSlash(rel)
	}
	return out
}

// treePath resolves a record's tree path to a path to open.
func (p *Pipeline) treePath(t TreeRecord) string {
	path := filepath.FromSlash(t.Path)
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(p.Store.Dir, path)
}

// markTree records that release label of sys is being published (done
// false) or is published (done true) in the pipeline's tree.
func (p *Pipeline) markTree(sys codeset.System, label string, done bool) error {
	r, err := p.Record(sys, label)
	if err != nil {
		return err
	}
	t := TreeRecord{Path: p.tree(), Done: done}
	if i := slices.IndexFunc(r.Trees, func(t TreeRecord) bool { return t.Path == p.tree() }); i >= 0 {
		if r.Trees[i] == t {
			return nil
		}
		r.Trees[i] = t
	} else {
		r.Trees = append(r.Trees, t)
	}
	return p.writeRecord(sys, label, r)
}

// unmarkTree forgets the pipeline's tree in the record of release label of
// sys, after a publication there failed and left nothing.
func (p *Pipeline) unmarkTree(sys codeset.System, label string) error {
	r, err := p.Record(sys, label)
	if err != nil {
		return err
	}
	r.Trees = slices.DeleteFunc(r.Trees, func(t TreeRecord) bool { return t.Path == p.tree() })
	return p.writeRecord(sys, label, r)
}

// PublishedTrees returns the trees the record of release label of sys
// names, as paths to open: done, those it is published to; unfinished,
// those a publication was begun to and never finished (a run killed half
// way: the same run again finishes it). A data directory from before the
// records knows no tree: then the pipeline's tree counts when the
// release's folder is there.
func (p *Pipeline) PublishedTrees(sys codeset.System, label string) (done, unfinished []string, err error) {
	r, err := p.Record(sys, label)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range r.Trees {
		if t.Done {
			done = append(done, p.treePath(t))
		} else {
			unfinished = append(unfinished, p.treePath(t))
		}
	}
	if len(r.Trees) == 0 && p.Published(sys, label) {
		done = append(done, p.OutDir)
	}
	return done, unfinished, nil
}

// publishedAnywhere reports whether release label of sys is published, or
// was being published, to any tree: its snapshot's bytes are then what
// some tree was made from, and must not change.
func (p *Pipeline) publishedAnywhere(sys codeset.System, label string) (bool, error) {
	done, unfinished, err := p.PublishedTrees(sys, label)
	if err != nil {
		return false, err
	}
	return len(done)+len(unfinished) > 0 || p.Published(sys, label), nil
}

// Published reports whether release label of sys is published in the
// pipeline's tree: its folder is there. A withdrawn release is published
// (its folder stays) but listed nowhere.
func (p *Pipeline) Published(sys codeset.System, label string) bool {
	return publish.Published(p.OutDir, sys, label)
}

// elsewhere returns an error when the record of release label of sys says
// it is published, or was being published, to a tree other than the
// pipeline's: the snapshot then belongs to that tree, and --out is likely
// wrong.
func (p *Pipeline) elsewhere(sys codeset.System, label string) error {
	r, err := p.Record(sys, label)
	if err != nil {
		return err
	}
	for _, t := range r.Trees {
		if t.Path == p.tree() {
			continue
		}
		what := "is published"
		if !t.Done {
			what = "was being published"
		}
		path := p.treePath(t)
		if _, err := os.Stat(path); err != nil {
			what += " (the tree is not reachable now: is it mounted?)"
		}
		return fmt.Errorf("%s %s: %w: it %s to %s, not to %s: run with --out %s", sys, label, ErrElsewhere, what, path, p.OutDir, path)
	}
	return nil
}

// ErrElsewhere reports a release recorded as published to another tree
// than the one a command names; it is of kind codeset.ErrConflict.
var ErrElsewhere = codeset.NewError(codeset.ErrConflict, "published to another tree")

// systemLocks holds one in-process mutex per lock file, beside the file
// lock, where file locks do not exclude within a process.
var systemLocks sync.Map // path -> chan struct{}

// LockSystem takes the lock of sys, which every run, ingest, publish and
// withdrawal holds from reading the store to writing the tree, so that two
// of them never interleave: a release is always compared with the one
// published just before it. It waits until the lock is free or ctx is
// done. The kernel drops the lock when its holder dies.
func (p *Pipeline) LockSystem(ctx context.Context, sys codeset.System) (unlock func(), err error) {
	dir := filepath.Join(p.Store.Dir, "locks")
	if err := durable.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("lock %s: %w", sys, err)
	}
	// Job names hold no '.', so this never names a job's lock file.
	path, err := filepath.Abs(filepath.Join(dir, string(sys)+".system.lock"))
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", sys, err)
	}
	ch, _ := systemLocks.LoadOrStore(path, make(chan struct{}, 1))
	mu := ch.(chan struct{})
	select {
	case mu <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("lock %s: %w", sys, ctx.Err())
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		<-mu
		return nil, fmt.Errorf("lock %s: %w", sys, err)
	}
	if err := durable.Lock(ctx, f, 50*time.Millisecond); err != nil {
		f.Close()
		<-mu
		return nil, fmt.Errorf("lock %s: %w", sys, err)
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			f.Close()
			<-mu
		})
	}
	// Records are written under this lock: a temporary one is a killed
	// writer's.
	if err := durable.RemoveLeftovers(filepath.Join(p.Store.Dir, string(sys)), func(name string) bool {
		return strings.HasPrefix(name, recordTempPrefix)
	}); err != nil {
		unlock()
		return nil, fmt.Errorf("lock %s: %w", sys, err)
	}
	return unlock, nil
}

// recordTempPrefix starts the temporary name of a record being written.
const recordTempPrefix = ".tmp-"

// ErrWithdrawn reports a label that was withdrawn and so is never used
// again; it is of kind codeset.ErrConflict.
var ErrWithdrawn = codeset.NewError(codeset.ErrConflict, "release withdrawn")

// notWithdrawn refuses a label whose release was withdrawn.
func (p *Pipeline) notWithdrawn(sys codeset.System, label string) error {
	r, err := p.Record(sys, label)
	if err != nil {
		return err
	}
	if r.Withdrawn != nil {
		return fmt.Errorf("%s %s: %w on %s (%s): a withdrawn label is never used again; give the release a new label, e.g. %s-r2",
			sys, label, ErrWithdrawn, r.Withdrawn.At.Format(time.DateOnly), r.Withdrawn.Reason, label)
	}
	return nil
}

// Withdraw takes back the published release label of sys, under the
// system's lock: the data directory records the withdrawal (so the
// release is never compared with again and its label never reused), then
// the tree lists it as withdrawn and rebuilds its indexes, pointers and
// history without it (publish.Withdraw). The release folder and the
// snapshot stay as they were. Withdrawing again finishes an interrupted
// withdrawal.
func (p *Pipeline) Withdraw(ctx context.Context, sys codeset.System, label, reason string) error {
	if err := codeset.CheckLabel(label); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return codeset.NewError(codeset.ErrInvalid, "withdraw %s %s: a reason is required", sys, label)
	}
	unlock, err := p.LockSystem(ctx, sys)
	if err != nil {
		return err
	}
	defer unlock()
	if !p.Published(sys, label) {
		if err := p.elsewhere(sys, label); err != nil {
			return err
		}
		return fmt.Errorf("withdraw %s %s: %w under %s", sys, label, publish.ErrNotPublished, p.OutDir)
	}
	r, err := p.Record(sys, label)
	if err != nil {
		return err
	}
	if r.Withdrawn == nil {
		r.Withdrawn = &Withdrawal{Reason: strings.TrimSpace(reason), At: p.now().UTC()}
		if err := p.writeRecord(sys, label, r); err != nil {
			return err
		}
	}
	return publish.Withdraw(ctx, p.OutDir, sys, label, reason, p.now())
}
