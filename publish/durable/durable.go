// Package durable writes files so that a crash leaves either the old or the
// new content, never a mix: files created exclusively and synced, atomic
// replacement through a temporary name and a rename, directories synced after
// every entry they gain or lose, and one directory lock that keeps writers
// apart across processes. It also hashes files, the one SHA-256 helper of
// codeset. It imports only the standard library, so the download client can
// use it too.
package durable

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ErrNoReplace reports a destination that exists and must not be replaced.
var ErrNoReplace = fmt.Errorf("%w, refusing to replace it", fs.ErrExist)

// SyncFile flushes the file at path to stable storage.
func SyncFile(path string) error {
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

// SyncDir flushes a directory, making renames and creations in it durable.
func SyncDir(dir string) error {
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

// LinkNoReplace makes the file at oldpath also appear at newpath, failing
// with ErrNoReplace if newpath exists. A hard link cannot replace its target,
// unlike rename; a rename is the fallback only on file systems without hard
// links, after a last check. The caller removes oldpath.
func LinkNoReplace(oldpath, newpath string) error {
	err := os.Link(oldpath, newpath)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return ErrNoReplace
	}
	if _, serr := os.Lstat(newpath); serr == nil {
		return ErrNoReplace
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return serr
	}
	return os.Rename(oldpath, newpath)
}

// WriteNew creates path (which must not exist), writes data to it and syncs
// it.
func WriteNew(path string, data []byte) error {
	return createSynced(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// NewFile is a file for WriteNewFiles: its path and content.
type NewFile struct {
	Path string
	Data []byte
}

// WriteNewFiles is WriteNew of several files at once: each is created
// (it must not exist) and written, then all are synced together, so that
// the file system can commit them in one go rather than one after the
// other. When it fails, files it created may be left behind, written or
// not: the caller removes them, as it would after a failed WriteNew.
func WriteNewFiles(files ...NewFile) error {
	opened := make([]*os.File, 0, len(files))
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	for _, nf := range files {
		f, err := os.OpenFile(nf.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		opened = append(opened, f)
		if _, err := f.Write(nf.Data); err != nil {
			return err
		}
	}
	err := syncAll(opened)
	opened = nil
	return err
}

// syncAll syncs files, all at once, and closes them; it returns the
// first error of each, joined.
func syncAll(files []*os.File) error {
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() { errs[i] = f.Sync() })
	}
	wg.Wait()
	for i, f := range files {
		if cerr := f.Close(); errs[i] == nil {
			errs[i] = cerr
		}
	}
	return errors.Join(errs...)
}

// CreateNew creates path (which must not exist), lets fill write it
// through a buffer, and syncs it: WriteNew for content written as a
// stream.
func CreateNew(path string, fill func(io.Writer) error) error {
	return createSynced(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 256<<10)
		if err := fill(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// CopyNew copies src to dst (which must not exist) and syncs dst.
func CopyNew(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return createSynced(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// LinkOrCopy makes dst, which must not exist, hold the bytes of src: a
// hard link to it where the file system allows, else a synced copy (see
// CopyNew). It is for files that are never changed in place once
// written and synced, such as snapshots: the link shares src's bytes and
// its durability, and costs no copy.
func LinkOrCopy(dst, src string) error {
	err := os.Link(src, dst)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	// Another file system, or one without hard links.
	return CopyNew(dst, src)
}

// createSynced creates path exclusively, lets fill write it, and syncs it.
func createSynced(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// HashFile returns the size and lower-case hex SHA-256 of the file at path.
func HashFile(ctx context.Context, path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	n, sum, err := HashReader(ctx, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return n, sum, nil
}

// HashReader returns how many bytes r held and their lower-case hex
// SHA-256. It stops with ctx's error when ctx is done, so hashing an endless
// stream can be interrupted.
func HashReader(ctx context.Context, r io.Reader) (int64, string, error) {
	h := NewHasher()
	if _, err := io.Copy(h, ctxReader{ctx, r}); err != nil {
		return h.n, "", err
	}
	n, sum := h.Sum()
	return n, sum, nil
}

// Hasher is a SHA-256 that also counts bytes, for hashing what passes
// through a copy (io.MultiWriter).
type Hasher struct {
	n int64
	h hash.Hash
}

// NewHasher returns an empty Hasher.
func NewHasher() *Hasher { return &Hasher{h: sha256.New()} }

// Write adds p to the hash.
func (h *Hasher) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	return h.h.Write(p)
}

// Sum returns the bytes written and their lower-case hex SHA-256.
func (h *Hasher) Sum() (int64, string) { return h.n, hex.EncodeToString(h.h.Sum(nil)) }

// ContextReader returns a reader of r that fails with ctx's error once ctx
// is done, so that a copy from an endless or stalled stream can be stopped.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

// ctxReader is a reader that fails once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// MkdirAll creates dir and any missing parents, like os.MkdirAll, and syncs
// the parent of every folder it created so the new entries survive a crash.
func MkdirAll(dir string) error {
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
		if err := SyncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// RemoveLeftovers removes the entries of dir that leftover reports as
// temporary files or folders of a writer that died before it could clean
// up. The caller holds dir's lock (LockDir); where locks do not keep other
// processes out (LocksExclude is false) nothing is removed, and readers keep
// ignoring the names.
func RemoveLeftovers(dir string, leftover func(name string) bool) error {
	if !LocksExclude {
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
		return SyncDir(dir)
	}
	return nil
}

// Replace replaces dir/name with data: a temporary file in dir, named
// tempPrefix+name+"-*", is written, synced and renamed over the old one,
// then dir is synced. A file that already holds data is left alone, so its
// time stamps stay put.
func Replace(dir, name, tempPrefix string, data []byte) (err error) {
	dst := filepath.Join(dir, name)
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
		return nil
	}
	f, err := os.CreateTemp(dir, tempPrefix+name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return SyncDir(dir)
}

// ReplaceFiles is Replace of several files of dir, in order, each given
// by its name (Path) and content: the files whose content changes are
// written under temporary names first and synced together, then each is
// renamed over its name and dir synced, one after the other, as
// Replace would. A crash leaves what a crash during the same calls of
// Replace could: the files before some point replaced, durably, the
// others as they were, and temporary files for the next writer to remove.
func ReplaceFiles(dir, tempPrefix string, files ...NewFile) (err error) {
	type pending struct{ tmp, dst string }
	var todo []pending
	var opened []*os.File
	defer func() {
		for _, f := range opened {
			f.Close()
		}
		if err != nil {
			for _, p := range todo {
				os.Remove(p.tmp)
			}
		}
	}()
	for _, nf := range files {
		dst := filepath.Join(dir, nf.Path)
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, nf.Data) {
			continue
		}
		f, err := os.CreateTemp(dir, tempPrefix+nf.Path+"-*")
		if err != nil {
			return err
		}
		opened = append(opened, f)
		todo = append(todo, pending{f.Name(), dst})
		if _, err := f.Write(nf.Data); err != nil {
			return err
		}
		if err := f.Chmod(0o644); err != nil {
			return err
		}
	}
	serr := syncAll(opened)
	opened = nil
	if serr != nil {
		return serr
	}
	for i, p := range todo {
		if err := os.Rename(p.tmp, p.dst); err != nil {
			todo = todo[i:]
			return err
		}
		if err := SyncDir(dir); err != nil {
			todo = todo[i+1:]
			return err
		}
	}
	return nil
}

// Remove removes dir/name if it exists and syncs dir.
func Remove(dir, name string) error {
	err := os.Remove(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return SyncDir(dir)
}
