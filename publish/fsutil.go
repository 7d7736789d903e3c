package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// errNoReplace reports a destination that exists and must not be replaced.
var errNoReplace = fmt.Errorf("%w, refusing to replace it", fs.ErrExist)

// syncFile flushes the file at path to stable storage.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir flushes a directory, making renames and creations in it durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return f.Close()
}

// linkNoReplace makes the file at oldpath also appear at newpath, failing
// with errNoReplace if newpath exists. A hard link cannot replace its target,
// unlike rename; a rename is the fallback only on file systems without hard
// links, after a last check. The caller removes oldpath.
func linkNoReplace(oldpath, newpath string) error {
	err := os.Link(oldpath, newpath)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return errNoReplace
	}
	if _, serr := os.Lstat(newpath); serr == nil {
		return errNoReplace
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return serr
	}
	return os.Rename(oldpath, newpath)
}

// writeFileSync creates path (which must not exist), writes data to it and
// syncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyFileSync copies src to dst (which must not exist) and syncs dst.
func copyFileSync(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// hashFile returns the size and lower-case hex SHA-256 of the file at path.
func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// hashReader returns the lower-case hex SHA-256 of what r holds.
func hashReader(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mkdirAllSync creates dir and any missing parents, like os.MkdirAll, and
// syncs the parent of every folder it created so the new entries survive a
// crash.
func mkdirAllSync(dir string) error {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range created {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// removeLeftovers removes the entries of dir that leftover reports as
// temporary files or folders of a writer that died before it could clean
// up. The caller holds dir's lock; without a lock that excludes other
// processes nothing is removed, and readers keep ignoring the names.
func removeLeftovers(dir string, leftover func(name string) bool) error {
	if !locksExclude {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	removed := false
	for _, e := range entries {
		if !leftover(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove leftover %s: %w", filepath.Join(dir, e.Name()), err)
		}
		removed = true
	}
	if removed {
		return syncDir(dir)
	}
	return nil
}
