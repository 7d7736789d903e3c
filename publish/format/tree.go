package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/codeset/codeset"
)

// Names of the files in a published release folder besides the snapshot.
const (
	ManifestName      = "manifest.json"
	ChangelogMarkdown = "changelog.md"
	ChangelogJSON     = "changelog.json"
	ChangelogHTML     = "changelog.html"
	ChangelogCSV      = "changelog.csv"
	ChangelogXLSX     = "changelog.xlsx"
	// CodeSystemName (fhir.go) is the release as a FHIR CodeSystem.
	// SearchIndexName is the compact search index of the release: one
	// line per code, the code, a tab and its description, for the search
	// box of the pages on a static host.
	SearchIndexName = "search.tsv"
	// RecordsName is the record data of the release: one line per code
	// and header row with every field of its record (see
	// pages.WriteRecords), for the code pages on a static host.
	RecordsName = "records.tsv"
	// SumsName lists the SHA-256 of every file of the folder but itself
	// and the manifest, in the format sha256sum -c reads.
	SumsName = "SHA256SUMS"
)

// Names of the files that describe the published tree. They change as
// releases are published or take effect; release folders never do.
const (
	IndexName     = "index.json" // at the root and in each system folder
	IndexPageName = "index.html" // at the root (the page people open) and in each system folder
	LatestName    = "latest.json"
	CurrentName   = "current.json"
	// HistoryName is the file name of a system's history database,
	// published as SYSTEM/history.sqlite.
	HistoryName = "history.sqlite"
	// HistoryDataName is SYSTEM/history.tsv: the changes of every code
	// across the releases of the history database, and the replacement
	// links, as compact text for the code pages on a static host.
	HistoryDataName = "history.tsv"
	// CodePageName is SYSTEM/code.html, the page of one code
	// (code.html?code=CODE&release=LABEL): its record in a release, its
	// history and replacements.
	CodePageName = "code.html"
	// ComparePageName is SYSTEM/compare.html, the page that compares two
	// releases of the system (through codeset serve).
	ComparePageName = "compare.html"
	// WithdrawnName is SYSTEM/withdrawn.json: the releases of a system
	// that were withdrawn (WithdrawnRelease), whose folders stay in place
	// but which no index, pointer, history or API lists.
	WithdrawnName = "withdrawn.json"
	// IndexFormat is the version of the index files' layout.
	IndexFormat = 1
	// LicenceName is the file at the root of a tree that fixes its
	// licence mode (see TreeLicence); without it a tree is full.
	LicenceName = "licence.json"
)

// TreeLicence is LicenceName: the licence mode every release of the tree
// is published in. One tree never mixes modes; a team that may publish
// descriptors internally but not redistribute them keeps two trees.
type TreeLicence struct {
	Licence string `json:"licence"` // LicenceFull or LicenceCodesOnly
}

// The two pointers of a system: the release with the latest effective date,
// and the latest release in effect.
const (
	PointerLatest  = "latest"
	PointerCurrent = "current"
)

// SnapshotExt ends the name of every snapshot file.
const SnapshotExt = ".sqlite"

// ChangelogFormats maps the short format names used in indexes to the
// changelog files of a release folder.
var ChangelogFormats = []struct{ Format, Name string }{
	{"html", ChangelogHTML},
	{"md", ChangelogMarkdown},
	{"json", ChangelogJSON},
	{"csv", ChangelogCSV},
	{"xlsx", ChangelogXLSX},
}

// Manifest describes one published release folder; it is written as
// manifest.json.
type Manifest struct {
	System      codeset.System `json:"system"`
	Label       string         `json:"label"`
	Effective   string         `json:"effective"` // YYYY-MM-DD or ""
	Previous    string         `json:"previous"`  // label of the release compared against, or ""
	ToolVersion string         `json:"tool_version"`
	// Licence is the licence mode of the tree the release is published
	// in: full, or codes-only (no descriptor text in any of its files).
	Licence string               `json:"licence"`
	Sources []codeset.SourceFile `json:"sources"`
	Counts  ManifestCounts       `json:"counts"`
	Changes codeset.Summary      `json:"changes"`
	// Files lists every other file of the folder, sorted by name.
	Files []ManifestFile `json:"files"`
}

// ManifestCounts counts the codes of a published release.
type ManifestCounts struct {
	Codes      int            `json:"codes"`
	Categories map[string]int `json:"categories"` // per non-empty category
}

// ManifestFile is one file of a published release folder.
type ManifestFile struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Pointer names one release of a system; it is written as
// SYSTEM/latest.json (the release with the latest effective date) and
// SYSTEM/current.json (the latest release whose effective date has arrived).
// Paths are relative to the system folder, so the tree can be served from
// any base URL.
type Pointer struct {
	System    codeset.System `json:"system"`
	Pointer   string         `json:"pointer"` // "latest" or "current"
	Label     string         `json:"label"`
	Effective string         `json:"effective"`
	Path      string         `json:"path"`     // release folder, e.g. "2026/"
	Manifest  string         `json:"manifest"` // e.g. "2026/manifest.json"
	Snapshot  string         `json:"snapshot"` // e.g. "2026/cpt-2026.sqlite"
	SHA256    string         `json:"sha256"`   // of the snapshot
	Bytes     int64          `json:"bytes"`    // of the snapshot
}

// IndexRelease describes one release in an index. Paths are relative to
// the folder of the index file that holds it.
type IndexRelease struct {
	Label          string            `json:"label"`
	Effective      string            `json:"effective"`
	Previous       string            `json:"previous"`
	Path           string            `json:"path"`
	Manifest       string            `json:"manifest"`
	Snapshot       string            `json:"snapshot"`
	SnapshotSHA256 string            `json:"snapshot_sha256"`
	SnapshotBytes  int64             `json:"snapshot_bytes"`
	Codes          int               `json:"codes"`
	Changes        codeset.Summary   `json:"changes"`
	Changelogs     map[string]string `json:"changelogs"` // format ("html", "md", ...) to path
	// CodeSystem is the release as a FHIR CodeSystem; "" for a release
	// published before codeset wrote one.
	CodeSystem string `json:"codesystem,omitempty"`
}

// SystemIndex is SYSTEM/index.json: every published release of a system,
// oldest first, the two pointers and the history database.
type SystemIndex struct {
	Format  int            `json:"format"`
	System  codeset.System `json:"system"`
	Name    string         `json:"name"`
	Licence string         `json:"licence"` // the tree's licence mode
	Latest  *string        `json:"latest"`  // label, null when nothing is published
	Current *string        `json:"current"` // label, null until a release takes effect
	History *ManifestFile  `json:"history"` // history database, path relative to the folder
	// HistoryData is the history as compact text (HistoryDataName), for
	// pages on a static host; additive.
	HistoryData *ManifestFile  `json:"history_data,omitempty"`
	Releases    []IndexRelease `json:"releases"`
	// Withdrawn lists the withdrawn releases, which Releases leaves out.
	Withdrawn []WithdrawnRelease `json:"withdrawn,omitempty"`
}

// WithdrawnRelease is a release taken back after it was published: its
// folder stays as it was (release folders never change) and its label is
// never used again.
type WithdrawnRelease struct {
	Label  string `json:"label"`
	Reason string `json:"reason"`
	At     string `json:"at"` // RFC 3339
}

// ReadWithdrawn reads SYSTEM/withdrawn.json of the tree outDir; a missing
// file lists nothing.
func ReadWithdrawn(outDir string, sys codeset.System) ([]WithdrawnRelease, error) {
	var w []WithdrawnRelease
	err := ReadJSONFile(os.ReadFile, filepath.Join(outDir, string(sys), WithdrawnName), "withdrawn list", &w)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return w, err
}

// RootIndex is the index.json at the root of the published tree: every
// system with its releases, paths relative to the root.
type RootIndex struct {
	Format  int           `json:"format"`
	Licence string        `json:"licence"` // the tree's licence mode
	Systems []SystemIndex `json:"systems"`
}

// SnapshotName returns the file name of the snapshot in a published release
// folder, e.g. cpt-2026.sqlite.
func SnapshotName(sys codeset.System, label string) string {
	return string(sys) + "-" + label + SnapshotExt
}

// ReleaseDir returns the published folder of release label of sys under
// the tree outDir.
func ReleaseDir(outDir string, sys codeset.System, label string) string {
	return filepath.Join(outDir, string(sys), label)
}

// ReadJSONFile decodes the JSON file at path, read with readFile
// (os.ReadFile, or an os.Root's), into v; what names the file in errors.
func ReadJSONFile(readFile func(string) ([]byte, error), path, what string, v any) error {
	b, err := readFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s %s: %w", what, path, err)
	}
	return nil
}

// ReadManifest reads a manifest.json file, or the manifest of the release
// folder when path is a directory.
func ReadManifest(path string) (*Manifest, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, ManifestName)
	}
	var m Manifest
	if err := ReadJSONFile(os.ReadFile, path, "manifest", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadPointer reads SYSTEM/latest.json or SYSTEM/current.json of the tree
// outDir; which is PointerLatest or PointerCurrent.
func ReadPointer(outDir string, sys codeset.System, which string) (*Pointer, error) {
	if which != PointerLatest && which != PointerCurrent {
		return nil, fmt.Errorf("read pointer: unknown pointer %q: want latest or current", which)
	}
	var ptr Pointer
	if err := ReadJSONFile(os.ReadFile, filepath.Join(outDir, string(sys), which+".json"), "pointer", &ptr); err != nil {
		return nil, err
	}
	return &ptr, nil
}
