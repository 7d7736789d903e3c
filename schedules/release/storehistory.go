package release

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/history"
	"github.com/codeset/codeset/publish/snapshot"
)

// StoreHistoryName is the file, in each system's folder of the data
// directory, of the history database of the system's stored releases: the
// same database a published tree holds (publish/history), built from the
// store's snapshots. It answers, for reactivation, the record each code
// had when last seen, so that a comparison reads no earlier snapshot. It
// is derived data: written only by replacing it whole with a complete
// file, trusted only while the releases it names are the store's, in
// order, and extended (or rebuilt) when they are not. Its name starts with
// a '.', which no release label does, so the store never lists it as a
// release.
const StoreHistoryName = ".history.sqlite"

// storeHistoryTemp is the pattern of the files a store history is built
// in before it takes its place.
const storeHistoryTemp = ".history-*.tmp"

// storeLastSeen answers lastSeen for a comparison whose older release is
// the last of upTo (the stored releases up to it, in order) from the data
// directory's history, first bringing the history up to upTo when it does
// not hold them: by the releases it lacks when it holds a first part of
// them, from nothing otherwise. done closes the history.
func (p *Pipeline) storeLastSeen(ctx context.Context, upTo []snapshot.Info) (_ snapshot.LastSeen, done func(), err error) {
	if len(upTo) == 0 {
		return nil, func() {}, nil
	}
	dir := filepath.Dir(upTo[0].Path)
	path := filepath.Join(dir, StoreHistoryName)
	var held []history.Release
	if recs, err := history.OpenRecords(ctx, path); err == nil {
		if matches(recs.Releases, upTo) {
			return recs.LastSeenBefore(len(upTo)), func() { recs.Close() }, nil
		}
		held = recs.Releases
		recs.Close()
	}
	snaps := make([]history.Snapshot, len(upTo))
	for i, in := range upTo {
		snaps[i].Path = in.Path
		if i < len(held) && held[i].Label == in.Label && held[i].Codes == in.Codes && (i == 0 || snaps[i-1].SHA256 != "") {
			// The history's own record of a release it holds: the
			// release is not read again to hash it.
			snaps[i].SHA256 = held[i].Snapshot
			continue
		}
		if _, snaps[i].SHA256, err = durable.HashFile(ctx, in.Path); err != nil {
			return nil, nil, err
		}
	}
	removeStaleTemps(dir)
	f, err := os.CreateTemp(dir, storeHistoryTemp)
	if err != nil {
		return nil, nil, err
	}
	tmp := f.Name()
	f.Close()
	// history.Update writes a file of its own, which must not exist yet.
	if err := os.Remove(tmp); err != nil {
		return nil, nil, err
	}
	defer os.Remove(tmp)
	if err := history.Update(ctx, tmp, path, snaps); err != nil {
		return nil, nil, err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return nil, nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, nil, err
	}
	if err := durable.SyncDir(dir); err != nil {
		return nil, nil, err
	}
	recs, err := history.OpenRecords(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	if !matches(recs.Releases, upTo) {
		recs.Close()
		return nil, nil, fmt.Errorf("history %s does not hold the stored releases after it was brought up to them", path)
	}
	return recs.LastSeenBefore(len(upTo)), func() { recs.Close() }, nil
}

// staleAfter is how old a file a store history was built in must be to be
// taken for the leftover of a process that stopped: building one takes
// seconds, and another process may be building one now.
const staleAfter = time.Hour

// removeStaleTemps removes from dir the files store histories were being
// built in by processes that stopped (killed, or the machine went down)
// over staleAfter ago. What it cannot remove stays, harmlessly.
func removeStaleTemps(dir string) {
	names, _ := filepath.Glob(filepath.Join(dir, storeHistoryTemp))
	for _, n := range names {
		if st, err := os.Lstat(n); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) > staleAfter {
			os.Remove(n)
		}
	}
}
