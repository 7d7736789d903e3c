package snapshot

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
)

// CatalogueName is the file, in each system's folder of a store, that
// keeps the Info of every stored snapshot, so that listing the store does
// not open each snapshot: a run lists the store twice and a system gains
// a snapshot a release, so opening them all made every run slower than
// the one before. An entry is trusted only while its file is the very file
// it was read from (the same device, inode, size and modification time);
// any other file is opened and read as before. The catalogue is derived
// data: it is written only by Store.Remember, replaced whole, and a
// catalogue that is missing, damaged or of another format costs time, not
// correctness. Its name starts with '_', which no release label does, so
// it never stands for a release (LABEL.sqlite, LABEL.json).
const CatalogueName = "_catalogue.json"

// catalogueTempPrefix starts the temporary name of a catalogue being
// written; the pipeline removes what a killed writer left (see
// release.LockSystem, which removes ".tmp-" names under the system's lock).
const catalogueTempPrefix = ".tmp-"

// catalogueFormat is the version of the catalogue's layout.
const catalogueFormat = 1

type catalogue struct {
	Format    int            `json:"format"`
	Snapshots []catalogEntry `json:"snapshots"`
}

// catalogEntry is the Info of one snapshot file and what identifies the
// file it was read from.
type catalogEntry struct {
	Name          string               `json:"name"`
	File          fileID               `json:"file"`
	System        codeset.System       `json:"system"`
	Label         string               `json:"label"`
	Effective     string               `json:"effective"`
	Sources       []codeset.SourceFile `json:"sources"`
	Codes         int                  `json:"codes"`
	Categories    map[string]int       `json:"categories"`
	ToolVersion   string               `json:"tool_version"`
	DeclaredBy    string               `json:"declared_by"`
	SchemaVersion int                  `json:"schema_version"`
}

// fileID identifies a file's content without reading it: a stored
// snapshot is never changed in place (a new one replaces it by rename, as
// a new inode), so the same identity means the same bytes.
type fileID struct {
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime_ns"`
}

func identify(st fs.FileInfo) fileID {
	dev, ino := devIno(st)
	return fileID{Dev: dev, Ino: ino, Size: st.Size(), MTime: st.ModTime().UnixNano()}
}

// readCatalogue returns the catalogue of the folder dir by file name, or
// nil when there is none that this version reads.
func readCatalogue(dir string) map[string]catalogEntry {
	b, err := os.ReadFile(filepath.Join(dir, CatalogueName))
	if err != nil {
		return nil
	}
	var c catalogue
	if json.Unmarshal(b, &c) != nil || c.Format != catalogueFormat {
		return nil
	}
	m := make(map[string]catalogEntry, len(c.Snapshots))
	for _, e := range c.Snapshots {
		m[e.Name] = e
	}
	return m
}

// info returns the Info the entry holds, for the snapshot at path, or
// false when it cannot be trusted for the file st describes.
func (e catalogEntry) info(path string, st fs.FileInfo) (Info, bool) {
	if st == nil || e.File != identify(st) || e.File.Ino == 0 || e.Categories == nil {
		return Info{}, false
	}
	info := Info{
		System: e.System, Label: e.Label, Sources: e.Sources, Codes: e.Codes, Categories: e.Categories,
		ToolVersion: e.ToolVersion, DeclaredBy: e.DeclaredBy, SchemaVersion: e.SchemaVersion, Path: path,
	}
	if e.Effective != "" {
		t, err := time.Parse(codeset.DateLayout, e.Effective)
		if err != nil {
			return Info{}, false
		}
		info.Effective = t
	}
	return info, true
}

// entryOf is the catalogue entry of info, read from the file st describes
// (stat'ed before it was read).
func entryOf(name string, st fs.FileInfo, info Info) catalogEntry {
	e := catalogEntry{
		Name: name, File: identify(st), System: info.System, Label: info.Label, Sources: info.Sources,
		Codes: info.Codes, Categories: info.Categories, ToolVersion: info.ToolVersion, DeclaredBy: info.DeclaredBy,
		SchemaVersion: info.SchemaVersion,
	}
	if !info.Effective.IsZero() {
		e.Effective = info.Effective.Format(codeset.DateLayout)
	}
	return e
}

// Remember writes the catalogue of the snapshots of sys as they are now
// (see CatalogueName), replacing the one there only when it changes. The
// caller holds the system's lock, and calls it once what it stored is in
// place: a run that fails changes nothing, the catalogue included. Where
// files have no inode (other systems), it does nothing.
func (s Store) Remember(ctx context.Context, sys codeset.System) error {
	dir := filepath.Join(s.Dir, string(sys))
	_, entries, err := s.listWith(ctx, sys)
	if err != nil {
		return err
	}
	if len(entries) == 0 || entries[0].File.Ino == 0 {
		return nil
	}
	b, err := json.MarshalIndent(catalogue{Format: catalogueFormat, Snapshots: entries}, "", " ")
	if err != nil {
		return err
	}
	return durable.Replace(dir, CatalogueName, catalogueTempPrefix, append(b, '\n'))
}
